"""One quarter of the world economy: a pure function of the state and the policies in force.

:func:`step` takes a (batched) :class:`~model.world.World` and returns the world one quarter
later. It knows nothing of agents: policies are read from the world's instrument arrays. The
order inside a quarter: penalties in force -> crude market clears ->
goods trade adjusts -> arms -> settlement balances -> alignment. :func:`metrics` turns a world
into the quarterly table's columns.

Units: crude volumes in mb/d, prices and discounts in USD/bbl, trade in USD bn a year
(annualised quarterly flows). ``mb/d * 0.365 * USD/bbl`` is USD bn a year.
"""
from __future__ import annotations

import os

import numpy as np
from scipy.special import expit

from . import step_kernel
from .crude_kernel import clear_rows
from .world import BN_PER_MBD_USD, Structure, World  # noqa: F401 - BN_PER_MBD_USD: economics.BN_PER_MBD_USD still works

#: Grid of FOB discounts (USD/bbl) on which crude demand is evaluated to clear the market.
DISCOUNT_GRID_USD = np.arange(-10.0, 60.0 + 1e-9, 5.0)
#: Width (USD/bbl) over which the price cap goes from slack to binding (judgement: a smooth switch).
CAP_SOFTNESS_USD = 2.5
#: The market clears when excess demand is below this, mb/d.
CLEARING_TOLERANCE_MBD = 1e-7
#: Width (USD/bbl) of the band in which Russian exports fall away near the supply floor (judgement).
SUPPLY_FLOOR_WIDTH_USD = 4.0
#: Delivered discount (USD/bbl) at which a buyer that can add capacity for Russian crude aims at half
#: of ``Structure.capacity_extra`` (judgement: Chinese independents and Turkish refiners took more
#: Russian crude in 2022-23 when it came $10-20 below Brent delivered).
CAPACITY_HALF_DISCOUNT_USD = 10.0
#: Share of the shadow fleet's target that a fully enforced campaign of vessel listings removes
#: (judgement: listed tankers sit idle, Kpler/KSE Institute 2025 report most listed vessels idle).
VESSEL_LISTING_BITE = 0.5
#: Largest affinity magnitude (judgement: no two governments are perfectly allied or hostile; keeps
#: alignment in the open interval (-1, 1) whatever the settings, so its atanh stays finite).
AFFINITY_LIMIT = 0.999


_sigmoid = expit  # logistic function as one ufunc (faster than 1 / (1 + exp(-x)) on small arrays)


def per_world(value, ndim: int):
    """A setting shaped to broadcast against arrays of ``ndim`` dimensions, the batch first.

    A setting is a number, or in a structure of a mixed batch (:func:`geogame.model.world.mixed`)
    an array over the batch, (B,): that one is given ``ndim - 1`` trailing axes (``(B, 1, 1)``
    against a (B,N,N) array). A number is returned as it is (the same operations, the same bits).
    """
    if isinstance(value, np.ndarray) and ndim > 1:
        return value.reshape(value.shape + (1,) * (ndim - 1))
    return value


#: Exponents NumPy computes ``x ** e`` for by a faster route when ``e`` is one number (square,
#: square root, reciprocal), which may differ from ``pow`` in the last bit.
_FAST_EXPONENTS = (2.0, 0.5, -1.0)


def power(base: np.ndarray, exponent):
    """``base ** exponent`` with the exponent a number or a :func:`per_world` array.

    Per world, every element gets the very bits it gets with its world's exponent as one number
    (so a run's results do not depend on the batch): NumPy's ``**`` with a number takes a faster
    route for :data:`_FAST_EXPONENTS`, which those worlds take here too.
    """
    if not isinstance(exponent, np.ndarray):
        return base ** exponent
    out = np.power(base, exponent)
    per_row = exponent.reshape(len(exponent), -1)[:, 0]
    for fast in _FAST_EXPONENTS:
        rows = per_row == fast
        if rows.any():
            out[rows] = base[rows] ** fast
    return out


def role_key(s: Structure, role: str, name: str) -> str:
    """The key of the setting ``name`` owned by the player holding ``role`` (``"crude_seller"``,
    ``"crude_exports_mbd"`` -> the seller's ``<code>.crude_exports_mbd``)."""
    return f"{s.layout.role(role)}.{name}"


def western_sanction(world: World, s: Structure) -> np.ndarray:
    """Mean goods sanction of the sanctioners on the crude seller, (B,), 0-1."""
    ix = s.layout.index
    total = world.sanction[:, ix.sanctioners[0], ix.seller]
    for i in ix.sanctioners[1:]:
        total = total + world.sanction[:, i, ix.seller]
    return total / len(ix.sanctioners)


# ------------------------------------------------------------------------------------- tariffs
def penalty_active(world: World, s: Structure) -> np.ndarray:
    """1 where the penaliser's oil penalty applies: the arms buyer's share of the seller's crude
    last quarter exceeds the threshold, (B,)."""
    return (world.crude_share[:, s.layout.index.b_buyer] > world.oil_penalty_threshold).astype(float)


def statutory_tariff_usa_on_ind(world: World, active: np.ndarray) -> np.ndarray:
    """The penaliser's tariff on the arms buyer's goods as the law states it (base + penalty
    where it applies), fraction, (B,)."""
    ix = world.layout.index
    return world.tariff[:, ix.penaliser, ix.buyer] + active * world.oil_penalty


