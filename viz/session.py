"""One visitor's game: the current run, its settings, the AI twin and a kept run to compare.

Plain Python on top of the model's public API (no Solara), so it can be tested directly.
The page creates one ``GameSession`` per browser session.
"""
from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geogame.model import (COUNTRIES, COUNTRY_NAMES, SETTINGS, GeopoliticsModel, InputError, base_settings,
                   check_value, load_scenario, preset_names)
from geogame.model import outcome, parse_scenario

# the levers shown in the page, in order: key -> (label, scale for display, display unit, step)
LEVERS = {
    "usa.base_tariff_on_ind": ("US 'reciprocal' tariff on Indian goods", 100, "%", 1.0),
    "usa.oil_penalty_tariff_on_ind": ("US penalty tariff for buying Russian oil", 100, "%", 1.0),
    "usa.oil_penalty_threshold": ("Russian share of India's crude that triggers the penalty", 100, "%", 1.0),
    "eu.price_cap_usd": ("EU/G7 price cap on Russian crude", 1, "$/bbl", 0.1),
    "eu.cap_enforcement": ("How well the price cap is enforced", 100, "%", 5.0),
    "eu.sanction_intensity_on_rus": ("EU sanctions on Russian goods", 100, "%", 5.0),
    "world.brent_usd": ("Brent oil price at the start", 1, "$/bbl", 0.05),
    "usa.rationality": ("US rationality", 1, "0 = random", 0.5),
    "rus.rationality": ("Russia's rationality", 1, "0 = random", 0.5),
    "ind.rationality": ("India's rationality", 1, "0 = random", 0.5),
    "eu.rationality": ("EU's rationality", 1, "0 = random", 0.5),
}
# slider ranges narrower than the model's allowed range, to keep the sliders usable in class
# (the model's own range is still what check_value enforces)
SLIDER_MAX = {"usa.base_tariff_on_ind": 1.0, "usa.oil_penalty_tariff_on_ind": 1.0, "world.brent_usd": 150.0,
              "usa.rationality": 20.0, "rus.rationality": 20.0, "ind.rationality": 20.0, "eu.rationality": 20.0}


def slider_range(key: str, shown_value: float) -> tuple[float, float]:
    """(min, max) of a lever's slider in display units, wide enough for ``shown_value``.

    The classroom range (:data:`SLIDER_MAX`) is narrower than the model's; a scenario file may
    still set a value beyond it (a 150% tariff). The slider then stretches to that value, up to
    the model's own limit, rather than showing (and the browser sending back) a clamped one.
    """
    spec, scale = SETTINGS[key], LEVERS[key][1]
    top = min(max(SLIDER_MAX.get(key, spec.high) * scale, shown_value), spec.high * scale)
    return spec.low * scale, top

#: How :func:`fmt` shows a value, by the declared unit of its outcome (``geogame.model.outcomes``).
UNIT_FORMATS = {"fraction": "pct", "USD/bbl": "usd_bbl", "USD bn/yr": "bn"}
#: The page's headline figures: declared outcomes (a renamed column fails here, at import) with a
#: short title; the format follows the outcome's declared unit.
HEADLINES = [(name, title, UNIT_FORMATS[outcome(name).unit]) for name, title in (
    ("crude_share_ind_from_rus", "Russian share of India's crude"),
    ("tariff_usa_on_ind", "US tariff on Indian goods"),
    ("urals_discount_delivered_ind_usd", "Urals discount delivered to India"),
    ("russia_crude_revenue_usd_bn", "Russia's crude revenue"),
    ("trade_ind_rus_usd_bn", "India-Russia trade"),
    ("exports_ind_to_usa_usd_bn", "Indian exports to the US"),
)]
CONSEQUENCE_COLUMNS = [k for k, _, _ in HEADLINES]
MAX_SEED = 2**31 - 1


def fmt(kind: str, value: float) -> str:
    """A headline value for the page ("n/a" if it is not a finite number)."""
    if not math.isfinite(value):
        return "n/a"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "usd_bbl":
        return f"${value:.1f}/bbl"
    return f"${value:.1f}bn/yr"


