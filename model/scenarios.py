"""Scenarios: TOML files that set the starting state, parameters, rules and scripted events.

A scenario file looks like this (every part but ``title`` is optional)::

    title = "The US drops the oil penalty"
    story = "What a teacher reads out before pressing play."
    base = "dec2025"          # starting state: "dec2025" or "prewar2021"
    quarters = 20             # default run length
    brent_path = "history"    # use observed quarterly Brent where available (hindcast)

    [settings]                # any key of `geogame params`
    usa.oil_penalty_tariff_on_ind = 0.0

    [rules]                   # how each player decides: "ai" (default) or "scripted"
    usa = "ai"

    [[events]]                # policies that change on a date, whatever the agents decide
    quarter = "2026Q1"
    note = "EU ban on fuels refined from Russian crude (21 Jan 2026)"
    set = { "eu.product_ban" = 1 }

Presets ship in ``model/scenarios/``; a user's file is loaded by path. Everything is validated
when loaded, before any run starts: errors name the field, the value and what is allowed.
"""
from __future__ import annotations

import csv
import difflib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import parameters
from .calendar import parse_quarter, quarter_label
from .calibration import BASES
from .instruments import INSTRUMENTS
from .parameters import InputError

RULES = ("ai", "scripted")
_TOP_KEYS = {"title", "story", "base", "quarters", "brent_path", "settings", "rules", "events"}
_EVENT_KEYS = {"quarter", "set", "note", "source"}
MAX_QUARTERS = 200


class ScenarioError(InputError):
    """A scenario (preset name or file) is not valid."""


@dataclass(frozen=True)
class Event:
    """Instruments set at the start of a quarter, before the agents decide."""

    quarter: int
    settings: dict[str, float]
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    story: str
    base: str
    quarters: int
    settings: dict[str, float]
    rules: dict[str, str]
    events: tuple[Event, ...]
    brent_path: dict[int, float] = field(default_factory=dict)
    text: str = ""
    path: str | None = None

    @property
    def start_quarter(self) -> int:
        return parse_quarter(BASES[self.base]["quarter"])

    @property
    def start_label(self) -> str:
        return BASES[self.base]["quarter"]

    def check_run_length(self, quarters: int) -> None:
        """Raise if ``quarters`` is not a valid run length or an event falls after the run."""
        if isinstance(quarters, bool) or not isinstance(quarters, int) or not 1 <= quarters <= MAX_QUARTERS:
            raise ScenarioError(f"quarters = {quarters!r} is not allowed; allowed whole numbers 1 to {MAX_QUARTERS}")
        last = self.start_quarter + quarters
        for event in self.events:
            if event.quarter > last:
                raise ScenarioError(
                    f"{self.name}: event dated {quarter_label(event.quarter)} is outside the run "
                    f"{quarter_label(self.start_quarter + 1)}..{quarter_label(last)}; "
                    f"run at least {event.quarter - self.start_quarter} quarters or remove the event")


