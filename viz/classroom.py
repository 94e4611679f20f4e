"""One game for a whole class: a shared model, seats, rounds, a teacher's console and a store.

Plain Python on top of the model's public API (no Solara), so it can be tested directly and
shared by every visitor of the Solara server.

* :class:`ClassRegistry` holds the games of one server, keyed by game code, behind a lock. It
  lives outside Solara's reactive scope (one per process, :func:`registry`), and loads a game
  from its :class:`ClassStore` on first use, so a restarted server resumes every game.
* :class:`ClassGame` is one game: **one** :class:`~geogame.GeopoliticsModel` for the whole
  class, the seats (students; several may share a country as a team), the moves submitted for
  the open round, and the round's state (open, paused, deadline). The AI plays every country
  nobody holds. Every change is written to the store before it is announced to the listeners
  (the open pages), which then re-render.
* :class:`ClassStore` is an embedded SQLite database (stdlib ``sqlite3``): the game's scenario
  (as TOML text), seed, settings, seats, every move submitted, every resolved round and every
  message. The model is deterministic given scenario, seed and the rule and move of every country
  in every round, so a game is rebuilt by replaying its rounds (:func:`replay`); the replay checks
  that every country's move comes out as recorded.
* :func:`export_game` / :func:`replay`: one JSON file that replays a game exactly
  (``geogame class replay FILE``).

Who may do what: a student acts only through their seat code (which fixes the country); the
console's actions need the teacher's key (only its SHA-256 is stored). Codes come from
:mod:`secrets`.
"""
from __future__ import annotations

import collections
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from geogame.model import COUNTRIES, COUNTRY_NAMES, GeopoliticsModel, InputError, load_scenario, parse_scenario
from geogame.viz import deals

#: Game and seat codes use letters and digits that cannot be misread (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GAME_CODE_LENGTH = 6   # 31**6 = 887 million codes
SEAT_CODE_LENGTH = 8   # 31**8 = 852 billion codes
EXPORT_FORMAT = "geogame-class-game"
EXPORT_VERSION = 2   # 2: rounds may carry the events of the deals enforced in them
POLICIES = {"hold": "hold (the country keeps its policies)", "ai": "the AI's move"}
MAX_NAME_CHARS = 40
MAX_MESSAGE_CHARS = 280
MAX_SEATS = 200
#: Threads that re-render a game's pages after a change (see ClassGame._changed): on a 2-core
#: machine more only make every page wait for all of them (benchmarks/bench_class.py).
NOTIFIERS = 2
DB_ENV = "GEOGAME_CLASS_DB"
#: A file to which every change and every page told of it is appended, one JSON line each, with
#: times (``time.time()``) and durations: set by ``benchmarks/bench_class.py --trace`` to see where
#: the time between a round resolving and every screen showing it goes. Off when unset.
TRACE_ENV = "GEOGAME_CLASS_TRACE"
logger = logging.getLogger("geogame.classroom")
DEFAULT_DB = Path(".cache") / "geogame-class.sqlite3"


_warm_up_started = False
_warm_up_lock = threading.Lock()


def warm_up(scenario, seed: int) -> None:
    """Step a throwaway model of ``scenario`` once, in a background thread, once per process.

    The first step in a process loads the model's compiled code (numba's cache: about 0.6 s on a
    quiet machine, over 1 s on a busy one). Done here, while the teacher waits for the class to
    join, instead of when the teacher resolves the first round (where it held up every screen)."""
    global _warm_up_started
    with _warm_up_lock:
        if _warm_up_started:
            return
        _warm_up_started = True

    def run():
        try:
            model = GeopoliticsModel(scenario=scenario, seed=int(seed))
            model.step()
            model.metrics_frame(), model.decisions_frame()
        except Exception:  # noqa: BLE001 - only a head start: the first round then pays the cost
            logger.debug("class game warm-up failed", exc_info=True)
    threading.Thread(target=run, daemon=True, name="class-warm-up").start()


def _trace(**fields) -> None:
    """Append one line to the trace file named by :data:`TRACE_ENV` (nothing when it is unset)."""
    path = os.environ.get(TRACE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"t": time.time(), "thread": threading.get_ident(), **fields}) + "\n")


class ClassError(InputError):
    """A class-game action that is not allowed (bad code, wrong key, not your seat, round closed)."""


def new_code(length: int) -> str:
    """A random code of ``length`` characters from :data:`CODE_ALPHABET` (``secrets``)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(text) -> str:
    """A code as typed: upper case, spaces and dashes removed (``abc-123`` -> ``ABC123``)."""
    return "".join(ch for ch in str(text).upper() if ch.isalnum())


def key_hash(key: str) -> str:
    """SHA-256 (hex) of a teacher key; only this is stored."""
    return hashlib.sha256(str(key).encode()).hexdigest()


def clean_text(text, limit: int) -> str:
    """A name or message as stored: printable characters only, one line, at most ``limit``
    characters. (It is escaped again wherever it is shown.)"""
    s = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    return s[:limit]


@dataclass
class Seat:
    """One student's place in a game: their secret seat code, country and display name."""
    code: str
    country: str
    name: str
    joined: float


# ------------------------------------------------------------------------------------ store
SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    code TEXT PRIMARY KEY, teacher_key_hash TEXT NOT NULL, scenario_name TEXT NOT NULL,
    scenario_toml TEXT NOT NULL, seed INTEGER NOT NULL, countries TEXT NOT NULL, policy TEXT NOT NULL,
    locked INTEGER NOT NULL, status TEXT NOT NULL, round_seconds REAL, deadline REAL, remaining REAL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS seats (
    seat_code TEXT PRIMARY KEY, game TEXT NOT NULL, country TEXT NOT NULL, name TEXT NOT NULL, joined REAL NOT NULL);
CREATE TABLE IF NOT EXISTS moves (
    id INTEGER PRIMARY KEY AUTOINCREMENT, game TEXT NOT NULL, round INTEGER NOT NULL, country TEXT NOT NULL,
    move TEXT NOT NULL, seat_code TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rounds (
    game TEXT NOT NULL, round INTEGER NOT NULL, quarter TEXT NOT NULL, plays TEXT NOT NULL, resolved REAL NOT NULL,
    PRIMARY KEY (game, round));
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, game TEXT NOT NULL, round INTEGER NOT NULL, seat_code TEXT NOT NULL,
    text TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS offers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, game TEXT NOT NULL, round INTEGER NOT NULL, kind TEXT NOT NULL,
    from_country TEXT NOT NULL, to_country TEXT NOT NULL, terms TEXT NOT NULL, note TEXT NOT NULL,
    seat_code TEXT NOT NULL, status TEXT NOT NULL, answered_by TEXT, events TEXT, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY, game TEXT NOT NULL, role TEXT NOT NULL, seat_code TEXT, at REAL NOT NULL);