def effective_tariff(world: World, s: Structure, active: np.ndarray) -> np.ndarray:
    """Tariff each importer levies on each exporter's goods, allowing for exempt goods, (B,N,N)."""
    ix = s.layout.index
    t = world.tariff.copy()
    exempt = s.p(role_key(s, "penaliser", "tariff_exempt_share_ind"))
    t[:, ix.penaliser, ix.buyer] = statutory_tariff_usa_on_ind(world, active) * (1.0 - exempt)
    return t


# ---------------------------------------------------------------------------------- crude oil
class CrudeDemand:
    """Buyers' Russian shares this quarter as a function of the FOB discount.

    Refiners aim at ``capacity * sigmoid(intercept + relationship + beta * (delivered - risk))``
    (no higher than an announced embargo allows, so they wind down before it lands) and move
    ``crude_share_adjustment`` of the way there. Limits bind at once: an embargo in force, India's
    ceiling, and the barrels of *listed* sellers that a buyer's banks and refiners refuse until
    unlisted intermediaries take them over (:func:`listing_access`). The delivered discount is
    the FOB discount less freight, the extra freight and insurance once Western shippers withdraw
    (scaled by Western sanctions), the cap's extra cost (only when the Urals price at the port
    exceeds the cap, and only on cargoes outside the shadow fleet: the cap works as a partial
    transport embargo, Spiro et al. 2025; Johnson, Rachel & Wolfram 2023) and the margin of
    shadow intermediaries when sellers are listed. Terms that do not depend on the discount are
    computed once per quarter; :meth:`shares` is then cheap to evaluate many times.
    """

    def __init__(self, world: World, s: Structure):
        brent = s.reference_brent(world.quarter + 1) * (1.0 + world.oil_supply_shock)
        listing = world.listed_seller_share * world.secondary_enforcement * s.p("world.listing_wedge_usd")
        b_buyer = s.layout.index.b_buyer
        services = western_sanction(world, s) * s.p("world.services_wedge_usd")
        self.risk = _buyer_risk(world, s)
        fixed = s.freight_usd[None, :] + (listing + services)[:, None] + self.risk
        fixed[:, b_buyer] -= world.extra_discount_ind_usd
        self.beta = s.p("world.crude_discount_sensitivity")
        self.mu = s.p("world.crude_share_adjustment")
        self.urals_less_cap = (brent - world.price_cap_usd)[:, None]        # (B,1): add -fob
        self.cap_cost = (world.cap_enforcement * (1.0 - world.shadow_fleet_share)
                         * s.p("world.cap_wedge_usd"))[:, None]
        self.fixed_wedge = fixed                                            # (B,K) incl. risk
        self.base_logit = s.crude_intercept[None, :] + world.relationship - self.beta * fixed
        # 2-D, C-contiguous arrays for the compiled loop; the NumPy methods add the grid axis.
        self.keep = (1.0 - self.mu) * world.crude_share                       # (B,K)
        capacity = world.crude_capacity                                      # (B,K)
        limit = capacity * (1.0 - world.crude_embargo) * listing_access(world, s)
        limit[:, b_buyer] = np.maximum(limit[:, b_buyer], np.minimum(
            s.p(role_key(s, "arms_buyer", "listed_floor_share")),
            capacity[:, b_buyer] * (1.0 - world.crude_embargo[:, b_buyer])))
        limit[:, b_buyer] = np.minimum(limit[:, b_buyer], world.crude_ceiling_ind)
        self.limit = limit                                                   # (B,K)
        self.capacity = capacity                                             # (B,K)
        # Refiners aim no higher than an announced (or standing) embargo will allow.
        self.target_limit = capacity * (1.0 - np.maximum(world.crude_embargo, world.crude_embargo_announced))
        self.demand_mbd = s.crude_imports_mbd                                # (K,)
        self.brent = brent[:, None]
        self.supply_elasticity = s.p(role_key(s, "crude_seller", "crude_supply_elasticity"))
        self.floor = s.p(role_key(s, "crude_seller", "crude_supply_floor_usd"))
        self.supply_scale = crude_supply_scale(s)

    def supply(self, fob: np.ndarray) -> np.ndarray:
        """Russia's crude exports at FOB discount ``fob`` (B,G), mb/d.

        Short-run inelastic (``rus.crude_supply_elasticity``) around the starting netback, and
        falling away when the Urals price at the port nears ``rus.crude_supply_floor_usd``
        (shut-ins, more refining at home). ``rus.crude_exports_mbd`` at the starting state.
        """
        netback = np.maximum(self.brent - fob, 1.0)
        return self.supply_scale * netback ** self.supply_elasticity * _sigmoid(
            (netback - self.floor) * (1.0 / SUPPLY_FLOOR_WIDTH_USD))

    def excess_demand(self, fob: np.ndarray) -> np.ndarray:
        """Demand less supply at FOB discount ``fob`` (B,G), mb/d; increasing in ``fob``."""
        return self.demand(fob) - self.supply(fob)

    def cap_wedge(self, fob: np.ndarray) -> np.ndarray:
        """Extra shipping cost from the cap at FOB discount ``fob`` (B,G), USD/bbl."""
        return self.cap_cost * _sigmoid((self.urals_less_cap - fob) / CAP_SOFTNESS_USD)

    def shares(self, fob: np.ndarray) -> np.ndarray:
        """Russian share of each buyer's crude at FOB discount ``fob`` (B,G) -> (B,K,G)."""
        logit = self.base_logit[:, :, None] + self.beta * (fob - self.cap_wedge(fob))[:, None, :]
        target = np.minimum(self.capacity[:, :, None] * _sigmoid(logit), self.target_limit[:, :, None])
        return np.minimum(self.keep[:, :, None] + self.mu * target, self.limit[:, :, None])

    def demand(self, fob: np.ndarray) -> np.ndarray:
        """Russian crude demanded at FOB discount ``fob`` (B,G), mb/d."""
        return (self.shares(fob) * self.demand_mbd[None, :, None]).sum(axis=1)


