"""The one-quarter step compiled with numba: the same equations as :mod:`model.economics`.

:func:`model.economics.step_reference` is the model's specification, written with NumPy over
the batch and documented function by function (and used by the calibration). This module
computes the same quarter in one compiled loop over the worlds of the batch, because the
NumPy version spends most of its time in the overhead of ~150 small array operations, and a
run takes three steps a quarter (two of them in the agents' look-ahead).
:func:`model.economics.step` calls this; ``step(world, s, compiled=False)`` calls the reference.

If you change an equation, change it in :mod:`model.economics` first (run with
``GEOGAME_REFERENCE_STEP=1`` to use the reference everywhere), then here:
``tests/test_economics.py::test_compiled_step_equals_the_reference`` compares the two on
random worlds and fails if they disagree by more than 1e-9.

Nothing is matched by position by hand: the constants reach the kernel as named records whose
fields are derived from the declared settings and constants it reads (:data:`KernelConstants`,
:data:`GROUP_DTYPE`, :data:`KernelRoles`), and the arrays are passed by the declared names of
:data:`STRUCTURE_INPUTS`, :data:`WORLD_INPUTS` and :data:`OUTPUTS` (:func:`model.economics.step`
builds the call from them).

Worlds with structures of their own: a batch may mix worlds whose structures differ in settings
and calibrated arrays (:func:`model.world.mixed`: ``s.groups``, ``s.group``). Each group's
numbers and structure arrays are stacked once (:class:`GroupInputs`, kept per groups tuple) and
world ``b`` reads those of its group ``group[b]``; a plain structure is one group. A world of a
mixed batch steps to the very bits of the same world stepped alone with its own structure
(``tests/test_kernel_groups.py``). The equality test
draws every setting at random, so two constants swapped in the kernel fail it even where their
defaults are equal.

Speed without changing a bit: a change here must leave every result bit-identical (no
``fastmath``, no reordered floating-point sums); values that are the same number in two places
(a per-run constant, a symmetric pair's trade and affinity, the trade pull of policies seen a
few rows earlier, the clearing discount of a curve seen earlier in the batch) are computed once
(between worlds of different groups only where the groups' numbers those results read are the
very same: :func:`classes`),
and ``tests/test_kernel_speed_equivalence.py`` checks each shortcut against the long way, bit
for bit (``benchmarks/bench_kernel.py`` times the step as the ensemble calls it).

numba's on-disk cache of :func:`step_rows` is keyed on this file's text only, not on
:mod:`model.crude_kernel` which it compiles in, so :func:`_drop_stale_cache` deletes that cache
when ``crude_kernel.py`` is newer than it (else the kernel would keep running the old clearing
after an edit).
"""
from __future__ import annotations

import math
from collections import namedtuple
from pathlib import Path

import numpy as np
from numba import njit

from .crude_kernel import _expit, _same, _target_share, clear_groups


def _drop_stale_cache() -> None:
    """Delete numba's on-disk cache of this module when ``crude_kernel.py`` changed after it was
    written: numba keys a function's cache on its own file only, and :func:`step_rows` compiles the
    crude market's code in. Best effort: a cache it cannot read or delete is left to numba."""
    here = Path(__file__)
    cache = here.parent / "__pycache__"
    try:
        changed = here.with_name("crude_kernel.py").stat().st_mtime
        if any(index.stat().st_mtime < changed for index in cache.glob(f"{here.stem}.*.nbi")):
            for stale in cache.glob(f"{here.stem}.*.nb[ic]"):
                stale.unlink(missing_ok=True)
    except OSError:
        pass


_drop_stale_cache()

