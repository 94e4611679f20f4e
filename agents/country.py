"""Country agents and the rules by which they choose a move each quarter.

Each quarter every country is shown its available moves, each already valued by the engine:
the present value, over the country's horizon (``lookahead_quarters``, discounted by
``world.decision_discount`` a quarter), of its utility with that move against holding, everybody
else holding except the counterpart whose best reply the country anticipates (see
:func:`model.ensemble.value_moves`). Its *rule* then picks one:

* :class:`QuantalResponse` (``ai``): a logit over values (McKelvey & Palfrey 1995) with the
  country's rationality; at large rationality it is best response.
* :class:`BestResponse` (``best``): the highest value, ties to the move listed first (holding
  first): deterministic, so it can be run beside the stochastic path.
* :class:`Scripted`: holds; its policies change only by the scenario's dated events.
* :class:`Human`: plays the move a person submitted (the app's "play as").

A rule picks row by row (one row a run), so the same code decides one run of the Mesa model or
every run of an ensemble (:meth:`model.ensemble.Ensemble.step`). Whatever the rule, the decision
is recorded with its value, the runner-up and the terms that made the difference, written in
words on request (:func:`reason`), so that anyone can ask why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import mesa
import numpy as np

from geogame.model.nodes import COUNTRY_NAMES

from .moves import Move, find_move

#: Values closer than this (USD bn) count as equal; a tie goes to the move listed first.
TIE_TOLERANCE_USD_BN = 1e-9


def best_index(values: np.ndarray) -> int:
    """Index of the highest value; among values within :data:`TIE_TOLERANCE_USD_BN` of it, the first.

    Menus list ``hold`` first, so a tie with holding is resolved by holding.
    """
    return int(best_indices(np.asarray(values, dtype=float)[None, :])[0])


def best_indices(values: np.ndarray) -> np.ndarray:
    """:func:`best_index` of each row of ``values`` (runs x moves), (runs,) int."""
    values = np.asarray(values, dtype=float)
    top = values.max(axis=1, keepdims=True)
    return np.argmax(values >= top - TIE_TOLERANCE_USD_BN, axis=1)  # argmax of booleans: the first True


def logit_probabilities(values: np.ndarray, rationality: float) -> np.ndarray:
    """Quantal-response probabilities ``exp(rationality * v) / sum``, computed stably.

    ``values`` is one menu (n,) or one menu per row (runs x n); each row is computed alone.
    """
    z = np.exp(rationality * (values - values.max(axis=-1, keepdims=True)))
    return z / z.sum(axis=-1, keepdims=True)


def quantal_indices(probabilities: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """The move each row's draw picks: inverse CDF of ``probabilities`` (runs x n) at ``uniforms`` (runs,).

    One uniform number per decision (faster than ``rng.choice`` with ``p``); a rounding
    overshoot picks the last move.
    """
    cumulative = np.cumsum(probabilities, axis=1)
    target = uniforms * probabilities.sum(axis=1)
    index = (cumulative <= target[:, None]).sum(axis=1)   # searchsorted(side="right") per row
    return np.minimum(index, probabilities.shape[1] - 1)


@dataclass
class Decision:
    """One country's move in one quarter, with its reason.

    The reason is written only when asked for (:attr:`reason`): a batch sweep that never reads
    it does not pay for the text. Everything it needs is stored at decision time.
    """

    quarter: str
    country: str
    move: str
    value: float                 # USD bn-equivalent, present value over the horizon, relative to holding
    runner_up: str
    runner_up_value: float
    rule: str
    probability: float           # chance the rule gave this move (1 for scripted and human)
    best_move: str               # the move the model values highest (what the AI would pick at best)
    values: dict = field(default_factory=dict)   # every candidate's value
    expected_reply: str = ""     # the counterpart's anticipated best reply to this move ("" if none weighed)
    _explain: object = field(default=None, repr=False, compare=False)  # () -> str, called once

    @cached_property
    def reason(self) -> str:
        """The decision in plain words (what, against what, which terms decided it, the context);
        written on first use and kept."""
        return self._explain()

    def row(self) -> dict:
        """The decision as a row of the decisions table (the columns of ``DECISION_COLUMNS``)."""
        return {"quarter": self.quarter, "country": self.country, "move": self.move,
                "value": round(self.value, 4), "runner_up": self.runner_up, "reason": self.reason,
                "rule": self.rule, "probability": round(self.probability, 4),
                "runner_up_value": round(self.runner_up_value, 4), "best_move": self.best_move,
                "expected_reply": self.expected_reply}


class Rule:
    """How a country picks a move from its valued menu (subclasses: ``ai``, ``best``, ``scripted``,
    ``human``).

    A rule decides many decisions at once, row by row: the same code picks the move of one run
    (the Mesa model, an ensemble of one) or of every run of an ensemble (:mod:`model.ensemble`),
    and a row's pick never depends on the other rows.

    Attributes
    ----------
    name : str
        The rule's name in scenario files, ``--rule`` and the decisions table.
    needs_values : bool
        False if the rule picks without the moves' values (then the look-ahead skips the country).
    draws : bool
        True if the rule draws one uniform random number per decision from the country's stream.
    """

    name = "rule"
    needs_values = True
    draws = False

    def choose(self, values: np.ndarray, rationality: float, uniforms: np.ndarray,
               submitted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pick a move in each row.

        Parameters
        ----------
        values : (rows, n) each available move's value against holding, USD bn-equivalent
            (present value over the horizon), ``hold`` first.
        rationality : the country's logit rationality, 1/USD bn.
        uniforms : (rows,) the row's uniform draw in [0, 1) (used by rules that draw).
        submitted : (rows,) the index of the move a person submitted (used by ``human``).

        Returns
        -------
        (index, probability) : (rows,) int the move chosen, (rows,) the chance the rule gave it.
        """
        raise NotImplementedError

    def probabilities(self, values: np.ndarray, rationality: float) -> np.ndarray:
        """The chance this rule gives each move of each row before any draw, (rows, n) (the AI's
        logit unless overridden)."""
        return logit_probabilities(values, rationality)


