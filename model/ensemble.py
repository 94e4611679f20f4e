"""Many runs stepped together: the engine behind :class:`~model.model.GeopoliticsModel` and sweeps.

A quarter of an ensemble goes as a quarter of the Mesa model (:mod:`model.model`), for all its
runs at once:

1. each run's scenario events dated this quarter set its policies;
2. every candidate move of every country in every run, and the replies its counterpart may
   make, is valued in ONE batched look-ahead (:func:`value_moves`: the economy's own step rolls
   the whole batch forward, the rest of each horizon is added in closed form);
3. each run chooses, country by country, with that run's own random stream per country (so a
   run's draws never depend on the batch it is in), and the chosen moves apply;
4. one batched economics step;
5. the quarter's metrics are recorded as arrays over runs.

This is the one engine: :class:`~model.model.GeopoliticsModel` is an :class:`Ensemble` of one
run (built by the same :func:`resolve`, stepped by the same :meth:`Ensemble.step`, read through
the same :class:`RunView`), and the rules choose row by row (:meth:`agents.country.Rule.choose`),
the same code for one run or many. A run's results do not depend on the batch: every operation
of the look-ahead and of the choice is row by row (no matrix product across rows, whose rounding
depends on where a row sits in the batch), and each run draws from its own random streams.

Runs are batched when they share base (its players, data and start quarter) and Brent path;
:func:`run_ensemble` groups them. Within a batch, runs may differ in every setting, each held
where it is read:

* policy settings (the instruments: tariffs, caps, sanctions...) in the world's arrays, a value
  per run;
* the players' decision settings (rationality, utility weights, audience costs, horizons) in
  the engine's arrays, a value per run (:data:`OWN_SETTINGS`);
* the look-ahead's discount and policy-change cost, read per world of the valuation's batch;
* the economy's settings (elasticities, supplies, adjustment speeds) and what the calibration
  makes of them in the run's own :class:`~model.world.Structure`: runs with the same economy
  share one, and the batch's structure is :func:`~model.world.mixed` over them (the compiled
  step reads each world's constants; the NumPy code reads a setting the runs differ in as an
  array over the batch).

Seeds, rules (ai, best, scripted, human) and scenario events may differ too.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geogame.agents.country import RULES, Decision, HumanMoveMissing, best_indices, make_rule, reason
from geogame.agents.moves import ANTICIPATED_REPLIES, Move, find_move, menu
from geogame.agents.players import PLAYERS
from geogame.agents.utility import utility_terms

from . import calibration, economics, parameters
from .alignment import _configurations, landscape
from .calendar import quarter_label
from .instruments import set_instrument
from .parameters import InputError
from .scenarios import Scenario, load_scenario
from .world import mixed

#: Quarters the batched look-ahead rolls the economy forward exactly; the rest of a country's
#: horizon is added in closed form (:func:`value_moves`). Four quarters let the crude market
#: and an anticipated reply play out (crude shares close 35% of their gap a quarter);
#: ``tests/test_decisions.py`` checks the tail against a full roll-forward.
ROLLOUT_QUARTERS = 4
#: Largest affinity magnitude the closed-form tail extrapolates to (keeps atanh finite).
AFFINITY_BOUND = 0.999


#: The players' codes, in array order (from the player registry).
COUNTRIES: tuple[str, ...] = tuple(p.CODE for p in PLAYERS)
#: What each player saw last quarter, in a sentence (each player file's ``context``).
_CONTEXT = {p.CODE: p.context for p in PLAYERS}

#: Columns of the decisions table (:meth:`GeopoliticsModel.decisions_frame`, :meth:`RunView.decisions_frame`).
DECISION_COLUMNS = ["quarter", "country", "move", "value", "runner_up", "reason",
                    "rule", "probability", "runner_up_value", "best_move", "expected_reply"]


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


# ----------------------------------------------------------------------------- batch helpers
def rows_where(predicate, world) -> np.ndarray:
    """``predicate`` (a move's ``available`` or ``backs_down``, vectorised over the batch) for every
    row of ``world``, (B,) bool."""
    return np.asarray(predicate(world), dtype=bool)


def _accumulate(names: dict, sums: dict, country: str, terms: dict[str, np.ndarray], weight: float,
                rows: np.ndarray | None = None) -> None:
    """Add ``weight`` (a number, or one per world) times a country's utility terms to its running
    totals (a terms x rows array); only to the rows ``rows`` (bool) if given (the others' horizons
    have ended)."""
    stacked = np.array(list(terms.values()))
    if country not in sums:
        names[country] = list(terms)
        sums[country] = weight * stacked
    elif rows is None:
        sums[country] += weight * stacked
    else:
        sums[country][:, rows] += (weight[rows] if isinstance(weight, np.ndarray) else weight) * stacked[:, rows]


def _weighted_sum(weights: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """``sum_i weights[i] * stack[i]``, added in order element by element.

    Used instead of ``weights @ stack``: a BLAS product rounds a column differently depending on
    where it sits in the batch, and a run must not depend on its batch.
    """
    total = weights[0] * stack[0]
    for i in range(1, len(weights)):
        total = total + weights[i] * stack[i]
    return total


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


def _drift_per_world(rate, quarters: np.ndarray) -> np.ndarray:
    """:func:`_drift` for a rate that is a number, (len(quarters), 1), or one per world of the
    batch (a setting of a mixed batch), (len(quarters), B): each world's column the very numbers
    :func:`_drift` gives for its rate."""
    if not isinstance(rate, np.ndarray):
        return _drift(rate, quarters)[:, None]
    out = np.empty((len(quarters), len(rate)))
    for value in np.unique(rate):
        out[:, rate == value] = _drift(float(value), quarters)[:, None]
    return out


def _per_value(value, function) -> np.ndarray | float:
    """``function(value)`` (a number) for a setting that is a number (a rate, a discount), or for
    each world's (an array over the batch): computed once per distinct value, so each world gets
    the very number it gets alone."""
    if not isinstance(value, np.ndarray):
        return function(value)
    out = np.empty(len(value))
    for distinct in np.unique(value):
        out[value == distinct] = function(float(distinct))
    return out


def _settle(now: np.ndarray, before: np.ndarray, rate, weights: np.ndarray, quarters: np.ndarray) -> np.ndarray:
    """Discount-weighted average of a state (B, ...) over the quarters after the roll-forward, its
    last drift ``now - before`` shrinking by ``rate`` a quarter; kept between ``now`` and where
    the drift leads (so a state in a valid range stays in it). ``rate`` is a number or one per
    world, ``weights`` the quarters' weights (:func:`_tail_weights`: (n,), or (n, B) one column per
    world); each world gets the very numbers it gets alone."""
    drift = now - before
    if weights.ndim == 1 and not isinstance(rate, np.ndarray):
        mean = float(weights @ _drift(rate, quarters))
        last = float(_drift(rate, quarters[-1:])[0])
    else:
        B = now.shape[0]
        rates = np.broadcast_to(np.asarray(rate, dtype=float), (B,))
        columns = weights if weights.ndim == 2 else np.broadcast_to(weights[:, None], (len(weights), B))
        _, first, inverse = np.unique(np.column_stack([rates, columns.T]), axis=0, return_index=True,
                                      return_inverse=True)
        mean = np.array([float(np.ascontiguousarray(columns[:, f]) @ _drift(float(rates[f]), quarters))
                         for f in first])[inverse.ravel()]
        last = np.array([float(_drift(float(rates[f]), quarters[-1:])[0]) for f in first])[inverse.ravel()]
        mean, last = economics.per_world(mean, now.ndim), economics.per_world(last, now.ndim)
    average = now + drift * mean
    limit = now + drift * last
    return np.clip(average, np.minimum(now, limit), np.maximum(now, limit))


def _tail_weights(discount, n: int) -> np.ndarray:
    """The weights of the tail's quarters ``1..n``, ``d**j`` over their sum: (n,) for a discount
    that is a number, (n, B) for one per world (each column the numbers of its world's alone)."""
    quarters = np.arange(1, n + 1, dtype=float)
    if not isinstance(discount, np.ndarray):
        weights = discount ** quarters
        return weights / weights.sum()
    out = np.empty((n, len(discount)))
    for value in np.unique(discount):
        weights = float(value) ** quarters
        out[:, discount == value] = (weights / weights.sum())[:, None]
    return out


def _geometric_sum(ratio: float, n: int) -> float:
    """``ratio + ratio**2 + ... + ratio**n`` (0 for ``n <= 0``)."""
    if n <= 0:
        return 0.0
    if abs(1.0 - ratio) < 1e-12:
        return float(n)
    return ratio * (1.0 - ratio ** n) / (1.0 - ratio)


# ------------------------------------------------------------------------ the closed-form tail
def add_tail(s, names, sums, world, before, horizons, steps, discount) -> None:
    """Add the quarters beyond the roll-forward in closed form (see :func:`value_moves`).

    ``world`` is the batch after the last quarter rolled, ``before`` the one a quarter earlier
    (the last quarter's drift of the slow states); ``discount`` is a number or one per world. A
    country with ``n = N - K`` quarters of its horizon left adds ``d**(K-1) * (d + ... + d**n) * u(tail world)``, where the tail
    world (:func:`tail_worlds`) holds the discount-weighted average of the slow states over
    those ``n`` quarters: exact for the terms that are linear in them. ``names`` and ``sums``
    are the running totals of :func:`value_moves` (see :func:`_accumulate`).
    """
    need = {c: np.asarray(horizons[c]) - steps for c in names}   # a number, or one per world
    lengths = sorted({int(n) for v in need.values() for n in np.unique(v) if n > 0})
    if not lengths:
        return
    if all(v.ndim == 0 for v in need.values()):   # every world of the batch shares each horizon
        worlds = dict(zip(lengths, tail_worlds(s, world, before, discount, lengths)))
        metrics = {n: economics.utility_metrics(w, s) for n, w in worlds.items()}
        for country in list(names):
            n = int(need[country])
            if n > 0:
                scale = _per_value(discount, lambda d: d ** (steps - 1) * _geometric_sum(d, n))
                _accumulate(names, sums, country, utility_terms(country, worlds[n], metrics[n], s), scale)
        return
    # Horizons per world (runs with their own): each tail length only for the worlds that need it
    # (a world's tail depends on that world alone, so the subset gives it the same numbers).
    B = world.batch
    for n in lengths:
        wanted = {c: np.broadcast_to(v == n, (B,)) for c, v in need.items()}
        rows = np.flatnonzero(np.logical_or.reduce(list(wanted.values())))
        sub_s = s.take_rows(rows) if len(rows) < B else s
        sub_d = discount[rows] if isinstance(discount, np.ndarray) else discount
        tail = tail_worlds(sub_s, world.take_rows(rows), before.take_rows(rows), sub_d, [n])[0]
        m = economics.utility_metrics(tail, sub_s)
        scale = _per_value(sub_d, lambda d: d ** (steps - 1) * _geometric_sum(d, n))
        for country in list(names):
            at = wanted[country][rows]
            if at.any():
                stacked = scale * np.array(list(utility_terms(country, tail, m, sub_s).values()))
                sums[country][:, rows[at]] += stacked[:, at]


def tail_worlds(s, world, before, discount, lengths: list[int]) -> list:
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

    In a mixed batch (runs with economies of their own: :func:`~model.world.mixed`) the settings
    read here and the discount ``d`` may be one per world; each world's tail is then computed with
    its own, to the very numbers of that world alone.
    """
    j = np.arange(1, max(lengths) + 1, dtype=float)
    active = economics.penalty_active(world, s)
    tariffs = economics.effective_tariff(world, s, active)
    target = economics.target_goods_flows(world, s, economics.trade_cost(world, s, tariffs))
    # Only the flows that move are computed (zero flows stay zero: a node's trade with itself).
    moving = ~((world.goods_flow_usd_bn <= 0) | (target <= 0)).reshape(-1)
    log_now = np.log(np.maximum(world.goods_flow_usd_bn.reshape(-1)[moving], 1e-300))[None, :]
    log_gap = np.log(np.maximum(target.reshape(-1)[moving], 1e-300))[None, :] - log_now
    flow_world = np.flatnonzero(moving) // (world.goods_flow_usd_bn.size // world.batch)   # each flow's world
    lam = s.p("world.trade_adjustment")
    if isinstance(lam, np.ndarray):   # one per world: each moving flow by its world's (J, flows)
        left = (1.0 - lam[flow_world])[None, :] ** j[:, None]
    else:
        left = ((1.0 - lam) ** j)[:, None]

    # Only the affinity pairs off the diagonal, each pair once when affinity is symmetric.
    rows, cols, mirrored = _affinity_pairs(world.affinity, before.affinity)
    bound = np.arctanh(AFFINITY_BOUND)
    z, z_before = (np.arctanh(np.clip(a[:, rows, cols], -AFFINITY_BOUND, AFFINITY_BOUND)).reshape(1, -1)
                   for a in (world.affinity, before.affinity))
    pull = s.p("world.alignment_anchor_pull")
    pair_world = np.arange(z.shape[1]) // len(rows)   # each pair's world
    drift = _drift_per_world(pull, j)                 # (J, 1) or (J, B)
    if drift.shape[1] > 1:                            # one per world: each pair by its world's
        drift = drift[:, pair_world]
    a_path = np.tanh(np.clip(z + (z - z_before) * drift, -bound, bound))
    spend = s.p("world.rupee_drain") + economics.RECYCLING_DRAIN_PER_QUARTER * world.rupee_recycling
    fade = _brent_fade(s, world, j)

    worlds = []
    for n in lengths:
        weights = _tail_weights(discount, n)          # (n,), or (n, B) one column per world
        by_world = weights.ndim == 2
        tail = world.shallow_copy()
        tail.penalty_active = active
        flows = np.zeros(world.goods_flow_usd_bn.size)
        flows[moving] = _weighted_sum(weights[:, flow_world] if by_world else weights,
                                      np.exp(log_now + log_gap * (1.0 - left[:n])))
        tail.goods_flow_usd_bn = flows.reshape(world.goods_flow_usd_bn.shape)
        tail.affinity = np.ones_like(world.affinity)
        tail.affinity[:, rows, cols] = _weighted_sum(weights[:, pair_world] if by_world else weights,
                                                     a_path[:n]).reshape(world.batch, -1)
        if mirrored:
            tail.affinity[:, cols, rows] = tail.affinity[:, rows, cols]
        orders = np.clip(_settle(world.arms_order_share, before.arms_order_share, s.p("world.arms_adjustment"),
                                 weights, j[:n]), 0.0, 1.0)
        tail.arms_order_share = orders / orders.sum(axis=1, keepdims=True)
        tail.rupee_balance_usd_bn = np.maximum(
            world.rupee_balance_usd_bn + (world.rupee_balance_usd_bn - before.rupee_balance_usd_bn)
            * _weighted_sum(weights, _drift_rows(spend, j[:n]).T), 0.0)
        if fade is not None:
            tail.brent_usd = world.brent_usd * _weighted_sum(weights, fade[:n])
        worlds.append(tail)
    return worlds


def _affinity_pairs(affinity: np.ndarray, before: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """The entries of the (B, P, P) affinity matrices the tail computes: ``(rows, cols, mirrored)``.

    The pairs above the diagonal (``mirrored``: the ones below are the same numbers) when both
    matrices are symmetric bit for bit, as the model's rules keep them; else every entry off the
    diagonal. The tail's operations are elementwise, so an entry and its mirror give the same
    number, and the diagonal is 1.
    """
    players = affinity.shape[1]
    symmetric = all(np.array_equal(a.view(np.uint64), a.transpose(0, 2, 1).view(np.uint64)) for a in (affinity, before))
    if symmetric:
        rows, cols = np.triu_indices(players, 1)
    else:
        rows, cols = np.nonzero(~np.eye(players, dtype=bool))
    return rows, cols, symmetric


def _brent_fade(s, world, quarters: np.ndarray) -> np.ndarray | None:
    """Brent in each tail quarter relative to the last quarter rolled, (len(quarters), B).

    Other producers replace lost Russian barrels at ``world.oil_supply_response`` of the gap a
    quarter (the economy's own rule), so the premium ``exp(k (lost - replaced) / supply)`` on
    Brent fades with the replacement's geometric approach to the barrels lost at the end of
    the roll-forward. ``None`` for a world without replacement supply.
    """
    if not hasattr(world, "oil_replacement_mbd") or "world.oil_supply_response" not in s.params:
        return None
    lost = np.maximum(s.p("rus.crude_exports_mbd") - world.rus_crude_sold_mbd, 0.0)
    gap = lost - world.oil_replacement_mbd                          # still to be replaced, (B,)
    response = s.p("world.oil_supply_response")                     # a number, or one per world
    k = s.p("world.brent_supply_multiplier") / s.p("world.world_oil_supply_mbd")
    if isinstance(response, np.ndarray) or isinstance(k, np.ndarray):
        response = np.broadcast_to(response, gap.shape)
        closed = 1.0 - (1.0 - response)[None, :] ** quarters[:, None]   # (J, B)
        return np.exp((-np.broadcast_to(k, gap.shape))[None, :] * closed * gap[None, :])
    closed = 1.0 - (1.0 - response) ** quarters  # share of it replaced by quarter j
    return np.exp(-k * closed[:, None] * gap[None, :])


# ------------------------------------------------------------------------ the batched valuation
@dataclass
class Valuation:
    """One country's candidate moves valued in every run of a batch (:func:`value_moves`).

    Attributes
    ----------
    values : (R, M) present value of each move of the country's full menu over its horizon,
        USD bn-equivalent (not yet relative to holding); NaN where the move was not valued.
    terms : name -> (R, M) the utility terms making up ``values`` (same layout).
    reply : (R, M) the counterpart's anticipated reply: -1 none weighed, 0 holding, ``k`` the
        k-th answering move of :data:`agents.moves.ANTICIPATED_REPLIES`.
    replier : the country whose reply is anticipated ("" if none).
    answered : (R,) whether the replier answers in that run (its rule values moves).
    """

    values: np.ndarray
    terms: dict
    reply: np.ndarray
    replier: str
    answered: np.ndarray

    def reply_names(self, run: int, cols) -> list[str]:
        """The anticipated reply per move (menu columns ``cols``) of run ``run``, by name."""
        if not self.replier or not self.answered[run]:
            return [""] * len(cols)
        names = ANTICIPATED_REPLIES[self.country_of][1]
        return ["hold" if self.reply[run, c] == 0 else names[self.reply[run, c] - 1] for c in cols]

    country_of: str = ""

    def expand(self, rows: np.ndarray) -> "Valuation":
        """The valuation of the runs ``rows`` (a run may repeat): valued once, shared by identical runs."""
        return Valuation(self.values[rows], {k: v[rows] for k, v in self.terms.items()}, self.reply[rows],
                         self.replier, self.answered[rows], self.country_of)


def _distinct_runs(world, needs: dict[str, np.ndarray],
                   own: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Runs whose worlds, valuing countries and own valuation settings are identical bit for bit:
    ``(first, inverse)``, the first run of each distinct state and, per run, which distinct state
    it is in."""
    R = world.batch
    parts = [value.reshape(R, -1).astype(float, copy=False) for value in vars(world).values()
             if isinstance(value, np.ndarray)]
    parts.append(np.stack([needs[c] for c in COUNTRIES], axis=1).astype(float))
    parts.extend(np.asarray(w, dtype=float).reshape(R, 1) for w in (own or {}).values())
    state = np.ascontiguousarray(np.concatenate(parts, axis=1))
    keys = state.view(np.dtype((np.void, state.shape[1] * state.itemsize))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def _available(country: str, world) -> np.ndarray:
    """Which moves of ``country``'s full menu are available in each run of ``world``, (B, M) bool."""
    moves = menu(country)
    out = np.empty((world.batch, len(moves)), dtype=bool)
    for col, move in enumerate(moves):
        out[:, col] = move.available(world)
    return out


def _menu_index(country: str) -> dict[str, int]:
    return {m.name: i for i, m in enumerate(menu(country))}


def value_moves(world, s, offers: dict[str, np.ndarray], answers: dict[str, np.ndarray],
                rollout: int = ROLLOUT_QUARTERS, own: dict[str, np.ndarray] | None = None) -> dict[str, Valuation]:
    """Value every offered move of every country in every run of ``world`` in one batched look-ahead.

    A move's value is the present value, over the country's horizon ``N`` quarters
    (``<country>.lookahead_quarters``) discounted by ``d = world.decision_discount`` a
    quarter, of the country's utility terms (:func:`agents.utility.utility_terms`, USD bn a
    quarter) in the world where it takes the move, less a one-off policy-change cost and, for
    backing down under pressure, its audience cost. Everybody else holds, except the
    counterpart whose best reply the country anticipates (:data:`agents.moves.ANTICIPATED_REPLIES`).

    How it is computed:

    1. one world per distinct candidate of every run (a batch), the move applied: holding is
       the same world for every country of a run, so it is rolled once;
    2. for a proposer that anticipates a reply, each of its worlds is copied once per reply
       the counterpart could make there (holding is the first copy) and the reply applied
       after the move (the counterpart is taken to answer at once); a reply to holding is the
       counterpart's own candidate world;
    3. the whole batch is rolled forward ``K = min(rollout, N)`` quarters with the economy's
       own step, quarter ``h = 0..K-1`` weighted by ``d**h``;
    4. the quarters ``K+1 .. N`` are added in closed form (:func:`add_tail`):
       ``d**(K-1) * (d + ... + d**(N-K)) * u(tail world)``, the tail world holding the slow
       states (goods trade, affinity, arms orders, idle rupees) at their discount-weighted
       average along their own geometric adjustment;
    5. in each group of copies the counterpart's reply is the one with the highest value *to
       the counterpart* (its own utility over its own horizon, less its policy-change and
       audience costs), ties to holding; the proposer's value of the move is its value in the
       world of that reply.

    Parameters
    ----------
    world : World
        The current worlds, one row per run (R rows).
    s : Structure
        The runs' structure: shared, or one per run (a :func:`~model.world.mixed` structure, R
        worlds, for runs that differ in a setting of the economy).
    offers : country -> (R, M) bool over the country's full menu: the moves to value in each
        run (available, and the country's rule needs values).
    answers : country -> (R,) bool: whether the country, as a counterpart, answers in that run.
    rollout : quarters rolled forward exactly before the closed-form tail.
    own : setting -> (R,) each run's own utility weights, audience costs and horizons
        (:data:`VALUATION_SETTINGS`); default the structure's for every run.

    Returns
    -------
    dict
        country -> :class:`Valuation`, for each country with at least one move offered.
    """
    R = world.batch
    offers = {c: np.asarray(o, dtype=bool) for c, o in offers.items() if np.any(o)}
    if not offers:
        return {}
    horizons = {c: int(s.p(f"{c}.lookahead_quarters")) for c in COUNTRIES}

    # 1. Distinct candidate worlds: one holding row per run, one row per (country, move) not holding.
    needs_hold = np.zeros(R, dtype=bool)
    for mask in offers.values():
        needs_hold |= mask[:, 0]
    hold_runs = np.flatnonzero(needs_hold)
    hold_u = np.full(R, -1)
    hold_u[hold_runs] = np.arange(len(hold_runs))
    source = [hold_runs]
    own_u: dict[str, np.ndarray] = {}          # country -> (R, M) unique row of each candidate (-1 none)
    count = len(hold_runs)
    to_apply: list[tuple[Move, np.ndarray]] = []
    for c, mask in offers.items():
        table = np.full(mask.shape, -1)
        table[:, 0] = np.where(mask[:, 0], hold_u, -1)
        moves = menu(c)
        for col in range(1, mask.shape[1]):
            runs = np.flatnonzero(mask[:, col])
            if len(runs):
                rows = np.arange(count, count + len(runs))
                table[runs, col] = rows
                source.append(runs)
                to_apply.append((moves[col], rows))
                count += len(runs)
        own_u[c] = table
    row_run = np.concatenate(source)               # the run each world of the batch comes from
    batch = world.take_rows(row_run)
    for move, rows in to_apply:
        move.apply(batch, rows)

    # 2. Anticipated replies: one more world per reply the counterpart could make.
    change_key = "world.policy_change_cost_usd_bn"
    groups: dict[str, tuple] = {}            # proposer -> (runs, cols, group matrix, reply costs, replier)
    copy_source, copy_reply = [], []
    extra = 0
    valuers = set(offers)
    for c, mask in offers.items():
        runs, cols = np.nonzero(mask)
        u = own_u[c][runs, cols]
        replier, names = ANTICIPATED_REPLIES.get(c, ("", ()))
        group = np.full((len(runs), 1 + len(names)), -1)
        group[:, 0] = u
        cost = np.zeros(group.shape)
        if replier and len(runs):
            answering = answers[replier][runs]
            if answering.any():
                valuers.add(replier)
            reply_index = _menu_index(replier)
            audience = _own(s, own, f"{replier}.audience_cost_usd_bn", runs)
            for k, name in enumerate(names, start=1):
                reply = find_move(replier, name)
                col_q = reply_index[name]
                ok = rows_where(reply.available, batch)[u] & answering
                backs = rows_where(reply.backs_down, batch)[u]
                cost[:, k] = np.where(ok, -_own(s, own, change_key, runs) - np.where(backs, audience, 0.0), 0.0)
                for i in np.flatnonzero(ok):
                    r = runs[i]
                    if cols[i] == 0:  # a reply to holding is the counterpart's own candidate world
                        existing = own_u.get(replier)
                        if existing is not None and existing[r, col_q] >= 0:
                            group[i, k] = existing[r, col_q]
                            continue
                        if replier not in own_u:
                            own_u[replier] = np.full((R, len(menu(replier))), -1)
                        own_u[replier][r, col_q] = count + extra  # shared by every proposer's hold
                    group[i, k] = count + extra
                    copy_source.append(u[i])
                    copy_reply.append(reply)
                    extra += 1
        groups[c] = (runs, cols, group, cost, replier)
    if extra:
        batch = batch.take_rows(np.concatenate([np.arange(count), np.asarray(copy_source)]))
        row_run = np.concatenate([row_run, row_run[np.asarray(copy_source)]])
        by_reply: dict[int, tuple[Move, list[int]]] = {}
        for k, reply in enumerate(copy_reply):
            by_reply.setdefault(id(reply), (reply, []))[1].append(count + k)
        for reply, rows in by_reply.values():
            reply.apply(batch, np.asarray(rows))

    # 3. Roll the whole batch forward; 4. the closed-form tail.
    if own:   # each run's own horizon, per world of the batch (a number where all runs share it)
        for c in COUNTRIES:
            key = f"{c}.lookahead_quarters"
            if key in own and np.any(own[key] != horizons[c]):
                horizons[c] = own[key][row_run].astype(int)
    steps = max(1, min(int(rollout), max(int(np.max(horizons[c])) for c in valuers)))
    names_of: dict[str, list[str]] = {}
    sums: dict[str, np.ndarray] = {}
    sb = s.take_rows(row_run)                      # each world's economy: its run's
    su = _rows_structure(sb, own, row_run)         # ... and its run's utility weights
    discount = sb.p("world.decision_discount")     # a number, or one per world
    before = batch
    for h in range(steps):
        before, batch = batch, economics.step(batch, sb)
        m = economics.utility_metrics(batch, sb)
        weight = _per_value(discount, lambda d: d ** h)
        for country in valuers:
            going = h < horizons[country]
            if np.all(going):
                _accumulate(names_of, sums, country, utility_terms(country, batch, m, su), weight)
            elif np.any(going):
                _accumulate(names_of, sums, country, utility_terms(country, batch, m, su), weight, going)
    add_tail(su, names_of, sums, batch, before, horizons, steps, discount)
    totals = {c: dict(zip(names_of[c], sums[c])) for c in names_of}
    worth = {c: sum(acc.values()) for c, acc in totals.items()}

    # 5. Each proposer's value of a move: in the world of the counterpart's best reply.
    result: dict[str, Valuation] = {}
    for c, (runs, cols, group, cost, replier) in groups.items():
        if replier and replier in worth and group.shape[1] > 1:
            present = group >= 0
            w = np.where(present, worth[replier][np.maximum(group, 0)] + cost, -np.inf)
            pick = best_indices(w)
        else:
            pick = np.zeros(len(runs), dtype=int)
        chosen = group[np.arange(len(runs)), pick]
        moves = menu(c)
        terms = {name: value[chosen] for name, value in totals[c].items()}
        aud = np.broadcast_to(_own(s, own, f"{c}.audience_cost_usd_bn", runs), runs.shape)
        audience = np.zeros(len(runs))
        for col in np.unique(cols):
            at = cols == col
            backs = rows_where(moves[col].backs_down, world)[runs[at]]
            audience[at] = np.where(backs, -aud[at], 0.0)
        terms["audience_cost"] = audience
        terms["policy_change_cost"] = np.where(cols == 0, 0.0, -_own(s, own, change_key, runs))
        values = np.asarray(sum(terms.values()), dtype=float)
        shape = offers[c].shape
        out_values = np.full(shape, np.nan)
        out_values[runs, cols] = values
        out_terms = {}
        for name, value in terms.items():
            full = np.full(shape, np.nan)
            full[runs, cols] = value
            out_terms[name] = full
        reply = np.full(shape, -1)
        answered = answers[replier] if replier else np.zeros(R, dtype=bool)
        if replier:
            reply[runs, cols] = np.where(answered[runs], pick, -1)
        result[c] = Valuation(out_values, out_terms, reply, replier, np.asarray(answered, dtype=bool), c)
    return result


# ---------------------------------------------------------------------------------- blocs
def blocs_together(affinity: np.ndarray, sizes: np.ndarray, pairs) -> dict:
    """Whether each pair of players is in the same camp of the lowest-energy split, per world.

    The vectorised form of :func:`model.alignment.landscape` for a batch of affinity matrices
    (B,4,4); where the two lowest energies are too close for rounding to be ruled out, the
    world is decided by :func:`~model.alignment.landscape` itself, so the answer is always its.
    """
    n = len(sizes)
    configs, split = _configurations(n)
    weighted = (np.outer(sizes, sizes)[None] * affinity).reshape(len(affinity), n * n)
    energy = np.einsum("ck,bk->bc", split, weighted)
    order = np.argsort(energy, axis=1, kind="stable")
    best = order[:, 0]
    first = np.take_along_axis(energy, order[:, :2], axis=1)
    close = (first[:, 1] - first[:, 0]) <= 1e-9 * (1.0 + np.abs(first[:, 0]))
    camp = configs[best]                                     # (B, n)
    out = {}
    for a, b in pairs:
        ia, ib = COUNTRIES.index(a), COUNTRIES.index(b)
        out[(a, b)] = camp[:, ia] == camp[:, ib]
    for row in np.flatnonzero(close):
        scape = landscape(affinity[row], sizes)
        for a, b in pairs:
            out[(a, b)][row] = scape.together(a, b)
    return out


# ------------------------------------------------------------------------------- the ensemble
@dataclass(frozen=True)
class EnsembleRun:
    """One run of an ensemble: what :class:`~model.model.GeopoliticsModel` takes.

    ``scenario`` a preset name, a path or a loaded :class:`~model.scenarios.Scenario`;
    ``seed`` the run's seed; ``overrides`` settings on top of the scenario (dict or list of
    ``"key=value"``); ``rules`` a rule per country on top of the scenario's.
    """

    scenario: object = "baseline"
    seed: int | None = None
    overrides: object = None
    rules: dict | None = None


def _as_run(spec) -> EnsembleRun:
    if isinstance(spec, EnsembleRun):
        return spec
    if isinstance(spec, dict):
        return EnsembleRun(**spec)
    raise InputError(f"ensemble run {spec!r} is not allowed; allowed: an EnsembleRun or a dict with "
                     "scenario, seed, overrides, rules")


def choice_streams(seed, fallback: np.random.Generator | None = None) -> dict[str, np.random.Generator]:
    """One random stream per country, spawned from the run's seed.

    A country's k-th choice uses the same draw whatever the other countries' rules, so a run in
    which a person plays one country changes no other country's luck. Without a seed, the root
    is drawn from ``fallback`` (the Mesa model's own generator) or from fresh entropy.
    """
    if seed is not None:
        root = np.random.SeedSequence(int(seed))
    elif fallback is not None:
        root = np.random.SeedSequence(int(fallback.integers(2**63)))
    else:
        root = np.random.SeedSequence()
    return {c: np.random.default_rng(stream) for c, stream in zip(COUNTRIES, root.spawn(len(COUNTRIES)))}


@dataclass
class _Setup:
    """A run's settings resolved (scenario loaded, overrides validated, rules checked)."""

    scenario: Scenario
    seed: int | None
    overrides: dict
    settings: dict
    rules: dict

    @property
    def settings_key(self) -> tuple:
        """Everything the start of the run is built from: base, all settings, Brent path."""
        return (self.scenario.base, tuple(sorted(self.settings.items())),
                tuple(sorted(self.scenario.brent_path.items())))

    @property
    def structure_key(self) -> tuple:
        """What runs sharing one :class:`~model.world.Structure` share: the settings key without the
        settings held per run (:func:`per_run_settings`: a policy setting lives in the world's
        arrays, a country's decision settings in the engine's, one value per run)."""
        shared = per_run_settings()
        return (self.scenario.base, tuple(sorted((k, v) for k, v in self.settings.items() if k not in shared)),
                tuple(sorted(self.scenario.brent_path.items())))

    @property
    def batch_key(self) -> tuple:
        """What runs batched together must share: the base (its players, data and start) and the
        Brent path. Runs that differ in a setting of the economy share a batch with structures of
        their own (:func:`~model.world.mixed`)."""
        return self.scenario.base, tuple(sorted(self.scenario.brent_path.items()))


#: The players' logit rationality: read only where a run's AI chooses (:meth:`Ensemble._choose`),
#: from the run's own settings, so runs that differ in it share a batch.
RATIONALITY_SETTINGS = tuple(f"{c}.rationality" for c in COUNTRIES)

#: The players' utility weights (``<country>.weight_*``): read only in the players'
#: ``utility_terms``, which :func:`value_moves` gives each world of its batch with the weights of
#: the run it came from, so runs that differ in them share a batch too.
WEIGHT_SETTINGS = tuple(k for k in parameters.SETTINGS
                        if k.split(".")[0] in COUNTRIES and k.split(".", 1)[1].startswith("weight_"))

#: The players' audience costs (of backing down under pressure): read only where
#: :func:`value_moves` costs a move or an anticipated reply, per run.
AUDIENCE_SETTINGS = tuple(f"{c}.audience_cost_usd_bn" for c in COUNTRIES)

#: The players' horizons (quarters a move is valued over): per run where :func:`value_moves`
#: rolls the batch forward (each world stops adding at its run's horizon) and adds the tail.
HORIZON_SETTINGS = tuple(f"{c}.lookahead_quarters" for c in COUNTRIES)

#: The settings the valuation reads per run (:func:`value_moves`'s ``own``).
VALUATION_SETTINGS = WEIGHT_SETTINGS + AUDIENCE_SETTINGS + HORIZON_SETTINGS

#: The decision settings each run keeps for itself (rationality, utility weights, audience costs, horizons).
OWN_SETTINGS = RATIONALITY_SETTINGS + VALUATION_SETTINGS


def per_run_settings() -> frozenset:
    """Settings each run of a batch keeps for itself, which runs batched together may differ in:
    the policy instruments (in the world's arrays) and the players' rationality, utility weights,
    audience costs and horizons (:data:`OWN_SETTINGS`, in the engine's). Every other setting (the
    economy's) is the structure's, shared by the batch."""
    from .instruments import INSTRUMENTS

    return frozenset(INSTRUMENTS) | frozenset(OWN_SETTINGS)


def _rows_structure(s, own: dict[str, np.ndarray] | None, rows: np.ndarray):
    """``s`` with each utility weight as an array over the worlds ``rows`` come from (a run per
    world), for the players' ``utility_terms``; ``s`` itself when every run has the structure's."""
    weights = {k: w for k, w in (own or {}).items() if k in WEIGHT_SETTINGS}
    if all(np.all(w == s.params[k]) for k, w in weights.items()):
        return s
    return s.with_params({**s.params, **{k: w[rows] for k, w in weights.items()}})


def _own(s, own: dict[str, np.ndarray] | None, key: str, runs: np.ndarray):
    """Setting ``key`` for the runs ``runs``: each run's own if given, else the structure's (a
    number, or an array over the runs when the runs' structures differ in it)."""
    if own and key in own:
        return own[key][runs]
    value = s.p(key)
    return value[runs] if isinstance(value, np.ndarray) else value


def _same_structure(a, b) -> bool:
    """Whether two structures agree in everything but the entries in ``params`` held per run
    (:func:`per_run_settings`; then runs built on either can share one; checked, not assumed)."""
    from dataclasses import fields

    own = per_run_settings()
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "params":
            if {k: v for k, v in x.items() if k not in own} != {k: v for k, v in y.items() if k not in own}:
                return False
        elif isinstance(x, np.ndarray):
            if x.shape != y.shape or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return economics.kernel_constants(a) == economics.kernel_constants(b)


def build_start(st: "_Setup", built: dict) -> tuple:
    """The calibrated start ``(world, structure)`` of one run's settings, cached in ``built`` by
    settings key (raises :class:`~model.parameters.SettingError` for settings that cannot start)."""
    key = st.settings_key
    if key not in built:
        built[key] = calibration.build(st.scenario.base, st.settings, st.scenario.brent_path)
    return built[key]


class _CannotShare(ValueError):
    """Runs whose settings say they share a structure built different ones (a bug in the model's
    split between per-run and shared settings; :func:`_shareable` then batches them apart)."""


def _structures(setups: list["_Setup"], built: dict) -> tuple:
    """The calibrated starts of the runs' distinct settings and the runs' structures:
    ``(starts, rows, groups, group_of)``, ``rows`` each run's start, ``groups`` the distinct
    structures and ``group_of`` each start's structure.

    ``built`` caches ``calibration.build`` by settings key. Runs whose settings differ only in the
    settings held per run (:func:`per_run_settings`) share one structure (the first such run's;
    raises :class:`_CannotShare` if their structures differ in anything else); runs that differ
    in a setting of the economy have structures of their own.
    """
    rows, starts, index = [], [], {}
    groups, group_index, group_of = [], {}, []
    for st in setups:
        key = st.settings_key
        start = build_start(st, built)
        if key not in index:
            index[key] = len(starts)
            starts.append(start)
            shared = st.structure_key
            if shared not in group_index:
                group_index[shared] = len(groups)
                groups.append(start[1])
            elif not _same_structure(groups[group_index[shared]], start[1]):
                raise _CannotShare("runs differ in more than their policy settings")
            group_of.append(group_index[shared])
        rows.append(index[key])
    return starts, np.asarray(rows), groups, group_of


def _start(setups: list["_Setup"], built: dict) -> tuple:
    """The runs' starting worlds as one batch (a row per run) and their structure: the one they
    share, or a :func:`~model.world.mixed` structure over theirs (:func:`_structures`; each
    group's settings held per run set to the first run's: the engine reads those per run, never
    from the structure)."""
    starts, rows, groups, group_of = _structures(setups, built)
    if len(groups) == 1:
        structure = groups[0]
    else:
        own = per_run_settings()
        first = groups[0].params
        groups = [g.with_params({**g.params, **{k: first[k] for k in own}}) for g in groups]
        structure = mixed(groups, np.asarray(group_of)[rows])
    if len(starts) == 1:
        return starts[0][0].repeat(len(setups)), structure
    stacked = starts[0][0].shallow_copy()
    for name, value in vars(starts[0][0]).items():
        if isinstance(value, np.ndarray):
            setattr(stacked, name, np.concatenate([getattr(w, name) for w, _ in starts], axis=0))
    return stacked.take_rows(rows), structure


def resolve(spec, loaded: dict | None = None) -> _Setup:
    """Load and check one run's scenario, overrides, seed and rules (raises :class:`InputError`).

    ``loaded`` (name -> Scenario) keeps scenarios already loaded in this batch: runs of the same
    preset then share one scenario (read once; its events applied to all of them at once).
    """
    run = _as_run(spec)
    seed = run.seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise InputError(f"seed = {seed!r} is not allowed; allowed whole numbers >= 0")
    if isinstance(run.scenario, Scenario):
        scenario = run.scenario
    elif loaded is not None and isinstance(run.scenario, str) and run.scenario in loaded:
        scenario = loaded[run.scenario]
    else:
        scenario = load_scenario(run.scenario)
        if loaded is not None and isinstance(run.scenario, str):
            loaded[run.scenario] = scenario
    overrides = normalise_overrides(run.overrides)
    settings = {**calibration.base_settings(scenario.base), **scenario.settings, **overrides}
    rules = {c: "ai" for c in COUNTRIES}
    rules.update(scenario.rules)
    for country, rule in (run.rules or {}).items():
        if country not in COUNTRIES:
            raise InputError(f"rules: country {country!r} is not known; allowed: {', '.join(COUNTRIES)}")
        rules[country] = rule
    for country, rule in rules.items():
        try:
            make_rule(rule)
        except ValueError as exc:
            raise InputError(f"rules: {country}: {exc}") from None
    return _Setup(scenario, None if seed is None else int(seed), overrides, settings, rules)


#: The numpy string type of a rule name per run (long enough for every rule's name, so that
#: :meth:`Ensemble.set_rule` never truncates one).
_RULE_DTYPE = f"<U{max(len(name) for name in RULES)}"
#: One instance of each rule (rules keep no state), by name.
_RULE = {name: make_rule(name) for name in RULES}


@dataclass
class _QuarterDecisions:
    """One country's decisions in one quarter, for every run of an ensemble (arrays over runs)."""

    country: str
    quarter: int                 # the quarter decided for
    rule: np.ndarray             # (R,) rule name per run
    available: np.ndarray        # (R, M) bool
    values: np.ndarray           # (R, M) relative to holding, NaN where not available
    index: np.ndarray            # (R,) menu column chosen
    runner: np.ndarray           # (R,) menu column of the runner-up
    best: np.ndarray             # (R,) menu column the model values highest
    probability: np.ndarray      # (R,)
    term_names: list
    terms_at: np.ndarray         # (T, R, 2): each term at the chosen move and the runner-up
    reply: np.ndarray            # (R, M) anticipated reply code (see Valuation.reply)
    replier: str
    answered: np.ndarray         # (R,)
    seen: object                 # the worlds the countries decided in (a copy; the context sentence reads it)
    step: int                    # index of the quarterly row the countries saw when deciding


class Ensemble:
    """Runs that share a :class:`~model.world.Structure`, stepped together one quarter at a time.

    The one engine of the model: :class:`~model.model.GeopoliticsModel` is an ensemble of one
    run, sweeps and the fan step many.

    Parameters
    ----------
    runs : list of EnsembleRun (or dicts)
        All must share base, settings and Brent path (:func:`run_ensemble` groups them).

    Examples
    --------
    >>> ens = Ensemble([EnsembleRun("baseline", seed=s) for s in range(100)])
    >>> ens.run(20)
    >>> ens.view(3).metrics_frame()   # run 3, exactly GeopoliticsModel("baseline", seed=3).run(20)
    """

    def __init__(self, runs, _setups: list[_Setup] | None = None, _built: dict | None = None):
        loaded: dict = {}
        setups = _setups if _setups is not None else [resolve(r, loaded) for r in runs]
        if not setups:
            raise InputError("an ensemble needs at least one run")
        keys = {st.batch_key for st in setups}
        if len(keys) > 1:
            raise InputError("ensemble runs must share base and Brent path; use run_ensemble to group runs "
                             "that differ in them")
        self.setups = setups
        self.R = len(setups)
        try:
            self.world, self.structure = _start(setups, {} if _built is None else _built)
        except _CannotShare as exc:
            raise InputError(f"ensemble runs cannot share a batch: {exc}; use run_ensemble") from None
        self.rules = {c: np.array([st.rules[c] for st in setups], dtype=_RULE_DTYPE) for c in COUNTRIES}
        self.needs = {c: np.array([_RULE[name].needs_values for name in self.rules[c]], dtype=bool)
                      for c in COUNTRIES}
        self.draws = {c: np.array([_RULE[name].draws for name in self.rules[c]], dtype=bool) for c in COUNTRIES}
        self.persons = {c: self.rules[c] == "human" for c in COUNTRIES}
        own = {key: np.array([st.settings.get(key, self.structure.params[key]) for st in setups], dtype=float)
               for key in OWN_SETTINGS}                 # each run's own decision settings, (R,)
        self.rationality = {c: own[key] for c, key in zip(COUNTRIES, RATIONALITY_SETTINGS)}  # 1/USD bn
        self.valuing = {key: own[key] for key in VALUATION_SETTINGS}   # weights and audience costs
        self.own_settings = own
        self.rngs = [choice_streams(st.seed) for st in setups]
        self.pending: dict[tuple[int, str], str] = {}   # (run, country) -> a person's move
        scenarios: dict[int, tuple[Scenario, list[int]]] = {}
        for r, st in enumerate(setups):
            scenarios.setdefault(id(st.scenario), (st.scenario, []))[1].append(r)
        self._scenario_groups = [(sc, np.asarray(rows)) for sc, rows in scenarios.values()]
        self._labels: list[str] = []
        self._metrics: list[dict[str, np.ndarray]] = []
        self._trade: list[np.ndarray] = []             # goods flows (R, nodes, nodes) each quarter
        self.decisions: list[_QuarterDecisions] = []
        self.events_applied: dict[int, list] = {}      # id(scenario) -> [(quarter, event)]
        self._stacked = None                           # (quarters recorded, metric arrays) cache
        self._record()

    # ---------------------------------------------------------------------------- the quarter
    def step(self) -> None:
        """Advance every run one quarter (see the module docstring for the order)."""
        waiting = self.awaiting_moves()
        if waiting:  # before any draw or event: a refused step changes nothing
            raise HumanMoveMissing(waiting[0][1])
        quarter = self.world.quarter + 1
        self._apply_events(quarter)
        chosen = self._decide(quarter)
        self._apply_moves(chosen)
        self.world = economics.step(self.world, self.structure)
        self._record()

    def run(self, quarters: int | None = None) -> "Ensemble":
        """Run ``quarters`` steps (default: the first run's scenario length)."""
        quarters = self.setups[0].scenario.quarters if quarters is None else quarters
        for sc, _ in self._scenario_groups:
            sc.check_run_length(quarters)
        for _ in range(quarters):
            self.step()
        return self

    def events_at(self, run: int, quarter: int) -> list:
        """The scenario events of run ``run`` dated ``quarter``, in the scenario's order."""
        return [event for event in self.setups[run].scenario.events if event.quarter == quarter]

    def _apply_events(self, quarter: int) -> None:
        """Each scenario's events dated ``quarter`` set its runs' policies."""
        for scenario, rows in self._scenario_groups:
            for event in scenario.events:
                if event.quarter == quarter:
                    for key, value in event.settings.items():
                        set_instrument(self.world, key, value, rows)
                    self.events_applied.setdefault(id(scenario), []).append((quarter, event))

    def _decide(self, quarter: int) -> dict[str, np.ndarray]:
        """Every country's move in every run (menu column per run): available moves, one batched
        valuation, then each country's choice (:meth:`_choose`)."""
        s, world, R = self.structure, self.world, self.R
        available = {c: _available(c, world) for c in COUNTRIES}
        needs = self.needs
        offers = {c: available[c] & needs[c][:, None] for c in COUNTRIES}
        # Runs in the same state with the same rules value the same candidates (often in the
        # first quarters of runs that differ only by seed) and the same economy: value each such state once.
        distinct = dict(self.valuing) if s.group is None else {**self.valuing, "structure": s.group}
        first, inverse = _distinct_runs(world, needs, distinct) if R > 1 else (np.zeros(1, dtype=int), None)
        if len(first) < R:
            sub = world.take_rows(first)
            valued = value_moves(sub, s.take_rows(first), {c: o[first] for c, o in offers.items()},
                                 {c: n[first] for c, n in needs.items()},
                                 own={k: w[first] for k, w in self.valuing.items()})
            valued = {c: v.expand(inverse) for c, v in valued.items()}
        else:
            valued = value_moves(world, s, offers, needs, own=self.valuing)
        seen = world.copy()   # the worlds as the countries saw them, for their reasons' context
        return {c: self._choose(c, quarter, available[c], valued.get(c), seen) for c in COUNTRIES}

    def _choose(self, c: str, quarter: int, available: np.ndarray, valuation: Valuation | None,
                seen) -> np.ndarray:
        """Country ``c``'s move in every run by that run's rule, recorded with what its reason needs.

        Runs with the same moves available are decided together by each rule's row-wise
        :meth:`~agents.country.Rule.choose` (:mod:`agents.country`): the AI draws one uniform
        number from the run's stream for ``c``. The runner-up is the best-valued move other than
        the one chosen (the best one if the choice was not the best). Returns the chosen menu
        column per run, (R,).
        """
        R, M = available.shape
        if valuation is not None:
            raw = np.where(available, valuation.values, np.nan)
            raw = np.where(np.isnan(raw) & available, 0.0, raw)   # runs whose rule needs no values
        else:
            raw = np.where(available, 0.0, np.nan)
        values = raw - raw[:, :1]
        rules = self.rules[c]
        uniforms = np.zeros(R)
        for r in np.flatnonzero(self.draws[c]):
            uniforms[r] = self.rngs[r][c].random()
        submitted = self._submitted(c, available)
        rationality = self.rationality[c][:, None]          # (R, 1): each run's own
        index, runner, best = np.zeros(R, dtype=int), np.zeros(R, dtype=int), np.zeros(R, dtype=int)
        probability = np.ones(R)
        if R == 1:
            groups = [(np.zeros(1, dtype=int), np.flatnonzero(available[0]))]
        else:
            masks, inverse = np.unique(available, axis=0, return_inverse=True)
            groups = [(np.flatnonzero(inverse.ravel() == g), np.flatnonzero(mask)) for g, mask in enumerate(masks)]
        for rows, cols in groups:
            v = values[rows[:, None], cols]
            positions = np.searchsorted(cols, submitted[rows])    # a person's move among the available
            pick, prob = np.zeros(len(rows), dtype=int), np.ones(len(rows))
            rule = rules[rows]
            names = dict.fromkeys(rule.tolist())                  # each rule present, in order of first run
            for name in names:
                at = slice(None) if len(names) == 1 else rule == name
                pick[at], prob[at] = _RULE[name].choose(v[at], rationality[rows][at], uniforms[rows[at]], positions[at])
            order = np.argsort(-v, axis=1, kind="stable")
            if len(cols) == 1:
                run_up = pick
            else:
                run_up = np.where(order[:, 0] == pick, order[:, 1], order[:, 0])
            index[rows] = cols[pick]
            runner[rows] = cols[run_up]
            best[rows] = cols[best_indices(v)]
            probability[rows] = prob
        if valuation is not None and valuation.terms:
            names = list(valuation.terms)
            at = np.stack([index, runner], axis=1)
            terms_at = np.stack(list(valuation.terms.values()))[:, np.arange(R)[:, None], at]
            reply, replier, answered = valuation.reply, valuation.replier, valuation.answered
        elif valuation is not None:
            names, terms_at = [], np.zeros((0, R, 2))
            reply, replier, answered = valuation.reply, valuation.replier, valuation.answered
        else:
            names, terms_at = [], np.zeros((0, R, 2))
            reply, replier, answered = np.full((R, M), -1), "", np.zeros(R, dtype=bool)
        self.decisions.append(_QuarterDecisions(
            c, quarter, rules.copy(), available, values, index, runner, best, probability, names, terms_at,
            reply, replier, answered, seen, len(self._metrics) - 1))
        return index

    def _submitted(self, c: str, available: np.ndarray) -> np.ndarray:
        """The menu column of the move each person playing ``c`` submitted, (R,) (0 elsewhere): taken
        off the queue; holding if an event this quarter took the move off the menu."""
        submitted = np.zeros(len(available), dtype=int)
        for r in np.flatnonzero(self.persons[c]):
            name = self.pending.pop((int(r), c), None)
            if name is None:
                raise HumanMoveMissing(c)
            col = _menu_index(c)[name]
            submitted[r] = col if available[r, col] else 0
        return submitted

    def _apply_moves(self, chosen: dict[str, np.ndarray]) -> None:
        """The chosen moves (a menu column per run and country) apply together."""
        for country in COUNTRIES:
            moves, cols = menu(country), chosen[country]
            if (cols == cols[0]).all():   # every run takes the same move (always, in a run of one)
                moves[cols[0]].apply(self.world, slice(None))
                continue
            for col in np.unique(cols):
                moves[col].apply(self.world, np.flatnonzero(cols == col))

    def _record(self) -> None:
        """Add the quarter's metrics of every run (arrays over runs), blocs included, and its goods flows."""
        m = economics.metrics(self.world, self.structure)
        lay = self.structure.layout
        with_penaliser, with_seller = (lay.arms_buyer, lay.penaliser), (lay.arms_buyer, lay.crude_seller)
        blocs = blocs_together(self.world.affinity, self.structure.absorption_ref_usd_bn[:len(COUNTRIES)],
                               (with_penaliser, with_seller))
        m["bloc_ind_with_usa"] = blocs[with_penaliser].astype(float)
        m["bloc_ind_with_rus"] = blocs[with_seller].astype(float)
        self._labels.append(quarter_label(self.world.quarter))
        self._metrics.append({k: np.array(v, dtype=float, copy=True) for k, v in m.items()})
        self._trade.append(self.world.goods_flow_usd_bn.copy())

    # ------------------------------------------------------------------------------ human play
    def set_rule(self, run: int, country: str, rule: str) -> None:
        """Change how ``country`` decides in run ``run`` from the next quarter on (``ai``, ``best``,
        ``scripted`` or ``human``); a move queued for the seat is dropped."""
        if country not in self.rules:
            raise InputError(f"country {country!r} is not known; allowed: {', '.join(COUNTRIES)}")
        try:
            chosen = make_rule(rule)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        self.rules[country][run] = rule
        self.needs[country][run] = chosen.needs_values
        self.draws[country][run] = chosen.draws
        self.persons[country][run] = chosen.name == "human"
        self.pending.pop((run, country), None)

    def submit_move(self, run: int, country: str, move: str) -> None:
        """Queue a person's move for ``country`` in run ``run`` (its rule must be ``human``)."""
        if self.rules[country][run] != "human":
            raise InputError(f"{country} is not played by a person in run {run}")
        find_move(country, move)
        self.pending[(run, country)] = move

    def awaiting_moves(self) -> list[tuple[int, str]]:
        """``(run, country)`` of every seat played by a person without a move for this quarter."""
        return [(int(r), c) for c in COUNTRIES if self.persons[c].any() for r in np.flatnonzero(self.persons[c])
                if (int(r), c) not in self.pending]

    # ---------------------------------------------------------------------------------- output
    def metric_arrays(self) -> dict[str, np.ndarray]:
        """The quarterly metrics as arrays (quarters + 1, R), the starting state first."""
        if self._stacked is None or self._stacked[0] != len(self._metrics):
            self._stacked = (len(self._metrics),
                             {name: np.stack([row[name] for row in self._metrics]) for name in self._metrics[0]})
        return self._stacked[1]

    @property
    def quarter_labels(self) -> list[str]:
        """The quarters recorded, the starting state first (``["2025Q4", "2026Q1", ...]``)."""
        return list(self._labels)

    def view(self, run: int) -> "RunView":
        """Run ``run`` of the ensemble, read like a :class:`~model.model.GeopoliticsModel`."""
        return RunView(self, run)

    def views(self) -> list["RunView"]:
        """Every run of the ensemble as a :class:`RunView`, in order."""
        return [RunView(self, r) for r in range(self.R)]


class RunView:
    """One run of an :class:`Ensemble` with the tables of a :class:`~model.model.GeopoliticsModel`.

    A view follows its ensemble: after another step, it has one more quarter.
    """

    def __init__(self, ensemble: Ensemble, run: int):
        self.ensemble, self.run = ensemble, run
        setup = ensemble.setups[run]
        self.scenario_def, self.seed, self.overrides = setup.scenario, setup.seed, setup.overrides
        s = ensemble.structure
        self.structure = s if s.group is None else s.groups[s.group[run]]   # the run's own economy
        own = {key: float(values[run]) for key, values in ensemble.own_settings.items()}
        if any(self.structure.params[k] != v for k, v in own.items()):   # the run's own settings, as it ran
            self.structure = dataclasses.replace(self.structure, params={**self.structure.params, **own})
        self._decisions: list[Decision] = []
        self._latest: tuple[int, dict] | None = None

    def metrics_columns(self) -> dict[str, list]:
        """The quarterly table as columns (name -> list of values), as the Mesa model gives it."""
        ens, r = self.ensemble, self.run
        out = {"quarter": list(ens._labels)}
        for name, values in ens.metric_arrays().items():
            out[name] = values[:, r].tolist()
        return out

    def metrics_frame(self) -> pd.DataFrame:
        """The quarterly table: one row a quarter, the starting state first (the Mesa model's)."""
        return pd.DataFrame(self.metrics_columns())

    def metrics_row(self, at: int) -> dict[str, float]:
        """Row ``at`` of the quarterly table (0 the start, -1 the latest) as a dict, ``quarter`` first."""
        ens, r = self.ensemble, self.run
        row = {"quarter": ens._labels[at]}
        row.update({k: float(v[r]) for k, v in ens._metrics[at].items()})
        return row

    @property
    def latest(self) -> dict[str, float]:
        """The latest row of the quarterly table (the state now)."""
        count = len(self.ensemble._metrics)
        if self._latest is None or self._latest[0] != count:
            self._latest = (count, self.metrics_row(-1))
        return self._latest[1]

    def trade_matrix(self, quarters_ago: int = 0) -> np.ndarray:
        """Goods flows (not crude or arms), USD bn/yr, ``[importer, exporter]`` in NODES order;
        ``quarters_ago=1`` gives last quarter's (the start is the oldest kept)."""
        trade = self.ensemble._trade
        return trade[max(len(trade) - 1 - quarters_ago, 0)][self.run].copy()

    @property
    def decisions(self) -> list[Decision]:
        """Every decision of the run, in the Mesa model's order (quarter, then country)."""
        recorded = self.ensemble.decisions
        if len(self._decisions) < len(recorded):
            self._decisions.extend(self._decision(q) for q in recorded[len(self._decisions):])
        return self._decisions

    def decisions_frame(self) -> pd.DataFrame:
        """Every decision of the run with its reason (written now), as the Mesa model's table."""
        return pd.DataFrame([d.row() for d in self.decisions], columns=DECISION_COLUMNS)

    @property
    def event_log(self) -> list[dict]:
        """The scenario events applied so far in this run: ``quarter``, ``note``, ``settings``, ``source``."""
        return [{"quarter": quarter_label(q), "note": e.note, "settings": dict(e.settings), "source": e.source}
                for q, e in self.ensemble.events_applied.get(id(self.scenario_def), [])]

    def events_frame(self) -> pd.DataFrame:
        """The scenario events applied so far in this run."""
        return pd.DataFrame(self.event_log, columns=["quarter", "note", "settings", "source"])

    def _decision(self, qd: _QuarterDecisions) -> Decision:
        r, c = self.run, qd.country
        cols = np.flatnonzero(qd.available[r])
        position = {col: i for i, col in enumerate(cols)}
        moves = [menu(c)[col] for col in cols]
        values = qd.values[r, cols]
        index, runner, best = position[qd.index[r]], position[qd.runner[r]], position[qd.best[r]]
        rule = str(qd.rule[r])
        if qd.replier and qd.answered[r]:
            names = ANTICIPATED_REPLIES[c][1]
            replies = ["hold" if qd.reply[r, col] == 0 else names[qd.reply[r, col] - 1] if qd.reply[r, col] > 0
                       else "" for col in cols]
            replier = qd.replier
        else:
            replies, replier = [""] * len(cols), ""
        terms = {}
        for t, name in enumerate(qd.term_names):
            arr = np.full(len(cols), np.nan)
            arr[runner] = qd.terms_at[t, r, 1]
            arr[index] = qd.terms_at[t, r, 0]
            terms[name] = arr
        probability = float(qd.probability[r])
        horizon = int(self.structure.p(f"{c}.lookahead_quarters"))

        def explain() -> str:
            context = _CONTEXT[c](self.metrics_row(qd.step), qd.seen.take(r), self.structure)
            return reason(c, moves, values, terms, index, runner, probability, context, rule, horizon,
                          replies, replier)

        return Decision(quarter=quarter_label(qd.quarter), country=c, move=moves[index].name,
                        value=float(values[index]), runner_up=moves[runner].name,
                        runner_up_value=float(values[runner]), rule=rule, probability=probability,
                        best_move=moves[best].name, values={m.name: float(v) for m, v in zip(moves, values)},
                        expected_reply=replies[index], _explain=explain)


# --------------------------------------------------------------------------------- the API
def _chunks(indices: list[int], size: int):
    for i in range(0, len(indices), size):
        yield indices[i:i + size]


def iter_ensemble(specs, quarters: int | None = None, chunk_size: int = 256):
    """Run ``specs`` in batches and yield ``(position, RunView)`` as each chunk finishes.

    Runs sharing base and Brent path are batched together, ``chunk_size`` at a time (memory is
    bounded by the chunk, not the number of runs); positions refer to ``specs``. Runs may differ
    in every other setting: the policy instruments and the players' decision settings are held
    per run (:func:`per_run_settings`), and runs that differ in a setting of the economy (an
    elasticity, a supply) step with structures of their own in the same batch
    (:func:`~model.world.mixed`).
    ``quarters`` defaults to each run's scenario length (runs of different lengths are not
    batched together).
    """
    if not isinstance(chunk_size, (int, np.integer)) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise InputError(f"chunk_size = {chunk_size!r} is not allowed; allowed whole numbers >= 1")
    loaded: dict = {}
    setups = [resolve(spec, loaded) for spec in specs]
    groups: dict[tuple, list[int]] = {}
    for i, st in enumerate(setups):
        length = st.scenario.quarters if quarters is None else quarters
        st.scenario.check_run_length(length)
        groups.setdefault((st.batch_key, length), []).append(i)
    for (_, length), members in groups.items():
        for chunk in _chunks(members, int(chunk_size)):
            built: dict = {}   # calibrated starts of this chunk's settings only (memory bounded by the chunk)
            for part in _shareable([setups[i] for i in chunk], chunk, built):
                ens = Ensemble(None, _setups=[setups[i] for i in part], _built=built).run(length)
                for k, i in enumerate(part):
                    yield i, ens.view(k)


def _shareable(chunk_setups: list[_Setup], positions: list[int], built: dict) -> list[list[int]]:
    """``positions`` as one batch if the runs' structures can be batched, else split by settings
    (checked on the calibrated starts, without building the batch)."""
    try:
        _structures(chunk_setups, built)
        return [positions]
    except _CannotShare:
        parts: dict[tuple, list[int]] = {}
        for st, i in zip(chunk_setups, positions):
            parts.setdefault(st.settings_key, []).append(i)
        return list(parts.values())


def run_ensemble(specs, quarters: int | None = None, chunk_size: int = 256) -> list[RunView]:
    """Run many runs batched together; one :class:`RunView` per spec, in order.

    Every run's tables stay in memory until the list goes; for more runs than fit, stream them
    with :func:`iter_ensemble` (memory bounded by ``chunk_size``) or run a sweep
    (``geogame sweep --chunk-size N``), which writes each run as its chunk finishes.

    Parameters
    ----------
    specs : list of EnsembleRun or dicts (``scenario``, ``seed``, ``overrides``, ``rules``)
    quarters : quarters to run (default: each scenario's length)
    chunk_size : most runs stepped together in one batch

    Returns
    -------
    list of RunView
        ``metrics_frame()``, ``metrics_columns()``, ``decisions_frame()`` and ``events_frame()``
        of each run, identical to ``GeopoliticsModel(scenario, seed, overrides, rules).run(quarters)``.
    """
    out: list = [None] * len(specs)
    for i, view in iter_ensemble(specs, quarters, chunk_size):
        out[i] = view
    return out


# ------------------------------------------------------------------------------------ the fan
#: The headline metrics a fan shows by default (the app's headline numbers).
FAN_METRICS = ("crude_share_ind_from_rus", "tariff_usa_on_ind", "urals_discount_delivered_ind_usd",
               "russia_crude_revenue_usd_bn", "trade_ind_rus_usd_bn", "exports_ind_to_usa_usd_bn")


#: The fan's band: the 10th and 90th percentiles over seeds (the app's fan and ``geogame report``'s).
FAN_BAND = (0.1, 0.9)


def fan_band(values, quarter_labels, band: tuple[float, float] = FAN_BAND) -> pd.DataFrame:
    """The fan of one metric: per quarter, the median over runs and the band between two quantiles.

    The one computation behind :func:`fan` (the app's "what else could have happened") and the
    seed spread of ``geogame report``, so that both show the same band.

    Parameters
    ----------
    values : array-like, shape (quarters, runs)
        The metric (in its own unit), one row a quarter (the starting state first), one column a
        run: the seeds of one scenario and settings.
    quarter_labels : sequence of str
        One label per row of ``values`` (``"2025Q4"``).
    band : (float, float)
        Low and high quantiles over the runs, ``low <= 0.5 <= high`` in [0, 1]; default
        :data:`FAN_BAND`. Quantiles are interpolated linearly between runs (NumPy's default).

    Returns
    -------
    pandas.DataFrame
        One row per quarter: ``quarter``, ``quarter_index`` (0 = the start), ``median``,
        ``low``, ``high`` (the metric's unit), ``runs``.
    """
    low_q, high_q = _checked_band(band)
    values = np.asarray(values, dtype=float)
    labels = list(quarter_labels)
    if values.ndim != 2 or values.shape[0] != len(labels) or values.shape[1] < 1:
        raise ValueError(f"fan_band: values of shape {values.shape} do not fit {len(labels)} quarter labels; "
                         "expected (quarters, runs) with at least one run")
    low, median, high = np.quantile(values, [low_q, 0.5, high_q], axis=1)
    return pd.DataFrame({"quarter": labels, "quarter_index": np.arange(len(labels)), "median": median,
                         "low": low, "high": high, "runs": values.shape[1]})


def _checked_band(band) -> tuple[float, float]:
    """``band`` as (low, high) quantiles, refused in one line unless ``0 <= low <= 0.5 <= high <= 1``."""
    low_q, high_q = band
    if not 0.0 <= low_q <= 0.5 <= high_q <= 1.0:
        raise InputError(f"band = {band!r} is not allowed; allowed two quantiles low <= 0.5 <= high in [0, 1]")
    return low_q, high_q


def fan(scenario="baseline", overrides=None, rules=None, seeds: int = 64, quarters: int | None = None,
        metrics=FAN_METRICS, band: tuple[float, float] = FAN_BAND, first_seed: int = 0) -> pd.DataFrame:
    """What else could have happened: the same scenario and settings over many seeds, per quarter.

    Runs seeds ``first_seed .. first_seed + seeds - 1`` as one ensemble and summarises each
    metric per quarter by its median and the band between the ``band`` quantiles (default the
    10th and 90th percentiles), so that one seed's noise is not read as an effect (each metric
    by :func:`fan_band`).

    Returns
    -------
    pandas.DataFrame
        One row per quarter and metric: ``quarter``, ``quarter_index`` (0 = the start),
        ``metric``, ``median``, ``low``, ``high`` (same units as the metric), ``runs``.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or not 1 <= seeds <= 10_000:
        raise InputError(f"seeds = {seeds!r} is not allowed; allowed whole numbers 1 to 10000")
    _checked_band(band)  # before any run
    loaded: dict = {}
    setups = [resolve(EnsembleRun(scenario, seed=first_seed + k, overrides=overrides, rules=rules), loaded)
              for k in range(int(seeds))]
    scenario_def = setups[0].scenario
    length = scenario_def.quarters if quarters is None else quarters
    scenario_def.check_run_length(length)
    if "human" in setups[0].rules.values():   # a person's seat is played by the AI in the fan
        for st in setups:
            st.rules = {c: ("ai" if r == "human" else r) for c, r in st.rules.items()}
    ens = Ensemble(None, _setups=setups).run(length)
    arrays = ens.metric_arrays()
    unknown = [m for m in metrics if m not in arrays]
    if unknown:
        raise InputError(f"fan metric {unknown[0]!r} is not known; allowed: {', '.join(arrays)}")
    labels = ens.quarter_labels
    frames = [fan_band(arrays[name], labels, band).assign(metric=name) for name in metrics]
    return pd.concat(frames, ignore_index=True)[["quarter", "quarter_index", "metric", "median", "low", "high",
                                                 "runs"]]


# ------------------------------------------------------------------------- the sweep's chunks
def ensemble_chunk(specs, job):
    """A sweep's chunk of runs stepped as ensembles: the runner's ``chunk_function`` (issue 11).

    ``specs`` are the chunk's run specs (``seed``, ``params``), ``job`` what they share
    (``scenario``, ``quarters``, ``overrides`` under each spec's ``params``, ``rules``); see the
    contract in :mod:`experiments.runner`. The chunk's runs are batched together (those that
    share base and Brent path: all of a sweep's);
    each yields ``(spec, run view)`` as its group finishes (a view has ``metrics_columns()`` and
    ``decisions_frame()``, identical to the Mesa model's). A spec that cannot start yields its
    error alone; if a group fails part way, its runs are redone one at a time (each an
    ensemble of one), so that only the failing run fails.

    Use: ``geogame.experiments.sweep(..., chunk_size=256, chunk_function=ensemble_chunk)``.
    """
    setups: dict[int, _Setup] = {}
    for k, spec in enumerate(specs):
        try:
            setups[k] = resolve(EnsembleRun(job.scenario, seed=spec.seed,
                                            overrides={**(job.overrides or {}), **spec.params},
                                            rules=dict(job.rules or {})))
            setups[k].scenario.check_run_length(job.quarters)
        except Exception as exc:  # a run that cannot start is a failed run, not a failed chunk
            setups.pop(k, None)
            yield spec, exc
    built: dict = {}
    for k in list(setups):
        try:   # settings that cannot start fail their run alone, not the batch
            build_start(setups[k], built)
        except Exception as exc:
            setups.pop(k)
            yield specs[k], exc
    groups: dict[tuple, list[int]] = {}
    for k, st in setups.items():
        groups.setdefault(st.batch_key, []).append(k)
    parts = [part for members in groups.values()
             for part in _shareable([setups[k] for k in members], members, built)]
    for members in parts:
        try:
            ens = Ensemble(None, _setups=[setups[k] for k in members], _built=built).run(job.quarters)
        except Exception:  # one at a time (each an ensemble of one), to isolate the failing run
            for k in members:
                try:
                    outcome = Ensemble(None, _setups=[setups[k]], _built=built).run(job.quarters).view(0)
                except Exception as exc:
                    outcome = exc
                yield specs[k], outcome
            continue
        for i, k in enumerate(members):
            yield specs[k], ens.view(i)