#: Settings the kernel reads; in :func:`step_rows` each is ``kg.<name>`` (``kg = k[g]``, the world's group; the key without its owner).
#: A player's setting is named by the role of its owner (``{crude_seller}``: the seller's code),
#: resolved with the run's :class:`~geogame.model.layout.Layout`.
KERNEL_SETTINGS = (
    "{penaliser}.tariff_exempt_share_ind",
    "world.listing_wedge_usd",
    "world.services_wedge_usd",
    "world.product_ban_cost_usd",
    "world.eu_secondary_cost_usd",
    "world.crude_discount_sensitivity",
    "world.crude_share_adjustment",
    "world.cap_wedge_usd",
    "{crude_seller}.crude_exports_mbd",
    "world.brent_supply_multiplier",
    "world.world_oil_supply_mbd",
    "world.relationship_build",
    "world.relationship_max",
    "world.ind_rus_friction",
    "world.instc_cost_cut",
    "world.rupee_push_cost_cut",
    "world.sanction_cost",
    "world.sanction_diversion",
    "world.trade_elasticity",
    "world.trade_adjustment",
    "world.arms_adjustment",
    "world.arms_lockin",
    "world.arms_alignment_weight",
    "world.arms_coproduction_weight",
    "world.arms_caatsa_weight",
    "world.arms_delivery_lag_quarters",
    "world.arms_fleet_life_years",
    "world.settlement_adjustment",
    "world.settlement_sanction_push",
    "world.rupee_unspent_fraction",
    "world.rupee_drain",
    "{crude_seller}.rupee_balance_usd_bn",
    "world.alignment_anchor_pull",
    "world.alignment_coercion_lasting",
    "world.alignment_coercion",
    "world.alignment_trade",
    "world.alignment_deal",
    "{crude_seller}.crude_supply_elasticity",
    "{crude_seller}.crude_supply_floor_usd",
    "world.oil_supply_response",
    "world.capacity_adjustment",
    "world.intermediary_rate",
    "world.shadow_fleet_max",
    "world.shadow_fleet_growth",
    "{arms_buyer}.listed_floor_share",
)
#: Run constants of the :class:`~model.world.Structure` the kernel reads (``kg.<name>``).
KERNEL_RUN_CONSTANTS = ("settlement_base_logit", "western_sanction_ref", "listing_ref")
#: Fixed constants of :mod:`model.economics` the kernel reads (``kg.<name in lower case>``).
KERNEL_ECONOMICS_CONSTANTS = (
    "CAP_SOFTNESS_USD",
    "SUPPLY_FLOOR_WIDTH_USD",
    "CLEARING_TOLERANCE_MBD",
    "SETTLEMENT_PUSH_LOGIT",
    "SETTLEMENT_RECYCLING_LOGIT",
    "IDLE_RUPEES_PER_LOGIT_USD_BN",
    "RECYCLING_DRAIN_PER_QUARTER",
    "EU_SECONDARY_COERCION",
    "LISTING_COERCION",
    "BN_PER_MBD_USD",
    "CAPACITY_HALF_DISCOUNT_USD",
    "VESSEL_LISTING_BITE",
    "AFFINITY_LIMIT",
)

#: Indices of the roles the kernel reads (``roles.<name>``, attributes of
#: :class:`~geogame.model.layout.RoleIndex`): over nodes, crude buyers and arms suppliers.
KERNEL_ROLE_INDICES = ("seller", "buyer", "penaliser", "cap_setter", "b_buyer", "a_seller")
#: Tuples of indices the kernel loops over (``roles.<name>``): the sanctioners (nodes) and the arms
#: suppliers other than the seller and the domestic industry (with their node indices).
KERNEL_ROLE_TUPLES = ("sanctioners", "a_western", "p_western")

#: The kernel's constants of one structure as one record with named fields (:func:`constants`):
#: the fields are derived from the declarations above, never listed by hand. The kernel reads
#: the records of a batch's groups stacked (:func:`stack_constants`): the numbers as a structured
#: array over the groups (world ``b`` reads ``k[group[b]].<name>``), the roles as they are.
KernelConstants = namedtuple("KernelConstants", [key.split(".", 1)[1] for key in KERNEL_SETTINGS]
                             + ["supply_scale"] + list(KERNEL_RUN_CONSTANTS)
                             + [name.lower() for name in KERNEL_ECONOMICS_CONSTANTS]
                             + list(KERNEL_ROLE_INDICES) + list(KERNEL_ROLE_TUPLES))
#: The fields of :data:`KernelConstants` that are numbers of a structure (the rest are the layout's roles).
GROUP_FIELDS = KernelConstants._fields[:-len(KERNEL_ROLE_INDICES) - len(KERNEL_ROLE_TUPLES)]


def kernel_setting_keys(layout) -> list[str]:
    """The keys of :data:`KERNEL_SETTINGS` with each owner's role replaced by its player's code."""
    roles = {role: holders[0] for role, holders in layout.roles.items() if holders}
    return [key.format(**roles) for key in KERNEL_SETTINGS]


def constants(s, economics_constants: dict, supply_scale: float) -> KernelConstants:
    """The settings and derived constants the kernel reads, for one plain structure ``s``, as
    numbers (two records compare with ``==``).

    ``economics_constants`` maps each name of :data:`KERNEL_ECONOMICS_CONSTANTS` to its value
    and ``supply_scale`` is the seller's supply scale
    (:func:`geogame.model.economics.crude_supply_scale`): the economics passes them in, so this
    module imports nothing of the economics (no import cycle).
    """
    ix = s.layout.index
    return KernelConstants(*([float(s.p(key)) for key in kernel_setting_keys(s.layout)]
                             + [float(supply_scale)]
                             + [float(getattr(s, name)) for name in KERNEL_RUN_CONSTANTS]
                             + [float(economics_constants[name]) for name in KERNEL_ECONOMICS_CONSTANTS]
                             + [int(getattr(ix, name)) for name in KERNEL_ROLE_INDICES]
                             + [tuple(int(i) for i in getattr(ix, name)) for name in KERNEL_ROLE_TUPLES]))