def fmt_change(kind: str, change: float) -> str:
    """A change of a headline value for the page ("n/a" if it is not a finite number)."""
    if not math.isfinite(change):
        return "n/a"
    if kind == "pct":
        return f"{100 * change:+.1f} pts"
    if kind == "usd_bbl":
        return f"{change:+.1f} $/bbl"
    return f"{change:+.1f} $bn"


def parse_seed(text) -> int:
    """The seed typed in the page: a whole number 0..2**31-1 (InputError otherwise)."""
    s = str(text).strip()
    try:
        value = int(s)
    except ValueError:
        raise InputError(f"seed {one_line(repr(s), 40)} is not a whole number; type a number from 0 to {MAX_SEED}") from None
    if not 0 <= value <= MAX_SEED:
        raise InputError(f"seed {one_line(value, 40)} is out of range; allowed 0 to {MAX_SEED}")
    return value


def scenario_value(scenario, key: str) -> float:
    """The value a lever starts at in ``scenario``: its own setting, else what was observed at its
    base (December 2025 or 2021Q4, :func:`geogame.model.base_settings`)."""
    return float(scenario.settings.get(key, base_settings(scenario.base)[key]))


MAX_UPLOAD_BYTES = 1_000_000  # a scenario file is a few kB; the presets are under 5 kB
MAX_MESSAGE_CHARS = 300      # an error shown in the page is one line of at most this many characters
MAX_NAME_CHARS = 60


def shown_file_name(name) -> str:
    """An uploaded file's name as the page shows it: the last path part, printable, at most
    ``MAX_NAME_CHARS`` characters (a browser sends only the base name; a hostile client may not)."""
    base = re.split(r"[/\\]", str(name))[-1]
    base = "".join(ch if ch.isprintable() else "?" for ch in base).strip() or "the file"
    return base if len(base) <= MAX_NAME_CHARS else base[: MAX_NAME_CHARS - 3] + "..."


def _server_dirs() -> list[str]:
    dirs = {str(Path(__file__).resolve().parent.parent), sys.prefix, sys.base_prefix, tempfile.gettempdir(),
            str(Path.home()), os.getcwd()}
    return sorted((d for d in dirs if len(d) > 1), key=len, reverse=True)


