"""geogame's model: the world's state, its economics, scenarios and the Mesa model.

Public API::

    from geogame.model import GeopoliticsModel, load_scenario, list_scenarios, SETTINGS
    m = GeopoliticsModel(scenario="baseline", seed=1, overrides={"eu.price_cap_usd": 40})
    m.run(quarters=20)
    m.metrics_frame(), m.decisions_frame()
"""
from .nodes import COUNTRIES, COUNTRY_NAMES, NODES
from .parameters import SETTINGS, InputError, SettingError, check_value, parse_assignment, setting
from .scenarios import Scenario, ScenarioError, list_scenarios, load_scenario, preset_names
from .world import Structure, World
from .model import DECISION_COLUMNS, GeopoliticsModel, check_settings, normalise_overrides
from .alignment import Landscape, alignment_map, landscape
from geogame.agents.country import HumanMoveMissing

__all__ = [
    "COUNTRIES", "COUNTRY_NAMES", "NODES", "SETTINGS", "InputError", "SettingError", "check_value",
    "parse_assignment", "setting", "Scenario", "ScenarioError", "list_scenarios", "load_scenario",
    "preset_names", "Structure", "World", "DECISION_COLUMNS", "GeopoliticsModel", "normalise_overrides",
    "Landscape", "alignment_map", "landscape", "HumanMoveMissing", "check_settings",
]