#: The layout's roles of :data:`KernelConstants` (what every group of a batch shares).
KernelRoles = namedtuple("KernelRoles", list(KERNEL_ROLE_INDICES) + list(KERNEL_ROLE_TUPLES))
#: The record type of :func:`stack_constants`: one float64 per name of :data:`GROUP_FIELDS`.
GROUP_DTYPE = np.dtype([(name, np.float64) for name in GROUP_FIELDS])


def stack_constants(records) -> tuple[np.ndarray, KernelRoles]:
    """What :func:`step_rows` reads of the records of a batch's groups: their numbers as a
    structured array over the groups (G,) of :data:`GROUP_DTYPE` (``k[g].<name>`` is
    ``records[g].<name>``, the very same float), and the roles they share (:data:`KernelRoles`).

    One array rather than a record of (G,) arrays: numba converts each array argument on every
    call (~70 ns each), one structured array once. ``records`` are the groups' :func:`constants`,
    in group order; their roles must agree (the groups share one layout).
    """
    n = len(GROUP_FIELDS)
    roles = records[0][n:]
    if any(r[n:] != roles for r in records[1:]):
        raise ValueError("stack_constants: the groups' structures have different layouts")
    return np.array([tuple(r[:n]) for r in records], dtype=GROUP_DTYPE), KernelRoles(*roles)


def classes(*columns) -> np.ndarray:
    """Each group's class, (G,) int64: the first group whose every column is the very same
    numbers, bit for bit (signed zeros told apart), as its own.

    Each column is an array over the groups (G, ...). Two worlds of different groups may share a
    result the kernel computed once (a clearing discount, a trade pull) only when their groups
    are in the same class for the columns that result reads.
    """
    n = columns[0].shape[0]
    keys = [b"".join(np.ascontiguousarray(c[g]).tobytes() for c in columns) for g in range(n)]
    first: dict[bytes, int] = {}
    return np.array([first.setdefault(key, g) for g, key in enumerate(keys)], dtype=np.int64)


#: Run constants of the :class:`~model.world.Structure` that :func:`step_rows` reads, in its argument order,
#: each stacked over the batch's groups (a (K,) array becomes (G,K); see :class:`GroupInputs`).
STRUCTURE_INPUTS = ("freight_usd", "crude_intercept", "capacity_floor", "capacity_extra", "listing_refusal",
                    "crude_imports_mbd", "export_weights", "armington_weights", "domestic_absorption_usd_bn",
                    "arms_base_utility", "affinity_anchor_atanh", "tariff_eff_ref", "sanction_ref")
#: :class:`~model.world.World` arrays :func:`step_rows` reads, in its argument order.
WORLD_INPUTS = ("tariff", "oil_penalty", "oil_penalty_threshold", "sanction", "crude_embargo",
                "crude_embargo_announced", "price_cap_usd", "cap_enforcement", "listed_seller_share",
                "secondary_enforcement", "product_ban", "eu_secondary_on_ind", "crude_ceiling_ind",
                "extra_discount_ind_usd", "coproduction_offer", "arms_tilt_west", "rupee_push", "instc",
                "rupee_recycling", "oil_supply_shock",
                "goods_flow_usd_bn", "crude_share", "relationship", "arms_order_share", "arms_installed",
                "arms_pipeline", "settlement_local_share", "rupee_balance_usd_bn", "affinity", "deal_bump",
                "crude_capacity", "oil_replacement_mbd", "intermediated", "listing_last", "shadow_fleet_share",
                "coercion_last")
#: The :class:`~model.world.World` arrays :func:`step_rows` fills, in its argument order (each
#: has the shape of the same field of the world it steps).
OUTPUTS = ("penalty_active", "fob_discount_usd", "crude_share", "delivered_discount_usd", "brent_usd",
           "rus_crude_sold_mbd", "relationship", "goods_flow_usd_bn", "arms_order_share", "arms_pipeline",
           "arms_installed", "settlement_local_share", "rupee_balance_usd_bn", "affinity", "crude_capacity",
           "oil_replacement_mbd", "intermediated", "listing_last", "shadow_fleet_share", "coercion_last")


def allocate_outputs(world) -> dict[str, np.ndarray]:
    """Empty arrays for :func:`step_rows` to fill, by World field name (in :data:`OUTPUTS` order),
    each shaped like the same field of ``world``.

    The kernel fills arrays it is given rather than returning new ones: numba converting returned
    arrays calls back into Python, and a Ctrl-C arriving during such a call-back is lost or turned
    into a SystemError. Filling in place keeps the compiled call free of Python.
    """
    return {name: np.empty(getattr(world, name).shape) for name in OUTPUTS}


#: The constants of :data:`KernelConstants` a world's crude clearing reads besides the buyers'
#: crude imports (two groups share clearings only where all are the same numbers).
CURVE_CONSTANTS = ("crude_discount_sensitivity", "crude_share_adjustment", "supply_scale", "crude_supply_elasticity",
                   "crude_supply_floor_usd", "cap_softness_usd", "supply_floor_width_usd", "clearing_tolerance_mbd")
