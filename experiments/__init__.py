"""geogame's experiments: the command line, parameter sweeps, sensitivity analysis and reports.

``from geogame.experiments import sweep`` runs a sweep from Python and returns a tidy DataFrame;
``geogame.experiments.sensitivity(...)`` runs a sensitivity analysis and returns its indices.
"""
from .sensitivity import sensitivity
from .sweeps import sweep

__all__ = ["sensitivity", "sweep"]
