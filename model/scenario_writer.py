"""Write a scenario back out as TOML, so that a run can be reproduced from a file."""
from __future__ import annotations

import json

from .calendar import quarter_label
from .scenarios import Scenario


def _str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def scenario_with_overrides(scenario: Scenario, overrides: dict[str, float], rules: dict[str, str]) -> str:
    """TOML text of ``scenario`` with ``overrides`` folded into its settings."""
    lines = [f"title = {_str(scenario.title)}", f"story = {_str(scenario.story)}",
             f"base = {_str(scenario.base)}", f"quarters = {scenario.quarters}"]
    if scenario.brent_path:
        lines.append('brent_path = "history"')
    settings = {**scenario.settings, **overrides}
    if settings:
        lines += ["", "[settings]"] + [f"{_str(k)} = {v!r}" for k, v in sorted(settings.items())]
    written_rules = {c: r for c, r in rules.items() if r == "scripted"}
    if written_rules:
        lines += ["", "[rules]"] + [f"{c} = {_str(r)}" for c, r in written_rules.items()]
    for event in scenario.events:
        sets = ", ".join(f"{_str(k)} = {v!r}" for k, v in event.settings.items())
        lines += ["", "[[events]]", f"quarter = {_str(quarter_label(event.quarter))}",
                  f"note = {_str(event.note)}", f"source = {_str(event.source)}", f"set = {{ {sets} }}"]
    return "\n".join(lines) + "\n"
