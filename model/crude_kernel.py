"""Compiled inner loop of the crude market: find each world's market-clearing FOB discount.

The economics is in :class:`model.economics.CrudeDemand` (NumPy, documented there); this module
evaluates the same excess-demand curve in a scalar loop compiled with numba, because clearing
the market was about half the cost of a quarter when done with many small NumPy calls. Tests
check that the discount found here zeroes the NumPy curve's excess demand.
"""
from __future__ import annotations

import math

from numba import njit


@njit(cache=True)
def _expit(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@njit(cache=True)
def _excess(f, b, base_logit, beta, mu, keep, limit, capacity, target_limit, demand_mbd, urals_less_cap,
            cap_cost, cap_softness, brent, supply_scale, elasticity, floor, floor_width):
    cap = cap_cost[b] * _expit((urals_less_cap[b] - f) / cap_softness)
    demand = 0.0
    for j in range(base_logit.shape[1]):
        target = min(capacity[b, j] * _expit(base_logit[b, j] + beta * (f - cap)), target_limit[b, j])
        demand += demand_mbd[j] * min(keep[b, j] + mu * target, limit[b, j])
    netback = max(brent[b] - f, 1.0)
    supply = supply_scale * netback ** elasticity * _expit((netback - floor) / floor_width)
    return demand - supply


@njit(cache=True)
def clear_rows(grid, base_logit, beta, mu, keep, limit, capacity, target_limit, demand_mbd, urals_less_cap,
               cap_cost, cap_softness, brent, supply_scale, elasticity, floor, floor_width, tolerance,
               max_iterations, out):
    """Market-clearing FOB discount of every world in the batch, written into ``out`` (B,).

    (Filled in place rather than returned: see :func:`model.step_kernel.allocate_outputs`.)

    Scans ``grid`` for the first point where excess demand turns non-negative, then refines
    inside that bracket by regula falsi (Illinois variant) until ``|excess| < tolerance`` mb/d.
    Discounts outside the grid are clamped to its ends (buyers refuse Russia's barrels even at
    the top; or want more than it has even at the bottom): the caller then rations or reports
    lost barrels.
    """
    n = base_logit.shape[0]
    args = (base_logit, beta, mu, keep, limit, capacity, target_limit, demand_mbd, urals_less_cap, cap_cost,
            cap_softness, brent, supply_scale, elasticity, floor, floor_width)
    for b in range(n):
        lo = grid[0]
        e_lo = _excess(lo, b, *args)
        if e_lo >= 0.0:
            out[b] = lo
            continue
        hi = lo
        e_hi = e_lo
        found = False
        for g in range(1, grid.shape[0]):
            hi = grid[g]
            e_hi = _excess(hi, b, *args)
            if e_hi >= 0.0:
                found = True
                break
            lo = hi
            e_lo = e_hi
        if not found:
            out[b] = grid[grid.shape[0] - 1]
            continue
        side = 0
        x = lo
        for _ in range(max_iterations):
            x = lo - e_lo * (hi - lo) / (e_hi - e_lo)
            e_x = _excess(x, b, *args)
            if abs(e_x) < tolerance:
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
