"""The world's state: policy instruments in force and the economy they act on.

Every array has a leading *batch* axis of length ``B``. The running model holds ``B = 1``;
an agent valuing its candidate moves copies the world ``B = n_moves`` times, applies one move to
each copy and rolls all copies forward together (:func:`geogame.model.economics.step` is vectorised
over the batch). Matrices over nodes are ``[importer, exporter]``; see :mod:`geogame.model.nodes`.

Shapes: ``B`` worlds in the batch, ``N`` nodes (the players and the rest of the world), ``P``
players, ``K`` crude buyers, ``A`` arms suppliers, all from the run's
:class:`~geogame.model.layout.Layout` (``world.layout``, ``structure.layout``).

:class:`Structure` holds what does not change during a run: reference flows and costs the trade
block is calibrated to, buyers' crude demand, intercepts, the Brent path and the parameters.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .layout import Layout


#: USD bn a year per (mb/d * USD/bbl): 365 days / 1,000 (a unit conversion, used by the economics
#: and by the players' utilities).
BN_PER_MBD_USD = 0.365


@dataclass
class World:
    """State of the world at the end of a quarter (batched; see module docstring)."""

    quarter: int
    # --- instruments (policies in force) -------------------------------------------------
    tariff: np.ndarray                  # (B,N,N) statutory base tariff, importer on exporter, fraction
    oil_penalty: np.ndarray             # (B,) US penalty tariff on India while it buys Russian crude
    oil_penalty_threshold: np.ndarray   # (B,) India's Russian share above which the penalty applies
    sanction: np.ndarray                # (B,N,N) goods sanctions, importer on exporter, 0-1
    crude_embargo: np.ndarray           # (B,K) share of Russian crude each buyer bars (CRUDE_BUYERS)
    crude_embargo_announced: np.ndarray  # (B,K) embargo each buyer has announced for later (refiners wind down early)
    price_cap_usd: np.ndarray           # (B,) USD/bbl
    cap_enforcement: np.ndarray         # (B,) 0-1
    listed_seller_share: np.ndarray     # (B,) share of Russian crude sold by listed sellers
    secondary_enforcement: np.ndarray   # (B,) 0-1
    product_ban: np.ndarray             # (B,) EU ban on products refined from Russian crude, 0-1
    eu_secondary_on_ind: np.ndarray     # (B,) EU secondary measures on Indian refiners, 0-1
    crude_ceiling_ind: np.ndarray       # (B,) India's ceiling on its Russian crude share
    extra_discount_ind_usd: np.ndarray  # (B,) Russia's extra discount to India, USD/bbl
    coproduction_offer: np.ndarray      # (B,) Russian co-production offered to India, 0-1
    arms_tilt_west: np.ndarray          # (B,) India's procurement tilt, logit units
    rupee_push: np.ndarray              # (B,) India-Russia trade and rupee push, 0-1
    instc: np.ndarray                   # (B,) corridor in use, 0-1
    rupee_recycling: np.ndarray         # (B,) Russia reinvests rupees, 0-1
    deal_offer: np.ndarray              # (B,) 1 while a US tariff-for-ceiling offer stands
    deal_tariff: np.ndarray             # (B,) total US tariff on India under the offer
    deal_ceiling: np.ndarray            # (B,) Russian crude ceiling India accepts under the offer
    deal_accepted: np.ndarray           # (B,) 1 once India accepted the US offer
    oil_supply_shock: np.ndarray        # (B,) shock to reference Brent, fraction
    # --- economy -------------------------------------------------------------------------
    goods_flow_usd_bn: np.ndarray       # (B,N,N) other goods, importer from exporter, USD bn/yr
    crude_share: np.ndarray             # (B,K) Russian share of each buyer's crude imports
    relationship: np.ndarray            # (B,K) buyers' relationship capital with Russian sellers, logit units
    fob_discount_usd: np.ndarray        # (B,) Urals discount to Brent at Russian ports
    delivered_discount_usd: np.ndarray  # (B,K) discount each buyer sees delivered
    brent_usd: np.ndarray               # (B,)
    rus_crude_sold_mbd: np.ndarray      # (B,)
    arms_order_share: np.ndarray        # (B,A) India's new arms orders by supplier (ARMS_SUPPLIERS)
    arms_installed: np.ndarray          # (B,A) origin of India's inventory
    arms_pipeline: np.ndarray           # (B,A) orders in the delivery pipeline (shares, lagged)
    settlement_local_share: np.ndarray  # (B,)
    rupee_balance_usd_bn: np.ndarray    # (B,)
    affinity: np.ndarray                # (B,P,P) in (-1, 1), symmetric
    penalty_active: np.ndarray          # (B,) 1 where the US oil penalty is being applied
    crude_capacity: np.ndarray          # (B,K) highest Russian share each buyer's refineries can run now
    oil_replacement_mbd: np.ndarray     # (B,) supply others have added to replace lost Russian barrels, mb/d
    intermediated: np.ndarray           # (B,) share of listed sellers' barrels moving through unlisted intermediaries
    listing_last: np.ndarray            # (B,) listing intensity (listed share x enforcement) last quarter
    shadow_fleet_share: np.ndarray      # (B,) share of Russian crude exports carried by the shadow fleet
    coercion_last: np.ndarray           # (B,P,P) coercion felt between each pair of players last quarter
    deal_bump: np.ndarray = field(default=None)  # (B,P,P) affinity gained from deals this quarter
    layout: Layout = field(default=None)  # nodes, buyers, suppliers and roles (geogame.model.layout)

    @property
    def batch(self) -> int:
        """Number of worlds in the batch, ``B`` (1 for the running model)."""
        return self.oil_penalty.shape[0]

    def shallow_copy(self) -> "World":
        """A new World sharing every array with this one (cheap: no ``__init__`` over 40 fields)."""
        new = object.__new__(World)
        new.__dict__.update(self.__dict__)
        return new

    def _with_arrays(self, transform) -> "World":
        new = self.shallow_copy()
        for name, value in self.__dict__.items():
            if isinstance(value, np.ndarray):
                new.__dict__[name] = transform(value)
        return new

    def repeat(self, n: int) -> "World":
        """Return ``n`` independent copies of a single-world batch (``B`` must be 1)."""
        assert self.batch == 1, "repeat() expects a single world"
        return self._with_arrays(lambda a: a.repeat(n, axis=0))  # the method: no NumPy wrapper

    def copy(self) -> "World":
        """A deep copy (every array copied)."""
        return self._with_arrays(np.copy)

    def take_rows(self, rows: np.ndarray) -> "World":
        """A new batch made of the given rows (they may repeat); arrays are copied."""
        return self._with_arrays(lambda a: a[rows])

    def take(self, index: int) -> "World":
        """Return world ``index`` of the batch as a single-world batch."""
        return self._with_arrays(lambda a: a[index:index + 1].copy())


@dataclass(frozen=True)
class Structure:
    """What stays fixed during a run: calibration targets, demand, intercepts, parameters.

    Attributes
    ----------
    params : dict[str, float]
        All settings (see :mod:`geogame.model.parameters`), validated.
    goods_flow_ref_usd_bn : (N,N) reference flows of other goods the Armington weights reproduce.
    cost_ref : (N,N) trade-cost index at which the reference flows were observed.
    absorption_ref_usd_bn : (N,) GDP of each node in the reference year (domestic good's weight).
    nominal_growth : (N,) annual nominal growth of absorption.
    crude_imports_mbd : (K,) crude imports of each buyer (CRUDE_BUYERS).
    crude_suitability : (K,) highest Russian share each buyer's refineries ran at the start
        (the starting value of the state ``World.crude_capacity``).
    capacity_floor : (K,) capacity for Russian crude each buyer keeps whatever the discount.
    capacity_extra : (K,) capacity a buyer adds over time when Russian crude is cheap (the rest
        of the world: Chinese independents, Turkey); reached at a delivered discount far above
        ``CAPACITY_HALF_DISCOUNT_USD``.
    listing_refusal : (K,) share of a listed seller's barrels each buyer's banks and refiners
        refuse at full enforcement until intermediaries take them over.
    crude_intercept : (K,) logit intercept of buyers' Russian share (calibrated at the start).
    freight_usd : (K,) extra freight to each buyer relative to alternative crudes, USD/bbl.
    arms_base_utility : (A,) base attractiveness of each arms supplier, logit units.
    affinity_anchor : (P,P) slow anchor of affinity.
    brent_path_usd : dict quarter -> reference Brent; quarters after the last use the last value,
        quarters without a path use ``world.brent_usd``.
    start_quarter : first quarter of the run (the state at its end is the initial state).
    """

    params: dict
    goods_flow_ref_usd_bn: np.ndarray
    cost_ref: np.ndarray
    absorption_ref_usd_bn: np.ndarray
    nominal_growth: np.ndarray
    crude_imports_mbd: np.ndarray
    crude_suitability: np.ndarray
    capacity_floor: np.ndarray
    capacity_extra: np.ndarray
    listing_refusal: np.ndarray
    crude_intercept: np.ndarray
    freight_usd: np.ndarray
    arms_base_utility: np.ndarray
    affinity_anchor: np.ndarray
    brent_path_usd: dict
    start_quarter: int
    tariff_eff_ref: np.ndarray   # (N,N) effective tariffs at the start (coercion is measured from here)
    sanction_ref: np.ndarray     # (N,N) sanctions at the start
    listing_ref: float = 0.0       # listed share x secondary enforcement at the start
    netback_ref_usd: float = 40.0  # Urals price at the port at the start, USD/bbl (supply reference)
    layout: Layout = None          # nodes, buyers, suppliers and roles (geogame.model.layout)

    # Run constants derived from the fields above, computed once (the economics reads them
    # every quarter). cached_property writes to the instance __dict__, which a frozen dataclass allows.
    @cached_property
    def armington_weights(self) -> np.ndarray:
        """CES weights ``a_ij = M_ij C_ij^eps`` that reproduce the reference flows, (N,N)."""
        return self.goods_flow_ref_usd_bn * self.cost_ref ** self.params["world.trade_elasticity"]

    @cached_property
    def domestic_absorption_usd_bn(self) -> np.ndarray:
        """Each node's spending on its own goods in the reference year, (N,)."""
        return self.absorption_ref_usd_bn - self.goods_flow_ref_usd_bn.sum(axis=1)

    @cached_property
    def export_weights(self) -> np.ndarray:
        """Share of each exporter's reference exports going to each importer, (N,N)."""
        return self.goods_flow_ref_usd_bn / self.goods_flow_ref_usd_bn.sum(axis=0, keepdims=True)

    @cached_property
    def affinity_anchor_atanh(self) -> np.ndarray:
        """The anchor in the atanh space alignment drifts in (diagonal 0), (P,P)."""
        off = ~np.eye(len(self.affinity_anchor), dtype=bool)
        return np.where(off, np.arctanh(np.where(off, self.affinity_anchor, 0.0)), 0.0)

    @cached_property
    def settlement_base_logit(self) -> float:
        """Logit of Russia's starting local-currency settlement share (clipped away from 0 and 1)."""
        share = min(max(self.params["rus.settlement_local_share"], 1e-6), 1 - 1e-6)
        return float(np.log(share / (1 - share)))

    @cached_property
    def western_sanction_ref(self) -> float:
        """Mean goods sanction of the sanctioners (the US and the EU) on the crude seller at the start."""
        ix = self.layout.index
        total = 0.0
        for i in ix.sanctioners:
            total += self.sanction_ref[i, ix.seller]
        return total / len(ix.sanctioners)

    # A structure may stand for a batch whose worlds have structures of their own (runs that
    # differ in a setting of the economy, batched together): :func:`mixed` builds it.
    @property
    def groups(self) -> tuple:
        """The distinct structures of the batch's worlds (``(self,)`` for a plain structure)."""
        return self.__dict__.get("_groups") or (self,)

    @property
    def group(self) -> np.ndarray | None:
        """Which of :attr:`groups` each world of the batch has, (B,) int; ``None`` when every
        world has this structure."""
        return self.__dict__.get("_group")

    def take_rows(self, rows: np.ndarray) -> "Structure":
        """The structure of the worlds ``rows`` of the batch (as :meth:`World.take_rows`): every
        per-world value (a setting given per world, a field :func:`mixed` made per world) taken at
        ``rows``; a structure with none is returned as it is."""
        rows = np.asarray(rows)
        per_world = {k: v[rows] for k, v in self.params.items() if isinstance(v, np.ndarray)}
        if self.group is None and not per_world:
            return self
        new = self.with_params({**self.params, **per_world})
        for name in self.__dict__.get("_per_world", ()):
            new.__dict__[name] = self.__dict__[name][rows]
        if self.group is not None:
            new.__dict__["_group"] = self.group[rows]
        return new

    def with_params(self, params: dict) -> "Structure":
        """This structure with other settings (``params``; a setting may be an array over the
        batch), keeping its per-world fields and groups; a run constant cached from a setting
        that changes is dropped (computed again when read)."""
        new = object.__new__(Structure)
        new.__dict__.update(self.__dict__)
        new.__dict__["params"] = params
        new.__dict__.pop("_kernel_constants", None)
        for cached, key in _CACHED_FROM_SETTINGS.items():
            if params.get(key) is not self.params.get(key) and cached not in self.__dict__.get("_per_world", ()):
                new.__dict__.pop(cached, None)
        return new

    def p(self, key: str) -> float:
        """The value of setting ``key`` for this run (``s.p("world.trade_elasticity")``).

        In a :func:`mixed` structure, a setting the worlds differ in is an array over the batch, (B,).

        Raises
        ------
        KeyError
            If ``key`` is not a setting.
        """
        return self.params[key]

    def reference_brent(self, quarter: int) -> float:
        """Reference Brent for a quarter: the scenario's path where given, else ``world.brent_usd``."""
        return self.brent_path_usd.get(quarter, self.params["world.brent_usd"])


#: Run constants of :class:`Structure` cached from a setting (the one they are computed from).
_CACHED_FROM_SETTINGS = {"armington_weights": "world.trade_elasticity",
                         "settlement_base_logit": "rus.settlement_local_share"}

#: Array fields of :class:`Structure` and its run constants (cached properties) that :func:`mixed`
#: gives per world when the batch's structures differ in them.
PER_WORLD_FIELDS = ("goods_flow_ref_usd_bn", "cost_ref", "absorption_ref_usd_bn", "nominal_growth",
                    "crude_imports_mbd", "crude_suitability", "capacity_floor", "capacity_extra",
                    "listing_refusal", "crude_intercept", "freight_usd", "arms_base_utility", "affinity_anchor",
                    "tariff_eff_ref", "sanction_ref", "listing_ref", "netback_ref_usd",
                    "armington_weights", "domestic_absorption_usd_bn", "export_weights", "affinity_anchor_atanh",
                    "settlement_base_logit", "western_sanction_ref")


def mixed(groups, group: np.ndarray) -> Structure:
    """One structure for a batch of worlds each with a structure of its own.

    World ``b`` has structure ``groups[group[b]]``. What every group shares stays as it is (a
    number, an (N,N) array); what they differ in becomes per world: a setting an array over the
    batch, (B,); an array field one more leading axis, (B, ...) (:data:`PER_WORLD_FIELDS`).
    NumPy code that reads such a value broadcasts it over the batch (see
    :func:`geogame.model.economics.per_world`); the compiled step reads each world's group
    (:attr:`Structure.groups`, :attr:`Structure.group`). The groups must share their layout,
    start quarter and Brent path.

    Parameters
    ----------
    groups : sequence of Structure
        The distinct structures (plain ones), at least one.
    group : (B,) int
        Index into ``groups`` of each world's structure.
    """
    groups = tuple(groups)
    group = np.asarray(group, dtype=np.int64)
    first = groups[0]
    if len(groups) == 1:
        return first
    params = dict(first.params)
    for key in first.params:
        values = [g.params[key] for g in groups]
        if any(isinstance(v, np.ndarray) for v in values):
            raise ValueError(f"mixed: setting {key} is already per world in a group")
        if any(v != values[0] for v in values[1:]):
            params[key] = np.asarray(values, dtype=float)[group]
    out = Structure(**{**{f: getattr(first, f) for f in first.__dataclass_fields__}, "params": params})
    per_world = []
    for name in PER_WORLD_FIELDS:
        values = [np.asarray(getattr(g, name), dtype=float) for g in groups]
        if any(v.shape != values[0].shape or not np.array_equal(v, values[0]) for v in values[1:]):
            out.__dict__[name] = np.stack(values)[group]
            per_world.append(name)
        else:
            out.__dict__[name] = getattr(first, name)
    out.__dict__["_per_world"] = tuple(per_world)
    out.__dict__["_groups"] = groups
    out.__dict__["_group"] = group
    return out
