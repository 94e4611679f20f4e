"""Scenarios: TOML files that set the starting state, parameters, rules and scripted events.

A scenario file looks like this (every part but ``title`` is optional)::

    title = "The US drops the oil penalty"
    story = "What a teacher reads out before pressing play."
    base = "dec2025"          # starting state: "dec2025" or "prewar2021"
    quarters = 20             # default run length
    brent_path = "history"    # use observed quarterly Brent where available (hindcast)

    [settings]                # any key of `geogame params`
    usa.oil_penalty_tariff_on_ind = 0.0

    [rules]                   # how each player decides: "ai" (default), "best" or "scripted"
    usa = "ai"

    [[events]]                # policies that change on a date, whatever the agents decide
    quarter = "2026Q1"
    note = "EU ban on fuels refined from Russian crude (21 Jan 2026)"
    set = { "eu.product_ban" = 1 }

Presets ship in ``model/scenarios/``; a user's file is loaded by path. Which one a name means
follows one rule, so that a file can never silently stand in for a preset: a name with a ``/``
(or the platform's separator) or ending in ``.toml`` is a file; any other name is a preset
(``baseline``, even if a file called ``baseline`` sits in the working folder; give that file as
``./baseline`` to use it). Everything is validated when loaded, before any run starts: errors
name the field, the value and what is allowed, on one line.
"""
from __future__ import annotations

import csv
import difflib
import errno
import os
import stat
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import parameters
from .calendar import parse_quarter, quarter_label
from .calibration import BASES
from .instruments import INSTRUMENTS
from .layout import current as current_layout
from .parameters import InputError, show_value

RULES = ("ai", "best", "scripted")
_TOP_KEYS = {"title", "story", "base", "quarters", "brent_path", "settings", "rules", "events"}
_EVENT_KEYS = {"quarter", "set", "note", "source"}
MAX_QUARTERS = 200
#: Largest scenario file read (bytes): the presets are about 2 kB.
MAX_FILE_BYTES = 1_000_000
#: Deepest nesting of tables within [settings] or an event's ``set`` (a key is owner.name).
_MAX_KEY_DEPTH = 4


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
    """A scenario: a starting base, settings, decision rules, dated events and a Brent path.

    Attributes
    ----------
    name, title, story : str
        Its name (the file stem or preset), a one-line title and the story it tells.
    base : str
        The calibrated start (``dec2025`` or ``prewar2021``; :data:`geogame.model.calibration.BASES`).
    quarters : int
        Quarters a run lasts by default.
    settings : dict
        Setting key -> value on top of the base's (validated).
    rules : dict
        Country code -> decision rule (``ai``, ``best``, ``scripted``, ``human``).
    events : tuple of Event
        Policies set on their dates, with notes and sources.
    brent_path : dict
        Quarter -> reference Brent, USD/bbl (quarters after the last keep the last value).
    text, path : str
        The file's text and path (``None`` for a scenario built in code).
    """

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
        """The base's quarter as a quarter index (:func:`geogame.model.parse_quarter`)."""
        return parse_quarter(BASES[self.base]["quarter"])

    @property
    def start_label(self) -> str:
        """The base's quarter as a label (``2025Q4``)."""
        return BASES[self.base]["quarter"]

    def check_run_length(self, quarters: int) -> None:
        """Raise if ``quarters`` is not a valid run length or an event falls after the run."""
        if isinstance(quarters, bool) or not isinstance(quarters, int) or not 1 <= quarters <= MAX_QUARTERS:
            raise ScenarioError(f"quarters = {show_value(quarters)} is not allowed; "
                                f"allowed whole numbers 1 to {MAX_QUARTERS}")
        last = self.start_quarter + quarters
        for event in self.events:
            if event.quarter > last:
                raise ScenarioError(
                    f"{self.name}: event dated {quarter_label(event.quarter)} is outside the run "
                    f"{quarter_label(self.start_quarter + 1)}..{quarter_label(last)}; "
                    f"allowed: run at least {event.quarter - self.start_quarter} quarters, or remove the event")


def preset_names() -> list[str]:
    """Names of the shipped scenarios."""
    folder = resources.files("geogame.model") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def list_scenarios() -> list[Scenario]:
    """All presets, loaded and validated."""
    return [load_scenario(name) for name in preset_names()]