def crude_supply_scale(s: Structure) -> float:
    """Scale of Russia's supply curve, set so that it offers ``rus.crude_exports_mbd`` at the
    starting netback (see :meth:`CrudeDemand.supply`)."""
    floor_ref = _sigmoid((s.netback_ref_usd - s.p(role_key(s, "crude_seller", "crude_supply_floor_usd")))
                         / SUPPLY_FLOOR_WIDTH_USD)
    return s.p(role_key(s, "crude_seller", "crude_exports_mbd")) / (
        s.netback_ref_usd ** s.p(role_key(s, "crude_seller", "crude_supply_elasticity")) * floor_ref)


def listing_intensity(world: World) -> np.ndarray:
    """Listed sellers' share of Russian crude times US secondary enforcement, (B,), 0-1."""
    return world.listed_seller_share * world.secondary_enforcement


def listing_access(world: World, s: Structure) -> np.ndarray:
    """Share of Russian barrels each buyer can take while sellers are listed, (B,K), 0-1.

    Banks, insurers and refiners refuse cargoes from listed sellers (``Structure.listing_refusal``
    of them at full enforcement) until unlisted intermediaries carry them
    (``World.intermediated``): ``1 - listing * refusal * (1 - intermediated)``.
    """
    blocked = listing_intensity(world) * (1.0 - world.intermediated)
    return 1.0 - blocked[:, None] * s.listing_refusal[..., :]


def _buyer_risk(world: World, s: Structure) -> np.ndarray:
    """Per-barrel risk cost each buyer's refiners weigh against the discount, (B,K), USD/bbl."""
    risk = np.zeros((world.batch, len(s.crude_imports_mbd)))
    risk[:, s.layout.index.b_buyer] = (world.product_ban * s.p("world.product_ban_cost_usd")
                      + world.eu_secondary_on_ind * s.p("world.eu_secondary_cost_usd"))
    return risk


def clear_crude_market(world: World, s: Structure):
    """Find the FOB discount at which buyers take Russia's exports.

    The zero of excess demand (:class:`CrudeDemand`) is bracketed on :data:`DISCOUNT_GRID_USD` and
    refined to :data:`CLEARING_TOLERANCE_MBD` by a compiled loop (:mod:`model.crude_kernel`). Russia's supply is short-run
    inelastic (``rus.crude_supply_elasticity`` to its netback).
    If buyers will not take everything even at the top of the grid, Russia sells less (lost
    barrels, which lift Brent); if they want more even at the bottom, the discount stays there
    and shares are scaled down pro rata to the volume on offer.

    Returns
    -------
    fob : (B,) FOB discount, USD/bbl
    shares : (B,K) Russian share of each buyer's crude
    sold_mbd : (B,) Russian crude sold, mb/d
    delivered : (B,K) discount each buyer sees delivered (risk excluded), USD/bbl
    """
    curve = CrudeDemand(world, s)
    c = np.ascontiguousarray  # one compiled specialisation: C-contiguous float arrays (no copy if already)
    fob = np.empty(world.batch)
    clear_rows(DISCOUNT_GRID_USD, c(curve.base_logit), curve.beta, curve.mu, c(curve.keep),
               c(curve.limit), c(curve.capacity), c(curve.target_limit), curve.demand_mbd,
               c(curve.urals_less_cap[:, 0]), c(curve.cap_cost[:, 0]), CAP_SOFTNESS_USD, c(curve.brent[:, 0]),
               curve.supply_scale, curve.supply_elasticity, curve.floor, SUPPLY_FLOOR_WIDTH_USD,
               CLEARING_TOLERANCE_MBD, 50, fob)
    fob_col = fob[:, None]
    shares = curve.shares(fob_col)[:, :, 0]
    supply = curve.supply(fob_col)[:, 0]
    wanted = (shares * s.crude_imports_mbd).sum(axis=1)
    rationed = np.where(wanted > supply, supply / np.maximum(wanted, 1e-12), 1.0)
    delivered = fob_col - curve.fixed_wedge + curve.risk - curve.cap_wedge(fob_col)
    return fob, shares * rationed[:, None], np.minimum(wanted, supply), delivered


