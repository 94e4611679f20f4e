"""The Mesa model: four countries play tariffs, sanctions and procurement, one quarter a step.

A quarter goes like this (:meth:`GeopoliticsModel.step`):

1. the scenario's events dated this quarter set policies (embargoes, caps, tariffs on their dates);
2. every country values each move on its menu as a present value over its horizon, rolling the
   world forward with it (all countries' candidate moves, and the replies they anticipate from
   India, in one batch; :meth:`GeopoliticsModel.evaluate`), and picks one by its rule;
3. the chosen moves apply together;
4. the economy answers (:func:`model.economics.step`): the crude market clears, trade adjusts,
   arms, payments and alignment move;
5. the quarter's metrics and decisions are collected.

The first row of the quarterly table is the calibrated starting state (for ``baseline``,
2025Q4); each step adds the next quarter.
"""
from __future__ import annotations

from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from geogame.agents.country import CountryAgent, Decision, Human, HumanMoveMissing, make_rule
from geogame.agents.moves import Move, available_moves, menu

from . import calibration, economics, parameters
from .ensemble import (_CONTEXT, COUNTRIES, DECISION_COLUMNS, ROLLOUT_QUARTERS, choice_streams,  # noqa: F401
                       normalise_overrides, value_moves)
from .alignment import Landscape, alignment_map, landscape
from .calendar import quarter_label
from .instruments import INSTRUMENTS, get_instrument, set_instrument
from .parameters import InputError
from .scenarios import Scenario, load_scenario

# ROLLOUT_QUARTERS (quarters the look-ahead rolls forward exactly) lives with the batched
# look-ahead in model/ensemble.py and is imported above.


