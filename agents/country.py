"""Country agents and the rules by which they choose a move each quarter.

Each quarter a :class:`CountryAgent` is shown its available moves, each already valued by the
model (the world rolled forward ``lookahead_quarters`` with that move and everybody else
holding). Its *rule* then picks one:

* :class:`QuantalResponse` (the AI): a logit over values (McKelvey & Palfrey 1995) with the
  country's rationality; at large rationality it is best response.
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


@dataclass
class Decision:
    """One country's move in one quarter, with its reason.

    The reason is written only when asked for (:attr:`reason`): a batch sweep that never reads
    it does not pay for the text. Everything it needs is stored at decision time.
    """

    quarter: str
    country: str
    move: str
    value: float                 # USD bn-equivalent over the look-ahead, relative to holding
    runner_up: str
    runner_up_value: float
    rule: str
    probability: float           # chance the rule gave this move (1 for scripted and human)
    best_move: str               # the move the model values highest (what the AI would pick at best)
    values: dict = field(default_factory=dict)   # every candidate's value
    _explain: object = field(default=None, repr=False, compare=False)  # () -> str, called once

    @cached_property
    def reason(self) -> str:
        return self._explain()

    def row(self) -> dict:
        return {"quarter": self.quarter, "country": self.country, "move": self.move,
                "value": round(self.value, 4), "runner_up": self.runner_up, "reason": self.reason,
                "rule": self.rule, "probability": round(self.probability, 4),
                "runner_up_value": round(self.runner_up_value, 4), "best_move": self.best_move}


class Rule:
    name = "rule"
    needs_values = True

    def choose(self, agent: "CountryAgent", moves: list[Move], values: np.ndarray) -> tuple[int, np.ndarray]:
        raise NotImplementedError


class QuantalResponse(Rule):
    """Logit choice: P(move) proportional to exp(rationality * value)."""

    name = "ai"

    def choose(self, agent, moves, values):
        rationality = agent.model.structure.p(f"{agent.country}.rationality")
        z = np.exp(rationality * (values - values.max()))
        probs = z / z.sum()
        # Inverse-CDF draw: one uniform number per decision (faster than rng.choice with p).
        index = int(np.searchsorted(np.cumsum(probs), agent.model.rng.random() * probs.sum(), side="right"))
        return min(index, len(moves) - 1), probs


class Scripted(Rule):
    """Holds: the scenario's events set this country's policies."""

    name = "scripted"
    needs_values = False

    def choose(self, agent, moves, values):
        probs = np.zeros(len(moves))
        probs[0] = 1.0
        return 0, probs


class Human(Rule):
    """Plays the move submitted by a person; the model's own valuation is kept for the debrief."""

    name = "human"

    def __init__(self):
        self.pending: str | None = None

    def choose(self, agent, moves, values):
        if self.pending is None:
            raise HumanMoveMissing(agent.country)
        names = [m.name for m in moves]
        # An event this quarter may have taken the move off the menu: then the country holds.
        index = names.index(self.pending) if self.pending in names else 0
        self.pending = None
        probs = np.zeros(len(moves))
        probs[index] = 1.0
        return index, probs


class HumanMoveMissing(RuntimeError):
    def __init__(self, country: str):
        super().__init__(f"{country} is played by a person: submit a move before stepping")
        self.country = country


RULES = {"ai": QuantalResponse, "scripted": Scripted, "human": Human}


def make_rule(name: str) -> Rule:
    if name not in RULES:
        raise ValueError(f"rule {name!r} is not known; allowed: {', '.join(RULES)}")
    return RULES[name]()


class CountryAgent(mesa.Agent):
    """One of the four players: holds its rule and its record of decisions."""

    def __init__(self, model, country: str, rule: Rule):
        super().__init__(model)
        self.country = country
        self.name = COUNTRY_NAMES[country]
        self.rule = rule
        self.decisions: list[Decision] = []

    @property
    def lookahead(self) -> int:
        return int(self.model.structure.p(f"{self.country}.lookahead_quarters"))

    def decide(self, moves: list[Move], values: np.ndarray, terms: dict[str, np.ndarray],
               world: World, context: str) -> Decision:
        """Pick a move from ``moves`` valued at ``values`` and record why."""
        values = values - values[0]  # relative to holding (the first move on every menu)
        index, probs = self.rule.choose(self, moves, values)
        best = int(np.argmax(values))
        order = np.argsort(-values, kind="stable")
        runner = int(order[1]) if order[0] == index and len(moves) > 1 else int(order[0])
        if len(moves) == 1:
            runner = index
        rule_name, lookahead = self.rule.name, self.lookahead
        decision = Decision(
            quarter=self.model.quarter_label_next, country=self.country, move=moves[index].name,
            value=float(values[index]), runner_up=moves[runner].name, runner_up_value=float(values[runner]),
            rule=rule_name, probability=float(probs[index]), best_move=moves[best].name,
            values={m.name: float(v) for m, v in zip(moves, values)},
            _explain=lambda: self._reason(moves, values, terms, index, runner, probs, context, rule_name, lookahead))
        self.decisions.append(decision)
        return decision

    def _reason(self, moves, values, terms, index, runner, probs, context, rule_name, lookahead) -> str:
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
            text += (f" Against the next option ({moves[runner].label}) it is worth {gap:+.2f} $bn over "
                     f"{lookahead} quarters" + (f" ({parts})" if parts else "") + ".")
        if rule_name == "ai" and probs[index] < 0.999:
            text += f" Chosen with probability {probs[index]:.0%}."
        if rule_name == "human":
            best = int(np.argmax(values))
            if best != index:
                text += (f" Played by a person; the model would have chosen "
                         f"('{moves[best].name}', {values[best]:+.2f} $bn against holding).")
            else:
                text += " Played by a person; the model would have chosen the same."
        return f"{text} {context}".strip()

    def submit(self, move_name: str) -> None:
        """Queue a person's move (the rule must be :class:`Human`)."""
        if not isinstance(self.rule, Human):
            raise ValueError(f"{self.country} is not played by a person (rule {self.rule.name!r})")
        find_move(self.country, move_name)
        self.rule.pending = move_name