#: The constants of :data:`KernelConstants` and the :data:`STRUCTURE_INPUTS` a world's trade pull
#: reads besides its own trade policies and this quarter's spending.
PULL_CONSTANTS = ("sanction_cost", "sanction_diversion", "trade_elasticity", "trade_adjustment")
PULL_STRUCTURE_INPUTS = ("export_weights", "armington_weights", "domestic_absorption_usd_bn")


class GroupInputs:
    """What :func:`step_rows` reads of a batch's groups of structures, stacked once.

    Attributes
    ----------
    groups : tuple of Structure
        The groups (plain structures), in the order ``group`` indexes them.
    k : (G,) structured array of :data:`GROUP_DTYPE`
        The groups' numbers (:func:`stack_constants`); ``roles`` (:data:`KernelRoles`) their roles.
    structure : tuple of arrays
        The :data:`STRUCTURE_INPUTS` of every group stacked, (G, ...), C-contiguous float64.
    curve_class : (G,) int64
        :func:`classes` over the settings the crude clearing reads (:data:`CURVE_CONSTANTS` and
        the buyers' crude imports).
    """

    def __init__(self, groups, records):
        self.groups = tuple(groups)
        self.k, self.roles = stack_constants(records)
        self.structure = tuple(np.ascontiguousarray(np.stack([np.asarray(getattr(g, name), dtype=np.float64)
                                                              for g in self.groups]))
                               for name in STRUCTURE_INPUTS)
        imports = self.structure[STRUCTURE_INPUTS.index("crude_imports_mbd")]
        self.curve_class = classes(*(self.k[name] for name in CURVE_CONSTANTS), imports)
        self._quarters: dict[int, tuple] = {}

    def quarter(self, q: int, reference_brent, spending) -> tuple:
        """``(brent_ref (G,), spending (G,N), pull_class (G,))`` for quarter ``q``, computed once:
        ``reference_brent(g, q)`` (USD/bbl) and ``spending(g, q)`` ((N,) USD bn/yr) give group
        ``g``'s; ``pull_class`` is :func:`classes` over what a trade pull reads of a group
        (:data:`PULL_CONSTANTS`, :data:`PULL_STRUCTURE_INPUTS`, the spending)."""
        found = self._quarters.get(q)
        if found is None:
            brent = np.array([float(reference_brent(g, q)) for g in self.groups], dtype=np.float64)
            spend = np.ascontiguousarray(np.stack([np.asarray(spending(g, q), dtype=np.float64)
                                                   for g in self.groups]))
            pull_class = classes(*(self.k[name] for name in PULL_CONSTANTS),
                                 *(self.structure[STRUCTURE_INPUTS.index(name)] for name in PULL_STRUCTURE_INPUTS),
                                 spend)
            found = self._quarters[q] = (brent, spend, pull_class)
        return found


#: How many groups tuples' :class:`GroupInputs` a structure keeps (the most recent; a batch's
#: structures share one groups tuple, and an engine keeps few batches at once).
GROUP_INPUTS_KEPT = 8


def group_inputs(groups, constants_of) -> GroupInputs:
    """The :class:`GroupInputs` of ``groups`` (a tuple of structures), built once and kept on the
    first group, keyed by the groups' identities (an entry holds its groups, so no other
    structure can have their ids while it is kept). ``constants_of(g)`` is a group's record
    (:func:`constants`).

    The kept entries are a new dict at each change: a structure made by copying another's
    ``__dict__`` (``Structure.with_params``) starts with the other's entries, which can never
    match its own identity, and drops them at its first change instead of adding to the other's.
    """
    first = groups[0]
    cache = first.__dict__.get("_kernel_group_inputs", {})
    key = tuple(map(id, groups))
    found = cache.get(key)
    if found is None:
        found = GroupInputs(groups, [constants_of(g) for g in groups])
        kept = {k: v for k, v in cache.items() if v.groups[0] is first}
        kept[key] = found
        while len(kept) > GROUP_INPUTS_KEPT:
            kept.pop(next(iter(kept)))
        first.__dict__["_kernel_group_inputs"] = kept   # a frozen dataclass's __dict__ may hold a cache
    return found


#: How many distinct trade policies' pulls :func:`step_rows` keeps (most recently used first):
#: in the seeded ensembles 8 leave ~0.5% of worlds to compute theirs, against ~20% with one.
PULL_SLOTS = 8