def preset_names() -> list[str]:
    """Names of the shipped scenarios."""
    folder = resources.files("geogame.model") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def list_scenarios() -> list[Scenario]:
    """All presets, loaded and validated."""
    return [load_scenario(name) for name in preset_names()]


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a preset by name or a scenario file by path, validated.

    Raises
    ------
    ScenarioError
        Unknown preset (with the nearest name), unreadable or malformed file, or any invalid field.
    """
    text_name = str(name_or_path)
    path = Path(text_name)
    if text_name.endswith(".toml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"scenario file {text_name!r} does not exist")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"scenario file {text_name!r} cannot be read: {exc}") from None
        return parse_scenario(text, name=path.stem, path=str(path))
    names = preset_names()
    if text_name not in names:
        near = difflib.get_close_matches(text_name, names, n=1, cutoff=0.4)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise ScenarioError(f"unknown scenario {text_name!r}; {hint}presets: {', '.join(names)} "
                            "(or give the path of a .toml file)")
    text = (resources.files("geogame.model") / "scenarios" / f"{text_name}.toml").read_text(encoding="utf-8")
    return parse_scenario(text, name=text_name)


def _flatten(table: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = value
    return out


def _unknown(kind: str, key: str, allowed) -> ScenarioError:
    near = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.5)
    hint = f"did you mean {near[0]!r}?" if near else f"allowed: {', '.join(sorted(allowed))}"
    return ScenarioError(f"{kind} {key!r} is not known; {hint}")


def parse_scenario(text: str, name: str = "scenario", path: str | None = None) -> Scenario:
    """Parse and validate the text of a scenario file."""
    where = path or name
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where}: not valid TOML: {exc}") from None
    for key in data:
        if key not in _TOP_KEYS:
            raise ScenarioError(f"{where}: {_unknown('field', key, _TOP_KEYS).args[0]}")

    title = data.get("title", name)
    story = data.get("story", "")
    if not isinstance(title, str) or not isinstance(story, str):
        raise ScenarioError(f"{where}: title and story must be text")
    base = data.get("base", "dec2025")
    if base not in BASES:
        raise ScenarioError(f"{where}: base = {base!r} is not known; allowed: {', '.join(BASES)}")
    quarters = data.get("quarters", 20)
    if isinstance(quarters, bool) or not isinstance(quarters, int) or not 1 <= quarters <= MAX_QUARTERS:
        raise ScenarioError(f"{where}: quarters = {quarters!r} is not allowed; allowed whole numbers 1 to {MAX_QUARTERS}")

    settings_table = data.get("settings", {})
    if not isinstance(settings_table, dict):
        raise ScenarioError(f"{where}: [settings] must be a table of owner.name = value")
    settings = {}
    for key, value in _flatten(settings_table).items():
        settings[key] = parameters.check_value(key, value, where=f"{where} [settings]")

    rules = {}
    rules_table = data.get("rules", {})
    if not isinstance(rules_table, dict):
        raise ScenarioError(f"{where}: [rules] must be a table such as usa = \"scripted\"")
    for country, rule in rules_table.items():
        if country not in ("usa", "rus", "ind", "eu"):
            raise ScenarioError(f"{where} [rules]: {_unknown('country', country, ('usa', 'rus', 'ind', 'eu')).args[0]}")
        if rule not in RULES:
            raise ScenarioError(f"{where} [rules]: {country} = {rule!r} is not allowed; allowed: {', '.join(RULES)}")
        rules[country] = rule

    start = parse_quarter(BASES[base]["quarter"])
    events = []
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        raise ScenarioError(f"{where}: events must be an array of tables ([[events]])")
    for n, raw in enumerate(raw_events, 1):
        label = f"{where} event {n}"
        if not isinstance(raw, dict):
            raise ScenarioError(f"{label}: must be a table with quarter and set")
        for key in raw:
            if key not in _EVENT_KEYS:
                raise ScenarioError(f"{label}: {_unknown('field', key, _EVENT_KEYS).args[0]}")
        try:
            quarter = parse_quarter(raw.get("quarter", ""))
        except ValueError as exc:
            raise ScenarioError(f"{label}: {exc}") from None
        if quarter <= start:
            raise ScenarioError(f"{label}: quarter {raw['quarter']} is outside the run, which starts after "
                                f"{quarter_label(start)}; allowed {quarter_label(start + 1)} or later")
        sets = raw.get("set")
        if not isinstance(sets, dict) or not sets:
            raise ScenarioError(f"{label}: 'set' must be a non-empty table of instrument = value")
        values = {}
        for key, value in _flatten(sets).items():
            if key not in INSTRUMENTS:
                if key in parameters.SETTINGS:
                    raise ScenarioError(f"{label}: {key!r} is a fixed parameter, not a policy instrument; "
                                        "set it under [settings]")
                raise ScenarioError(f"{label}: {_unknown('instrument', key, INSTRUMENTS).args[0]}")
            values[key] = parameters.check_value(key, value, where=label)
        events.append(Event(quarter, values, str(raw.get("note", "")), str(raw.get("source", ""))))
    events.sort(key=lambda e: e.quarter)

    brent_path = {}
    brent_choice = data.get("brent_path")
    if brent_choice is not None:
        if brent_choice != "history":
            raise ScenarioError(f"{where}: brent_path = {brent_choice!r} is not allowed; allowed: \"history\"")
        brent_path = historical_brent()
    scenario = Scenario(name=name, title=title, story=story.strip(), base=base, quarters=quarters,
                        settings=settings, rules=rules, events=tuple(events), brent_path=brent_path,
                        text=text, path=path)
    scenario.check_run_length(quarters)
    return scenario


def historical_brent() -> dict[int, float]:
    """Quarterly Brent (EIA) from the project's calibration data, quarter index -> USD/bbl."""
    path = resources.files("geogame.model") / "data" / "calibration_targets.csv"
    with path.open(encoding="utf-8") as fh:
        return {parse_quarter(row["period"]): float(row["value"])
                for row in csv.DictReader(fh) if row["series_id"] == "BRENT_Q"}
