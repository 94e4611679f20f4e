"""Country agents and the rules by which they choose a move each quarter.

Each quarter a :class:`CountryAgent` is shown its available moves, each already valued by the
model: the present value, over the country's horizon (``lookahead_quarters``, discounted by
``world.decision_discount`` a quarter), of its utility with that move against holding, everybody
else holding except the counterpart whose best reply the country anticipates (see
:meth:`model.model.GeopoliticsModel.evaluate`). Its *rule* then picks one:

* :class:`QuantalResponse` (``ai``): a logit over values (McKelvey & Palfrey 1995) with the
  country's rationality; at large rationality it is best response.
* :class:`BestResponse` (``best``): the highest value, ties to the move listed first (holding
  first): deterministic, so it can be run beside the stochastic path.
* :class:`Scripted`: holds; its policies change only by the scenario's dated events.
* :class:`Human`: plays the move a person submitted (the app's "play as").

Whatever the rule, the decision is recorded with its value, the runner-up and the terms that
made the difference, in words, so that anyone can ask why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import mesa
import numpy as np

from geogame.model.nodes import COUNTRY_NAMES
from geogame.model.world import World

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

    Attributes
    ----------
    name : str
        The rule's name in scenario files, ``--rule`` and the decisions table.
    needs_values : bool
        False if the rule picks without the moves' values (then the look-ahead skips the country).
    """

    name = "rule"
    needs_values = True

    def choose(self, agent: "CountryAgent", moves: list[Move], values: np.ndarray) -> tuple[int, np.ndarray]:
        """Return the index of the chosen move and the probability the rule gave each move."""
        raise NotImplementedError

    def probabilities(self, agent: "CountryAgent", values: np.ndarray) -> np.ndarray:
        """The chance this rule gives each move before any draw (the AI's logit unless overridden)."""
        return logit_probabilities(values, agent.model.structure.p(f"{agent.country}.rationality"))


class QuantalResponse(Rule):
    """Logit choice: P(move) proportional to exp(rationality * value)."""

    name = "ai"

    def choose(self, agent, moves, values):
        """Draw a move with logit probabilities from the agent's own random stream; returns
        ``(index, probabilities)``."""
        probs = self.probabilities(agent, values)
        # The same row-wise draw as a batch of runs (model.ensemble): one uniform number per decision.
        index = int(quantal_indices(probs[None, :], np.array([agent.choice_rng.random()]))[0])
        return index, probs


class BestResponse(Rule):
    """Best response: the highest-valued move, ties to the move listed first (:func:`best_index`).

    Uses no random numbers, so the path it gives is the same for every seed.
    """

    name = "best"

    def choose(self, agent, moves, values):
        """The highest-valued move (ties to the first listed); returns ``(index, probabilities)``."""
        probs = self.probabilities(agent, values)
        return int(np.argmax(probs)), probs

    def probabilities(self, agent, values):
        """Probability 1 on the best move (:func:`best_index`), 0 elsewhere."""
        probs = np.zeros(len(values))
        probs[best_index(values)] = 1.0
        return probs


class Scripted(Rule):
    """Holds: the scenario's events set this country's policies."""

    name = "scripted"
    needs_values = False

    def choose(self, agent, moves, values):
        """Hold (the first move of the menu); returns ``(0, probabilities)``."""
        probs = np.zeros(len(moves))
        probs[0] = 1.0
        return 0, probs


class Human(Rule):
    """Plays the move submitted by a person; the model's own valuation is kept for the debrief."""

    name = "human"

    def __init__(self):
        self.pending: str | None = None

    def choose(self, agent, moves, values):
        """The move the person submitted (hold if an event took it off the menu); raises
        :class:`HumanMoveMissing` if none was submitted. Returns ``(index, probabilities)``."""
        if self.pending is None:
            raise HumanMoveMissing(agent.country)
        names = [m.name for m in moves]
        # An event this quarter may have taken the move off the menu: then the country holds.
        index = names.index(self.pending) if self.pending in names else 0
        self.pending = None
        probs = np.zeros(len(moves))
        probs[index] = 1.0
        return index, probs


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