# ------------------------------------------------------------------------------- goods trade
def trade_cost(world: World, s: Structure, t_eff: np.ndarray) -> np.ndarray:
    """Iceberg trade-cost index ``(1+t)(1+f) exp(delta s) p_exporter``, (B,N,N).

    India-Russia trade carries a friction ``f`` (payments, insurance, logistics) that the
    corridor and the rupee push each cut by a fraction of the cost, so the factor
    ``(1+f)(1-c_instc)(1-c_push)`` stays positive for every allowed setting (cuts at most 0.5).
    """
    ind_rus = ((1.0 + s.p("world.ind_rus_friction")) * (1.0 - world.instc * s.p("world.instc_cost_cut"))
               * (1.0 - world.rupee_push * s.p("world.rupee_push_cost_cut")))
    # A sanctioned exporter cuts prices to place its goods elsewhere (diversion).
    blocked = (world.sanction * s.export_weights).sum(axis=1)  # (B,N) by exporter
    cost = (1.0 + t_eff) * np.exp(per_world(s.p("world.sanction_cost"), 3) * world.sanction
                                  - per_world(s.p("world.sanction_diversion"), 3) * blocked[:, None, :])
    ix = s.layout.index
    cost[:, ix.buyer, ix.seller] *= ind_rus
    cost[:, ix.seller, ix.buyer] *= ind_rus
    return cost


def target_goods_flows(world: World, s: Structure, cost: np.ndarray) -> np.ndarray:
    """Armington target flows, (B,N,N), USD bn/yr: importers' spending split by CES shares.

    Weights are calibrated so the reference costs reproduce the reference flows; the domestic
    good (cost 1) absorbs what imports lose, so a tariff both diverts and destroys trade.
    """
    import_terms = s.armington_weights * power(cost, -per_world(s.p("world.trade_elasticity"), 3))  # zero diagonal
    denominator = s.domestic_absorption_usd_bn + import_terms.sum(axis=2)           # (B,N)
    years = (world.quarter + 1 - s.start_quarter) / 4.0
    spending = s.absorption_ref_usd_bn * (1.0 + s.nominal_growth) ** years
    return import_terms * (spending / denominator)[:, :, None]


def adjust_goods_flows(world: World, s: Structure, target: np.ndarray) -> np.ndarray:
    """Partial adjustment in logs toward the target (Boehm et al. 2023), (B,N,N).

    ``ln M' = ln M + lam (ln T - ln M)``, i.e. ``M' = M^(1-lam) T^lam``; zero flows stay zero.
    """
    lam = s.p("world.trade_adjustment")
    return world.goods_flow_usd_bn ** (1.0 - lam) * target ** lam


# -------------------------------------------------------------------------------------- arms
def arms_target_shares(world: World, s: Structure) -> np.ndarray:
    """The arms buyer's target split of new arms orders by supplier (logit), (B,A).

    The seller's utility gains from affinity and co-production and loses from the penaliser's
    listings (sanctions risk); each other foreign supplier's gains from affinity and the buyer's
    tilt to the West; the domestic industry's is its base utility and installed base only.
    """
    a = world.affinity
    ix = s.layout.index
    utility = s.arms_base_utility[None, :] + s.p("world.arms_lockin") * world.arms_installed
    utility = utility.copy()
    w_align = s.p("world.arms_alignment_weight")
    utility[:, ix.a_seller] += (w_align * a[:, ix.p_buyer, ix.p_seller]
                                + s.p("world.arms_coproduction_weight") * world.coproduction_offer
                                - s.p("world.arms_caatsa_weight") * world.listed_seller_share * world.secondary_enforcement)
    for k, p in zip(ix.a_western, ix.p_western):
        utility[:, k] += w_align * a[:, ix.p_buyer, p] + world.arms_tilt_west
    utility -= utility.max(axis=1, keepdims=True)
    expu = np.exp(utility)
    return expu / expu.sum(axis=1, keepdims=True)


# -------------------------------------------------------------------------------- settlement
# Judgement calls (not in the settings registry: they only shape the settlement and alignment
# side-stories, and no data pin them down; see docs/model.md):
#: Logit shift of the local-currency target from a full India-Russia trade and rupee push.
SETTLEMENT_PUSH_LOGIT = 1.5
#: Logit shift from Russia reinvesting its rupees (it is then happier to take them).
SETTLEMENT_RECYCLING_LOGIT = 1.0
#: Idle rupees above the start that cut the target by one logit unit (Russia's reluctance), USD bn.
IDLE_RUPEES_PER_LOGIT_USD_BN = 10.0
#: Extra share of the rupee pile spent each quarter when Russia recycles rupees.
RECYCLING_DRAIN_PER_QUARTER = 0.10
#: Coercion felt by India from EU secondary measures at full intensity (as if 20% of its exports were hit).
EU_SECONDARY_COERCION = 0.2
#: Coercion felt by India per unit of (listing x enforcement) per unit of its Russian crude share.
LISTING_COERCION = 0.5


def settlement_target(world: World, s: Structure) -> np.ndarray:
    """Target share of India-Russia payments in rupees/roubles, (B,)."""
    base = s.settlement_base_logit
    balance_excess = (world.rupee_balance_usd_bn - s.p(role_key(s, "crude_seller", "rupee_balance_usd_bn"))
                      ) / IDLE_RUPEES_PER_LOGIT_USD_BN
    # Western sanctions (SWIFT exclusions, dollar clearing) push payments into national currencies.
    west = western_sanction(world, s) - s.western_sanction_ref
    return _sigmoid(base + SETTLEMENT_PUSH_LOGIT * world.rupee_push + SETTLEMENT_RECYCLING_LOGIT * world.rupee_recycling
                    + s.p("world.settlement_sanction_push") * west - balance_excess)


