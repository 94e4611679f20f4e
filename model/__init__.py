"""geogame's model: the world's state, its economics, scenarios and the Mesa model.

Public API::

    from geogame.model import GeopoliticsModel, load_scenario, list_scenarios, SETTINGS
    m = GeopoliticsModel(scenario="baseline", seed=1, overrides={"eu.price_cap_usd": 40})
    m.run(quarters=20)
    m.metrics_frame(), m.decisions_frame()

Importing this package loads only the economics side (nodes, settings, scenarios, the world's
state, alignment, the declared outcomes), which imports neither the players nor Mesa. The Mesa
wiring (:mod:`geogame.model.model`, which imports the players in :mod:`geogame.agents`) is loaded
on first use of one of its names (PEP 562 module ``__getattr__``), so that
``import geogame.agents.moves`` works on its own and the dependencies point one way:
``model.model -> agents -> economics``. ``tests/test_architecture.py`` keeps it so.
"""
from __future__ import annotations

import importlib

from .alignment import Landscape, alignment_map, landscape
from .calendar import fiscal_year_quarters, parse_quarter, quarter_label
from .calibration import base_settings
from .levers import LEVER_RESPONSES, LeverResponse
from .levers import measure as measure_lever_response
from .nodes import COUNTRIES, COUNTRY_NAMES, NODES
from .outcomes import OUTCOMES, Outcome, outcome, outcome_names
from .parameters import SETTINGS, InputError, SettingError, check_value, parse_assignment, setting, show_value
from .scenarios import (Scenario, ScenarioError, is_file_name, list_scenarios, load_scenario, parse_scenario,
                        preset_names)
from .world import Structure, World

#: Public names that live in the Mesa wiring or the players, loaded on first access.
_LAZY = {
    "GeopoliticsModel": "geogame.model.model",
    "DECISION_COLUMNS": "geogame.model.model",
    "check_settings": "geogame.model.model",
    "normalise_overrides": "geogame.model.model",
    "HumanMoveMissing": "geogame.agents.country",
    "run_ensemble": "geogame.model.ensemble",
    "iter_ensemble": "geogame.model.ensemble",
    "Ensemble": "geogame.model.ensemble",
    "EnsembleRun": "geogame.model.ensemble",
    "fan": "geogame.model.ensemble",
    "FAN_METRICS": "geogame.model.ensemble",
}

__all__ = [
    "COUNTRIES", "COUNTRY_NAMES", "NODES", "SETTINGS", "InputError", "SettingError", "check_value",
    "parse_assignment", "setting", "Scenario", "ScenarioError", "list_scenarios", "load_scenario",
    "preset_names", "Structure", "World", "DECISION_COLUMNS", "GeopoliticsModel", "normalise_overrides",
    "Landscape", "alignment_map", "landscape", "HumanMoveMissing", "check_settings",
    "OUTCOMES", "Outcome", "outcome", "outcome_names", "parse_scenario", "fiscal_year_quarters",
    "parse_quarter", "quarter_label", "show_value", "is_file_name", "LEVER_RESPONSES", "LeverResponse",
    "measure_lever_response", "base_settings", "run_ensemble", "iter_ensemble", "Ensemble", "EnsembleRun",
    "fan", "FAN_METRICS",
]


def __getattr__(name: str):
    """Load a name of the Mesa wiring on first use (PEP 562); see the module docstring."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