"""
GAME_FIELDS = ("code", "teacher_key_hash", "scenario_name", "scenario_toml", "seed", "countries", "policy",
               "locked", "status", "round_seconds", "deadline", "remaining", "created", "updated")


class ClassStore:
    """The class games of one server in an SQLite file (stdlib ``sqlite3``).

    Every write is committed at once (WAL journal), so a crash loses nothing written before it.

    Parameters
    ----------
    path : str or Path
        The database file (created with its folder if missing); ``":memory:"`` for tests.
    """

    def __init__(self, path: str | os.PathLike = DEFAULT_DB):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with self.lock:
            self.db.close()

    def _exec(self, sql: str, args=()) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    # games
    def save_game(self, game: dict) -> None:
        """Insert or replace a game's row (``game`` has every field of :data:`GAME_FIELDS`)."""
        self._exec(f"INSERT OR REPLACE INTO games ({', '.join(GAME_FIELDS)}) VALUES "
                   f"({', '.join('?' for _ in GAME_FIELDS)})", [game[f] for f in GAME_FIELDS])

    def load_game(self, code: str) -> dict | None:
        """A game's row as a dict, or None."""
        rows = self._exec(f"SELECT {', '.join(GAME_FIELDS)} FROM games WHERE code = ?", (code,))
        return dict(zip(GAME_FIELDS, rows[0])) if rows else None

    def game_codes(self) -> list[str]:
        """Codes of every stored game, newest first."""
        return [r[0] for r in self._exec("SELECT code FROM games ORDER BY created DESC")]

    # seats
    def add_seat(self, game: str, seat: Seat) -> None:
        """Store a new seat."""
        self._exec("INSERT INTO seats (seat_code, game, country, name, joined) VALUES (?, ?, ?, ?, ?)",
                   (seat.code, game, seat.country, seat.name, seat.joined))

    def seats(self, game: str) -> list[Seat]:
        """The seats of a game in the order they joined."""
        return [Seat(*r) for r in self._exec("SELECT seat_code, country, name, joined FROM seats WHERE game = ? "
                                             "ORDER BY joined, rowid", (game,))]

    # moves, rounds, messages
    def add_move(self, game: str, round_: int, country: str, move: str, seat_code: str) -> None:
        """Log a submitted move (every submission is kept; the last one for a country counts)."""
        self._exec("INSERT INTO moves (game, round, country, move, seat_code, at) VALUES (?, ?, ?, ?, ?, ?)",
                   (game, round_, country, move, seat_code, time.time()))

    def moves(self, game: str) -> list[dict]:
        """Every submitted move of a game, oldest first."""
        return [dict(zip(("round", "country", "move", "seat_code", "at"), r)) for r in self._exec(
            "SELECT round, country, move, seat_code, at FROM moves WHERE game = ? ORDER BY id", (game,))]

    def add_round(self, game: str, round_: int, quarter: str, plays: dict) -> None:
        """Store a resolved round: every country's rule and move."""
        self._exec("INSERT OR REPLACE INTO rounds (game, round, quarter, plays, resolved) VALUES (?, ?, ?, ?, ?)",
                   (game, round_, quarter, json.dumps(plays, sort_keys=True), time.time()))

    def rounds(self, game: str) -> list[dict]:
        """The resolved rounds of a game in order."""
        return [{"round": r[0], "quarter": r[1], "plays": json.loads(r[2])} for r in self._exec(
            "SELECT round, quarter, plays FROM rounds WHERE game = ? ORDER BY round", (game,))]

    def add_message(self, game: str, round_: int, seat_code: str, text: str) -> None:
        """Log a message."""
        self._exec("INSERT INTO messages (game, round, seat_code, text, at) VALUES (?, ?, ?, ?, ?)",
                   (game, round_, seat_code, text, time.time()))

    def messages(self, game: str) -> list[dict]:
        """Every message of a game, oldest first."""
        return [dict(zip(("round", "seat_code", "text", "at"), r)) for r in self._exec(
            "SELECT round, seat_code, text, at FROM messages WHERE game = ? ORDER BY id", (game,))]

    # offers between players
    def add_offer(self, game: str, offer: dict) -> int:
        """Store a new offer; returns its id."""
        with self.lock:
            cur = self.db.execute(
                "INSERT INTO offers (game, round, kind, from_country, to_country, terms, note, seat_code, status, "
                "answered_by, events, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (game, offer["round"], offer["kind"], offer["from"], offer["to"], json.dumps(offer["terms"]),
                 offer["note"], offer["seat_code"], offer["status"], offer.get("answered_by"),
                 json.dumps(offer.get("events") or {}), offer["at"]))
            return int(cur.lastrowid)

    def update_offer(self, offer: dict) -> None:
        """Store an offer's new status (accepted, rejected, withdrawn, expired, enforced)."""
        self._exec("UPDATE offers SET status = ?, answered_by = ?, events = ? WHERE id = ?",
                   (offer["status"], offer.get("answered_by"), json.dumps(offer.get("events") or {}), offer["id"]))

    def offers(self, game: str) -> list[dict]:
        """Every offer of a game, oldest first."""
        keys = ("id", "round", "kind", "from", "to", "terms", "note", "seat_code", "status", "answered_by",
                "events", "at")
        out = []
        for r in self._exec("SELECT id, round, kind, from_country, to_country, terms, note, seat_code, status, "
                            "answered_by, events, at FROM offers WHERE game = ? ORDER BY id", (game,)):
            offer = dict(zip(keys, r))
            offer["terms"] = json.loads(offer["terms"])
            offer["events"] = json.loads(offer["events"] or "{}")
            out.append(offer)
        return out

    # browser sessions (a reload rejoins the same seat)
    def remember_session(self, session_id: str, game: str, role: str, seat_code: str | None) -> None:
        """Remember which game and seat a browser session holds (its id is stored hashed)."""
        self._exec("INSERT OR REPLACE INTO sessions (session_hash, game, role, seat_code, at) VALUES (?, ?, ?, ?, ?)",
                   (key_hash(session_id), game, role, seat_code, time.time()))

    def forget_session(self, session_id: str) -> None:
        """Forget a browser session's game."""
        self._exec("DELETE FROM sessions WHERE session_hash = ?", (key_hash(session_id),))

    def session(self, session_id: str) -> tuple[str, str, str | None] | None:
        """(game, role, seat code) a browser session held, or None."""
        rows = self._exec("SELECT game, role, seat_code FROM sessions WHERE session_hash = ?", (key_hash(session_id),))
        return tuple(rows[0]) if rows else None


# ------------------------------------------------------------------------------------- replay
def scenario_rules(scenario) -> dict[str, str]:
    """The rule each country plays by when nobody holds it (the scenario's own, else ``ai``)."""
    return {c: scenario.rules.get(c, "ai") for c in COUNTRIES}


