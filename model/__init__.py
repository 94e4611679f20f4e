"""geogame's model: the world's state, its economics, scenarios and the Mesa model.

Public API::

    from geogame.model import GeopoliticsModel, load_scenario, list_scenarios, SETTINGS
    m = GeopoliticsModel(scenario="baseline", seed=1, overrides={"eu.price_cap_usd": 40})
    m.run(quarters=20)
    m.metrics_frame(), m.decisions_frame()

Every public name is loaded on first use (PEP 562 module ``__getattr__``): the economics side
(settings, scenarios, the world's state, alignment, the declared outcomes) imports neither the
players nor Mesa; the Mesa wiring (:mod:`geogame.model.model`, which imports the players in
:mod:`geogame.agents`) loads Mesa. So ``import geogame.agents.moves`` works on its own and the
dependencies point one way: ``model.model -> agents -> economics``. ``tests/test_architecture.py``
keeps it so. The players themselves are installed by ``import geogame`` (see
:mod:`geogame.agents.players`).
"""
from __future__ import annotations

import importlib

#: Every public name and the module it lives in, loaded on first access (PEP 562): importing
#: ``geogame.model.parameters`` (as the player files do) then loads nothing else of the package.
_LAZY = {
    **dict.fromkeys(("Landscape", "alignment_map", "landscape"), "geogame.model.alignment"),
    **dict.fromkeys(("fiscal_year_quarters", "parse_quarter", "quarter_label"), "geogame.model.calendar"),
    "base_settings": "geogame.model.calibration",
    **dict.fromkeys(("LEVER_RESPONSES", "LeverResponse"), "geogame.model.levers"),
    **dict.fromkeys(("COUNTRIES", "COUNTRY_NAMES", "NODES"), "geogame.model.nodes"),
    **dict.fromkeys(("OUTCOMES", "Outcome", "outcome", "outcome_names"), "geogame.model.outcomes"),
    **dict.fromkeys(("SETTINGS", "InputError", "SettingError", "check_value", "parse_assignment", "setting",
                     "show_value"), "geogame.model.parameters"),
    **dict.fromkeys(("Scenario", "ScenarioError", "is_file_name", "list_scenarios", "load_scenario",
                     "parse_scenario", "preset_names"), "geogame.model.scenarios"),
    **dict.fromkeys(("Structure", "World"), "geogame.model.world"),
    "Layout": "geogame.model.layout",
    # The Mesa wiring and the players:
    **dict.fromkeys(("GeopoliticsModel", "DECISION_COLUMNS", "check_settings", "normalise_overrides"),
                    "geogame.model.model"),
    "HumanMoveMissing": "geogame.agents.country",
    "utility_terms": "geogame.agents.utility",
    "run_ensemble": "geogame.model.ensemble",
    "iter_ensemble": "geogame.model.ensemble",
    "Ensemble": "geogame.model.ensemble",
    "EnsembleRun": "geogame.model.ensemble",
    "fan": "geogame.model.ensemble",
    "fan_band": "geogame.model.ensemble",
    "FAN_BAND": "geogame.model.ensemble",
    "ensemble_chunk": "geogame.model.ensemble",
    "FAN_METRICS": "geogame.model.ensemble",
}
#: Public names whose attribute in their module has another name.
_RENAMED = {"measure_lever_response": ("geogame.model.levers", "measure"),
            "measure_lever_table": ("geogame.model.levers", "measure_table"),
            "current_layout": ("geogame.model.layout", "current")}

__all__ = [
    "COUNTRIES", "COUNTRY_NAMES", "NODES", "SETTINGS", "InputError", "SettingError", "check_value",
    "parse_assignment", "setting", "Scenario", "ScenarioError", "list_scenarios", "load_scenario",
    "preset_names", "Structure", "World", "DECISION_COLUMNS", "GeopoliticsModel", "normalise_overrides",
    "Landscape", "alignment_map", "landscape", "HumanMoveMissing", "check_settings",
    "OUTCOMES", "Outcome", "outcome", "outcome_names", "parse_scenario", "fiscal_year_quarters",
    "parse_quarter", "quarter_label", "show_value", "is_file_name", "LEVER_RESPONSES", "LeverResponse",
    "measure_lever_response", "measure_lever_table", "base_settings", "Layout", "current_layout", "run_ensemble", "iter_ensemble",
    "Ensemble", "EnsembleRun", "fan", "fan_band", "FAN_BAND", "FAN_METRICS", "ensemble_chunk",
]


def __getattr__(name: str):
    """Load a public name from its module on first use (PEP 562); see the module docstring."""
    if name in _RENAMED:
        module, attribute = _RENAMED[name]
    else:
        module, attribute = _LAZY.get(name), name
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_RENAMED))
