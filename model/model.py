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

from geogame.agents.country import CountryAgent, Decision, Human, HumanMoveMissing, best_index, make_rule
from geogame.agents.moves import Move, available_moves, reply_moves
from geogame.agents.players import PLAYERS
from geogame.agents.utility import utility_terms

from . import calibration, economics, parameters
from .alignment import Landscape, alignment_map, landscape
from .calendar import quarter_label
from .instruments import INSTRUMENTS, get_instrument, set_instrument
from .parameters import InputError
from .scenarios import Scenario, load_scenario

#: The players' codes, in array order (from the player registry).
COUNTRIES: tuple[str, ...] = tuple(p.CODE for p in PLAYERS)
#: What each player saw last quarter, in a sentence (each player file's ``context``).
_CONTEXT = {p.CODE: p.context for p in PLAYERS}

DECISION_COLUMNS = ["quarter", "country", "move", "value", "runner_up", "reason",
                    "rule", "probability", "runner_up_value", "best_move", "expected_reply"]

#: Quarters the batched look-ahead rolls the economy forward exactly; the rest of a country's
#: horizon is added in closed form (:meth:`GeopoliticsModel.evaluate`). Four quarters let the
#: crude market and an anticipated reply play out (crude shares close 35% of their gap a quarter);
#: a 40-quarter run then costs about 68 ms against about 120 ms rolling all twelve (CPU, this
#: machine); ``tests/test_decisions.py`` checks the tail against a full roll-forward.
ROLLOUT_QUARTERS = 4
#: Largest affinity magnitude the closed-form tail extrapolates to (keeps atanh finite).
AFFINITY_BOUND = 0.999


class _RowView:
    """One row of a batched world, read like a one-world batch (for the moves' availability tests)."""

    __slots__ = ("_world", "_row")

    def __init__(self, world, row: int):
        self._world, self._row = world, row

    def __getattr__(self, name):
        value = getattr(self._world, name)
        return value[self._row:self._row + 1] if isinstance(value, np.ndarray) else value


def _take_rows(world, rows: np.ndarray):
    """A new batch made of the given rows of ``world`` (rows may repeat); arrays are copied."""
    new = world.shallow_copy()
    for name, value in vars(world).items():
        if isinstance(value, np.ndarray):
            setattr(new, name, value[rows])
    return new


def _accumulate(names: dict, sums: dict, country: str, terms: dict[str, np.ndarray], weight: float) -> None:
    """Add ``weight`` times a country's utility terms to its running totals (a terms x rows array)."""
    stacked = np.array(list(terms.values()))
    if country in sums:
        sums[country] += weight * stacked
    else:
        names[country] = list(terms)
        sums[country] = weight * stacked


def _drift(rate: float, quarters: np.ndarray) -> np.ndarray:
    """Cumulative drift after each of ``quarters`` when a unit drift shrinks by ``rate`` a quarter:
    ``(1-rate) + (1-rate)**2 + ... + (1-rate)**q`` (``q`` when ``rate`` is 0)."""
    keep = 1.0 - rate
    if abs(rate) < 1e-12:
        return quarters.astype(float)
    return keep * (1.0 - keep ** quarters) / rate


def _drift_rows(rates: np.ndarray, quarters: np.ndarray) -> np.ndarray:
    """:func:`_drift` for a rate per batch row: (B, len(quarters))."""
    rates = np.maximum(np.asarray(rates, dtype=float), 1e-12)[:, None]
    keep = 1.0 - rates
    return keep * (1.0 - keep ** quarters[None, :]) / rates


def _settle(now: np.ndarray, before: np.ndarray, rate: float, weights: np.ndarray, quarters: np.ndarray) -> np.ndarray:
    """Discount-weighted average of a state over the quarters after the roll-forward, its last
    drift ``now - before`` shrinking by ``rate`` a quarter; kept between ``now`` and where the
    drift leads (so a state in a valid range stays in it)."""
    drift = now - before
    average = now + drift * float(weights @ _drift(rate, quarters))
    limit = now + drift * float(_drift(rate, quarters[-1:])[0])
    return np.clip(average, np.minimum(now, limit), np.maximum(now, limit))


