"""Compiled inner loop of the crude market: find each world's market-clearing FOB discount.

The economics is in :class:`model.economics.CrudeDemand` (NumPy, documented there); this module
evaluates the same excess-demand curve in a scalar loop compiled with numba, because clearing
the market was about half the cost of a quarter when done with many small NumPy calls. Tests
check that the discount found here zeroes the NumPy curve's excess demand.

:func:`clear_groups` clears a batch whose worlds belong to groups with settings of their own
(the compiled step's batches, :mod:`model.step_kernel`); :func:`clear_rows` is the same for a
batch that shares one set of settings (the NumPy reference's call).

numba caches :func:`model.step_kernel.step_rows` (which compiles :func:`clear_rows` in) keyed on
``step_kernel.py``'s text alone; ``step_kernel._drop_stale_cache`` deletes that cache at import when
this file is newer, so the step is compiled again.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

# The helpers that take the batch's arrays (``_target_share``, ``_excess``, ``_same_curve``) are
# compiled with ``_nrt=False``: without numba's reference counting. With it, every call (about ten
# per world) took and released a reference to each array argument with an atomic instruction,
# which was ~30% of a step's time; these helpers allocate nothing and keep no array, so they need
# no reference counting (numba refuses to compile an allocation in them). Same arithmetic, same bits.


@njit(cache=True)
def _expit(x):
    """Logistic function, in the form that cannot overflow (one ``exp`` per call)."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, _nrt=False)
def _target_share(f, cap, b, j, base_logit, beta, capacity, target_limit):
    """Buyer ``j``'s target share of its capacity in world ``b`` at FOB discount ``f`` and cap
    wedge ``cap``: ``min(capacity * expit(base_logit + beta * (f - cap)), target_limit)``.

    A buyer barred from Russian crude (``target_limit`` exactly +0.0, capacity positive) has a
    target of exactly +0.0 whatever the logistic gives (it is >= +0), so the ``exp`` is skipped:
    the same number, one ``exp`` fewer per barred buyer and evaluation.
    """
    limit = target_limit[b, j]
    if limit == 0.0 and math.copysign(1.0, limit) > 0.0 and capacity[b, j] > 0.0:
        return 0.0
    return min(capacity[b, j] * _expit(base_logit[b, j] + beta * (f - cap)), limit)


@njit(cache=True, _nrt=False)
def _excess(f, b, g, base_logit, beta, mu, keep, limit, capacity, target_limit, demand_mbd, urals_less_cap,
            cap_cost, cap_softness, brent, supply_scale, elasticity, floor, floor_width):
    """Excess demand of world ``b`` (of group ``g``: ``demand_mbd[g]`` its buyers' crude imports)
    at FOB discount ``f``, mb/d; the settings (``beta`` ... ``floor_width``) are that group's numbers."""
    cap = cap_cost[b] * _expit((urals_less_cap[b] - f) / cap_softness)
    demand = 0.0
    for j in range(base_logit.shape[1]):
        target = _target_share(f, cap, b, j, base_logit, beta, capacity, target_limit)
        demand += demand_mbd[g, j] * min(keep[b, j] + mu * target, limit[b, j])
    netback = max(brent[b] - f, 1.0)
    supply = supply_scale * netback ** elasticity * _expit((netback - floor) / floor_width)
    return demand - supply


@njit(cache=True)
def _same(a, b):
    """Whether two floats are the very same number (equal, and zeros of the same sign)."""
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@njit(cache=True, _nrt=False)
def _same_curve(b, c, curve, base_logit, keep, limit, capacity, target_limit, urals_less_cap, cap_cost, brent):
    """Whether worlds ``b`` and ``c`` have the very same excess-demand curve inputs (bit for bit):
    the same curve settings (``curve``: each world's curve class, see :func:`clear_groups`) and
    the same per-world arrays."""
    if not (curve[b] == curve[c] and _same(urals_less_cap[b], urals_less_cap[c]) and _same(cap_cost[b], cap_cost[c])
            and _same(brent[b], brent[c])):
        return False
    for j in range(base_logit.shape[1]):
        if not (_same(base_logit[b, j], base_logit[c, j]) and _same(keep[b, j], keep[c, j])
                and _same(limit[b, j], limit[c, j]) and _same(capacity[b, j], capacity[c, j])
                and _same(target_limit[b, j], target_limit[c, j])):
            return False
    return True


@njit(cache=True)
def _table_size(n):
    """The smallest power of two at least twice ``n`` (a hash table for ``n`` worlds)."""
    size = 16
    while size < 2 * n:
        size *= 2
    return size