def is_file_name(name_or_path: str | os.PathLike) -> bool:
    """True if ``name_or_path`` names a scenario file rather than a preset.

    A :class:`~pathlib.Path`, or text holding a path separator or ending in ``.toml``, is a file;
    any other text is a preset name (a file of that name in the working folder is not read).
    """
    if isinstance(name_or_path, os.PathLike):
        return True
    text = str(name_or_path)
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return text.lower().endswith(".toml") or any(sep in text for sep in separators)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a preset by name or a scenario file by path, validated.

    Parameters
    ----------
    name_or_path : str or Path
        A preset name (``"baseline"``) or a file: a :class:`~pathlib.Path`, or text with a ``/``
        or ending in ``.toml`` (see :func:`is_file_name`).

    Raises
    ------
    ScenarioError
        Unknown preset (with the nearest name), a file that is missing, not a regular file,
        too large, unreadable or malformed, or any invalid field.
    """
    if is_file_name(name_or_path):
        path = Path(name_or_path)
        return parse_scenario(read_scenario_file(path, shown=str(name_or_path)), name=path.stem,
                              path=str(name_or_path))
    text_name = str(name_or_path)
    names = preset_names()
    if text_name not in names:
        near = difflib.get_close_matches(text_name[:200], names, n=1, cutoff=0.4)
        hint = f"did you mean {near[0]!r}? " if near else ""
        local = ""
        try:
            if Path(text_name).exists():
                local = f"; to use the file {show_value(text_name)} in this folder give it as ./{text_name}"
        except (OSError, ValueError):
            pass
        raise ScenarioError(f"unknown scenario {show_value(text_name)}; {hint}presets: {', '.join(names)} "
                            f"(a file is given by a path with '/' or ending in .toml{local})")
    text = (resources.files("geogame.model") / "scenarios" / f"{text_name}.toml").read_text(encoding="utf-8")
    return parse_scenario(text, name=text_name)


_FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def read_scenario_file(path: Path, shown: str | None = None) -> str:
    """Return the text of a scenario file, or raise :class:`ScenarioError` saying truly what is wrong.

    Looks before reading: a folder, a FIFO (which would block), a device such as ``/dev/null``
    or a socket is named as such, not reported as missing; a file over
    :data:`MAX_FILE_BYTES` is refused unread. ``shown`` is the name as the user gave it.
    """
    shown = show_value(str(path) if shown is None else shown)
    allowed = "allowed: a UTF-8 .toml file"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"scenario file {shown} does not exist; {allowed}") from None
    except OSError as exc:
        reason = {errno.ENAMETOOLONG: "the name is too long", errno.ENOTDIR: "a part of the path is not a folder",
                  errno.EACCES: "permission denied", errno.ELOOP: "too many symbolic links"}.get(
                      exc.errno, exc.strerror or type(exc).__name__)
        raise ScenarioError(f"scenario file {shown} cannot be opened: {reason}; {allowed}") from None
    except ValueError as exc:  # an embedded NUL character
        raise ScenarioError(f"scenario file {shown} is not a valid path ({exc}); {allowed}") from None
    for test, kind in _FILE_KINDS:
        if test(info.st_mode):
            raise ScenarioError(f"scenario file {shown} is {kind}, not a regular file; {allowed}")
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(f"scenario file {shown} is {info.st_size:,} bytes; allowed: up to "
                            f"{MAX_FILE_BYTES:,} bytes")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"scenario file {shown} cannot be read: {exc.strerror or type(exc).__name__}; "
                            f"{allowed}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"scenario file {shown} is not UTF-8 text (byte {exc.start}); {allowed}") from None


def _flatten(table: dict, where: str) -> dict:
    """Dotted keys of a nested table -> values, without recursion; refuses deep nesting."""
    out = {}
    stack = [("", table, 0)]
    while stack:
        prefix, current, depth = stack.pop()
        for key, value in current.items():
            full = f"{prefix}{key}"
            if isinstance(value, dict) and value:  # an empty table stays, to be refused as a value
                if depth + 1 >= _MAX_KEY_DEPTH:
                    raise ScenarioError(f"{where}: {show_value(full)} is nested {_MAX_KEY_DEPTH} or more tables "
                                        "deep; allowed: owner.name = value (see `geogame params`)")
                stack.append((full + ".", value, depth + 1))
            else:
                out[full] = value
    return out


def _unknown(kind: str, key: str, allowed) -> ScenarioError:
    near = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.5)
    hint = f"did you mean {near[0]!r}?" if near else f"allowed: {', '.join(sorted(allowed))}"
    return ScenarioError(f"{kind} {show_value(key)} is not known; {hint}")


def parse_scenario(text: str, name: str = "scenario", path: str | None = None) -> Scenario:
    """Parse and validate the text of a scenario file."""
    where = path or name
    where = show_value(where, quote=False, limit=120)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{where}: arrays or tables are nested too deeply to read; allowed: "
                            "the flat layout of a scenario file (see `geogame scenarios --show baseline`)") from None
    for key in data:
        if key not in _TOP_KEYS:
            raise ScenarioError(f"{where}: {_unknown('field', key, _TOP_KEYS).args[0]}")

    title = data.get("title", name)
    story = data.get("story", "")
    for field_name, value in (("title", title), ("story", story)):
        if not isinstance(value, str):
            raise ScenarioError(f"{where}: {field_name} = {show_value(value)} is not allowed; allowed: text in quotes")
    base = data.get("base", "dec2025")
    if not isinstance(base, str) or base not in BASES:
        raise ScenarioError(f"{where}: base = {show_value(base)} is not known; allowed: {', '.join(BASES)}")
    quarters = data.get("quarters", 20)
    if isinstance(quarters, bool) or not isinstance(quarters, int) or not 1 <= quarters <= MAX_QUARTERS:
        raise ScenarioError(f"{where}: quarters = {show_value(quarters)} is not allowed; "
                            f"allowed whole numbers 1 to {MAX_QUARTERS}")

    settings_table = data.get("settings", {})
    if not isinstance(settings_table, dict):
        raise ScenarioError(f"{where}: settings = {show_value(settings_table)} is not allowed; "
                            "allowed: a [settings] table of owner.name = value")
    settings = {}
    for key, value in _flatten(settings_table, f"{where} [settings]").items():
        settings[key] = parameters.check_value(key, value, where=f"{where} [settings]")

    rules = {}
    rules_table = data.get("rules", {})
    if not isinstance(rules_table, dict):
        raise ScenarioError(f"{where}: rules = {show_value(rules_table)} is not allowed; "
                            "allowed: a [rules] table such as usa = \"scripted\"")
    players = current_layout().players
    for country, rule in rules_table.items():
        if country not in players:
            raise ScenarioError(f"{where} [rules]: {_unknown('country', country, players).args[0]}")
        if not isinstance(rule, str) or rule not in RULES:
            raise ScenarioError(f"{where} [rules]: {country} = {show_value(rule)} is not allowed; "
                                f"allowed: {', '.join(RULES)}")
        rules[country] = rule

    start = parse_quarter(BASES[base]["quarter"])
    events = []
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        raise ScenarioError(f"{where}: events = {show_value(raw_events)} is not allowed; "
                            "allowed: an array of tables ([[events]])")
    for n, raw in enumerate(raw_events, 1):
        label = f"{where} event {n}"
        if not isinstance(raw, dict):
            raise ScenarioError(f"{label}: {show_value(raw)} is not allowed; allowed: a table with quarter and set")
        for key in raw:
            if key not in _EVENT_KEYS:
                raise ScenarioError(f"{label}: {_unknown('field', key, _EVENT_KEYS).args[0]}")
        raw_quarter = raw.get("quarter", "")
        try:
            if not isinstance(raw_quarter, str):
                raise ValueError
            quarter = parse_quarter(raw_quarter)
        except ValueError:
            raise ScenarioError(f"{label}: quarter = {show_value(raw_quarter)} is not of the form YYYYQn; "
                                "allowed: a quarter in quotes such as \"2026Q2\"") from None
        if quarter <= start:
            raise ScenarioError(f"{label}: quarter {quarter_label(quarter)} is outside the run, which starts after "
                                f"{quarter_label(start)}; allowed {quarter_label(start + 1)} or later")
        sets = raw.get("set")
        if not isinstance(sets, dict) or not sets:
            raise ScenarioError(f"{label}: 'set' = {show_value(sets)} is not allowed; "
                                "allowed: a non-empty table of instrument = value")
        values = {}
        for key, value in _flatten(sets, label).items():
            if key not in INSTRUMENTS:
                if key in parameters.SETTINGS:
                    raise ScenarioError(f"{label}: {key!r} is a fixed parameter, not a policy instrument; allowed: "
                                        "set it under [settings]")
                raise ScenarioError(f"{label}: {_unknown('instrument', key, INSTRUMENTS).args[0]}")
            values[key] = parameters.check_value(key, value, where=label)
        for text_field in ("note", "source"):
            if not isinstance(raw.get(text_field, ""), str):
                raise ScenarioError(f"{label}: {text_field} = {show_value(raw[text_field])} is not allowed; "
                                    "allowed: text in quotes")
        events.append(Event(quarter, values, raw.get("note", ""), raw.get("source", "")))
    events.sort(key=lambda e: e.quarter)

    brent_path = {}
    brent_choice = data.get("brent_path")
    if brent_choice is not None:
        if brent_choice != "history":
            raise ScenarioError(f"{where}: brent_path = {show_value(brent_choice)} is not allowed; "
                                "allowed: \"history\"")
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