def _geometric_sum(ratio: float, n: int) -> float:
    """``ratio + ratio**2 + ... + ratio**n`` (0 for ``n <= 0``)."""
    if n <= 0:
        return 0.0
    if abs(1.0 - ratio) < 1e-12:
        return float(n)
    return ratio * (1.0 - ratio ** n) / (1.0 - ratio)


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
        root = np.random.SeedSequence(int(seed) if seed is not None else int(self.rng.integers(2**63)))
        streams = dict(zip(COUNTRIES, root.spawn(len(COUNTRIES))))
        self.countries: dict[str, CountryAgent] = {}
        for country in COUNTRIES:
            try:
                rule = make_rule(rule_names[country])
            except ValueError as exc:
                raise InputError(f"rules: {country}: {exc}") from None
            self.countries[country] = CountryAgent(self, country, rule, np.random.default_rng(streams[country]))
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
                 rollout: int = ROLLOUT_QUARTERS) -> dict[str, tuple]:
        """Value every candidate move of every country in one batched look-ahead.

        A move's value is the present value, over the country's horizon ``N`` quarters
        (``<country>.lookahead_quarters``) discounted by ``d = world.decision_discount`` a
        quarter, of the country's utility terms (:func:`agents.utility.utility_terms`, USD bn a
        quarter) in the world where it takes the move, less a one-off policy-change cost and, for
        backing down under pressure, its audience cost. Everybody else holds, except the
        counterpart whose best reply the country anticipates (:data:`agents.moves.ANTICIPATED_REPLIES`).

        How it is computed:

        1. one world per candidate move of every country (a batch), the move applied;
        2. for a proposer that anticipates a reply, each of its worlds is copied once per reply
           the counterpart could make there (holding is the first copy) and the reply applied
           after the move (the counterpart is taken to answer at once);
        3. the whole batch is rolled forward ``K = min(rollout, N)`` quarters with the economy's
           own step, quarter ``h = 0..K-1`` weighted by ``d**h``;
        4. the quarters ``K+1 .. N`` are added in closed form (:meth:`_tail_worlds`):
           ``d**(K-1) * (d + ... + d**(N-K)) * u(tail world)``, the tail world holding the slow
           states (goods trade, affinity, arms orders, idle rupees) at their discount-weighted
           average along their own geometric adjustment;
        5. in each group of copies the counterpart's reply is the one with the highest value *to
           the counterpart* (its own utility over its own horizon, less its policy-change and
           audience costs), ties to holding; the proposer's value of the move is its value in the
           world of that reply.

        Parameters
        ----------
        candidates : (agent, available moves) for each country; countries whose rule needs no
            values (scripted) are skipped.
        rollout : quarters rolled forward exactly before the closed-form tail.

        Returns
        -------
        dict
            country -> ``(values, terms, replies, replier)``: values (n,) in USD bn-equivalent
            (present value over the horizon, not yet relative to holding), the utility terms
            making them up (name -> (n,) array), per move the name of the anticipated reply
            ("" where none was weighed) and the country answering ("" if none).
        """
        base: list[tuple[CountryAgent, Move]] = [(agent, move) for agent, moves in candidates
                                                 if agent.rule.needs_values for move in moves]
        if not base:
            return {}
        s = self.structure
        batch = self.world.repeat(len(base))
        for i, (agent, move) in enumerate(base):
            if move.kind != "hold":  # holding changes nothing
                move.apply(batch, slice(i, i + 1))

        # Anticipated replies: one more world per reply the counterpart could make.
        source, reply_of, groups = [], [], []
        repliers: dict[str, str] = {}
        for i, (agent, move) in enumerate(base):
            replier, replies = reply_moves(agent.country)
            options = []
            if replies and self.countries[replier].rule.needs_values:  # a scripted counterpart does not answer
                view = _RowView(batch, i)
                options = [r for r in replies if r.available(view)[0]]
                repliers[agent.country] = replier
            group = [len(source)]
            source.append(i)
            reply_of.append(None)
            for reply in options:
                group.append(len(source))
                source.append(i)
                reply_of.append(reply)
            groups.append(group)
        reply_cost = np.zeros(len(source))
        if len(source) > len(base):
            batch = _take_rows(batch, np.asarray(source))
            change = s.p("world.policy_change_cost_usd_bn")
            for k, reply in enumerate(reply_of):
                if reply is not None:
                    backs = reply.backs_down(_RowView(batch, k))[0]
                    reply_cost[k] = -change - (s.p(f"{reply.country}.audience_cost_usd_bn") if backs else 0.0)
                    reply.apply(batch, slice(k, k + 1))

        valuers = {agent.country for agent, _ in base} | set(repliers.values())
        horizons = {c: self.countries[c].lookahead for c in valuers}
        steps = max(1, min(int(rollout), max(horizons.values())))
        discount = s.p("world.decision_discount")
        # Per country: the names of its utility terms and their present values, one row a term.
        names: dict[str, list[str]] = {}
        sums: dict[str, np.ndarray] = {}
        before = batch
        for h in range(steps):
            before, batch = batch, economics.step(batch, s)
            m = economics.utility_metrics(batch, s)
            weight = discount ** h
            for country in valuers:
                if h < horizons[country]:
                    _accumulate(names, sums, country, utility_terms(country, batch, m, s), weight)
        self._add_tail(names, sums, batch, before, horizons, steps, discount)
        totals = {c: dict(zip(names[c], sums[c])) for c in names}

        result: dict[str, tuple] = {}
        change = s.p("world.policy_change_cost_usd_bn")
        worth_to = {c: sum(acc.values()) + reply_cost for c, acc in totals.items()}
        for agent, moves in candidates:
            rows = [k for k, (a, _) in enumerate(base) if a is agent]
            if not rows:
                continue
            country = agent.country
            replier = repliers.get(country, "")
            chosen, replies = [], []
            for k in rows:
                group = groups[k]
                pick = best_index(worth_to[replier][group]) if len(group) > 1 else 0
                chosen.append(group[pick])
                replies.append("" if not replier else "hold" if pick == 0 else reply_of[group[pick]].name)
            chosen = np.asarray(chosen)
            terms = {name: np.asarray(value)[chosen] for name, value in totals[country].items()}
            cost = s.p(f"{country}.audience_cost_usd_bn")
            terms["audience_cost"] = np.array([-cost if m.backs_down(self.world)[0] else 0.0 for m in moves])
            terms["policy_change_cost"] = np.array([0.0 if m.kind == "hold" else -change for m in moves])
            values = np.asarray(sum(terms.values()), dtype=float)
            result[country] = (values, terms, replies, replier)
        return result

    def _add_tail(self, names, sums, world, before, horizons, steps, discount) -> None:
        """Add the quarters beyond the roll-forward in closed form (see :meth:`evaluate`, step 4).

        ``world`` is the batch after the last quarter rolled, ``before`` the one a quarter earlier
        (the last quarter's drift of the slow states). A country with ``n = N - K`` quarters of
        its horizon left adds ``d**(K-1) * (d + ... + d**n) * u(tail world)``, where the tail
        world (:meth:`_tail_worlds`) holds the discount-weighted average of the slow states over
        those ``n`` quarters: exact for the terms that are linear in them. ``names`` and ``sums``
        are the running totals of :meth:`evaluate` (see :func:`_accumulate`).
        """
        need = {c: horizons[c] - steps for c in names}
        lengths = sorted({n for n in need.values() if n > 0})
        if not lengths:
            return
        s = self.structure
        worlds = dict(zip(lengths, self._tail_worlds(world, before, discount, lengths)))
        metrics = {n: economics.utility_metrics(w, s) for n, w in worlds.items()}
        for country in list(names):
            n = need[country]
            if n > 0:
                scale = discount ** (steps - 1) * _geometric_sum(discount, n)
                _accumulate(names, sums, country, utility_terms(country, worlds[n], metrics[n], s), scale)

    def _tail_worlds(self, world, before, discount: float, lengths: list[int]) -> list:
        """The world at the end of the roll-forward with its slow states averaged over ``n`` more
        quarters, for each ``n`` in ``lengths``.

        Each slow state follows the closed form of its own geometric adjustment; quarter ``j =
        1..n`` after the roll-forward is weighted by ``d**j``:

        * goods trade moves to its long-run Armington target under the policies in force,
          closing ``lam = world.trade_adjustment`` of the log gap a quarter (the trade block's own
          rule): ``M_j = M**((1-lam)**j) * T**(1 - (1-lam)**j)``;
        * affinity keeps drifting as in the last quarter rolled, the drift shrinking by the pull
          to the anchor (``world.alignment_anchor_pull = p``): in atanh space
          ``z_j = z + dz ((1-p) + ... + (1-p)**j)``; deals and summits are one-off bumps that have
          passed by then, coercion in force goes on;
        * India's arms orders likewise, at ``world.arms_adjustment`` a quarter, and Russia's idle
          rupees at the rate they are spent (``world.rupee_drain``, more while it recycles them).

        Everything else (the crude market and its slower rebalancing: relationships, refinery
        capacity, replacement supply, shadow fleet) stays at its level at the end of the
        roll-forward, which is why the roll-forward is long enough for most of that
        rebalancing to show (:data:`ROLLOUT_QUARTERS`). Policies stay as they are.
        """
        s = self.structure
        j = np.arange(1, max(lengths) + 1, dtype=float)
        active = economics.penalty_active(world, s)
        tariffs = economics.effective_tariff(world, s, active)
        target = economics.target_goods_flows(world, s, economics.trade_cost(world, s, tariffs))
        left = (1.0 - s.p("world.trade_adjustment")) ** j
        shape = world.goods_flow_usd_bn.shape
        log_now = np.log(np.maximum(world.goods_flow_usd_bn, 1e-300)).reshape(1, -1)
        log_gap = np.log(np.maximum(target, 1e-300)).reshape(1, -1) - log_now
        zero = (world.goods_flow_usd_bn <= 0) | (target <= 0)   # zero flows stay zero

        off = ~np.eye(world.affinity.shape[1], dtype=bool)
        bound = np.arctanh(AFFINITY_BOUND)
        z, z_before = (np.arctanh(np.clip(np.where(off, a, 0.0), -AFFINITY_BOUND, AFFINITY_BOUND)).reshape(1, -1)
                       for a in (world.affinity, before.affinity))
        pull = s.p("world.alignment_anchor_pull")
        a_path = np.tanh(np.clip(z + (z - z_before) * _drift(pull, j)[:, None], -bound, bound))
        spend = s.p("world.rupee_drain") + economics.RECYCLING_DRAIN_PER_QUARTER * world.rupee_recycling
        fade = self._brent_fade(world, j)

        worlds = []
        for n in lengths:
            weights = discount ** j[:n]
            weights = weights / weights.sum()
            tail = world.shallow_copy()
            tail.penalty_active = active
            tail.goods_flow_usd_bn = np.where(
                zero, 0.0, (weights @ np.exp(log_now + log_gap * (1.0 - left[:n])[:, None])).reshape(shape))
            tail.affinity = np.where(off, (weights @ a_path[:n]).reshape(world.affinity.shape), 1.0)
            orders = np.clip(_settle(world.arms_order_share, before.arms_order_share, s.p("world.arms_adjustment"),
                                     weights, j[:n]), 0.0, 1.0)
            tail.arms_order_share = orders / orders.sum(axis=1, keepdims=True)
            tail.rupee_balance_usd_bn = np.maximum(
                world.rupee_balance_usd_bn + (world.rupee_balance_usd_bn - before.rupee_balance_usd_bn)
                * (_drift_rows(spend, j[:n]) @ weights), 0.0)
            if fade is not None:
                tail.brent_usd = world.brent_usd * (weights @ fade[:n])
            worlds.append(tail)
        return worlds

    def _brent_fade(self, world, quarters: np.ndarray) -> np.ndarray | None:
        """Brent in each tail quarter relative to the last quarter rolled, (len(quarters), B).

        Other producers replace lost Russian barrels at ``world.oil_supply_response`` of the gap a
        quarter (the economy's own rule), so the premium ``exp(k (lost - replaced) / supply)`` on
        Brent fades with the replacement's geometric approach to the barrels lost at the end of
        the roll-forward. ``None`` for a world without replacement supply.
        """
        s = self.structure
        if not hasattr(world, "oil_replacement_mbd") or "world.oil_supply_response" not in s.params:
            return None
        lost = np.maximum(s.p("rus.crude_exports_mbd") - world.rus_crude_sold_mbd, 0.0)
        gap = lost - world.oil_replacement_mbd                          # still to be replaced, (B,)
        closed = 1.0 - (1.0 - s.p("world.oil_supply_response")) ** quarters  # share of it replaced by quarter j
        k = s.p("world.brent_supply_multiplier") / s.p("world.world_oil_supply_mbd")
        return np.exp(-k * closed[:, None] * gap[None, :])

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

    def submit_move(self, country: str, move: str) -> None:
        """Queue a person's move for ``country`` (it must be available now)."""
        names = [m.name for m in available_moves(country, self.world)]
        if move not in names:
            raise InputError(f"move {move!r} is not available to {country} in {self.quarter_label_next}; "
                             f"allowed: {', '.join(names)}")
        self.countries[country].submit(move)

    def menu(self, country: str) -> list[Move]:
        """Moves available to ``country`` this quarter."""
        return available_moves(country, self.world)

    def advice(self, country: str) -> pd.DataFrame:
        """The model's value of each move available to ``country`` now (does not change the run).

        Columns: ``move``, ``label``, ``kind``, ``value`` (USD bn-equivalent against holding,
        present value over the country's horizon, as in the decisions table), ``probability``
        (the chance the country's rule gives the move; the AI's logit for a scripted or human
        player) and ``expected_reply`` (the counterpart's anticipated best reply, "" if none).
        """
        agent = self.countries[country]
        moves = available_moves(country, self.world)
        saved_rule, ai = agent.rule, make_rule("ai")
        agent.rule = ai
        try:
            values, _, replies, _ = self.evaluate([(agent, moves)])[country]
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


def normalise_overrides(overrides: dict | list | None) -> dict[str, float]:
    """Validate overrides given as a dict or a list of ``"key=value"`` strings."""
    if overrides is None:
        return {}
    if isinstance(overrides, dict):
        return {k: parameters.check_value(k, v) for k, v in overrides.items()}
    out = {}
    for text in overrides:
        key, value = parameters.parse_assignment(text)
        if key in out:
            raise InputError(f"override {key} is given twice ({out[key]:g} and {value:g}); allowed: each setting once")
        out[key] = value
    return out