@njit(cache=True, _nrt=False)
def _curve_hash(b, curve, base_logit, keep, limit, capacity, target_limit, urals_less_cap, cap_cost, brent):
    """A hash (FNV-1a over 64-bit words, wrapping) of world ``b``'s excess-demand curve inputs,
    given as their bit patterns (int64 views of the float arrays), and its curve class."""
    h = -3750763034362895579            # FNV offset basis 14695981039346656037 as int64
    h = (h ^ curve[b]) * 1099511628211
    h = (h ^ urals_less_cap[b]) * 1099511628211
    h = (h ^ cap_cost[b]) * 1099511628211
    h = (h ^ brent[b]) * 1099511628211
    for j in range(base_logit.shape[1]):
        h = (h ^ base_logit[b, j]) * 1099511628211
        h = (h ^ keep[b, j]) * 1099511628211
        h = (h ^ limit[b, j]) * 1099511628211
        h = (h ^ capacity[b, j]) * 1099511628211
        h = (h ^ target_limit[b, j]) * 1099511628211
    return h ^ (h >> 29)


@njit(cache=True)
def clear_rows(grid, base_logit, beta, mu, keep, limit, capacity, target_limit, demand_mbd, urals_less_cap,
               cap_cost, cap_softness, brent, supply_scale, elasticity, floor, floor_width, tolerance,
               max_iterations, out):
    """Market-clearing FOB discount of every world in a batch that shares one set of settings
    (numbers, and ``demand_mbd`` (K,)), written into ``out`` (B,): :func:`clear_groups` with one group."""
    n = base_logit.shape[0]
    demand = np.empty((1, demand_mbd.shape[0]))
    demand[0] = demand_mbd
    clear_groups(grid, np.zeros(n, np.int64), np.zeros(1, np.int64), base_logit, np.full(1, beta), np.full(1, mu),
                 keep, limit, capacity, target_limit, demand, urals_less_cap, cap_cost, np.full(1, cap_softness),
                 brent, np.full(1, supply_scale), np.full(1, elasticity), np.full(1, floor), np.full(1, floor_width),
                 np.full(1, tolerance), max_iterations, out)