class QuantalResponse(Rule):
    """Logit choice: P(move) proportional to exp(rationality * value)."""

    name = "ai"
    draws = True

    def choose(self, values, rationality, uniforms, submitted):
        """Draw each row's move with logit probabilities: the inverse CDF at the row's uniform draw."""
        probs = self.probabilities(values, rationality)
        index = quantal_indices(probs, uniforms)
        return index, probs[np.arange(len(index)), index]


class BestResponse(Rule):
    """Best response: the highest-valued move, ties to the move listed first (:func:`best_index`).

    Uses no random numbers, so the path it gives is the same for every seed.
    """

    name = "best"

    def choose(self, values, rationality, uniforms, submitted):
        """The highest-valued move of each row (ties to the first listed), with probability 1."""
        return best_indices(values), np.ones(len(values))

    def probabilities(self, values, rationality):
        """Probability 1 on each row's best move (:func:`best_indices`), 0 elsewhere."""
        probs = np.zeros(np.shape(values))
        probs[np.arange(len(probs)), best_indices(values)] = 1.0
        return probs


class Scripted(Rule):
    """Holds: the scenario's events set this country's policies."""

    name = "scripted"
    needs_values = False

    def choose(self, values, rationality, uniforms, submitted):
        """Hold (the first move of the menu), with probability 1."""
        return np.zeros(len(values), dtype=int), np.ones(len(values))


class Human(Rule):
    """Plays the move a person submitted; the model's own valuation is kept for the debrief.

    The seat's submitted move is kept by the engine (:meth:`model.ensemble.Ensemble.submit_move`);
    if an event this quarter took it off the menu, the country holds.
    """

    name = "human"

    def choose(self, values, rationality, uniforms, submitted):
        """The move each row's person submitted, with probability 1."""
        return np.asarray(submitted, dtype=int), np.ones(len(values))


def _infinitive(label: str) -> str:
    """'caps Russian crude (...)' -> 'cap Russian crude (...)': a move's label after 'to'."""
    verb, _, rest = label.partition(" ")
    irregular = {"does": "do", "has": "have", "is": "be"}
    if verb in irregular:
        verb = irregular[verb]
    elif verb.endswith("ies"):
        verb = verb[:-3] + "y"
    elif verb.endswith(("shes", "ches", "sses", "xes")):
        verb = verb[:-2]
    elif verb.endswith("s"):
        verb = verb[:-1]
    return f"{verb} {rest}".strip()


class HumanMoveMissing(RuntimeError):
    """A country played by a person has no move submitted for this quarter (``.country`` names it)."""

    def __init__(self, country: str):
        super().__init__(f"{country} is played by a person: submit a move before stepping")
        self.country = country


RULES = {"ai": QuantalResponse, "best": BestResponse, "scripted": Scripted, "human": Human}


def make_rule(name: str) -> Rule:
    """A new rule by name (``ai``, ``best``, ``scripted`` or ``human``); raises ``ValueError``
    listing the allowed names."""
    if name not in RULES:
        raise ValueError(f"rule {name!r} is not known; allowed: {', '.join(RULES)}")
    return RULES[name]()


