"""Write a scenario back out as TOML, so that a run can be reproduced from a file.

Every string is written as a TOML basic string (:func:`toml_string`), so whatever text a
scenario file could hold (control characters, DEL, quotes, backslashes, any Unicode) loads
back as the same text.
"""
from __future__ import annotations

import math

from .calendar import quarter_label
from .scenarios import Scenario

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped.

    TOML forbids the control characters U+0000-U+001F and U+007F (DEL) inside a basic string
    unless escaped; a JSON string is not enough (``json.dumps`` leaves DEL as it is).
    """
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_number(value: float) -> str:
    """A finite number as a TOML float (``40.0``, ``1e-05``) that reads back as the same float."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written to a scenario file; allowed: finite numbers")
    return repr(value)


def scenario_with_overrides(scenario: Scenario, overrides: dict[str, float], rules: dict[str, str]) -> str:
    """TOML text of ``scenario`` with ``overrides`` folded into its settings.

    Parameters
    ----------
    scenario : Scenario
        The scenario the run started from.
    overrides : dict
        Settings that replace the scenario's (``{"eu.price_cap_usd": 40.0}``).
    rules : dict
        Rule per country; only ``"scripted"`` ones are written (``ai`` is the default).

    Returns
    -------
    str
        A scenario file that :func:`model.scenarios.parse_scenario` loads back to the same
        title, story, base, run length, settings, rules and events.
    """
    lines = [f"title = {toml_string(scenario.title)}", f"story = {toml_string(scenario.story)}",
             f"base = {toml_string(scenario.base)}", f"quarters = {scenario.quarters}"]
    if scenario.brent_path:
        lines.append('brent_path = "history"')
    settings = {**scenario.settings, **overrides}
    if settings:
        lines += ["", "[settings]"] + [f"{toml_string(k)} = {toml_number(v)}" for k, v in sorted(settings.items())]
    written_rules = {c: r for c, r in rules.items() if r in ("scripted", "best")}  # "ai" is the default
    if written_rules:
        lines += ["", "[rules]"] + [f"{c} = {toml_string(r)}" for c, r in written_rules.items()]
    for event in scenario.events:
        sets = ", ".join(f"{toml_string(k)} = {toml_number(v)}" for k, v in event.settings.items())
        lines += ["", "[[events]]", f"quarter = {toml_string(quarter_label(event.quarter))}",
                  f"note = {toml_string(event.note)}", f"source = {toml_string(event.source)}",
                  f"set = {{ {sets} }}"]
    return "\n".join(lines) + "\n"