def apply_round(model: GeopoliticsModel, plays: dict, lenient: bool = False) -> None:
    """Play one round on ``model``: set every country's rule, submit the people's moves, step.

    ``plays`` maps country -> ``{"rule": ..., "move": ...}``; for ``human`` the move is
    submitted; for any other rule the move is what that rule chose (checked by :func:`replay`).
    A person's move is checked against the menu before the quarter's events (a deal's terms
    among them) apply; the model plays it if it is still on the menu then, else holds.
    ``lenient``: a person's move not on the menu now is submitted as a hold.
    """
    for country in COUNTRIES:
        model.set_rule(country, plays[country]["rule"])
    for country in COUNTRIES:
        if plays[country]["rule"] == "human":
            move = plays[country]["move"]
            if lenient and move not in {m.name for m in model.menu(country)}:
                move = "hold"
            model.submit_move(country, move)
    model.step()


def played_moves(model: GeopoliticsModel, quarter: str) -> dict[str, str]:
    """country -> move of the decisions recorded for ``quarter``."""
    dec = model.decisions_frame()
    dec = dec[dec["quarter"] == quarter]
    return dict(zip(dec["country"], dec["move"]))


def with_events(scenario_toml: str, rounds: list[dict]) -> str:
    """The scenario text with the events of the deals enforced in ``rounds`` appended: each
    round's ``events`` (instrument -> value) set at the start of the round's quarter, after the
    scenario's own events of that quarter. The values come from :mod:`geogame.viz.deals` (never
    from what a person typed), so no text of theirs enters the file."""
    blocks = []
    for rnd in rounds:
        events = rnd.get("events") or {}
        if events:
            sets = ", ".join(f"{json.dumps(k)} = {float(v)!r}" for k, v in sorted(events.items()))
            blocks.append(f'\n[[events]]\nquarter = {json.dumps(rnd["quarter"])}\n'
                          f'note = "a deal between players in the class game (round {int(rnd["round"])})"\n'
                          f"set = {{ {sets} }}\n")
    return scenario_toml + "".join(blocks) if blocks else scenario_toml


def play_path(scenario_toml: str, seed: int, rounds: list[dict], name: str = "class") -> GeopoliticsModel:
    """Play ``rounds`` without checking that every move comes out as recorded: a person's move
    that is not on the menu on this path is a hold (the model's rule for a person's move that
    is not available). For counterfactual paths (a team's seat given to the AI)."""
    model = GeopoliticsModel(scenario=parse_scenario(with_events(scenario_toml, rounds), name=name), seed=int(seed))
    for rnd in rounds:
        apply_round(model, rnd["plays"], lenient=True)
    return model


def replay(scenario_toml: str, seed: int, rounds: list[dict], name: str = "class",
           before_round: Callable[[GeopoliticsModel], None] | None = None,
           upcoming: dict | None = None) -> GeopoliticsModel:
    """Rebuild a game's model from its scenario, seed and resolved rounds.

    Parameters
    ----------
    scenario_toml : str
        The scenario as TOML text (as written by ``GeopoliticsModel.scenario_toml``).
    seed : int
        The game's seed.
    rounds : list of dict
        ``{"round": n, "quarter": "2026Q1", "plays": {country: {"rule", "move"}}}`` in order.
    name : str
        The scenario's name (shown in the tables).
    before_round : callable, optional
        Called with the model before each round is played (e.g. to read the menus).
    upcoming : dict, optional
        The round about to be played (``round``, ``quarter``, ``events``): its events are put in
        the scenario too, so that it can be played on the returned model.

    Returns
    -------
    GeopoliticsModel
        The model after the last round.

    Raises
    ------
    ClassError
        If a round is out of order or a country's move does not come out as recorded (the model
        changed since the game was played, or the file was edited).
    """
    scenario = parse_scenario(with_events(scenario_toml, rounds + ([upcoming] if upcoming else [])), name=name)
    model = GeopoliticsModel(scenario=scenario, seed=int(seed))
    for i, rnd in enumerate(rounds, start=1):
        if int(rnd["round"]) != i:
            raise ClassError(f"round {rnd['round']!r} out of order; expected round {i}")
        if before_round is not None:
            before_round(model)
        apply_round(model, rnd["plays"])
        got = played_moves(model, model.quarter_label)
        want = {c: p["move"] for c, p in rnd["plays"].items()}
        if got != want:
            diff = ", ".join(f"{c}: recorded {want.get(c)!r}, replayed {got.get(c)!r}"
                             for c in COUNTRIES if got.get(c) != want.get(c))
            raise ClassError(f"round {i} ({model.quarter_label}) does not replay as recorded ({diff})")
    return model