class GeopoliticsModel(mesa.Model):
    """The US, Russia, India and the EU, quarter by quarter.

    Parameters
    ----------
    scenario : str, path or Scenario
        A preset name (``geogame scenarios``), the path of a TOML file, or a loaded scenario.
    seed : int, optional
        Seed of the random choices (agents choose stochastically). Same scenario, overrides and
        seed give identical results.
    overrides : dict or list of "key=value", optional
        Settings on top of the scenario (``{"usa.oil_penalty_tariff_on_ind": 0}``), validated.
    rules : dict, optional
        Rule per country, ``"ai"``, ``"best"``, ``"scripted"`` or ``"human"``, on top of the scenario's.

    Examples
    --------
    >>> m = GeopoliticsModel(scenario="baseline", seed=1)
    >>> m.run(quarters=20)
    >>> m.metrics_frame()[["quarter", "crude_share_ind_from_rus"]].tail(1)  # doctest: +SKIP
    """

    def __init__(self, scenario: str | Path | Scenario = "baseline", seed: int | None = None,
                 overrides: dict | list | None = None, rules: dict | None = None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise InputError(f"seed = {seed!r} is not allowed; allowed whole numbers >= 0")
        super().__init__(rng=None if seed is None else int(seed))
        # Mesa 3.5 runs step() as a scheduled event: if it raised, later steps would silently do
        # nothing. So refuse to step *before* Mesa's wrapper when a person still has to move.
        mesa_step = self.step

        def guarded_step() -> None:
            waiting = self.awaiting_moves()
            if waiting:
                raise HumanMoveMissing(waiting[0])
            mesa_step()

        self.step = guarded_step
        self.seed = seed
        # Mesa 3.5 reserves `Model.scenario` for its experimental Scenario class, hence the name.
        self.scenario_def = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.overrides = normalise_overrides(overrides)
        self.settings = {**calibration.base_settings(self.scenario_def.base), **self.scenario_def.settings,
                         **self.overrides}
        self.world, self.structure = calibration.build(self.scenario_def.base, self.settings, self.scenario_def.brent_path)
        rule_names = {c: "ai" for c in COUNTRIES}
        rule_names.update(self.scenario_def.rules)
        for country, rule in (rules or {}).items():
            if country not in COUNTRIES:
                raise InputError(f"rules: country {country!r} is not known; allowed: {', '.join(COUNTRIES)}")
            rule_names[country] = rule
        # One random stream per country, spawned from the run's seed: a country's k-th choice uses
        # the same draw whatever the other countries' rules, so a run in which a person plays one
        # country changes no other country's luck (the class debrief compares like with like).
        streams = choice_streams(seed, fallback=self.rng)
        self.countries: dict[str, CountryAgent] = {}
        for country in COUNTRIES:
            try:
                rule = make_rule(rule_names[country])
            except ValueError as exc:
                raise InputError(f"rules: {country}: {exc}") from None
            self.countries[country] = CountryAgent(self, country, rule, streams[country])
        self._events = {}
        for event in self.scenario_def.events:
            self._events.setdefault(event.quarter, []).append(event)
        self.event_log: list[dict] = []
        self.latest: dict[str, float] = {}
        # The model collects its own tables (one dict a quarter, one Decision a move): cheaper than
        # Mesa's DataCollector calling a reporter per column, and the decisions keep their reasons.
        self._metric_rows: list[dict] = []
        self._flow_history: list[np.ndarray] = []
        self.decisions: list[Decision] = []
        self._record()

    # ------------------------------------------------------------------------------- calendar
    @property
    def quarter(self) -> int:
        """The quarter the current state describes, as a quarter index."""
        return self.world.quarter

    @property
    def quarter_label(self) -> str:
        """The quarter the current state describes (``2025Q4`` at the start of the baseline)."""
        return quarter_label(self.world.quarter)

    @property
    def quarter_label_next(self) -> str:
        """The quarter the next step decides and simulates (``2026Q1`` at the start of the baseline)."""
        return quarter_label(self.world.quarter + 1)

    # ------------------------------------------------------------------------------ the quarter
    def step(self) -> None:
        """Advance one quarter (see the module docstring for the order)."""
        self._apply_events(self.world.quarter + 1)
        decisions = self._decide()
        for country, move in decisions:
            move.apply(self.world, slice(0, 1))
        self.world = economics.step(self.world, self.structure)
        self._record()
        self.running = not self.finished  # Mesa's own loops (run_model) stop at the scenario's end

    def run(self, quarters: int | None = None) -> "GeopoliticsModel":
        """Run ``quarters`` steps (default: the scenario's length); returns the model."""
        quarters = self.scenario_def.quarters if quarters is None else quarters
        self.scenario_def.check_run_length(quarters)
        for _ in range(quarters):
            self.step()
        return self

    def _apply_events(self, quarter: int) -> None:
        for event in self._events.get(quarter, []):
            for key, value in event.settings.items():
                set_instrument(self.world, key, value)
            self.event_log.append({"quarter": quarter_label(quarter), "note": event.note,
                                   "settings": dict(event.settings), "source": event.source})

    def _candidates(self) -> list[tuple[CountryAgent, list[Move]]]:
        return [(agent, available_moves(agent.country, self.world)) for agent in self.countries.values()]

    def evaluate(self, candidates: list[tuple[CountryAgent, list[Move]]],
                 rollout: int = ROLLOUT_QUARTERS, world=None) -> dict[str, tuple]:
        """Value every candidate move of every country in one batched look-ahead.

        A move's value is the present value, over the country's horizon ``N`` quarters
        (``<country>.lookahead_quarters``) discounted by ``d = world.decision_discount`` a
        quarter, of the country's utility terms (:func:`agents.utility.utility_terms`, USD bn a
        quarter) in the world where it takes the move, less a one-off policy-change cost and, for
        backing down under pressure, its audience cost. Everybody else holds, except the
        counterpart whose best reply the country anticipates (:data:`agents.moves.ANTICIPATED_REPLIES`).

        How it is computed: :func:`model.ensemble.value_moves`, with this model as an ensemble of
        one run (one world per candidate move of every country and per reply its counterpart may
        make, rolled forward together ``rollout`` quarters, the rest of each horizon in closed
        form; the counterpart's reply is its best).

        Parameters
        ----------
        candidates : (agent, available moves) for each country; countries whose rule needs no
            values (scripted) are skipped.
        rollout : quarters rolled forward exactly before the closed-form tail.
        world : the world to value the moves in (default: the model's current world).

        Returns
        -------
        dict
            country -> ``(values, terms, replies, replier)``: values (n,) in USD bn-equivalent
            (present value over the horizon, not yet relative to holding), the utility terms
            making them up (name -> (n,) array), per move the name of the anticipated reply
            ("" where none was weighed) and the country answering ("" if none).
        """
        offers = {}
        for agent, moves in candidates:
            if agent.rule.needs_values and moves:
                index = {m.name: i for i, m in enumerate(menu(agent.country))}
                mask = np.zeros((1, len(index)), dtype=bool)
                mask[0, [index[m.name] for m in moves]] = True
                offers[agent.country] = mask
        answers = {c: np.array([a.rule.needs_values]) for c, a in self.countries.items()}
        world = self.world if world is None else world
        valued = value_moves(world, self.structure, offers, answers, rollout)   # the ensemble of one
        result: dict[str, tuple] = {}
        for agent, moves in candidates:
            valuation = valued.get(agent.country)
            if valuation is None or not (agent.rule.needs_values and moves):
                continue
            index = {m.name: i for i, m in enumerate(menu(agent.country))}
            cols = [index[m.name] for m in moves]
            terms = {name: value[0, cols] for name, value in valuation.terms.items()}
            replier = valuation.replier if valuation.replier and valuation.answered[0] else ""
            result[agent.country] = (valuation.values[0, cols], terms, valuation.reply_names(0, cols), replier)
        return result

    def _decide(self) -> list[tuple[str, Move]]:
        candidates = self._candidates()
        valued = self.evaluate(candidates)
        chosen = []
        for agent, moves in candidates:
            values, terms, replies, replier = valued.get(agent.country, (np.zeros(len(moves)), {}, None, ""))
            decision = agent.decide(moves, values, terms, self.world, self._context(agent.country),
                                    replies=replies, replier=replier)
            self.decisions.append(decision)
            chosen.append((agent.country, moves[[m.name for m in moves].index(decision.move)]))
        return chosen

    def _context(self, country: str) -> str:
        """What the country saw last quarter, in a sentence a student can check on the charts
        (its player file's ``context``); raises ``ValueError`` for a country no player declares."""
        if country not in _CONTEXT:
            raise ValueError(f"unknown country {country!r}; allowed: {', '.join(_CONTEXT)}")
        return _CONTEXT[country](self.latest, self.world, self.structure)

    # ---------------------------------------------------------------------------- human play
    def set_rule(self, country: str, rule: str) -> None:
        """Change how a country decides from now on (``ai``, ``best``, ``scripted`` or ``human``)."""
        if country not in self.countries:
            raise InputError(f"country {country!r} is not known; allowed: {', '.join(COUNTRIES)}")
        try:
            self.countries[country].rule = make_rule(rule)
        except ValueError as exc:
            raise InputError(str(exc)) from None

    def awaiting_moves(self) -> list[str]:
        """Countries played by a person who have not yet submitted this quarter's move."""
        return [c for c, a in self.countries.items() if isinstance(a.rule, Human) and a.rule.pending is None]

    def _decision_world(self):
        """The world the next quarter's decisions will see: the state now with that quarter's
        scripted events applied (they apply before anyone decides; see :meth:`step`). A copy when
        there are such events: the run itself is not changed."""
        events = self._events.get(self.world.quarter + 1)
        if not events:
            return self.world
        world = self.world.copy()
        for event in events:
            for key, value in event.settings.items():
                set_instrument(world, key, value)
        return world

    def submit_move(self, country: str, move: str) -> None:
        """Queue a person's move for ``country`` in the next quarter (it must be on the menu the
        country will have then: after that quarter's scripted events, e.g. an offer made to it)."""
        names = [m.name for m in available_moves(country, self._decision_world())]
        if move not in names:
            raise InputError(f"move {move!r} is not available to {country} in {self.quarter_label_next}; "
                             f"allowed: {', '.join(names)}")
        self.countries[country].submit(move)

    def menu(self, country: str) -> list[Move]:
        """Moves available to ``country`` in the next quarter (after that quarter's scripted events)."""
        return available_moves(country, self._decision_world())

    def advice(self, country: str) -> pd.DataFrame:
        """The model's value of each move on ``country``'s menu for the next quarter, in the world
        its decision will see (after that quarter's scripted events); does not change the run.

        Columns: ``move``, ``label``, ``kind``, ``value`` (USD bn-equivalent against holding,
        present value over the country's horizon, as in the decisions table), ``probability``
        (the chance the country's rule gives the move; the AI's logit for a scripted or human
        player) and ``expected_reply`` (the counterpart's anticipated best reply, "" if none).
        """
        agent = self.countries[country]
        world = self._decision_world()
        moves = available_moves(country, world)
        saved_rule, ai = agent.rule, make_rule("ai")
        agent.rule = ai
        try:
            values, _, replies, _ = self.evaluate([(agent, moves)], world=world)[country]
        finally:
            agent.rule = saved_rule
        values = values - values[0]
        rule = saved_rule if saved_rule.name in ("ai", "best") else ai
        return pd.DataFrame({"move": [m.name for m in moves], "label": [m.label for m in moves],
                             "kind": [m.kind for m in moves], "value": values,
                             "probability": rule.probabilities(agent, values),
                             "expected_reply": replies})

    # --------------------------------------------------------------------------------- output
    @property
    def finished(self) -> bool:
        """True once the run has reached the end of its scenario (``scenario_def.quarters`` steps)."""
        return self.world.quarter - self.scenario_def.start_quarter >= self.scenario_def.quarters

    def instruments(self) -> dict[str, float]:
        """The policies in force now, by setting key (``{"eu.price_cap_usd": 47.6, ...}``)."""
        return {key: float(get_instrument(self.world, key)[0]) for key in INSTRUMENTS}

    def trade_matrix(self, quarters_ago: int = 0) -> np.ndarray:
        """Goods flows (not crude or arms), USD bn/yr, ``[importer, exporter]`` in NODES order.

        ``quarters_ago=1`` gives last quarter's matrix (for changes); the start is the oldest kept.
        """
        index = max(len(self._flow_history) - 1 - quarters_ago, 0)
        return self._flow_history[index].copy()

    def blocs(self) -> Landscape:
        """Today's blocs by landscape theory (sizes: GDP; propensities: affinity)."""
        return landscape(self.world.affinity[0], self.structure.absorption_ref_usd_bn[:len(COUNTRIES)])

    def alignment_map(self, previous: np.ndarray | None = None) -> np.ndarray:
        """2-D positions of the four players (rows in COUNTRIES order) by classical MDS."""
        return alignment_map(self.world.affinity[0], previous)

    def _record(self) -> None:
        self._flow_history.append(self.world.goods_flow_usd_bn[0].copy())
        m = economics.metrics(self.world, self.structure)
        row = {"quarter": self.quarter_label}
        row.update({k: float(v[0]) for k, v in m.items()})
        blocs = self.blocs()
        lay = self.structure.layout
        row["bloc_ind_with_usa"] = float(blocs.together(lay.arms_buyer, lay.penaliser))
        row["bloc_ind_with_rus"] = float(blocs.together(lay.arms_buyer, lay.crude_seller))
        self.latest = row
        self._metric_rows.append(row)

    def metrics_frame(self) -> pd.DataFrame:
        """The quarterly table: one row a quarter, the starting state first."""
        return pd.DataFrame(self._metric_rows)

    def metrics_columns(self) -> dict[str, list]:
        """The quarterly table as columns (name -> list of values), without building a DataFrame."""
        rows = self._metric_rows
        return {name: [row[name] for row in rows] for name in rows[0]}

    def decisions_frame(self) -> pd.DataFrame:
        """Every decision so far: quarter, country, move, value, runner-up, reason and more."""
        return pd.DataFrame([d.row() for d in self.decisions], columns=DECISION_COLUMNS)

    def events_frame(self) -> pd.DataFrame:
        """The scenario events applied so far."""
        return pd.DataFrame(self.event_log, columns=["quarter", "note", "settings", "source"])

    def scenario_toml(self) -> str:
        """A scenario file that reproduces this run's settings (scenario plus overrides)."""
        from .scenario_writer import scenario_with_overrides
        return scenario_with_overrides(self.scenario_def, self.overrides,
                                       {c: a.rule.name for c, a in self.countries.items()})


def check_settings(scenario: str | Path | Scenario = "baseline", overrides: dict | list | None = None) -> None:
    """Raise :class:`InputError` if the scenario and overrides cannot start a run (no agents built).

    Each value is checked against its range, and the combination against the calibrated start
    (for example a Brent too low for the observed discount, or a Russian share of India's crude
    that leaves more barrels than other buyers can run). Cheap: meant for checking every point
    of a sweep design before any run starts.
    """
    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    values = {**calibration.base_settings(scenario.base), **scenario.settings, **normalise_overrides(overrides)}
    calibration.build(scenario.base, values, scenario.brent_path)