# --------------------------------------------------------------------------------- alignment
def coercion(world: World, s: Structure, t_eff: np.ndarray, flows: np.ndarray) -> np.ndarray:
    """Coercion between each pair of players this quarter, (B,P,P), symmetric.

    A tariff or sanction raised above the scenario's starting level, weighted by the share of
    the target's exports it hits; EU secondary measures on Indian refiners weighted the same way;
    US listings with secondary reach, weighted by India's Russian intake.
    """
    ix = s.layout.index
    n = len(s.layout.players)
    exports = flows.sum(axis=1)  # (B,N) by exporter
    extra = np.maximum(t_eff - s.tariff_eff_ref, 0.0) + np.maximum(world.sanction - s.sanction_ref, 0.0)
    hit = (extra * flows / np.maximum(exports[:, None, :], 1e-9))[:, :n, :n]  # importer coerces exporter
    hit[:, ix.cap_setter, ix.buyer] += world.eu_secondary_on_ind * EU_SECONDARY_COERCION
    listing = world.listed_seller_share * world.secondary_enforcement - s.listing_ref
    hit[:, ix.penaliser, ix.buyer] += np.maximum(listing, 0.0) * world.crude_share[:, ix.b_buyer] * LISTING_COERCION
    return hit + np.transpose(hit, (0, 2, 1))


def bilateral_trade(flows: np.ndarray, players: int) -> np.ndarray:
    """Goods trade between the first ``players`` nodes (the players) both ways, (B,P,P)."""
    t = flows[:, :players, :players]
    return t + np.transpose(t, (0, 2, 1))


# ------------------------------------------------------------------------------------- step


#: Set to 1 to run every step on :func:`step_reference` (NumPy) instead of the compiled kernel:
#: for trying a change to an equation before porting it to :mod:`model.step_kernel`.
REFERENCE_STEP_ENV = "GEOGAME_REFERENCE_STEP"
#: Whether :func:`step` runs the compiled kernel (from the environment at import; a notebook may
#: set ``model.economics.USE_COMPILED_STEP = False`` instead).
USE_COMPILED_STEP = os.environ.get(REFERENCE_STEP_ENV, "0") in ("", "0")


def step(world: World, s: Structure, compiled: bool | None = None) -> World:
    """Return the world one quarter later (does not modify ``world``).

    The new world shares the *instrument* arrays (policies) with ``world``: the economy does not
    change policies, and copying them every quarter was a large part of a step's cost. Call
    ``world.copy()`` first if you keep an old world and then change policies in place.

    Runs the compiled kernel (:mod:`model.step_kernel`), which computes exactly the equations of
    :func:`step_reference`; ``compiled=False`` (or :data:`USE_COMPILED_STEP` false, from the
    environment variable ``GEOGAME_REFERENCE_STEP=1``) runs the NumPy reference instead.

    ``s`` may be a plain structure (every world has it) or a mixed one
    (:func:`geogame.model.world.mixed`): the kernel then steps each world with its own group's
    structure (``s.groups[s.group[b]]``), to the very bits of that world stepped alone with it.
    """
    if not (USE_COMPILED_STEP if compiled is None else compiled):
        if s.group is None:
            return step_reference(world, s)
        return _step_each_group(world, s)
    w = world
    q = world.quarter + 1
    c = np.ascontiguousarray  # one compiled specialisation: C-contiguous arrays (no copy if already)
    # The kernel reads each world's group (a plain structure is one group): the groups' constants
    # and arrays stacked once per groups tuple (step_kernel.GroupInputs), this quarter's once.
    groups = s.groups
    inputs = step_kernel.group_inputs(groups, kernel_constants)
    brent_ref, spending, pull_class = inputs.quarter(
        q, lambda g, quarter: g.reference_brent(quarter),   # as in CrudeDemand and target_goods_flows
        lambda g, quarter: g.absorption_ref_usd_bn * (1.0 + g.nominal_growth) ** ((quarter - g.start_quarter) / 4.0))
    group = np.zeros(world.batch, dtype=np.int64) if s.group is None else c(s.group, dtype=np.int64)
    new_state = step_kernel.allocate_outputs(world)
    step_kernel.step_rows(
        inputs.k, inputs.roles, group, inputs.curve_class, pull_class, brent_ref, spending, DISCOUNT_GRID_USD,
        *inputs.structure,
        *(c(getattr(w, name)) for name in step_kernel.WORLD_INPUTS),
        *new_state.values())
    new = world.shallow_copy()
    new.__dict__.update(new_state)
    new.quarter = q
    new.deal_bump = np.zeros_like(world.deal_bump)
    return new


def _step_each_group(world: World, s: Structure) -> World:
    """:func:`step_reference` of a mixed batch: the worlds of each group stepped with the group's
    own structure (the NumPy reference reads its settings as numbers), put back in their rows."""
    new = world.copy()
    for g, structure in enumerate(s.groups):
        rows = np.flatnonzero(s.group == g)
        if len(rows):
            part = step_reference(world.take_rows(rows), structure)
            for name, value in vars(part).items():
                if isinstance(value, np.ndarray):
                    getattr(new, name)[rows] = value
            new.quarter = part.quarter
    return new