def replay_file(path: str | os.PathLike) -> GeopoliticsModel:
    """Replay an exported game file (:func:`export_game`); returns the model after its last round."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClassError(f"{path}: not a game file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ClassError(f"{path}: not a geogame class game file (format {EXPORT_FORMAT!r} expected)")
    try:
        rounds = [{"round": r["round"], "quarter": r["quarter"], "plays": r["plays"], "events": r.get("events") or {}}
                  for r in data["rounds"]]
        return replay(data["scenario_toml"], int(data["seed"]), rounds, data.get("scenario_name", "class"))
    except ClassError as exc:
        raise ClassError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ClassError(f"{path}: malformed game file ({type(exc).__name__}: {exc})") from None


# -------------------------------------------------------------------------------------- game
class ClassGame:
    """One class game: one model, its seats, the open round and its store (see module docstring).

    Create games with :meth:`ClassRegistry.create`; this class is not meant to be built directly.
    Every public method is thread-safe (``self.lock``).
    """

    def __init__(self, store: ClassStore, row: dict, seats: list[Seat], rounds: list[dict], moves: list[dict],
                 messages: list[dict], offers: list[dict] | None = None):
        self.lock = threading.RLock()
        self.store = store
        self.code = row["code"]
        self._key_hash = row["teacher_key_hash"]
        self.scenario_name = row["scenario_name"]
        self.scenario_toml = row["scenario_toml"]
        self.scenario = parse_scenario(self.scenario_toml, name=self.scenario_name)
        self.seed = int(row["seed"])
        self.countries: list[str] = json.loads(row["countries"])
        self.policy = row["policy"]
        self.locked = bool(row["locked"])
        self.status = row["status"]
        self.round_seconds = row["round_seconds"]
        self.deadline = row["deadline"]
        self.remaining = row["remaining"]
        self.created = row["created"]
        self.seats: dict[str, Seat] = {s.code: s for s in seats}
        self.rounds = rounds
        self.moves_log = moves
        self.messages = messages
        self.offers: list[dict] = list(offers or [])
        for rnd in self.rounds:   # the events of the deals enforced in each round
            rnd["events"] = self._deal_events(rnd["round"])
        self._labels: dict[str, dict[str, str]] = {c: {} for c in COUNTRIES}
        self.model = replay(self.scenario_toml, self.seed, rounds, self.scenario_name, self._read_labels)
        self._read_labels(self.model)
        self.default_rules = scenario_rules(self.scenario)
        # moves submitted for the open round: country -> (move, seat code)
        self.pending: dict[str, tuple[str, str]] = {}
        for m in moves:
            if m["round"] == self.round:
                self.pending[m["country"]] = (m["move"], m["seat_code"])
        self.version = 0
        self.error = ""  # shown on the console when something went wrong in a timer
        self._listeners: dict[object, tuple[Callable[[], None], str | None]] = {}
        self._notifying: set = set()   # listeners being called now
        self._dirty: set = set()       # ... that changed again meanwhile
        self._queue: collections.deque = collections.deque()   # listeners to call
        self._queue_first: collections.deque = collections.deque()   # ... before those
        self._queued: set = set()      # ... the same as a set
        self._notifiers = 0            # threads calling them
        self._timer: threading.Timer | None = None
        self._cache: dict = {}   # views of the current version (emptied on every change)
        self._paths: dict = {}   # counterfactual paths and scores, by rounds played (kept)
        if self.status == "open" and self.deadline is not None:
            self._arm_timer()
        if not self.rounds:   # a replayed game has stepped its model already
            warm_up(self.scenario, self.seed)

    def _read_labels(self, model: GeopoliticsModel) -> None:
        """Remember every move's label in plain words (menus change from quarter to quarter)."""
        for country in COUNTRIES:
            for move in model.menu(country):
                self._labels[country][move.name] = move.label

    # ----------------------------------------------------------------------------- state
    @property
    def round(self) -> int:
        """The open round's number (1 for the first quarter played)."""
        return len(self.rounds) + 1

    @property
    def finished(self) -> bool:
        """True once the scenario's last quarter has been played."""
        return self.model.finished

    def _row(self) -> dict:
        return {"code": self.code, "teacher_key_hash": self._key_hash, "scenario_name": self.scenario_name,
                "scenario_toml": self.scenario_toml, "seed": self.seed, "countries": json.dumps(self.countries),
                "policy": self.policy, "locked": int(self.locked), "status": self.status,
                "round_seconds": self.round_seconds, "deadline": self.deadline, "remaining": self.remaining,
                "created": self.created, "updated": time.time()}

    def _save(self) -> None:
        self.store.save_game(self._row())

    def is_teacher(self, key) -> bool:
        """True if ``key`` is this game's teacher key (compared in constant time)."""
        return isinstance(key, str) and hmac.compare_digest(key_hash(key), self._key_hash)

    def _check_teacher(self, key) -> None:
        if not self.is_teacher(key):
            raise ClassError("only the teacher can do that: the teacher's key is needed")

    def seat(self, seat_code) -> Seat:
        """The seat with ``seat_code``; ClassError if there is none in this game."""
        seat = self.seats.get(normalise_code(seat_code))
        if seat is None:
            raise ClassError("no seat with that code in this game")
        return seat

    # --------------------------------------------------------------------------- listeners
    def add_listener(self, token, callback: Callable[[], None], country: str | None = None,
                     first: bool = False) -> None:
        """Call ``callback()`` (from another thread) after every change, until removed.

        With ``country`` (a seat's page), changes that concern only another country (a team's
        move in the open round) are not announced. While a page is still being told of one
        change, further changes are folded into one more call (a burst of 30 moves makes a page
        re-render at most twice, not 30 times). ``first``: a small part of a page (the quarter,
        the round's state, the clock) told before every page's larger rest, so that every screen
        shows that the round has resolved before the charts and tables follow.
        """
        with self.lock:
            self._listeners[token] = (callback, country, first)

    def remove_listener(self, token) -> None:
        """Stop calling the listener registered under ``token``."""
        with self.lock:
            self._listeners.pop(token, None)

    def _changed(self, country: str | None = None) -> None:
        """Bump the version and queue the listeners; :data:`NOTIFIERS` threads call them, the
        pages that listen to everything (projector, console) first. A page already queued is not
        queued twice; one being told now is told once more when that call returns (a burst of 30
        moves makes a page re-render at most twice, not 30 times). ``country``: the change
        concerns only that country's seats (and the pages that listen to everything).

        Why a few threads and not one per page: re-rendering a page is Python work under the GIL
        (about 30 ms); 31 threads at once all finish at the end of the burst, each slowed by the
        others, where a short queue finishes the first pages early and wastes no time switching.
        """
        self.version += 1
        self._cache.clear()
        _trace(what="change", game=self.code, version=self.version, country=country, rounds=len(self.rounds))
        for token, (_, only, first) in list(self._listeners.items()):
            if country is not None and only is not None and only != country:
                continue
            if token in self._queued:
                continue
            if token in self._notifying:
                self._dirty.add(token)  # told again when the call under way returns
                continue
            self._queued.add(token)
            if first:
                self._queue_first.append(token)
            elif only is None:
                self._queue.appendleft(token)
            else:
                self._queue.append(token)
        while self._notifiers < NOTIFIERS and (self._queue or self._queue_first):
            self._notifiers += 1
            threading.Thread(target=self._notify, daemon=True, name=f"class-{self.code}-notify").start()

    def _notify(self) -> None:
        """One notifier thread: call queued listeners until the queue is empty."""
        while True:
            with self.lock:
                if not self._queue and not self._queue_first:
                    self._notifiers -= 1
                    return
                token = (self._queue_first or self._queue).popleft()
                self._queued.discard(token)
                entry = self._listeners.get(token)
                if entry is None:
                    continue
                self._notifying.add(token)
            started, cpu = time.time(), time.thread_time()
            try:
                entry[0]()
            except Exception:  # noqa: BLE001 - a closed page: stop telling it
                logger.debug("class game %s: a page stopped listening", self.code, exc_info=True)
                self.remove_listener(token)
            _trace(what="told", game=self.code, version=self.version, page=id(token), first=entry[2],
                   country=entry[1], started=started, seconds=time.time() - started, cpu=time.thread_time() - cpu)
            with self.lock:
                self._notifying.discard(token)
                if token in self._dirty:
                    self._dirty.discard(token)
                    if token in self._listeners and token not in self._queued:
                        self._queued.add(token)
                        (self._queue_first if self._listeners[token][2] else self._queue).append(token)

    # ------------------------------------------------------------------------------- seats
    def join(self, name, country: str | None = None) -> Seat:
        """A new seat for a student called ``name``, playing ``country`` (one of the game's
        countries), or the country with the fewest students when ``country`` is None or the
        teacher has locked the settings."""
        name = clean_text(name, MAX_NAME_CHARS) or "student"
        with self.lock:
            if len(self.seats) >= MAX_SEATS:
                raise ClassError(f"this game is full ({MAX_SEATS} seats)")
            if country is not None and country not in self.countries:
                raise ClassError(f"{clean_text(country, 20)!r} is not a country students play in this game; "
                                 f"choose one of: {', '.join(COUNTRY_NAMES[c] for c in self.countries)}")
            if country is None or self.locked:
                counts = {c: 0 for c in self.countries}
                for s in self.seats.values():
                    counts[s.country] = counts.get(s.country, 0) + 1
                country = min(self.countries, key=lambda c: counts[c])
            seat = Seat(new_code(SEAT_CODE_LENGTH), country, name, time.time())
            self.store.add_seat(self.code, seat)
            self.seats[seat.code] = seat
            self._changed()
            return seat

    def team(self, country: str) -> list[Seat]:
        """The seats playing ``country``."""
        return [s for s in self.seats.values() if s.country == country]

    def held(self) -> set[str]:
        """Countries at least one student plays."""
        return {s.country for s in self.seats.values()}

    # ------------------------------------------------------------------------------- moves
    def submit(self, seat_code, move: str) -> None:
        """Submit (or change) the move of the seat's country for the open round.

        The country is the seat's own: a student can never move for another country. Teammates
        share one move; the last one submitted counts. Refused while the round is not open.
        """
        with self.lock:
            seat = self.seat(seat_code)
            if self.finished:
                raise ClassError("the game is over")
            if self.status != "open":
                raise ClassError("the round is not open: wait for the teacher to start it")
            fixed = self.fixed_moves().get(seat.country)
            if fixed is not None:
                raise ClassError(f"{COUNTRY_NAMES[seat.country]}'s move this round is fixed by the deal it made: "
                                 f"{self._labels[seat.country].get(fixed[0], fixed[0])}")
            names = [m.name for m in self.model.menu(seat.country)]
            if move not in names:
                raise ClassError(f"{clean_text(move, 40)!r} is not a move {COUNTRY_NAMES[seat.country]} can make now")
            self.store.add_move(self.code, self.round, seat.country, move, seat.code)
            self.pending[seat.country] = (move, seat.code)
            self.moves_log.append({"round": self.round, "country": seat.country, "move": move,
                                   "seat_code": seat.code, "at": time.time()})
            self._changed(seat.country)

    def send_message(self, seat_code, text) -> None:
        """Post a short message from a seat to the whole class (logged, shown in the debrief)."""
        text = clean_text(text, MAX_MESSAGE_CHARS)
        if not text:
            raise ClassError("the message is empty")
        with self.lock:
            seat = self.seat(seat_code)
            self.store.add_message(self.code, self.round, seat.code, text)
            self.messages.append({"round": self.round, "seat_code": seat.code, "text": text, "at": time.time()})
            self._changed()

    # ------------------------------------------------------------------------------- deals
    def _deal_events(self, round_no: int) -> dict[str, float]:
        events = {}
        for offer in self.offers:
            if offer["round"] == round_no and offer["status"] == "enforced":
                events.update(offer["events"])
        return events

    def open_offers(self) -> list[dict]:
        """The offers of the open round still on the table or accepted (not yet enforced)."""
        return [o for o in self.offers if o["round"] == self.round and o["status"] in ("open", "accepted")]

    def fixed_moves(self) -> dict[str, tuple[str, int]]:
        """country -> (move, offer id): the moves deals fix for the open round (a deal accepted
        this round, or a US deal accepted last round that India formally accepts now)."""
        fixed = {}
        for offer in self.offers:
            for country, move, later in deals.DEALS[offer["kind"]].commits:
                if (offer["round"] == self.round and offer["status"] == "accepted" and not later) or \
                        (offer["round"] == self.round - 1 and offer["status"] == "enforced" and later):
                    fixed[country] = (move, offer["id"])
        return fixed

    def _why_not(self, kind: str, terms: dict, ignore: int | None = None) -> str:
        menus = {c: [m.name for m in self.model.menu(c)] for c in COUNTRIES}
        concluded = any(o["kind"] == deals.US_DEAL and o["status"] in ("accepted", "enforced") and o["id"] != ignore
                        for o in self.offers) or deals.us_deal_accepted(self.rounds)
        why = deals.unavailable(kind, terms, menus, self.model.instruments(), concluded)
        if why:
            return why
        fixed = self.fixed_moves()
        for country, move, later in deals.DEALS[kind].commits:
            if not later and country in fixed and fixed[country][1] != ignore:
                return f"{COUNTRY_NAMES[country]}'s move this round is already fixed by another deal"
        return ""

    def offer(self, seat_code, kind: str, terms: dict | None = None, note: str = "") -> dict:
        """Offer another team a deal (:data:`geogame.viz.deals.DEALS`) for the open round.

        The seat's country must be the deal's proposer and the other country must be played by
        students; the terms must be in their allowed ranges. ``note``: a short message that goes
        with it (logged, shown escaped). Returns the offer.
        """
        with self.lock:
            seat = self.seat(seat_code)
            if self.finished:
                raise ClassError("the game is over")
            if self.status != "open":
                raise ClassError("the round is not open: offers are made during a round")
            deal = deals.DEALS.get(kind)
            if deal is None:
                raise ClassError(f"deal {clean_text(kind, 30)!r} is not known; allowed: {', '.join(deals.DEALS)}")
            if deal.proposer != seat.country:
                raise ClassError(f"only {COUNTRY_NAMES[deal.proposer]} can offer {deal.title}")
            if deal.receiver not in self.held():
                raise ClassError(f"nobody plays {COUNTRY_NAMES[deal.receiver]}: deals are between teams of students")
            try:
                clean = deals.check_terms(kind, terms)
            except ValueError as exc:
                raise ClassError(str(exc)) from None
            why = self._why_not(kind, clean)
            if why:
                raise ClassError(f"that deal cannot be made now: {why}")
            offer = {"round": self.round, "kind": kind, "from": deal.proposer, "to": deal.receiver, "terms": clean,
                     "note": clean_text(note, MAX_MESSAGE_CHARS), "seat_code": seat.code, "status": "open",
                     "answered_by": None, "events": {}, "at": time.time()}
            offer["id"] = self.store.add_offer(self.code, offer)
            self.offers.append(offer)
            self._changed()
            return offer

    def _offer(self, offer_id) -> dict:
        for offer in self.offers:
            if offer["id"] == offer_id and offer["round"] == self.round:
                return offer
        raise ClassError("no such offer in this round")

    def answer(self, seat_code, offer_id: int, accept: bool) -> dict:
        """Accept or reject an open offer made to the seat's country. An accepted offer is
        enforced when the round resolves (its terms and the moves it commits the parties to)."""
        with self.lock:
            seat = self.seat(seat_code)
            if self.status != "open" or self.finished:
                raise ClassError("the round is not open")
            offer = self._offer(offer_id)
            if offer["to"] != seat.country:
                raise ClassError(f"that offer was made to {COUNTRY_NAMES[offer['to']]}, not to you")
            if offer["status"] != "open":
                raise ClassError(f"that offer is no longer open (it was {offer['status']})")
            if accept:
                why = self._why_not(offer["kind"], offer["terms"], ignore=offer["id"])
                if why:
                    raise ClassError(f"that deal cannot be made now: {why}")
            offer["status"] = "accepted" if accept else "rejected"
            offer["answered_by"] = seat.code
            self.store.update_offer(offer)
            self._changed()
            return offer

    def withdraw(self, seat_code, offer_id: int) -> dict:
        """Withdraw an offer the seat's country made that has not been accepted yet."""
        with self.lock:
            seat = self.seat(seat_code)
            offer = self._offer(offer_id)
            if offer["from"] != seat.country:
                raise ClassError("only the team that made an offer can withdraw it")
            if offer["status"] != "open":
                raise ClassError(f"that offer is no longer open (it was {offer['status']})")
            offer["status"] = "withdrawn"
            self.store.update_offer(offer)
            self._changed()
            return offer

    def offers_log(self) -> list[dict]:
        """Every offer in words: round, from, to, what (with the terms), status, who answered."""
        names = {s.code: s.name for s in self.seats.values()}
        return [{"id": o["id"], "round": o["round"], "kind": o["kind"], "from": o["from"], "to": o["to"],
                 "by": names.get(o["seat_code"], "?"), "what": deals.describe(o["kind"], o["terms"]),
                 "terms": dict(o["terms"]), "note": o["note"], "status": o["status"],
                 "answered_by": names.get(o["answered_by"], "") if o["answered_by"] else "",
                 "events": dict(o["events"])} for o in self.offers]

    # ------------------------------------------------------------------------------ console
    def start(self, key) -> None:
        """Open the round (or resume a paused one). Teacher only."""
        with self.lock:
            self._check_teacher(key)
            if self.finished:
                raise ClassError("the game is over")
            self.status, self.error = "open", ""
            if self.round_seconds and self.deadline is None:
                seconds = self.remaining if self.remaining else self.round_seconds
                self.deadline, self.remaining = time.time() + seconds, None
            self._arm_timer()
            self._save()
            self._changed()

    def pause(self, key) -> None:
        """Pause: students cannot submit and the timer stops (its time left is kept). Teacher only."""
        with self.lock:
            self._check_teacher(key)
            if self.status != "open":
                return
            self.status = "paused"
            if self.deadline is not None:
                self.remaining = max(0.0, self.deadline - time.time())
                self.deadline = None
            self._cancel_timer()
            self._save()
            self._changed()

    def set_deadline(self, key, seconds: float | None) -> None:
        """Give every round ``seconds`` (None: no timer); the open round's clock starts now.
        Teacher only."""
        with self.lock:
            self._check_teacher(key)
            if seconds is not None:
                seconds = float(seconds)
                if not 5 <= seconds <= 3600:
                    raise ClassError("a round's time must be 5 s to 60 min")
            self.round_seconds = seconds
            self.remaining = None
            self.deadline = time.time() + seconds if (seconds and self.status == "open") else None
            self._arm_timer()
            self._save()
            self._changed()

    def set_policy(self, key, policy: str) -> None:
        """What a held country plays when its team has not moved by the end of the round:
        ``hold`` or ``ai``. Teacher only."""
        with self.lock:
            self._check_teacher(key)
            if policy not in POLICIES:
                raise ClassError(f"policy {clean_text(policy, 20)!r}: choose one of {', '.join(POLICIES)}")
            self.policy = policy
            self._save()
            self._changed()

    def set_locked(self, key, locked: bool) -> None:
        """Lock the countries: students who join from now on are assigned the country with the
        fewest students, whatever they pick (a seat never changes country). Teacher only."""
        with self.lock:
            self._check_teacher(key)
            self.locked = bool(locked)
            self._save()
            self._changed()

    def advance(self, key) -> None:
        """Resolve the open round now (whatever has been submitted). Teacher only."""
        with self.lock:
            self._check_teacher(key)
            self._resolve()

    # ------------------------------------------------------------------------------ rounds
    def _plays(self) -> dict:
        held = self.held()
        plays = {}
        fixed = self.fixed_moves()
        for country in COUNTRIES:
            if country in fixed:
                move, offer_id = fixed[country]
                plays[country] = {"rule": "human", "move": move, "by": f"the deal (offer {offer_id})", "deal": offer_id}
            elif country in self.pending:
                plays[country] = {"rule": "human", "move": self.pending[country][0],
                                  "by": self.seats[self.pending[country][1]].name
                                  if self.pending[country][1] in self.seats else ""}
            elif country in held and self.policy == "hold":
                plays[country] = {"rule": "human", "move": self.model.menu(country)[0].name, "by": "(no move: held)"}
            else:
                plays[country] = {"rule": self.default_rules[country], "move": None,
                                  "by": "AI" if country not in held else "AI (no move in time)"}
        return plays

    def _resolve(self) -> None:
        if self.finished:
            raise ClassError("the game is over")
        plays = self._plays()
        instruments = self.model.instruments()
        events = {}
        for offer in self.open_offers():
            offer["status"] = "enforced" if offer["status"] == "accepted" else "expired"
            if offer["status"] == "enforced":
                offer["events"] = deals.enforcement(offer["kind"], offer["terms"], instruments)
                events.update(offer["events"])
            self.store.update_offer(offer)
        upcoming = {"round": self.round, "quarter": self.model.quarter_label_next, "events": events}
        if events:  # the deal's terms are an event of this quarter: rebuild the model with it
            self.model = replay(self.scenario_toml, self.seed, self.rounds, self.scenario_name, upcoming=upcoming)
        for country, play in plays.items():   # a move the deal's event took off the menu: a hold
            if play["rule"] == "human" and play["move"] not in {m.name for m in self.model.menu(country)}:
                play["move"] = "hold"
        apply_round(self.model, plays)
        quarter = self.model.quarter_label
        for country, move in played_moves(self.model, quarter).items():
            plays[country]["move"] = move
        record = {"round": self.round, "quarter": quarter, "plays": plays, "events": events}
        self.store.add_round(self.code, record["round"], quarter, plays)
        self.rounds.append(record)
        self._paths.clear()   # every entry is keyed by the rounds played: none is read again
        self._read_labels(self.model)
        self.pending = {}
        self._cancel_timer()
        if self.finished:
            self.status, self.deadline, self.remaining = "finished", None, None
        elif self.status == "open" and self.round_seconds:
            self.deadline = time.time() + self.round_seconds
            self._arm_timer()
        else:
            self.deadline = None
        self._save()
        self._changed()

    def _arm_timer(self) -> None:
        self._cancel_timer()
        if self.status != "open" or self.deadline is None:
            return
        self._timer = threading.Timer(max(0.0, self.deadline - time.time()), self._on_deadline, args=(self.deadline,))
        self._timer.daemon = True
        self._timer.start()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_deadline(self, deadline: float) -> None:
        with self.lock:
            if self.status == "open" and self.deadline == deadline and not self.finished:
                try:
                    self._resolve()
                except Exception:  # noqa: BLE001 - never a silent stall: pause and say so
                    logger.exception("class game %s: the round could not be resolved at its deadline", self.code)
                    self.status, self.deadline, self.remaining = "paused", None, None
                    self.error = "The round could not be resolved; the game is paused (see the server log)."
                    self._save()
                    self._changed()

    def seconds_left(self) -> float | None:
        """Seconds until the open round resolves by itself (None: no timer running)."""
        if self.deadline is not None:
            return max(0.0, self.deadline - time.time())
        return self.remaining

    def close(self) -> None:
        """Stop the game's timer (the game stays in the store)."""
        with self.lock:
            self._cancel_timer()
            self._listeners.clear()

    # ------------------------------------------------------------------------------ reading
    def shared_view(self) -> dict:
        """What every screen of this game shows, computed once per change (cached by version).

        Keys: ``version``, ``quarter``, ``next_quarter``, ``round``, ``status``, ``finished``,
        ``metrics`` (DataFrame), ``decisions`` (DataFrame), ``affinity``, ``goods``, ``latest``,
        ``submitted`` (countries that have moved this round, not what they chose), ``teams``
        (country -> names), ``rounds`` (the resolved rounds, all moves revealed), ``messages``.
        """
        with self.lock:
            cached = self._cache.get("shared")
            if cached is not None:
                return cached
            m = self.model
            names = {s.code: s.name for s in self.seats.values()}
            instruments = m.instruments()
            view = {
                "instruments": instruments, "version": self.version, "code": self.code, "quarter": m.quarter_label,
                "next_quarter": m.quarter_label_next, "round": self.round, "status": self.status,
                "finished": self.finished, "metrics": m.metrics_frame(), "decisions": m.decisions_frame(),
                "affinity": m.world.affinity[0].copy(), "goods": m.world.goods_flow_usd_bn[0].copy(),
                "latest": dict(m.latest), "submitted": sorted(self.pending, key=COUNTRIES.index),
                "teams": {c: [s.name for s in self.team(c)] for c in COUNTRIES},
                "countries": list(self.countries), "rounds": [dict(r) for r in self.rounds],
                "messages": [{**msg, "name": names.get(msg["seat_code"], "?"),
                              "country": self.seats[msg["seat_code"]].country if msg["seat_code"] in self.seats
                              else ""} for msg in self.messages],
                "policy": self.policy, "locked": self.locked, "round_seconds": self.round_seconds,
                "scenario_title": self.scenario.title, "scenario_name": self.scenario_name,
                "quarters": self.scenario.quarters, "seats": len(self.seats),
                "labels": {c: dict(v) for c, v in self._labels.items()},
                "offers": self.offers_log(), "fixed": self.fixed_moves(),
            }
            self._cache["shared"] = view
            return view

    def ai_path(self) -> GeopoliticsModel:
        """The path the AI would have taken from the same start and seed: every country by the
        scenario's own rules, as many quarters as the class has played (for the debrief).

        Each country draws its random choices from its own stream spawned from the seed, so the
        countries the AI plays on both paths draw the same numbers.
        """
        with self.lock:
            n = len(self.rounds)
            hit = self._paths.get(("ai_path", n))
            if hit is None:
                model = GeopoliticsModel(scenario=parse_scenario(self.scenario_toml, name=self.scenario_name),
                                         seed=self.seed)
                for _ in range(n):
                    model.step()
                hit = self._paths[("ai_path", n)] = model
            return hit

    def team_path(self, country: str) -> GeopoliticsModel:
        """The path with the AI in ``country``'s seat from the same start with the same random
        draws, everything else as the class played it: the other teams' moves as submitted
        (a hold where a move is not on the menu on this path), the AI's countries by their rule
        (each country draws from its own random stream, so their luck is the class's), the deals
        ``country`` was not party to enforced; the moves its own deals committed others to are
        holds."""
        with self.lock:
            n = len(self.rounds)
            hit = self._paths.get(("team_path", country, n))
            if hit is not None:
                return hit
            mine = {o["id"] for o in self.offers if country in (o["from"], o["to"])}
            rounds = []
            for rnd in self.rounds:
                plays = {}
                for c, play in rnd["plays"].items():
                    if c == country:
                        plays[c] = {"rule": self.default_rules[c], "move": None}
                    elif play.get("deal") in mine:
                        plays[c] = {"rule": "human", "move": "hold"}
                    else:
                        plays[c] = {"rule": play["rule"], "move": play["move"]}
                events = {}
                for o in self.offers:
                    if o["round"] == rnd["round"] and o["status"] == "enforced" and o["id"] not in mine:
                        events.update(o["events"])
                rounds.append({"round": rnd["round"], "quarter": rnd["quarter"], "plays": plays, "events": events})
            hit = self._paths[("team_path", country, n)] = play_path(self.scenario_toml, self.seed, rounds,
                                                                     self.scenario_name)
            return hit

    def teams_played(self) -> list[str]:
        """Countries students played in at least one resolved round, in COUNTRIES order."""
        played = {c for r in self.rounds for c, p in r["plays"].items() if p["rule"] == "human"}
        return [c for c in COUNTRIES if c in played]

    def scores(self) -> dict[str, tuple[int, int, pd.DataFrame]]:
        """country -> (better, worse, table): each team against the AI in its seat
        (:meth:`team_path`, :func:`geogame.viz.deals.score`)."""
        with self.lock:
            n = len(self.rounds)
            hit = self._paths.get(("scores", n))
            if hit is None:
                metrics = self.model.metrics_frame()
                hit = self._paths[("scores", n)] = {
                    c: deals.score(c, metrics, self.team_path(c).metrics_frame()) for c in self.teams_played()}
            return hit

    def utility_scores(self) -> dict[str, tuple[float, pd.DataFrame]]:
        """country -> (USD bn-equivalent, table by utility term): what each team's moves were worth
        to its country against the AI in its seat (:func:`geogame.viz.deals.utility_gain`)."""
        with self.lock:
            n = len(self.rounds)
            hit = self._paths.get(("utility_scores", n))
            if hit is None:
                hit = self._paths[("utility_scores", n)] = {
                    c: deals.utility_gain(c, self.model, self.team_path(c)) for c in self.teams_played()}
            return hit

    def scores_export(self) -> dict:
        """:meth:`scores` and :meth:`utility_scores` as plain data for the export."""
        gains = self.utility_scores()
        return {c: {"better": b, "worse": w, "objectives": t.to_dict(orient="records"),
                    "utility_gain_usd_bn": gains[c][0], "utility_terms": gains[c][1].to_dict(orient="records")}
                for c, (b, w, t) in self.scores().items()}

    def memo(self, key, make: Callable[[], object], keep: bool = False):
        """``make()`` computed once and shared by every page (an SVG chart, an HTML table): 30
        pages re-rendering after a round do not build it 30 times. Put the game's version in
        ``key`` (the cache is emptied on every change, but a page may still render an older view).
        ``keep``: the value depends only on the rounds played (put their number in ``key``); it is
        kept across changes (a move or a message does not rebuild the charts)."""
        cache = self._paths if keep else self._cache
        with self.lock:
            hit = cache.get(("memo", key))
            if hit is None:
                hit = cache[("memo", key)] = make()
            return hit

    def advice(self, seat_code) -> pd.DataFrame:
        """The advisor for the seat's country: the model's value of each move on its menu and
        how likely the AI would pick it (``GeopoliticsModel.advice``). Computed only when a
        student opens the advisor, once per country and round (about 0.3 s each: done for every
        seat after every change, it held up every screen at the end of a round)."""
        with self.lock:
            seat = self.seat(seat_code)
            key = ("advice", seat.country, len(self.rounds))
            hit = self._paths.get(key)
            if hit is None:
                hit = (pd.DataFrame(columns=["move", "label", "value", "probability"]) if self.finished
                       else self.model.advice(seat.country))
                self._paths[key] = hit
            return hit

    def seat_view(self, seat_code) -> dict:
        """What one student's screen shows beyond :meth:`shared_view`: their seat, their
        country's menu (cached per country and version), their team's move."""
        with self.lock:
            seat = self.seat(seat_code)
            key = ("seat", seat.country)
            cached = self._cache.get(key)
            if cached is None:
                menu = [] if self.finished else [(mv.name, mv.label) for mv in self.model.menu(seat.country)]
                cached = {"menu": menu}
                self._cache[key] = cached
            chosen = self.pending.get(seat.country)
            fixed = self.fixed_moves().get(seat.country)
            if fixed is not None:   # a deal fixes the team's move: that is the move that counts
                return {**cached, "seat": seat, "team": [s.name for s in self.team(seat.country)],
                        "chosen": fixed[0], "chosen_by": f"the deal (offer {fixed[1]})"}
            return {**cached, "seat": seat, "team": [s.name for s in self.team(seat.country)],
                    "chosen": chosen[0] if chosen else None,
                    "chosen_by": self.seats[chosen[1]].name if chosen and chosen[1] in self.seats else None}

    def teacher_view(self, key) -> dict:
        """The console's extra information: the teacher key is checked; which countries have
        submitted and how many students sit at each (still not what they chose: moves are
        revealed all at once when the round resolves)."""
        with self.lock:
            self._check_teacher(key)
            return {"seats": [(s.name, s.country) for s in self.seats.values()],
                    "pending_countries": sorted(self.pending, key=COUNTRIES.index)}

    # ------------------------------------------------------------------------------ export
    def export(self) -> dict:
        """The game as one JSON-able dict that :func:`replay_file` replays exactly (seat codes
        and the teacher key are left out)."""
        with self.lock:
            names = {s.code: s.name for s in self.seats.values()}
            return {
                "format": EXPORT_FORMAT, "version": EXPORT_VERSION, "code": self.code,
                "scenario_name": self.scenario_name, "scenario_toml": self.scenario_toml, "seed": self.seed,
                "countries": list(self.countries), "policy": self.policy,
                "seats": [{"name": s.name, "country": s.country} for s in self.seats.values()],
                "rounds": [{"round": r["round"], "quarter": r["quarter"],
                            "plays": {c: {k: v for k, v in p.items()} for c, p in r["plays"].items()},
                            "events": dict(r.get("events") or {})}
                           for r in self.rounds],
                "offers": [{k: v for k, v in o.items() if k != "id"} | {"offer": o["id"]} for o in self.offers_log()],
                "scores": self.scores_export(),
                "moves": [{"round": m["round"], "country": m["country"], "move": m["move"],
                           "by": names.get(m["seat_code"], "?")} for m in self.moves_log],
                "messages": [{"round": m["round"], "by": names.get(m["seat_code"], "?"), "text": m["text"]}
                             for m in self.messages],
            }

    def export_json(self) -> str:
        """:meth:`export` as JSON text."""
        return json.dumps(self.export(), indent=1, sort_keys=True)


