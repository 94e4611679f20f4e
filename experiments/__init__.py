"""geogame's experiments: the command line, parameter sweeps, sensitivity analysis and reports.

``from geogame.experiments import sweep`` runs a sweep from Python and returns a tidy DataFrame.
"""
from .sweeps import sweep

__all__ = ["sweep"]