def kernel_constants(s: Structure) -> step_kernel.KernelConstants:
    """The settings and constants the compiled step reads for one plain structure, as one named
    record of numbers, computed once per structure (:func:`geogame.model.step_kernel.constants`;
    two records compare with ``==``). The kernel reads the records of a batch's groups stacked
    (:func:`geogame.model.step_kernel.stack_constants`).

    Raises
    ------
    ValueError
        If ``s`` is a mixed structure (:func:`geogame.model.world.mixed`): take each of ``s.groups``.
    """
    k = s.__dict__.get("_kernel_constants")
    if k is None:
        if s.group is not None:
            raise ValueError("kernel_constants: a mixed structure has no one record; take each of its groups")
        k = step_kernel.constants(s, {name: globals()[name] for name in step_kernel.KERNEL_ECONOMICS_CONSTANTS},
                                  crude_supply_scale(s))
        s.__dict__["_kernel_constants"] = k   # a frozen dataclass's __dict__ may hold a cache
    return k


def intermediated_now(world: World) -> np.ndarray:
    """Share of listed barrels that intermediaries carry once this quarter's listings apply, (B,).

    Barrels of newly listed sellers start with no intermediary: the share intermediated is
    diluted by the growth of the listing intensity since last quarter.
    """
    now = listing_intensity(world)
    return world.intermediated * np.minimum(world.listing_last / np.maximum(now, 1e-12), 1.0)


def step_reference(world: World, s: Structure) -> World:
    """:func:`step` in NumPy over the batch: the model's equations as specified (see module docstring)."""
    new = world.shallow_copy()
    new.quarter = world.quarter + 1
    active = penalty_active(world, s)
    new.penalty_active = active
    t_eff = effective_tariff(world, s, active)

    # Listings: barrels of newly listed sellers start with no intermediary.
    current = world.shallow_copy()
    current.intermediated = intermediated_now(world)

    # Crude: clear the market, then Brent reacts to barrels Russia could not sell, less what
    # other producers have added since (spare capacity and other supply respond within quarters).
    fob, shares, sold, delivered = clear_crude_market(current, s)
    lost = np.maximum(s.p(role_key(s, "crude_seller", "crude_exports_mbd")) - sold, 0.0)  # barrels the world no longer gets
    replaced = world.oil_replacement_mbd + s.p("world.oil_supply_response") * (lost - world.oil_replacement_mbd)
    brent = (s.reference_brent(new.quarter) * (1.0 + world.oil_supply_shock)
             * np.exp(s.p("world.brent_supply_multiplier") * (lost - replaced) / s.p("world.world_oil_supply_mbd")))
    new.fob_discount_usd = fob
    new.crude_share = shares
    new.delivered_discount_usd = delivered
    new.brent_usd = brent
    new.rus_crude_sold_mbd = sold
    new.oil_replacement_mbd = replaced
    full_share = shares / world.crude_capacity
    new.relationship = world.relationship + s.p("world.relationship_build") * (
        s.p("world.relationship_max") * full_share - world.relationship)
    # Capacity for Russian crude grows where it comes cheap, over years (teapot quotas, contracts).
    cheap = np.maximum(delivered, 0.0)
    capacity_target = s.capacity_floor + s.capacity_extra * cheap / (cheap + CAPACITY_HALF_DISCOUNT_USD)
    new.crude_capacity = world.crude_capacity + s.p("world.capacity_adjustment") * (
        capacity_target - world.crude_capacity)
    # Intermediaries take over listed sellers' barrels; the shadow fleet grows while Western
    # services are withdrawn and shrinks with vessel listings (cap enforcement).
    new.intermediated = current.intermediated + s.p("world.intermediary_rate") * (1.0 - current.intermediated)
    new.listing_last = listing_intensity(world)
    western = western_sanction(world, s)
    shadow_target = s.p("world.shadow_fleet_max") * western * (1.0 - VESSEL_LISTING_BITE * world.cap_enforcement)
    new.shadow_fleet_share = world.shadow_fleet_share + s.p("world.shadow_fleet_growth") * (
        shadow_target - world.shadow_fleet_share)

    # Goods trade.
    cost = trade_cost(world, s, t_eff)
    new.goods_flow_usd_bn = adjust_goods_flows(world, s, target_goods_flows(world, s, cost))

    # Arms: orders move toward the logit target; pipeline and inventory follow with lags.
    mu = s.p("world.arms_adjustment")
    new.arms_order_share = world.arms_order_share + mu * (arms_target_shares(world, s) - world.arms_order_share)
    lag = s.p("world.arms_delivery_lag_quarters")
    new.arms_pipeline = world.arms_pipeline + (new.arms_order_share - world.arms_pipeline) / lag
    turnover = 1.0 / (4.0 * s.p("world.arms_fleet_life_years"))
    new.arms_installed = world.arms_installed + turnover * (new.arms_pipeline - world.arms_installed)

    # Settlement: the local-currency share moves toward its target; idle rupees pile up.
    new.settlement_local_share = world.settlement_local_share + s.p("world.settlement_adjustment") * (
        settlement_target(world, s) - world.settlement_local_share)
    ix = s.layout.index
    crude_value_to_ind = (s.crude_imports_mbd[ix.b_buyer] * shares[:, ix.b_buyer] * BN_PER_MBD_USD
                          * (brent - new.delivered_discount_usd[:, ix.b_buyer]))
    surplus = (crude_value_to_ind + new.goods_flow_usd_bn[:, ix.buyer, ix.seller]
               - new.goods_flow_usd_bn[:, ix.seller, ix.buyer])
    inflow = new.settlement_local_share * s.p("world.rupee_unspent_fraction") * surplus / 4.0
    drain = s.p("world.rupee_drain") + RECYCLING_DRAIN_PER_QUARTER * world.rupee_recycling
    # A deficit is paid from the pile only as far as the pile goes (the rest in other currencies).
    new.rupee_balance_usd_bn = np.maximum(world.rupee_balance_usd_bn * (1.0 - drain) + inflow, 0.0)

    # Alignment: drift in atanh space toward the anchor, pushed by coercion, trade and deals.
    players = len(s.layout.players)
    off = ~np.eye(players, dtype=bool)
    z = np.where(off, np.arctanh(np.where(off, world.affinity, 0.0)), 0.0)
    z_anchor = s.affinity_anchor_atanh
    trade_change = np.log(np.maximum(bilateral_trade(new.goods_flow_usd_bn, players), 1e-9)) - np.log(
        np.maximum(bilateral_trade(world.goods_flow_usd_bn, players), 1e-9))
    # Coercion: a new measure costs affinity at once (and lifting one wins it back); measures
    # that last lower the level affinity drifts back to, so a lasting measure sours relations to
    # a new, finite level instead of draining them quarter after quarter.
    felt = coercion(world, s, t_eff, new.goods_flow_usd_bn)
    z = (z + s.p("world.alignment_anchor_pull") * (z_anchor - s.p("world.alignment_coercion_lasting") * felt - z)
         - s.p("world.alignment_coercion") * (felt - world.coercion_last)
         + s.p("world.alignment_trade") * trade_change
         + s.p("world.alignment_deal") * world.deal_bump)
    new.coercion_last = felt
    z_limit = np.arctanh(AFFINITY_LIMIT)
    new.affinity = np.where(off[None], np.tanh(np.clip(z, -z_limit, z_limit)), 1.0)
    new.deal_bump = np.zeros_like(world.deal_bump)
    return new