def export_game(game: ClassGame, path: str | os.PathLike) -> Path:
    """Write ``game`` as a JSON file that replays it exactly (``geogame class replay FILE``)."""
    path = Path(path)
    path.write_text(game.export_json(), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- registry
class ClassRegistry:
    """The class games of one server, keyed by game code, loaded from the store on first use.

    Parameters
    ----------
    store : ClassStore
        Where games are saved as they happen.
    """

    def __init__(self, store: ClassStore):
        self.store = store
        self.lock = threading.RLock()
        self.games: dict[str, ClassGame] = {}

    def create(self, scenario: str = "baseline", seed: int = 1, countries=None,
               policy: str = "hold") -> tuple[ClassGame, str]:
        """Start a new game; returns it and the teacher's key (shown once; only its hash is stored).

        Parameters
        ----------
        scenario : str
            A preset name.
        seed : int
            Seed of the AI's random choices.
        countries : sequence of str, optional
            The countries students may play (the AI plays the others, and any nobody joins);
            every player by default.
        policy : {"hold", "ai"}
            What a held country plays when its team has not moved by the end of a round.
        """
        countries = [c for c in COUNTRIES if countries is None or c in set(countries)]
        if not countries:
            raise ClassError("choose at least one country for the students to play")
        if policy not in POLICIES:
            raise ClassError(f"policy {policy!r}: choose one of {', '.join(POLICIES)}")
        scen = load_scenario(scenario)
        text = GeopoliticsModel(scenario=scen, seed=int(seed)).scenario_toml()
        key = secrets.token_urlsafe(18)
        with self.lock:
            code = new_code(GAME_CODE_LENGTH)
            while code in self.games or self.store.load_game(code) is not None:
                code = new_code(GAME_CODE_LENGTH)
            now = time.time()
            row = {"code": code, "teacher_key_hash": key_hash(key), "scenario_name": scen.name,
                   "scenario_toml": text, "seed": int(seed), "countries": json.dumps(countries), "policy": policy,
                   "locked": 0, "status": "lobby", "round_seconds": None, "deadline": None, "remaining": None,
                   "created": now, "updated": now}
            self.store.save_game(row)
            game = ClassGame(self.store, row, [], [], [], [])
            self.games[code] = game
        return game, key

    def get(self, code) -> ClassGame:
        """The game with ``code`` (loaded from the store and replayed if the server restarted);
        ClassError if there is none."""
        code = normalise_code(code)
        with self.lock:
            game = self.games.get(code)
            if game is not None:
                return game
            row = self.store.load_game(code) if len(code) == GAME_CODE_LENGTH else None
            if row is None:
                raise ClassError("no class game with that code")
            game = ClassGame(self.store, row, self.store.seats(code), self.store.rounds(code),
                             self.store.moves(code), self.store.messages(code), self.store.offers(code))
            self.games[code] = game
            return game

    def close(self) -> None:
        """Stop every game's timer."""
        with self.lock:
            for game in self.games.values():
                game.close()


_registry: ClassRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> ClassRegistry:
    """This process's registry, on the database named by ``GEOGAME_CLASS_DB`` (default
    ``.cache/geogame-class.sqlite3`` under the current folder)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = ClassRegistry(ClassStore(os.environ.get(DB_ENV) or DEFAULT_DB))
        return _registry