@njit(cache=True)
def clear_groups(grid, group, curve_class, base_logit, beta, mu, keep, limit, capacity, target_limit, demand_mbd,
                 urals_less_cap, cap_cost, cap_softness, brent, supply_scale, elasticity, floor, floor_width,
                 tolerance, max_iterations, out):
    """Market-clearing FOB discount of every world in the batch, written into ``out`` (B,).

    (Filled in place rather than returned: see :func:`model.step_kernel.allocate_outputs`.)

    World ``b`` belongs to group ``g = group[b]``, whose settings are ``beta[g]``, ``mu[g]``,
    ``demand_mbd[g]`` (its buyers' crude imports, (G,K)), ``cap_softness[g]``,
    ``supply_scale[g]``, ``elasticity[g]``, ``floor[g]``, ``floor_width[g]``, ``tolerance[g]``
    (each (G,)); the other arrays are over the worlds. ``curve_class[g]`` (G,) is the same
    number for two groups exactly when all those settings of theirs are the very same numbers
    (:func:`model.step_kernel.classes`): only then may two worlds share a clearing.

    Finds the first point of ``grid`` where excess demand turns non-negative (by bisection over
    the grid, which finds the point a scan from the left finds: see the comment in the loop), then refines
    inside that bracket by regula falsi (Illinois variant) until ``|excess| < tolerance`` mb/d.
    Discounts outside the grid are clamped to its ends (buyers refuse Russia's barrels even at
    the top; or want more than it has even at the bottom): the caller then rations or reports
    lost barrels.
    """
    n = base_logit.shape[0]
    curve = np.empty(n, np.int64)     # each world's curve class
    for b in range(n):
        curve[b] = curve_class[group[b]]
    hint = -1      # the previous cleared world's first non-negative grid index (none yet)
    # A world whose curve is the very same numbers as an earlier world's clears at the very
    # same discount. In a look-ahead many worlds share their curve (the candidate moves that
    # leave the crude market alone, every country's holding move, runs in the same state), often
    # far apart in the batch: an open-addressing table from a hash of a curve's bits to the
    # first world with that hash finds them (a match is checked number by number). Worlds of
    # groups whose curve settings differ never share a clearing (the class is in the hash and
    # the check).
    table = np.full(_table_size(n), -1)
    mask = table.shape[0] - 1
    base_logit_bits, keep_bits, limit_bits = base_logit.view(np.int64), keep.view(np.int64), limit.view(np.int64)
    capacity_bits, target_limit_bits = capacity.view(np.int64), target_limit.view(np.int64)
    urals_less_cap_bits, cap_cost_bits, brent_bits = urals_less_cap.view(np.int64), cap_cost.view(np.int64), brent.view(np.int64)
    for b in range(n):
        slot = _curve_hash(b, curve, base_logit_bits, keep_bits, limit_bits, capacity_bits, target_limit_bits,
                           urals_less_cap_bits, cap_cost_bits, brent_bits) & mask
        earlier = table[slot]
        while earlier >= 0 and not _same_curve(b, earlier, curve, base_logit, keep, limit, capacity, target_limit,
                                               urals_less_cap, cap_cost, brent):
            slot = (slot + 1) & mask
            earlier = table[slot]
        if earlier >= 0:
            out[b] = out[earlier]
            continue
        table[slot] = b
        g = group[b]
        beta_g, mu_g, softness_g, scale_g = beta[g], mu[g], cap_softness[g], supply_scale[g]
        elasticity_g, floor_g, width_g = elasticity[g], floor[g], floor_width[g]
        # Bisection over the grid's indices for the first point where excess demand is
        # non-negative. Excess demand is non-decreasing in the discount (demand rises with it,
        # the seller's supply falls), so its sign on the grid is negative up to one index and
        # non-negative from there on: the first non-negative point found by halving is the one a
        # scan from the left finds, and ``lo``/``hi``/``e_lo``/``e_hi`` are the same grid points
        # and the same evaluations of ``_excess`` as a scan would give, bit for bit (4 evaluations
        # for the 15 points instead of up to 15; tests/test_economics.py and the seeded runs
        # check the equality). Invariant: i_lo is -1 or e(grid[i_lo]) < 0; i_hi is the grid's
        # length or e(grid[i_hi]) >= 0.
        n_grid = grid.shape[0]
        i_lo = -1
        i_hi = n_grid
        e_lo = 0.0
        e_hi = 0.0
        # Start from the previous world's bracket (a look-ahead's candidate moves mostly clear
        # in the same or the next grid interval): probe the hinted point and its neighbour on the
        # side the sign says, then halve what is left. The probes are points of the grid
        # evaluated exactly as the halving would, and the invariant below holds after each, so
        # the bracket and its two evaluations are the same as without the hint (2 evaluations
        # instead of 4 when the hint is right).
        if hint >= 0:
            probe = min(hint, n_grid - 1)
            for _ in range(2):
                if probe <= i_lo or probe >= i_hi:
                    break
                e_probe = _excess(grid[probe], b, g, base_logit, beta_g, mu_g, keep, limit, capacity, target_limit,
                                  demand_mbd, urals_less_cap, cap_cost, softness_g, brent, scale_g,
                                  elasticity_g, floor_g, width_g)
                if e_probe >= 0.0:
                    i_hi = probe
                    e_hi = e_probe
                    probe -= 1
                else:
                    i_lo = probe
                    e_lo = e_probe
                    probe += 1
        while i_hi - i_lo > 1:
            mid = (i_lo + i_hi) // 2
            e_mid = _excess(grid[mid], b, g, base_logit, beta_g, mu_g, keep, limit, capacity, target_limit,
                            demand_mbd, urals_less_cap, cap_cost, softness_g, brent, scale_g,
                            elasticity_g, floor_g, width_g)
            if e_mid >= 0.0:
                i_hi = mid
                e_hi = e_mid
            else:
                i_lo = mid
                e_lo = e_mid
        hint = i_hi
        if i_hi == 0:               # buyers want more than Russia has even at the bottom
            out[b] = grid[0]
            continue
        if i_hi == n_grid:          # buyers refuse Russia's barrels even at the top
            out[b] = grid[n_grid - 1]
            continue
        lo = grid[i_lo]
        hi = grid[i_hi]
        side = 0
        x = lo
        for _ in range(max_iterations):
            x = lo - e_lo * (hi - lo) / (e_hi - e_lo)
            e_x = _excess(x, b, g, base_logit, beta_g, mu_g, keep, limit, capacity, target_limit,
                          demand_mbd, urals_less_cap, cap_cost, softness_g, brent, scale_g,
                          elasticity_g, floor_g, width_g)
            if abs(e_x) < tolerance[g]:
                break
            if e_x >= 0.0:
                hi, e_hi = x, e_x
                if side == 1:
                    e_lo *= 0.5
                side = 1
            else:
                lo, e_lo = x, e_x
                if side == -1:
                    e_hi *= 0.5
                side = -1
        out[b] = x
