"""geogame: an agent-based geopolitical game model (the US, Russia, India and the EU, quarter by quarter).

The public API::

    import geogame
    m = geogame.GeopoliticsModel(scenario="baseline", seed=1, overrides={"eu.price_cap_usd": 40})
    m.run(quarters=20)
    m.metrics_frame(), m.decisions_frame()

The subpackages map the project's top-level folders: :mod:`geogame.model` (world state,
economics, scenarios, the Mesa model), :mod:`geogame.agents` (the players and how they decide),
:mod:`geogame.experiments` (sweeps, sensitivity, validation, the ``geogame`` command) and
:mod:`geogame.viz` (the Solara app). ``docs/architecture.md`` says who may import whom.

Importing ``geogame`` does not load Mesa or the players: :class:`GeopoliticsModel` and
:func:`check_settings` are loaded on first use (PEP 562), so that ``import geogame.agents.moves``
or ``import geogame.model.economics`` loads only what it needs.
"""
from __future__ import annotations

import importlib

from geogame.model import (COUNTRIES, COUNTRY_NAMES, OUTCOMES, SETTINGS, InputError, Outcome, Scenario,
                           ScenarioError, SettingError, list_scenarios, load_scenario, outcome_names,
                           preset_names)

#: Public names loaded on first access (they import Mesa and the players).
_LAZY = {"GeopoliticsModel": "geogame.model.model", "check_settings": "geogame.model.model",
         "run_ensemble": "geogame.model.ensemble", "EnsembleRun": "geogame.model.ensemble"}

__all__ = ["COUNTRIES", "COUNTRY_NAMES", "OUTCOMES", "SETTINGS", "GeopoliticsModel", "InputError", "Outcome",
           "Scenario", "ScenarioError", "SettingError", "check_settings", "list_scenarios", "load_scenario",
           "outcome_names", "preset_names", "run_ensemble", "EnsembleRun"]


def __getattr__(name: str):
    """Load :class:`GeopoliticsModel` or :func:`check_settings` on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