# ----------------------------------------------------------------------------------- metrics
def metrics(world: World, s: Structure) -> dict[str, np.ndarray]:
    """The quarterly table's columns for each world in the batch (arrays of shape (B,)).

    Columns are named after today's roles (``ind`` the arms buyer, ``rus`` the crude seller,
    ``usa`` the penaliser, ``eu`` the cap setter): the names are the declared outcomes of
    :mod:`geogame.model.outcomes`, a contract with scenario files and validation targets.
    """
    m: dict[str, np.ndarray] = {}
    lay = s.layout
    ix = lay.index
    u = utility_metrics(world, s)  # the formulas the agents read are written once, there
    flows = world.goods_flow_usd_bn
    ind_crude = s.crude_imports_mbd[..., ix.b_buyer]
    rus_to_ind_mbd = ind_crude * world.crude_share[:, ix.b_buyer]
    delivered_ind = world.delivered_discount_usd[:, ix.b_buyer]
    m["tariff_usa_on_ind"] = u["tariff_usa_on_ind"]
    m["oil_penalty_in_force"] = world.penalty_active * (world.oil_penalty > 0)
    m["crude_share_ind_from_rus"] = world.crude_share[:, ix.b_buyer]
    m["crude_imports_ind_mbd"] = np.broadcast_to(ind_crude, (world.batch,)).astype(float)
    m["crude_imports_ind_from_rus_mbd"] = rus_to_ind_mbd
    m["crude_share_row_from_rus"] = world.crude_share[:, ix.b_rest]
    m["crude_share_eu_from_rus"] = world.crude_share[:, ix.b_cap_setter]
    m["crude_capacity_row_for_rus"] = world.crude_capacity[:, ix.b_rest]
    m["listing_access_ind"] = listing_access(world, s)[:, ix.b_buyer]
    m["shadow_fleet_share"] = world.shadow_fleet_share
    m["oil_supply_replaced_mbd"] = world.oil_replacement_mbd
    m["brent_usd"] = world.brent_usd
    m["urals_price_fob_usd"] = world.brent_usd - world.fob_discount_usd
    m["urals_discount_fob_usd"] = world.fob_discount_usd
    m["urals_discount_delivered_ind_usd"] = delivered_ind
    m["price_cap_usd"] = world.price_cap_usd
    m["rus_crude_exports_mbd"] = world.rus_crude_sold_mbd
    m["russia_crude_revenue_usd_bn"] = u["russia_crude_revenue_usd_bn"]
    m["india_oil_savings_usd_bn"] = u["india_oil_savings_usd_bn"]
    crude_value = rus_to_ind_mbd * BN_PER_MBD_USD * (world.brent_usd - delivered_ind)
    m["exports_ind_to_rus_usd_bn"] = flows[:, ix.seller, ix.buyer]
    m["exports_rus_to_ind_usd_bn"] = flows[:, ix.buyer, ix.seller] + crude_value
    m["trade_ind_rus_usd_bn"] = m["exports_ind_to_rus_usd_bn"] + m["exports_rus_to_ind_usd_bn"]
    m["exports_ind_to_usa_usd_bn"] = flows[:, ix.penaliser, ix.buyer]
    m["exports_ind_to_eu_usd_bn"] = flows[:, ix.cap_setter, ix.buyer]
    m["exports_usa_to_ind_usd_bn"] = flows[:, ix.buyer, ix.penaliser]
    m["arms_share_ind_from_rus"] = u["arms_share_ind_from_rus"]
    pipe_imports = world.arms_pipeline[:, ix.a_seller]
    for k in ix.a_western:
        pipe_imports = pipe_imports + world.arms_pipeline[:, k]
    m["arms_delivery_share_ind_from_rus"] = world.arms_pipeline[:, ix.a_seller] / pipe_imports
    m["arms_share_ind_domestic"] = u["arms_share_ind_domestic"]
    m["arms_sales_rus_to_ind_usd_bn"] = world.arms_pipeline[:, ix.a_seller] * s.p("world.arms_orders_usd_bn")
    m["settlement_local_share_ind_rus"] = world.settlement_local_share
    m["rupee_balance_usd_bn"] = world.rupee_balance_usd_bn
    for i, j in lay.pairs:
        m[f"alignment_{lay.players[i]}_{lay.players[j]}"] = world.affinity[:, i, j]
    m["india_autonomy"] = u["india_autonomy"]
    return m