def reason(country: str, moves: list[Move], values: np.ndarray, terms: dict[str, np.ndarray], index: int,
           runner: int, probability: float, context: str, rule_name: str, horizon: int,
           replies: list[str], replier: str) -> str:
    """A decision in words: what, compared with what, which terms decided it, and the context.

    Parameters
    ----------
    country : the deciding country's code.
    moves : its available moves, ``hold`` first.
    values : (n,) each move's value against holding, USD bn-equivalent (present value over the horizon).
    terms : utility terms (name -> (n,) array, USD bn) making up ``values``; only the chosen move
        and the runner-up are read.
    index, runner : positions in ``moves`` of the move chosen and of the runner-up.
    probability : the chance the rule gave the move chosen.
    context : a sentence on what the country saw last quarter (its player file's ``context``).
    rule_name : ``ai``, ``best``, ``scripted`` or ``human``.
    horizon : the country's horizon in quarters.
    replies : per move, the counterpart's anticipated reply ("" where none was weighed).
    replier : the counterpart whose reply was anticipated ("" if none).
    """
    move = moves[index]
    text = f"{COUNTRY_NAMES[country]} {move.label}."
    if rule_name == "scripted":
        return f"{text} (Scripted: its policies follow the scenario's dated events.) {context}"
    if index != runner and terms:
        diffs = {k: float(v[index] - v[runner]) for k, v in terms.items()}
        top = [(k, v) for k, v in sorted(diffs.items(), key=lambda kv: -abs(kv[1]))[:2] if abs(v) >= 0.005]
        parts = "; ".join(f"{k.replace('_', ' ')} {v:+.2f}" for k, v in top)
        gap = values[index] - values[runner]
        text += (f" Against the next option ({moves[runner].label}) it is worth {gap:+.2f} $bn "
                 f"(present value over {horizon} quarters" + (f": {parts}" if parts else "") + ").")
    text += _reply_text(moves, index, runner, replies, replier)
    if rule_name == "ai" and probability < 0.999:
        text += f" Chosen with probability {probability:.0%}."
    if rule_name == "human":
        best = best_index(values)
        if best != index:
            text += (f" Played by a person; the model would have chosen "
                     f"('{moves[best].name}', {values[best]:+.2f} $bn against holding).")
        else:
            text += " Played by a person; the model would have chosen the same."
    return f"{text} {context}".strip()


def _reply_text(moves, index, runner, replies, replier) -> str:
    """What the country expects its counterpart to answer, when that entered the values."""
    if not replier or not replies[index]:
        return ""
    name = COUNTRY_NAMES[replier]

    def answer(reply: str) -> str:
        return "to hold" if reply == "hold" else "to " + _infinitive(find_move(replier, reply).label)

    text = f" It expects {name} {answer(replies[index])} in reply"
    if index != runner and replies[runner] and replies[runner] != replies[index]:
        text += f" ({answer(replies[runner])} if it {moves[runner].label})"
    return text + "."


class CountryAgent(mesa.Agent):
    """One of the players of a run: its rule, its random stream and its decisions.

    The agent is a seat in the engine that steps the run (:class:`model.ensemble.Ensemble`, run
    ``run``): its rule and its random stream are the engine's for that run and country, and its
    decisions are the run's, so there is one copy of each.

    Parameters
    ----------
    model : the Mesa model the agent belongs to.
    country : the country's code (a key of ``COUNTRY_NAMES``).
    engine : the engine stepping the run (an object with ``rules``, ``rngs``, ``pending``,
        ``set_rule`` and ``submit_move``, as :class:`model.ensemble.Ensemble`).
    run : the run of ``engine`` the agent plays in.
    """

    def __init__(self, model, country: str, engine, run: int = 0):
        super().__init__(model)
        self.country = country
        self.name = COUNTRY_NAMES[country]
        self._engine, self._run = engine, run

    @property
    def rule(self) -> Rule:
        """How the country decides (``ai``, ``best``, ``scripted`` or ``human``); settable, by
        name or :class:`Rule`, from the next quarter on."""
        return make_rule(str(self._engine.rules[self.country][self._run]))

    @rule.setter
    def rule(self, rule: "Rule | str") -> None:
        """Set the rule (a name or a :class:`Rule`) the country decides by from the next quarter."""
        self._engine.set_rule(self._run, self.country, rule if isinstance(rule, str) else rule.name)

    @property
    def choice_rng(self) -> np.random.Generator:
        """The country's own random stream for its choices (spawned from the run's seed)."""
        return self._engine.rngs[self._run][self.country]

    @property
    def lookahead(self) -> int:
        """The country's horizon in quarters: moves are valued as a present value over it."""
        return int(self.model.structure.p(f"{self.country}.lookahead_quarters"))

    @property
    def pending(self) -> str | None:
        """The move a person submitted for the next quarter (``None`` if none)."""
        return self._engine.pending.get((self._run, self.country))

    @property
    def decisions(self) -> list[Decision]:
        """The country's decisions so far, oldest first."""
        return [d for d in self.model.decisions if d.country == self.country]

    def submit(self, move_name: str) -> None:
        """Queue a person's move for the next quarter (the rule must be :class:`Human`)."""
        self._engine.submit_move(self._run, self.country, move_name)
