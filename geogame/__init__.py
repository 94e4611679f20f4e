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

Importing ``geogame`` first *installs the declared players* (:mod:`geogame.agents.players`: one
file per player, their settings, instruments and roles; no Mesa), so that every entry point sees
the same players, then exports the public names. It does not load Mesa: :class:`GeopoliticsModel`
and :func:`check_settings` are loaded on first use (PEP 562). ``PLAYERS`` is the registry of
players (each a module with ``CODE``, ``LABEL``, ``SHORT_LABEL``, ``COLOUR``, ...), ``LABELS``,
``SHORT_LABELS`` and ``COLOURS`` their labels and colours by code.
"""
from __future__ import annotations

import importlib

from geogame.agents.players import COLOURS, LABELS, PLAYERS, SHORT_LABELS  # installs the players first
from geogame.model import (COUNTRIES, COUNTRY_NAMES, OUTCOMES, SETTINGS, InputError, Outcome, Scenario,
                           ScenarioError, SettingError, list_scenarios, load_scenario, outcome_names,
                           preset_names)

#: Public names loaded on first access (they import Mesa).
_LAZY = {"GeopoliticsModel": "geogame.model.model", "check_settings": "geogame.model.model",
         "run_ensemble": "geogame.model.ensemble", "EnsembleRun": "geogame.model.ensemble"}

__all__ = ["COLOURS", "COUNTRIES", "COUNTRY_NAMES", "LABELS", "OUTCOMES", "PLAYERS", "SETTINGS", "SHORT_LABELS",
           "GeopoliticsModel", "InputError", "Outcome", "Scenario", "ScenarioError", "SettingError",
           "check_settings", "list_scenarios", "load_scenario", "outcome_names", "preset_names", "run_ensemble",
           "EnsembleRun"]


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
