"""Deals between players and each country's objectives, for the class game (no Solara).

**Deals.** A team can offer another team a deal the game can enforce; the other team accepts or
rejects it in the same round. An accepted deal is enforced when the round resolves, through the
model's public API only:

* the terms become a scenario event of the round's quarter (policy instruments set at the start
  of the quarter, before anyone decides), so the game's model is rebuilt by replaying its rounds
  with that event in its scenario (:func:`with_events`); the export keeps the events, so the game
  still replays exactly;
* the moves the deal commits the parties to are submitted as their moves of the round
  (``GeopoliticsModel.submit_move``, which checks a move against the menu the country will have
  in the quarter, after its events: so India's formal acceptance of a US deal is its move of the
  same round, the offer being put on the table by the deal's event).

=====================  =======  ======  ==========================================  ==============================
deal                   from     to      terms (allowed range)                       enforced as
=====================  =======  ======  ==========================================  ==============================
``us_india_deal``      US       India   US tariff 0-50%, Russian-crude ceiling      event: the US offer with these
                                        0-40% of India's crude imports              terms this quarter; India's move
                                                                                    this round: accepts it
``ind_us_deal``        India    US      US tariff 0-50%, Russian-crude ceiling      event: the US offer with these
                                        0-40%, India's tariff on US goods 0-30%     terms and India's tariff on US
                                                                                    goods; India's move this round:
                                                                                    accepts it
``eu_india_fta``       EU       India   none (EU tariffs on Indian goods to zero)   the EU's move: concludes the FTA
``ind_eu_fta``         India    EU      none (EU tariffs on Indian goods to zero)   the EU's move: concludes the FTA
``rus_discount_arms``  Russia   India   extra discount $1-6/bbl (total up to $10)   event: the discount; India's
                                                                                    move: tilts arms to Russia
``rus_coproduction``   Russia   India   none                                        Russia's move: co-production;
                                                                                    India's: tilts arms to Russia
``ind_coproduction``   India    Russia  none                                        the same as ``rus_coproduction``
=====================  =======  ======  ==========================================  ==============================

The US-India deal can be proposed by either side (``us_india_deal`` by the US, ``ind_us_deal``,
India's counter-proposal, by India): both are US-India deals (:func:`is_us_deal`); once one is
accepted it stays in force and another is refused. The proposer's own move can be the one the deal
commits (India's formal acceptance of the deal it proposed).

The deals are declared in the player files (``DEALS`` in ``agents/players/<code>.py``: the
parties, terms and ranges, the moves committed, the instruments set), and so are the objectives
(``OBJECTIVES``); this module reads them from :data:`geogame.PLAYERS`. A country's move can be
committed by one accepted deal a round (the second acceptance that would commit it again is
refused).

**Objectives.** :data:`OBJECTIVES` says in plain words what each country's utility in the model
adds up (its player file's ``utility_terms``), each tied to a column of the model's
quarterly table and the direction the country wants it to move. :func:`score` compares a team's
path with the path the AI would have taken in its seat from the same start with the same random
draws (the model draws each country's choices from its own stream spawned from the seed),
objective by objective; :func:`utility_gain` says what the team's policy was worth in the model's
own units: the country's utility (USD bn-equivalent) summed over the quarters played, on the
team's path less on the AI's, with the term that made the difference. The sum is undiscounted: it
scores what happened, quarter by quarter, in numbers a class can add up; the model's decision
discount (``world.decision_discount``) weighs the future when a country values a move, not the
past when a game is scored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from geogame import PLAYERS
from geogame.model import COUNTRIES, COUNTRY_NAMES, GeopoliticsModel, utility_terms


@dataclass(frozen=True)
class Term:
    """One negotiable term of a deal: its key, words, unit and allowed values."""
    key: str
    label: str
    low: float
    high: float
    step: float
    default: float
    unit: str           # "pct" (a fraction shown in %) or "usd_bbl"

    def show(self, value: float) -> str:
        """The value in words (``15%``, ``$2/bbl``)."""
        return f"{100 * value:.0f}%" if self.unit == "pct" else f"${value:g}/bbl"

    def check(self, value) -> float:
        """The value as a float, or ValueError naming the term, the value and what is allowed."""
        try:
            x = float(value)
        except (TypeError, ValueError):
            x = math.nan
        ok = math.isfinite(x) and self.low - 1e-9 <= x <= self.high + 1e-9
        if ok:
            k = (x - self.low) / self.step
            ok = abs(k - round(k)) < 1e-6
        if not ok:
            raise ValueError(f"{self.label} = {str(value)[:20]!r} is not allowed; allowed {self.show(self.low)} to "
                             f"{self.show(self.high)} in steps of {self.show(self.step)}")
        return round(x, 6)


@dataclass(frozen=True)
class Deal:
    """A kind of deal one country can offer another."""
    kind: str
    proposer: str
    receiver: str
    title: str
    terms: tuple[Term, ...] = ()
    #: moves the deal commits the parties to: (country, move, 0 for this round or 1 for the next)
    commits: tuple[tuple[str, str, int], ...] = ()
    #: ``(terms, instruments in force) -> instruments the accepted deal sets`` (None: sets none)
    sets: Callable | None = None
    #: ``(instrument, term, most)``: the term adds to the instrument, whose total may not pass ``most``
    limit: tuple[str, str, float] | None = None


def _deals_of(player) -> tuple[Deal, ...]:
    """The deals a player file declares (``DEALS``; see :mod:`geogame.agents.players`)."""
    return tuple(Deal(d["kind"], player.CODE, d["to"], d["title"], tuple(Term(*t) for t in d["terms"]),
                      tuple(d["commits"]), d.get("sets"), d.get("limit")) for d in getattr(player, "DEALS", ()))


#: Every deal a player can offer, by kind, read from the player files.
DEALS: dict[str, Deal] = {d.kind: d for player in PLAYERS for d in _deals_of(player)}
#: The deal that, once accepted, stays in force for the rest of the game (a concluded agreement).
US_DEAL = "us_india_deal"


def is_us_deal(kind: str) -> bool:
    """True for a US-India deal, whoever proposes it: a deal that commits India to the move that
    accepts the US offer (``us_india_deal``, India's counter-proposal ``ind_us_deal``)."""
    return DEALS[US_DEAL].commits[0] in DEALS[kind].commits


def us_deal_accepted(rounds: list[dict]) -> bool:
    """True once India has made the move that accepts a US-India deal (:func:`is_us_deal`) in one of ``rounds``."""
    country, move, _ = DEALS[US_DEAL].commits[0]
    return any(r["plays"].get(country, {}).get("move") == move for r in rounds)


COMMIT_WORDS = {"accept_us_deal": "formally accepts the US-India deal on these terms",
                "fta_with_india": "concludes the FTA",
                "arms_tilt_russia": "tilts its arms orders towards Russia",
                "coproduction_offer": "offers more arms co-production"}


def deals_from(country: str) -> list[Deal]:
    """The deals ``country`` can offer."""
    return [d for d in DEALS.values() if d.proposer == country]


def check_terms(kind: str, terms: dict | None) -> dict[str, float]:
    """The terms of a deal of ``kind`` as floats (defaults for any left out); ValueError if a
    term is unknown or out of its range."""
    deal = DEALS.get(kind)
    if deal is None:
        raise ValueError(f"deal {str(kind)[:30]!r} is not known; allowed: {', '.join(DEALS)}")
    terms = dict(terms or {})
    known = {t.key for t in deal.terms}
    extra = [k for k in terms if k not in known]
    if extra:
        raise ValueError(f"term {str(extra[0])[:30]!r} is not a term of {deal.title}; "
                         f"allowed: {', '.join(known) or 'none'}")
    return {t.key: t.check(terms.get(t.key, t.default)) for t in deal.terms}


def describe(kind: str, terms: dict) -> str:
    """An offer in plain words: ``United States offers India a lower US tariff ... (US tariff 15%, ...)``."""
    deal = DEALS[kind]
    words = f"{COUNTRY_NAMES[deal.proposer]} offers {COUNTRY_NAMES[deal.receiver]} {deal.title}"
    if deal.terms:
        words += " (" + ", ".join(f"{t.label} {t.show(terms[t.key])}" for t in deal.terms) + ")"
    return words + "; if accepted, " + commitments_in_words(kind)


def commitments_in_words(kind: str, same: str = "this round", after: str = "next round") -> str:
    """The moves an accepted deal of ``kind`` commits the parties to, in words: ``India formally
    accepts the US-India deal on these terms as its move this round`` (``same``, ``after``: the
    words for the round the deal is accepted in and the one after)."""
    return " and ".join(f"{COUNTRY_NAMES[c]} {COMMIT_WORDS[m]} as its move {after if later else same}"
                        for c, m, later in DEALS[kind].commits)


def enforcement(kind: str, terms: dict, instruments: dict[str, float]) -> dict[str, float]:
    """The instruments an accepted deal sets at the start of the round's quarter (a scenario
    event), given the instruments in force now."""
    sets = DEALS[kind].sets
    return dict(sets(terms, instruments)) if sets else {}


def unavailable(kind: str, terms: dict, menus: dict[str, list[str]], instruments: dict[str, float],
                deal_concluded: bool) -> str:
    """Why a deal of ``kind`` cannot be made now ("" if it can). ``menus``: country -> the moves
    on its menu now; ``deal_concluded``: India has accepted a US-India deal earlier in the game.
    A US-India deal is not checked against India's menu: its event puts the offer India accepts
    on the table."""
    deal = DEALS[kind]
    if is_us_deal(kind):
        if deal_concluded:
            return "a US-India deal is already in force"
        return ""
    if deal.limit:
        key, term, most = deal.limit
        total = instruments[key] + terms[term]
        words = next(t for t in deal.terms if t.key == term)
        if total > most + 1e-9:
            return (f"{COUNTRY_NAMES[deal.proposer]}'s {words.label} would reach {words.show(total)}; "
                    f"allowed up to {words.show(most)} in all")
    for country, move, later in deal.commits:
        if not later and move not in menus.get(country, []):
            return f"{COUNTRY_NAMES[country]} cannot make that move this quarter"
    return ""


# ------------------------------------------------------------------------------- objectives
@dataclass(frozen=True)
class Objective:
    """One thing a country wants, tied to the model's quarterly table."""
    words: str
    column: str         # a column of metrics_frame, or "tariff_revenue" (computed)
    sign: int           # +1: more is better for the country; -1: less
    kind: str           # "bn", "pct", "usd_bbl" or "index"


#: Each country's objectives, read from its player file (``OBJECTIVES``): the terms of its utility
#: in the model, in words.
OBJECTIVES: dict[str, tuple[Objective, ...]] = {
    player.CODE: tuple(Objective(*o) for o in getattr(player, "OBJECTIVES", ())) for player in PLAYERS}


def objectives_in_words(country: str) -> list[str]:
    """What ``country`` wants, in plain words."""
    return [o.words for o in OBJECTIVES[country]]


def _series(metrics: pd.DataFrame, column: str) -> pd.Series:
    if column == "tariff_revenue":
        return metrics["tariff_usa_on_ind"] * metrics["exports_ind_to_usa_usd_bn"]
    return metrics[column]


def _show(kind: str, value: float, change: bool = False) -> str:
    if kind == "pct":
        return f"{100 * value:+.1f} pts" if change else f"{100 * value:.1f}%"
    if kind == "usd_bbl":
        return f"{value:+.2f} $/bbl" if change else f"${value:.2f}/bbl"
    if kind == "bn":
        return f"{value:+.2f} $bn/yr" if change else f"${value:.2f}bn/yr"
    return f"{value:+.3f}" if change else f"{value:.3f}"


#: A difference smaller than this share of the level counts as "the same".
SAME_TOLERANCE = 1e-6


def score(country: str, team: pd.DataFrame, ai: pd.DataFrame) -> tuple[int, int, pd.DataFrame]:
    """Score a team against the AI in its seat, objective by objective.

    Each objective is averaged over the quarters played (the rows after the start), the
    quarters the country's utility adds up.

    Parameters
    ----------
    country : str
        The team's country.
    team, ai : DataFrame
        The model's quarterly tables (``metrics_frame``) of the class's path and of the path with
        the AI in the team's seat, everything else as the class played it, same seed.

    Returns
    -------
    (better, worse, table)
        How many objectives the team did better and worse on than the AI, and one row an
        objective: ``objective``, ``team``, ``AI in its seat``, ``difference``, ``verdict``.
    """
    rows, better, worse = [], 0, 0
    n = min(len(team), len(ai))
    for o in OBJECTIVES[country]:
        a = float(_series(team, o.column).iloc[1:n].mean()) if n > 1 else float(_series(team, o.column).iloc[0])
        b = float(_series(ai, o.column).iloc[1:n].mean()) if n > 1 else float(_series(ai, o.column).iloc[0])
        gain = o.sign * (a - b)
        if abs(a - b) <= SAME_TOLERANCE * max(1.0, abs(a), abs(b)):
            verdict = "same"
        elif gain > 0:
            verdict, better = "better", better + 1
        else:
            verdict, worse = "worse", worse + 1
        rows.append({"objective": o.words, "team": _show(o.kind, a), "AI in its seat": _show(o.kind, b),
                     "difference": _show(o.kind, a - b, change=True), "verdict": verdict})
    return better, worse, pd.DataFrame(rows, columns=["objective", "team", "AI in its seat", "difference", "verdict"])


# ------------------------------------------------------------------------ the score in $bn
def _utility_terms_now(country: str, model) -> dict[str, float]:
    """``country``'s utility terms in ``model``'s world now, USD bn-equivalent a quarter (the
    model's own :func:`geogame.model.utility_terms`: its exports' value added and its player
    file's terms)."""
    m = {k: np.asarray([v], dtype=float) for k, v in model.latest.items() if k != "quarter"}
    terms = utility_terms(country, model.world, m, model.structure)
    return {k: float(np.asarray(v, dtype=float).reshape(-1)[0]) for k, v in terms.items()}


def utility_by_quarter(country: str, model) -> pd.DataFrame:
    """``country``'s utility in the model on ``model``'s path, one row per quarter played.

    The path is replayed from its scenario (with the events of its deals), seed and settings with
    every country's recorded move, and the utility terms are read in the world after each
    quarter: what the country valued when it chose (its utility terms, USD bn-equivalent a
    quarter), without the one-off costs of changing policy or backing down that the model adds
    when it values a move.

    Parameters
    ----------
    country : str
        The country whose utility is read.
    model : GeopoliticsModel
        A played path (the class's, or one with the AI in a seat).

    Returns
    -------
    DataFrame
        ``quarter`` then one column per utility term and ``total`` (USD bn-equivalent a quarter).

    Raises
    ------
    ValueError
        If ``country`` is not a player, or the replay does not give the path's quarterly table
        (the path was not played by the model's rules).
    """
    if country not in COUNTRY_NAMES or country not in OBJECTIVES:
        raise ValueError(f"country {str(country)[:20]!r} is not a player; allowed: {', '.join(OBJECTIVES)}")
    again = GeopoliticsModel(scenario=model.scenario_def, seed=model.seed, overrides=model.overrides,
                             rules={c: "human" for c in COUNTRIES})
    rows = []
    for quarter, moves in model.decisions_frame().groupby("quarter", sort=False):
        for c, move in zip(moves["country"], moves["move"]):
            again.submit_move(c, move)
        again.step()
        rows.append({"quarter": quarter, **_utility_terms_now(country, again)})
    if not again.metrics_frame().equals(model.metrics_frame()):
        raise ValueError("the path's moves replayed do not give its quarterly table: its utility cannot be read")
    if not rows:
        return pd.DataFrame(columns=["quarter", "total"])
    table = pd.DataFrame(rows)
    table["total"] = table.drop(columns="quarter").sum(axis=1)
    return table


#: The players' names as they appear, in lower case, in their utility terms' keys, and as written.
_NAMES = {label.lower(): label for p in PLAYERS for label in (p.LABEL, p.SHORT_LABEL)}


def _term_words(term: str) -> str:
    """A utility term's key in words (``affinity_with_india`` -> ``affinity with India``,
    ``russian_oil_revenue`` -> ``Russian oil revenue``)."""
    if term == "exports":   # the utility term every player has (its exports' value added)
        return "exports (domestic value added)"
    words = []
    for w in term.split("_"):
        if w in _NAMES:
            w = _NAMES[w]
        elif w.endswith("n") and w[:-1] in _NAMES:    # an adjective: russian
            w = _NAMES[w[:-1]] + "n"
        elif w.upper() in _NAMES.values():              # an abbreviation: us, eu
            w = w.upper()
        words.append(w)
    return " ".join(words)


def utility_gain(country: str, team, ai) -> tuple[float, pd.DataFrame]:
    """What the team's policy was worth to ``country`` in the model's own units.

    The country's utility (:func:`utility_by_quarter`, USD bn-equivalent a quarter) summed over
    the quarters played, undiscounted, on the team's path less on the path with the AI in its
    seat (same start, same random draws): positive when the team did better for its country than
    the AI would have by the model's own measure. Swapping the paths flips the sign.

    Parameters
    ----------
    country : str
        The team's country.
    team, ai : GeopoliticsModel
        The class's path and the path with the AI in the team's seat (as for :func:`score`), played
        for the same quarters.

    Returns
    -------
    (gain_usd_bn, table)
        The difference, USD bn-equivalent over the quarters played, and one row per utility term,
        largest difference first: ``term``, ``team``, ``AI in its seat``, ``difference`` (USD bn
        summed over the quarters), with a last row ``total``.
    """
    mine, theirs = utility_by_quarter(country, team), utility_by_quarter(country, ai)
    n = min(len(mine), len(theirs))
    a, b = mine.iloc[:n].drop(columns="quarter").sum(), theirs.iloc[:n].drop(columns="quarter").sum()
    rows = [{"term": _term_words(k), "team": float(a[k]), "AI in its seat": float(b[k]),
             "difference": float(a[k] - b[k])} for k in a.index if k != "total"]
    rows.sort(key=lambda r: -abs(r["difference"]))
    rows.append({"term": "total", "team": float(a["total"]), "AI in its seat": float(b["total"]),
                 "difference": float(a["total"] - b["total"])})
    return float(a["total"] - b["total"]), pd.DataFrame(rows, columns=["term", "team", "AI in its seat", "difference"])


def utility_gain_shown(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`utility_gain`'s table with its numbers as text for the debrief (``41.3``, ``+1.1``),
    the columns named with their unit (USD bn-equivalent summed over the quarters played)."""
    return pd.DataFrame({
        "utility term": table["term"],
        "team ($bn)": [f"{v:,.1f}" for v in table["team"]],
        "AI in its seat ($bn)": [f"{v:,.1f}" for v in table["AI in its seat"]],
        "difference ($bn)": [f"{v:+,.1f}" for v in table["difference"]]})


def utility_gain_in_words(country: str, gain_usd_bn: float, table: pd.DataFrame, quarters: int) -> str:
    """The $bn score (:func:`utility_gain`) as a sentence for the debrief, e.g. ``The team playing
    India: its moves were worth $2.5bn more than the AI's in its seat over 2 quarters (the
    country's utility in the model, USD bn-equivalent, undiscounted); the largest difference:
    exports (domestic value added) (+$1.1bn).``"""
    words = f"The team playing {COUNTRY_NAMES[country]}: its moves were worth "
    if abs(gain_usd_bn) < 0.05:
        words += "the same as the AI's in its seat"
    else:
        words += f"${abs(gain_usd_bn):.1f}bn {'more' if gain_usd_bn > 0 else 'less'} than the AI's in its seat"
    words += (f" over {quarters} quarter{'s' if quarters != 1 else ''} (the country's utility in the model, "
              "USD bn-equivalent, undiscounted)")
    terms = table[table["term"] != "total"]
    if len(terms) and abs(gain_usd_bn) >= 0.05 and abs(float(terms.iloc[0]["difference"])) >= 0.05:
        top = terms.iloc[0]
        d = float(top["difference"])
        words += f"; the largest difference: {top['term']} ({'+' if d > 0 else '-'}${abs(d):.1f}bn)"
    return words + "."