class CountryAgent(mesa.Agent):
    """One of the four players: holds its rule and its record of decisions."""

    def __init__(self, model, country: str, rule: Rule, choice_rng: np.random.Generator | None = None):
        super().__init__(model)
        #: The country's own random stream for its choices (see GeopoliticsModel: one per country).
        self.choice_rng = choice_rng if choice_rng is not None else model.rng
        self.country = country
        self.name = COUNTRY_NAMES[country]
        self.rule = rule
        self.decisions: list[Decision] = []

    @property
    def lookahead(self) -> int:
        """The country's horizon in quarters: moves are valued as a present value over it."""
        return int(self.model.structure.p(f"{self.country}.lookahead_quarters"))

    def decide(self, moves: list[Move], values: np.ndarray, terms: dict[str, np.ndarray],
               world: World, context: str, replies: list[str] | None = None,
               replier: str = "") -> Decision:
        """Pick a move from ``moves`` valued at ``values`` and record why.

        Parameters
        ----------
        moves : the available moves, ``hold`` first.
        values : (n,) value of each move, USD bn-equivalent (present value over the horizon).
        terms : utility terms (name -> (n,) array, USD bn) that make up ``values``.
        world : the world the decision is taken in.
        context : a sentence on what the country saw last quarter.
        replies : per move, the name of the counterpart's anticipated best reply, if weighed.
        replier : the counterpart whose reply was anticipated (a key of ``COUNTRY_NAMES``).
        """
        values = values - values[0]  # relative to holding (the first move on every menu)
        index, probs = self.rule.choose(self, moves, values)
        best = best_index(values)
        order = np.argsort(-values, kind="stable")
        runner = int(order[1]) if order[0] == index and len(moves) > 1 else int(order[0])
        if len(moves) == 1:
            runner = index
        rule_name, horizon = self.rule.name, self.lookahead
        replies = replies or [""] * len(moves)
        decision = Decision(
            quarter=self.model.quarter_label_next, country=self.country, move=moves[index].name,
            value=float(values[index]), runner_up=moves[runner].name, runner_up_value=float(values[runner]),
            rule=rule_name, probability=float(probs[index]), best_move=moves[best].name,
            values={m.name: float(v) for m, v in zip(moves, values)}, expected_reply=replies[index],
            _explain=lambda: self._reason(moves, values, terms, index, runner, probs, context, rule_name,
                                          horizon, replies, replier))
        self.decisions.append(decision)
        return decision

    def _reason(self, moves, values, terms, index, runner, probs, context, rule_name, horizon,
                replies, replier) -> str:
        """The decision in words: what, compared with what, which terms decided it, and the context."""
        move = moves[index]
        text = f"{self.name} {move.label}."
        if rule_name == "scripted":
            return f"{text} (Scripted: its policies follow the scenario's dated events.) {context}"
        if index != runner and terms:
            diffs = {k: float(v[index] - v[runner]) for k, v in terms.items()}
            top = [(k, v) for k, v in sorted(diffs.items(), key=lambda kv: -abs(kv[1]))[:2] if abs(v) >= 0.005]
            parts = "; ".join(f"{k.replace('_', ' ')} {v:+.2f}" for k, v in top)
            gap = values[index] - values[runner]
            text += (f" Against the next option ({moves[runner].label}) it is worth {gap:+.2f} $bn "
                     f"(present value over {horizon} quarters" + (f": {parts}" if parts else "") + ").")
        text += self._reply_text(moves, index, runner, replies, replier)
        if rule_name == "ai" and probs[index] < 0.999:
            text += f" Chosen with probability {probs[index]:.0%}."
        if rule_name == "human":
            best = best_index(values)
            if best != index:
                text += (f" Played by a person; the model would have chosen "
                         f"('{moves[best].name}', {values[best]:+.2f} $bn against holding).")
            else:
                text += " Played by a person; the model would have chosen the same."
        return f"{text} {context}".strip()

    @staticmethod
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

    def submit(self, move_name: str) -> None:
        """Queue a person's move (the rule must be :class:`Human`)."""
        if not isinstance(self.rule, Human):
            raise ValueError(f"{self.country} is not played by a person (rule {self.rule.name!r})")
        find_move(self.country, move_name)
        self.rule.pending = move_name
