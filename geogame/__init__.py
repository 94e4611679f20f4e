"""geogame: an agent-based geopolitical game model (the US, Russia, India and the EU, quarter by quarter).

The public API::

    import geogame
    m = geogame.GeopoliticsModel(scenario="baseline", seed=1, overrides={"eu.price_cap_usd": 40})
    m.run(quarters=20)
    m.metrics_frame(), m.decisions_frame()

The subpackages map the project's top-level folders: :mod:`geogame.model` (world state,
economics, scenarios, the Mesa model), :mod:`geogame.agents` (the players and how they decide),
:mod:`geogame.experiments` (sweeps, sensitivity, validation, the ``geogame`` command) and
:mod:`geogame.viz` (the Solara app).
"""
from geogame.model import (COUNTRIES, COUNTRY_NAMES, SETTINGS, GeopoliticsModel, InputError, Scenario,
                           ScenarioError, SettingError, check_settings, list_scenarios, load_scenario,
                           preset_names)

__all__ = ["COUNTRIES", "COUNTRY_NAMES", "SETTINGS", "GeopoliticsModel", "InputError", "Scenario",
           "ScenarioError", "SettingError", "check_settings", "list_scenarios", "load_scenario",
           "preset_names"]