@njit(cache=True, _nrt=False)
def _pull_slot(b, pull, t_eff, ind_rus, sanction, slot_row, slot_pull_class, slot_t_eff, slot_ind_rus, order):
    """Position in ``order`` of the slot whose trade policies are the very same numbers as world
    ``b``'s (effective tariffs ``t_eff``, the India-Russia cost factor ``ind_rus``, its sanctions)
    and whose group's pull class is ``pull`` (the same structure inputs), or -1. (Compiled
    without reference counting: see :mod:`model.crude_kernel`.)"""
    nn = t_eff.shape[0]
    for position in range(order.shape[0]):
        slot = order[position]
        row = slot_row[slot]
        if row < 0:                 # empty slots come last
            return -1
        if slot_pull_class[slot] != pull or not _same(ind_rus, slot_ind_rus[slot]):
            continue
        match = True
        for i in range(nn):
            for e in range(nn):
                if not (_same(t_eff[i, e], slot_t_eff[slot, i, e]) and _same(sanction[b, i, e], sanction[row, i, e])):
                    match = False
                    break
            if not match:
                break
        if match:
            return position
    return -1


@njit(cache=True, _nrt=False)
def _symmetric(a, b):
    """Whether the square matrix ``a[b]`` equals its transpose bit for bit (signed zeros included).
    (Compiled without reference counting: see :mod:`model.crude_kernel`.)"""
    for i in range(a.shape[1]):
        for j in range(i + 1, a.shape[2]):
            if not _same(a[b, i, j], a[b, j, i]):
                return False
    return True