#: The metrics the agents' utilities read (computed alone in the look-ahead, where speed matters).
UTILITY_METRICS = ("tariff_usa_on_ind", "russia_crude_revenue_usd_bn", "india_oil_savings_usd_bn",
                   "arms_share_ind_from_rus", "arms_share_ind_domestic", "india_autonomy")


def utility_metrics(world: World, s: Structure) -> dict[str, np.ndarray]:
    """Just the :data:`UTILITY_METRICS` (cheap enough for the look-ahead; :func:`metrics` uses them too)."""
    ix = s.layout.index
    rus_to_ind_mbd = s.crude_imports_mbd[..., ix.b_buyer] * world.crude_share[:, ix.b_buyer]
    orders = world.arms_order_share
    foreign = orders[:, ix.a_seller]
    for k in ix.a_western:
        foreign = foreign + orders[:, k]
    return {
        "tariff_usa_on_ind": statutory_tariff_usa_on_ind(world, world.penalty_active),
        # Russia's netback: all barrels at the FOB price, less the extra discount it grants India.
        "russia_crude_revenue_usd_bn": BN_PER_MBD_USD * (
            world.rus_crude_sold_mbd * (world.brent_usd - world.fob_discount_usd)
            - rus_to_ind_mbd * world.extra_discount_ind_usd),
        "india_oil_savings_usd_bn": rus_to_ind_mbd * BN_PER_MBD_USD * world.delivered_discount_usd[:, ix.b_buyer],
        "arms_share_ind_from_rus": orders[:, ix.a_seller] / foreign,
        "arms_share_ind_domestic": orders[:, ix.a_domestic],
        "india_autonomy": india_autonomy(world, s),
    }


def india_autonomy(world: World, s: Structure) -> np.ndarray:
    """India's strategic autonomy in [0, 1]: diversification of crude, arms and export markets.

    The mean of three diversification indices, times the balance of India's affinity to the US
    and Russia:

    * crude: ``1 - HHI`` over *all* its crude suppliers, Russia (share ``s``) and the others in
      their observed proportions (``ind.crude_other_suppliers_hhi = c``, the HHI among the
      non-Russian suppliers): ``HHI = s**2 + (1 - s)**2 c``, rescaled by its largest value
      ``1 / (1 + c)`` (reached at ``s = c / (1 + c)``, about 12%). Cutting a dominant supplier
      raises it; cutting Russia to nothing lowers it a little (the Gulf suppliers then weigh more);
    * arms: ``1 - HHI`` over its ``A`` suppliers (the seller, the others, domestic), rescaled by
      its largest value ``(A-1)/A``;
    * exports: ``1 - HHI`` over the ``N`` nodes' markets, rescaled by ``(N-1)/N``.

    The balance is between its affinity to the penaliser and to the seller.
    """
    ix = s.layout.index
    share = world.crude_share[:, ix.b_buyer]
    others = s.p(role_key(s, "arms_buyer", "crude_other_suppliers_hhi"))
    crude = (1.0 + others) * (1.0 - share * share - (1.0 - share) ** 2 * others)
    orders = world.arms_order_share
    n_arms = orders.shape[1]
    arms = (1.0 - (orders * orders).sum(axis=1)) / ((n_arms - 1) / n_arms)
    markets = world.goods_flow_usd_bn[:, :, ix.buyer]
    n_markets = markets.shape[1]
    total = np.maximum(markets.sum(axis=1), 1e-9)
    exports = (1.0 - (markets * markets).sum(axis=1) / (total * total)) / ((n_markets - 1) / n_markets)
    balance = 1.0 - np.abs(world.affinity[:, ix.p_buyer, ix.penaliser]
                           - world.affinity[:, ix.p_buyer, ix.p_seller]) / 2.0
    return (crude + arms + exports) / 3.0 * balance