def one_line(message, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message`` as one line for the page: control characters and line breaks become spaces,
    any of the server's own folders is replaced by "...", and it is cut at ``limit`` characters."""
    text = str(message)
    for folder in _server_dirs():
        text = text.replace(folder, "...")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_upload_size(name, size) -> None:
    """InputError if ``size`` (bytes; None = unknown) is over :data:`MAX_UPLOAD_BYTES`."""
    if size is None:
        return
    try:
        n = int(size)
    except (TypeError, ValueError):
        raise InputError(f"{shown_file_name(name)}: the browser sent no usable file size") from None
    if n > MAX_UPLOAD_BYTES:
        raise InputError(f"{shown_file_name(name)} is too large ({n:,} bytes); a scenario file may be at most "
                         f"{MAX_UPLOAD_BYTES / 1e6:g} MB")


def load_uploaded_scenario(name: str, data: bytes, size: int | None = None):
    """Parse an uploaded scenario file, or raise InputError with one safe line saying why not.

    Refused: a file over :data:`MAX_UPLOAD_BYTES` (``size`` is what the browser reported,
    checked before any byte is read; ``data`` is checked too), not named ``.toml``, not UTF-8,
    or not a scenario the model accepts. Any other exception while parsing or building the
    model (a bug, a pathological file) is also turned into InputError: the page shows one
    line naming the file, never a traceback or a server path.
    """
    shown = shown_file_name(name)
    check_upload_size(name, size)
    check_upload_size(name, len(data))
    if not str(name).lower().endswith(".toml"):
        raise InputError(f"{shown}: a scenario file must be a .toml file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{shown}: not a text file (a scenario is a UTF-8 .toml file)") from None
    stem = shown[: -len(".toml")] if shown.lower().endswith(".toml") else shown
    try:
        scenario = parse_scenario(text, name=stem or "uploaded", path=shown)  # messages name the file as uploaded
        # the model checks the run length and events only when it is built: try it now
        GeopoliticsModel(scenario=scenario, seed=0)
    except InputError as exc:
        raise InputError(one_line(exc)) from None
    except RecursionError:
        raise InputError(f"{shown}: nested too deeply to be a scenario file") from None
    except Exception as exc:  # noqa: BLE001 - whatever the parser or model does, the page shows one line
        raise InputError(f"{shown}: cannot be used as a scenario ({type(exc).__name__}); "
                         f"check it with: geogame run --scenario FILE") from None
    return scenario


def check_lever(key: str, shown) -> float:
    """A lever value as the page sent it (display units), if it is a finite number in the model's
    range; InputError otherwise (a slider cannot send NaN, but a modified page can)."""
    label, scale, unit, _ = LEVERS[key]
    spec = SETTINGS[key]
    low, high = spec.low * scale, spec.high * scale
    try:
        value = float(shown)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError(f"{label}: {one_line(repr(shown), 40)} is refused; allowed {low:g} to {high:g} ({unit})")
    return value


@dataclass
class RunRecord:
    """A finished or paused run, kept for comparison or the debrief."""
    label: str
    metrics: pd.DataFrame
    decisions: pd.DataFrame
    scenario_title: str = ""
    settings: dict = field(default_factory=dict)


class GameSession:
    """The state of one visitor's game."""

    def __init__(self, scenario: str = "baseline", seed: int = 1):
        self.lock = threading.RLock()
        self.scenario = load_scenario(scenario)
        self.seed = seed
        self.overrides: dict[str, float] = {}
        self.play_as: str | None = None
        self.run_id = 0
        self.model = self._build(self.scenario, self.seed, self.overrides, self.play_as)
        self.compare: RunRecord | None = None
        self._twin = None
        self._twin_key = None

    # ------------------------------------------------------------------------- building runs
    @staticmethod
    def _build(scenario, seed, overrides, play_as) -> GeopoliticsModel:
        rules = {play_as: "human"} if play_as else None
        return GeopoliticsModel(scenario=scenario, seed=seed, overrides=dict(overrides), rules=rules)

    def new_run(self, scenario=None, seed: int | None = None, overrides: dict | None = None,
                play_as: str | None | type(...) = ...) -> None:
        """Start a new run. Everything is validated first; on error the current run is untouched."""
        scenario = self.scenario if scenario is None else scenario
        if isinstance(scenario, str):
            scenario = load_scenario(scenario)
        seed = self.seed if seed is None else parse_seed(seed)
        overrides = self.overrides if overrides is None else {k: check_value(k, v) for k, v in overrides.items()}
        play_as = self.play_as if play_as is ... else play_as
        if play_as is not None and play_as not in COUNTRIES:
            raise InputError(f"play as {play_as!r}: choose one of {', '.join(COUNTRIES)}")
        model = self._build(scenario, seed, overrides, play_as)  # raises before anything changes
        with self.lock:
            self.scenario, self.seed, self.overrides, self.play_as = scenario, seed, dict(overrides), play_as
            self.model = model
            self.run_id += 1
            self._twin = self._twin_key = None

    def reset(self) -> None:
        """Start the same run again (same scenario, seed, settings and player)."""
        self.new_run()

    # ------------------------------------------------------------------------------ running
    @property
    def quarters_done(self) -> int:
        """Quarters run so far in the current run (read from the calendar, not by building the
        metrics table: the Play thread may be stepping the model meanwhile)."""
        return self.model.quarter - self.scenario.start_quarter

    @property
    def finished(self) -> bool:
        """True when the current run has reached the scenario's last quarter."""
        return self.quarters_done >= self.scenario.quarters

    @property
    def awaiting(self) -> list[str]:
        """Countries whose player has not chosen this quarter's move yet."""
        return self.model.awaiting_moves()

    def can_step(self) -> bool:
        """True when the next quarter can be run now."""
        return not self.finished and not self.awaiting

    def step(self) -> bool:
        """Advance one quarter if possible; False when the run is over or waits for a move."""
        with self.lock:
            if not self.can_step():
                return False
            self._remember()
            self.model.step()
            return True

    def play_move(self, move: str) -> None:
        """Submit the student's move for the country they play, then advance the quarter."""
        with self.lock:
            if self.finished:
                raise InputError("the scenario is over: start a new run to play again")
            if not self.play_as or self.play_as not in self.awaiting:
                raise InputError("no move is awaited now")
            self.model.submit_move(self.play_as, move)
            self._remember()
            self.model.step()

    def _remember(self) -> None:
        """Keep last quarter's trade flows (read-only copy) to show their change."""
        self._prev = (self.run_id, self.quarters_done + 1, self.model.world.goods_flow_usd_bn[0].copy(),
                      dict(self.model.latest))

    def previous_edges(self) -> list[dict] | None:
        """Last quarter's trade flows (for the change colours), or None at the start of a run."""
        prev = getattr(self, "_prev", None)
        if prev is None or prev[0] != self.run_id or prev[1] != self.quarters_done:
            return None
        from .charts import trade_edges
        return trade_edges(prev[2], prev[3])

    # ------------------------------------------------------------------------------ reading
    def headlines(self) -> list[dict]:
        """The headline numbers of the latest quarter and their change since the one before."""
        with self.lock:
            frame = self.model.metrics_frame()
        last = frame.iloc[-1]
        prev = frame.iloc[-2] if len(frame) > 1 else None
        out = []
        for key, label, kind in HEADLINES:
            value = float(last[key])
            change = None if prev is None else value - float(prev[key])
            out.append({"key": key, "label": label, "value": fmt(kind, value),
                        "change": "start" if change is None else fmt_change(kind, change)})
        return out

    def event_log(self) -> pd.DataFrame:
        """Every move with its reason and every scenario event, newest quarter first."""
        with self.lock:
            dec = self.model.decisions_frame()
            ev = self.model.events_frame()
        rows = [{"quarter": r.quarter, "who": COUNTRY_NAMES.get(r.country, r.country),
                 "what": r.move, "reason": r.reason, "rule": r.rule} for r in dec.itertuples()]
        rows += [{"quarter": r.quarter, "who": "Scenario", "what": "event", "reason": r.note, "rule": "event"}
                 for r in ev.itertuples()]
        log = pd.DataFrame(rows, columns=["quarter", "who", "what", "reason", "rule"])
        if log.empty:
            return log
        return log.iloc[::-1].sort_values("quarter", ascending=False, kind="stable").reset_index(drop=True)

    def record(self, label: str) -> RunRecord:
        """The current run as a RunRecord named ``label``."""
        with self.lock:
            return RunRecord(label, self.model.metrics_frame(), self.model.decisions_frame(),
                         self.scenario.title, dict(self.overrides))

    def describe(self) -> str:
        """One line: scenario, seed, changed settings and who is played by the student."""
        parts = [self.scenario.name, f"seed {self.seed}"]
        if self.overrides:
            parts.append(", ".join(f"{k}={v:g}" for k, v in sorted(self.overrides.items())))
        if self.play_as:
            parts.append(f"{COUNTRY_NAMES[self.play_as]} played by you")
        return "; ".join(parts)

    # ------------------------------------------------------------------------------ debrief
    def ai_twin(self) -> GeopoliticsModel:
        """The same scenario, overrides and seed, every country by the scenario's rules (no
        person), run for as many quarters as the current run. Cached per run and length."""
        with self.lock:
            key = (self.run_id, self.quarters_done)
            if self._twin_key != key:
                twin = self._build(self.scenario, self.seed, self.overrides, None)
                for _ in range(self.quarters_done):
                    twin.step()
                self._twin, self._twin_key = twin, key
            return self._twin

    def student_moves(self) -> pd.DataFrame:
        """The played country's moves, what the AI would have chosen, and what followed: the
        change of the headline numbers over that quarter, and the gap to the AI path then."""
        cols = ["quarter", "your move", "model's choice", "value of your move", "value of model's choice"]
        if not self.play_as:
            return pd.DataFrame(columns=cols)
        with self.lock:
            dec = self.model.decisions_frame()
            metrics = self.model.metrics_frame().set_index("quarter")
        dec = dec[(dec["country"] == self.play_as) & (dec["rule"] == "human")]
        twin = self.ai_twin().metrics_frame().set_index("quarter")
        quarters = list(metrics.index)
        rows = []
        for r in dec.itertuples():
            row = {"quarter": r.quarter, "your move": r.move, "model's choice": r.best_move,
                   "value of your move": round(float(r.value), 2),
                   "value of model's choice": round(float(r.runner_up_value if r.runner_up == r.best_move
                                                          and r.best_move != r.move else r.value), 2)}
            i = quarters.index(r.quarter) if r.quarter in quarters else None
            for key, label, kind in HEADLINES:
                if i is None or i == 0:
                    continue
                change = float(metrics[key].iloc[i] - metrics[key].iloc[i - 1])
                row[f"{label}: change"] = fmt_change(kind, change)
                if r.quarter in twin.index:
                    row[f"{label}: you vs AI"] = fmt_change(kind, float(metrics.loc[r.quarter, key]
                                                                         - twin.loc[r.quarter, key]))
            rows.append(row)
        return pd.DataFrame(rows)

    def end_comparison(self) -> pd.DataFrame:
        """Latest headline numbers: your path, the AI path and the difference."""
        with self.lock:
            mine = self.model.metrics_frame().iloc[-1]
        ai = self.ai_twin().metrics_frame().iloc[-1]
        rows = []
        for key, label, kind in HEADLINES:
            rows.append({"measure": label, "your path": fmt(kind, float(mine[key])),
                         "AI path": fmt(kind, float(ai[key])),
                         "difference": fmt_change(kind, float(mine[key]) - float(ai[key]))})
        return pd.DataFrame(rows)

    def metrics(self) -> pd.DataFrame:
        """The current run's quarterly table, read under the session's lock."""
        with self.lock:
            return self.model.metrics_frame()

    def replay_record(self) -> dict:
        """The current run as a replay file (the class game's format, one JSON object): the
        scenario with this run's settings, the seed, and every quarter's rule and move of every
        country, so the student's moves, who played and the seed are all kept.
        ``geogame class replay FILE`` replays it exactly."""
        with self.lock:
            text = GeopoliticsModel(scenario=self.scenario, seed=self.seed,
                                    overrides=dict(self.overrides)).scenario_toml()
            dec = self.model.decisions_frame()
        rounds = []
        for quarter, rows in dec.groupby("quarter", sort=False):
            plays = {r.country: {"rule": r.rule, "move": r.move} for r in rows.itertuples()}
            rounds.append({"round": len(rounds) + 1, "quarter": quarter, "plays": plays})
        return {"format": "geogame-class-game", "version": 1, "scenario_name": self.scenario.name,
                "scenario_toml": text, "seed": self.seed, "played_by_student": self.play_as, "rounds": rounds}

    # ------------------------------------------------------------------------------ compare
    def keep_for_compare(self) -> None:
        """Keep the current run as run B."""
        self.compare = self.record(f"B: {self.describe()} to {self.model.quarter_label}")

    def run_for_compare(self, scenario_name: str) -> None:
        """Run ``scenario_name`` with this run's seed and overrides, all countries by their
        rules, for as many quarters as the current run (at least one)."""
        scenario = load_scenario(scenario_name)
        model = self._build(scenario, self.seed, self.overrides, None)
        for _ in range(min(max(1, self.quarters_done), scenario.quarters)):
            model.step()
        desc = f"B: {scenario.name}, seed {self.seed}"
        if self.overrides:
            desc += ", " + ", ".join(f"{k}={v:g}" for k, v in sorted(self.overrides.items()))
        self.compare = RunRecord(desc, model.metrics_frame(), model.decisions_frame(), scenario.title,
                                 dict(self.overrides))


def presets() -> list[str]:
    """Names of the preset scenarios."""
    return list(preset_names())