@njit(cache=True)
def step_rows(k, roles, group, curve_class, pull_class, brent_ref, spending, grid,
              freight, intercept, capacity_floor, capacity_extra, listing_refusal, crude_imports,
              export_weights, armington, domestic, arms_base, anchor_z, tariff_eff_ref, sanction_ref,
              tariff, oil_penalty, threshold, sanction, embargo, announced, price_cap, cap_enforcement, listed,
              secondary, product_ban, eu_secondary, ceiling_ind, extra_discount_ind, coproduction,
              arms_tilt_west, rupee_push, instc, rupee_recycling, supply_shock,
              flows, crude_share, relationship, orders, installed, pipeline, settlement, rupees,
              affinity, deal_bump, capacity, replacement, intermediated, listing_last, shadow, coercion_last,
              penalty, fob, new_share, delivered, brent, sold, new_relationship, new_flows, new_orders,
              new_pipeline, new_installed, new_settlement, new_rupees, new_affinity, new_capacity,
              new_replacement, new_intermediated, new_listing_last, new_shadow, new_coercion):
    """Every world of the batch one quarter on. Shapes and units as in :class:`model.world.World`.

    World ``b`` has the structure of group ``g = group[b]`` (``group`` (B,) int64, all zeros when
    the batch shares one structure) and reads that group's constants and structure arrays:
    ``k`` and ``roles`` are :func:`stack_constants` (the group's numbers ``k[g].<name>``, the
    layout's role indices ``roles.<name>``); the
    structure arrays (``freight`` ... ``sanction_ref``, :data:`STRUCTURE_INPUTS`) are stacked over
    the groups, (G, ...); ``brent_ref`` is each group's reference Brent of the new quarter (G,),
    USD/bbl; ``spending`` each group's nodes' absorption in the new quarter (G,N), USD bn/yr.
    ``curve_class`` and ``pull_class`` (G,) are :func:`classes` of the groups over what a crude
    clearing and a trade pull read (:class:`GroupInputs`): worlds of two groups share either
    only within a class. ``grid`` is the FOB discounts on which the crude market is bracketed,
    USD/bbl. The new state is written into the arrays named in :data:`OUTPUTS` (see
    :func:`allocate_outputs`); nothing is returned.
    """
    n = oil_penalty.shape[0]
    nb = crude_share.shape[1]       # crude buyers
    nn = flows.shape[1]             # nodes
    na = orders.shape[1]            # arms suppliers
    npl = affinity.shape[1]         # players
    n_groups = brent_ref.shape[0]
    b_buyer, buyer, seller, pen, cap_setter = roles.b_buyer, roles.buyer, roles.seller, roles.penaliser, roles.cap_setter
    n_sanctioners = len(roles.sanctioners)

    # ---- crude demand terms fixed within the quarter (CrudeDemand.__init__) --------------
    base_logit = np.empty((n, nb))
    keep = np.empty((n, nb))
    limit = np.empty((n, nb))
    target_limit = np.empty((n, nb))
    inter = np.empty(n)
    fixed = np.empty((n, nb))
    risk = np.zeros((n, nb))
    urals_less_cap = np.empty(n)
    cap_cost = np.empty(n)
    brent0 = np.empty(n)
    western_services = np.empty(n)
    for b in range(n):
        g = group[b]
        kg = k[g]                   # this world's group's constants
        beta, mu = kg.crude_discount_sensitivity, kg.crude_share_adjustment
        penalty[b] = 1.0 if crude_share[b, b_buyer] > threshold[b] else 0.0
        brent0[b] = brent_ref[g] * (1.0 + supply_shock[b])
        listing = listed[b] * secondary[b] * kg.listing_wedge_usd
        western = 0.0
        for i in roles.sanctioners:
            western += sanction[b, i, seller]
        western = western / n_sanctioners
        western_services[b] = western
        services = western * kg.services_wedge_usd
        risk[b, b_buyer] = product_ban[b] * kg.product_ban_cost_usd + eu_secondary[b] * kg.eu_secondary_cost_usd
        for j in range(nb):
            fixed[b, j] = freight[g, j] + (listing + services) + risk[b, j]
        fixed[b, b_buyer] -= extra_discount_ind[b]
        for j in range(nb):
            base_logit[b, j] = intercept[g, j] + relationship[b, j] - beta * fixed[b, j]
            keep[b, j] = (1.0 - mu) * crude_share[b, j]
        urals_less_cap[b] = brent0[b] - price_cap[b]
        cap_cost[b] = cap_enforcement[b] * (1.0 - shadow[b]) * kg.cap_wedge_usd
        # listings: newly listed barrels start without intermediaries (intermediated_now)
        listing_now = listed[b] * secondary[b]
        inter[b] = intermediated[b] * min(listing_last[b] / max(listing_now, 1e-12), 1.0)
        blocked = listing_now * (1.0 - inter[b])
        for j in range(nb):
            limit[b, j] = capacity[b, j] * (1.0 - embargo[b, j]) * (1.0 - blocked * listing_refusal[g, j])
            target_limit[b, j] = capacity[b, j] * (1.0 - max(embargo[b, j], announced[b, j]))
        limit[b, b_buyer] = max(limit[b, b_buyer], min(kg.listed_floor_share, capacity[b, b_buyer] * (1.0 - embargo[b, b_buyer])))
        limit[b, b_buyer] = min(limit[b, b_buyer], ceiling_ind[b])

    curve = np.empty((8, n_groups))      # the clearing's settings, each an array over the groups
    for g in range(n_groups):
        kg = k[g]
        curve[0, g], curve[1, g] = kg.crude_discount_sensitivity, kg.crude_share_adjustment
        curve[2, g], curve[3, g] = kg.cap_softness_usd, kg.supply_scale
        curve[4, g], curve[5, g] = kg.crude_supply_elasticity, kg.crude_supply_floor_usd
        curve[6, g], curve[7, g] = kg.supply_floor_width_usd, kg.clearing_tolerance_mbd
    clear_groups(grid, group, curve_class, base_logit, curve[0], curve[1], keep, limit, capacity, target_limit,
                 crude_imports, urals_less_cap, cap_cost, curve[2], brent0, curve[3], curve[4], curve[5], curve[6],
                 curve[7], 50, fob)

    t_eff = np.empty((nn, nn))
    cost = np.empty((nn, nn))
    target = np.empty((nn, nn))
    utility = np.empty(na)
    hit = np.zeros((npl, npl))
    log_trade_change = np.empty((npl, npl))
    # Per group: its inventory turnover, the bound of affinity in atanh space, whether its anchor is symmetric.
    turnover_g = np.empty(n_groups)
    z_limit_g = np.empty(n_groups)
    anchor_symmetric = np.empty(n_groups, np.bool_)
    for g in range(n_groups):
        turnover_g[g] = 1.0 / (4.0 * k[g].arms_fleet_life_years)
        z_limit_g[g] = math.atanh(k[g].affinity_limit)
        anchor_symmetric[g] = _symmetric(anchor_z, g)
    # The trade pulls of the last PULL_SLOTS distinct trade policies seen, most recent first
    # (``order``): the policies (effective tariffs, the India-Russia cost factor, and the row
    # whose sanctions they had), the pull class of that row's group, and the pull computed for
    # them; a slot's row is -1 while empty.
    slot_pull = np.empty((PULL_SLOTS, nn, nn))
    slot_t_eff = np.empty((PULL_SLOTS, nn, nn))
    slot_ind_rus = np.empty(PULL_SLOTS)
    slot_pull_class = np.empty(PULL_SLOTS, np.int64)
    slot_row = np.full(PULL_SLOTS, -1)
    order = np.arange(PULL_SLOTS)
    for b in range(n):
        g = group[b]
        kg = k[g]                   # this world's group's constants
        f = fob[b]
        beta, mu = kg.crude_discount_sensitivity, kg.crude_share_adjustment
        # ---- crude: shares at the clearing discount, rationing, Brent, relationships -------
        cap = cap_cost[b] * _expit((urals_less_cap[b] - f) / kg.cap_softness_usd)
        wanted = 0.0
        for j in range(nb):
            target_share = _target_share(f, cap, b, j, base_logit, beta, capacity, target_limit)
            new_share[b, j] = min(keep[b, j] + mu * target_share, limit[b, j])
            wanted += new_share[b, j] * crude_imports[g, j]
            delivered[b, j] = f - fixed[b, j] + risk[b, j] - cap
        netback = max(brent0[b] - f, 1.0)
        supply = kg.supply_scale * netback ** kg.crude_supply_elasticity * _expit(
            (netback - kg.crude_supply_floor_usd) * (1.0 / kg.supply_floor_width_usd))
        rationed = supply / max(wanted, 1e-12) if wanted > supply else 1.0
        for j in range(nb):
            new_share[b, j] *= rationed
        sold[b] = min(wanted, supply)
        lost = max(kg.crude_exports_mbd - sold[b], 0.0)
        new_replacement[b] = replacement[b] + kg.oil_supply_response * (lost - replacement[b])
        brent[b] = brent0[b] * math.exp(kg.brent_supply_multiplier * (lost - new_replacement[b]) / kg.world_oil_supply_mbd)
        for j in range(nb):
            new_relationship[b, j] = relationship[b, j] + kg.relationship_build * (
                kg.relationship_max * (new_share[b, j] / capacity[b, j]) - relationship[b, j])
            cheap = max(delivered[b, j], 0.0)
            capacity_target = capacity_floor[g, j] + capacity_extra[g, j] * cheap / (cheap + kg.capacity_half_discount_usd)
            new_capacity[b, j] = capacity[b, j] + kg.capacity_adjustment * (capacity_target - capacity[b, j])
        new_intermediated[b] = inter[b] + kg.intermediary_rate * (1.0 - inter[b])
        new_listing_last[b] = listed[b] * secondary[b]
        shadow_target = kg.shadow_fleet_max * western_services[b] * (1.0 - kg.vessel_listing_bite * cap_enforcement[b])
        new_shadow[b] = shadow[b] + kg.shadow_fleet_growth * (shadow_target - shadow[b])

        # ---- goods trade: effective tariffs, trade costs, Armington target, adjustment -----
        for i in range(nn):
            for e in range(nn):
                t_eff[i, e] = tariff[b, i, e]
        t_eff[pen, buyer] = (tariff[b, pen, buyer] + penalty[b] * oil_penalty[b]) * (1.0 - kg.tariff_exempt_share_ind)
        ind_rus = ((1.0 + kg.ind_rus_friction) * (1.0 - instc[b] * kg.instc_cost_cut)
                   * (1.0 - rupee_push[b] * kg.rupee_push_cost_cut))
        lam = kg.trade_adjustment
        # The pull towards the Armington target, (target * scale) ** lam, depends on this
        # world's trade policies only (effective tariffs, sanctions, the India-Russia cost
        # factor), on its group's trade structure and on this quarter's spending: when they are
        # the very same numbers as a world it was computed for recently (the same policies, a
        # group of the same pull class), it is the same number, and is reused. A batch holds
        # few distinct trade policies (the candidate moves of a look-ahead mostly differ in
        # other levers, and runs share their tariffs), but they alternate from row to row.
        position = _pull_slot(b, pull_class[g], t_eff, ind_rus, sanction, slot_row, slot_pull_class, slot_t_eff,
                              slot_ind_rus, order)
        seen = position >= 0
        if not seen:
            position = PULL_SLOTS - 1             # computed into the least recently used slot
        slot = order[position]
        if not seen:
            eps = kg.trade_elasticity
            sanction_cost, sanction_diversion = kg.sanction_cost, kg.sanction_diversion
            for e in range(nn):
                blocked = 0.0
                for i in range(nn):
                    blocked += sanction[b, i, e] * export_weights[g, i, e]
                for i in range(nn):
                    cost[i, e] = (1.0 + t_eff[i, e]) * math.exp(sanction_cost * sanction[b, i, e]
                                                                - sanction_diversion * blocked)
            cost[buyer, seller] *= ind_rus
            cost[seller, buyer] *= ind_rus
            for i in range(nn):
                denominator = domestic[g, i]
                for e in range(nn):
                    target[i, e] = armington[g, i, e] * cost[i, e] ** (-eps)
                    denominator += target[i, e]
                scale = spending[g, i] / denominator
                for e in range(nn):
                    slot_pull[slot, i, e] = (target[i, e] * scale) ** lam
                    slot_t_eff[slot, i, e] = t_eff[i, e]
            slot_ind_rus[slot] = ind_rus
            slot_pull_class[slot] = pull_class[g]
            slot_row[slot] = b
        for p in range(position, 0, -1):          # the slot used becomes the most recent
            order[p] = order[p - 1]
        order[0] = slot
        for i in range(nn):
            for e in range(nn):
                new_flows[b, i, e] = flows[b, i, e] ** (1.0 - lam) * slot_pull[slot, i, e]

        # ---- arms: logit target over suppliers, orders -> pipeline -> installed ------------
        for a in range(na):
            utility[a] = arms_base[g, a] + kg.arms_lockin * installed[b, a]
        alignment_weight = kg.arms_alignment_weight
        utility[roles.a_seller] += (alignment_weight * affinity[b, buyer, seller] + kg.arms_coproduction_weight * coproduction[b]
                                - kg.arms_caatsa_weight * listed[b] * secondary[b])
        for w in range(len(roles.a_western)):
            utility[roles.a_western[w]] += alignment_weight * affinity[b, buyer, roles.p_western[w]] + arms_tilt_west[b]
        top = utility[0]
        for a in range(1, na):
            top = max(top, utility[a])
        total = 0.0
        for a in range(na):
            utility[a] = math.exp(utility[a] - top)
            total += utility[a]
        arms_adjustment, lag, turnover = kg.arms_adjustment, kg.arms_delivery_lag_quarters, turnover_g[g]
        for a in range(na):
            new_orders[b, a] = orders[b, a] + arms_adjustment * (utility[a] / total - orders[b, a])
            new_pipeline[b, a] = pipeline[b, a] + (new_orders[b, a] - pipeline[b, a]) / lag
            new_installed[b, a] = installed[b, a] + turnover * (new_pipeline[b, a] - installed[b, a])

        # ---- settlement and idle rupees ----------------------------------------------------
        western = western_services[b] - kg.western_sanction_ref
        balance_excess = (rupees[b] - kg.rupee_balance_usd_bn) / kg.idle_rupees_per_logit_usd_bn
        settle_target = _expit(kg.settlement_base_logit + kg.settlement_push_logit * rupee_push[b]
                               + kg.settlement_recycling_logit * rupee_recycling[b]
                               + kg.settlement_sanction_push * western - balance_excess)
        new_settlement[b] = settlement[b] + kg.settlement_adjustment * (settle_target - settlement[b])
        crude_value = (crude_imports[g, b_buyer] * new_share[b, b_buyer] * kg.bn_per_mbd_usd * (brent[b] - delivered[b, b_buyer]))
        surplus = crude_value + new_flows[b, buyer, seller] - new_flows[b, seller, buyer]
        inflow = new_settlement[b] * kg.rupee_unspent_fraction * surplus / 4.0
        drain = kg.rupee_drain + kg.recycling_drain_per_quarter * rupee_recycling[b]
        new_rupees[b] = max(rupees[b] * (1.0 - drain) + inflow, 0.0)

        # ---- alignment: coercion, trade change and deals move affinity in atanh space ------
        for e in range(npl):
            exports_e = 0.0
            for m in range(nn):
                exports_e += new_flows[b, m, e]
            for i in range(npl):
                extra = max(t_eff[i, e] - tariff_eff_ref[g, i, e], 0.0) + max(sanction[b, i, e] - sanction_ref[g, i, e], 0.0)
                hit[i, e] = extra * new_flows[b, i, e] / max(exports_e, 1e-9)
        hit[cap_setter, buyer] += eu_secondary[b] * kg.eu_secondary_coercion
        hit[pen, buyer] += max(listed[b] * secondary[b] - kg.listing_ref, 0.0) * crude_share[b, b_buyer] * kg.listing_coercion
        # Trade between i and j in both directions: flows[i, j] + flows[j, i] is the same number
        # for (i, j) and (j, i) (floating-point addition is commutative), so the change in its
        # log is computed once per pair.
        for i in range(npl):
            for j in range(i + 1, npl):
                trade_new = max(new_flows[b, i, j] + new_flows[b, j, i], 1e-9)
                trade_old = max(flows[b, i, j] + flows[b, j, i], 1e-9)
                log_trade_change[i, j] = math.log(trade_new) - math.log(trade_old)
                log_trade_change[j, i] = log_trade_change[i, j]
        # Affinity is symmetric in the model's rules: when this world's affinity, coercion felt
        # last quarter and deal bumps are (and its group's anchor is) the same number for (i, j)
        # and (j, i), so is every operand of the update (``felt`` and the log trade change are
        # sums of the same two numbers), and the pair is computed once (one atanh and one tanh fewer).
        pairwise = anchor_symmetric[g] and _symmetric(affinity, b) and _symmetric(coercion_last, b) and _symmetric(deal_bump, b)
        anchor_pull, lasting = kg.alignment_anchor_pull, kg.alignment_coercion_lasting
        coercion_weight, trade_weight, deal_weight = kg.alignment_coercion, kg.alignment_trade, kg.alignment_deal
        z_limit = z_limit_g[g]
        for i in range(npl):
            new_affinity[b, i, i] = 1.0
            new_coercion[b, i, i] = 0.0
            for j in range(i + 1 if pairwise else 0, npl):
                if i == j:
                    continue
                z = math.atanh(affinity[b, i, j])
                felt = hit[i, j] + hit[j, i]
                new_coercion[b, i, j] = felt
                z = (z + anchor_pull * (anchor_z[g, i, j] - lasting * felt - z)
                     - coercion_weight * (felt - coercion_last[b, i, j])
                     + trade_weight * log_trade_change[i, j] + deal_weight * deal_bump[b, i, j])
                new_affinity[b, i, j] = math.tanh(min(max(z, -z_limit), z_limit))
                if pairwise:
                    new_affinity[b, j, i] = new_affinity[b, i, j]
                    new_coercion[b, j, i] = felt
