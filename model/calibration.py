"""Calibrated starting states: December 2025 (``dec2025``) and pre-war 2021Q4 (``prewar2021``).

Each *base* lists observed figures (with source and date) and the structural numbers the model
needs (with whether each is data, derived or judgement), including the policies that were in
force then (:func:`base_settings`). :func:`build` turns a base plus the validated settings into
the initial :class:`~model.world.World` and the run's :class:`~model.world.Structure`.

**Calibrate once, then apply changes.** The crude-share intercepts, the Armington reference
costs and the arms utilities are solved from the base's *observed* policies, so that the starting
state is what the data say. A scenario's or a user's policy settings (every key of
:data:`model.instruments.INSTRUMENTS`) that differ from what was observed are then applied to
that calibrated world as policy changes, which act from the first quarter. Only state and
behavioural settings (India's Russian share at the start, Russia's export volume, elasticities,
...) enter the calibration itself.

The base data are rows of CSV files in ``model/data`` (each with its source), one row per node
(or pair of nodes, or arms supplier) and base, so that a new player brings its own rows:

* ``nodes.csv``: per node, whatever the base: nominal growth, default tariff, crude capacity
  floor, refusal of listed sellers' barrels, extra freight;
* ``base_nodes.csv``: per base and node: GDP, crude imports, refinery capacity for the seller's
  crude, its observed crude (mb/d or a token share) and a fixed crude intercept where the data
  hide it;
* ``base_flows.csv``: per base and pair: goods flows, the tariff they were observed at, fixed tariffs;
* ``base_affinity.csv``: per base and pair of players: affinity at the start;
* ``base_arms.csv``: per base and arms supplier: the arms buyer's orders, inventory and pipeline.

Trade flows are *other goods* (not crude oil, not arms), USD bn a year, importer from exporter.
Flows involving the rest of the world are residuals of the countries' totals (low confidence,
they matter only as the place diverted trade goes).
"""
from __future__ import annotations

import csv
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from types import SimpleNamespace

import numpy as np

from . import layout as layouts
from . import parameters
from .calendar import parse_quarter
from .instruments import INSTRUMENTS, set_instrument
from .world import Structure, World

#: The starting states: quarter, description and the base-wide numbers (the per-node rows are in
#: ``model/data/base_*.csv``), and the policies observed then where they differ from the
#: registry's defaults (the December 2025 policies).
BASES = {
    "dec2025": {
        "quarter": "2025Q4",
        "description": "State of December 2025 (summit, 50% US tariff, cap $47.60, Rosneft/Lukoil listed)",
        # Quarters of partial adjustment the 2025 tariffs have had by December (7/27 Aug to Dec).
        "pre_adjustment_quarters": 1.5,
        "fob_discount_usd": 22.0,      # Urals FOB discount at Russian ports, Reuters/Argus assessments, Dec 2025
        # Share of the listed sellers' barrels moving through unlisted intermediaries: the January
        # 2025 listings (Gazprom Neft, Surgutneftegas) had been intermediated for most of 2025;
        # Rosneft's and Lukoil's barrels (wind-down to 21 Nov 2025) had barely started (judgement).
        "intermediated": 0.5,
        # Shadow tankers carried about 60-70% of Russia's seaborne crude in 2024-25 (KSE Institute
        # shadow-fleet tracker; Kpler): judgement within that range.
        "shadow_fleet_share": 0.6,
        # The registry's defaults are the policies observed in December 2025.
        "observed": {},
    },
    "prewar2021": {
        "quarter": "2021Q4",
        "description": "Pre-war state of 2021Q4, for the hindcast",
        "pre_adjustment_quarters": 0.0,
        "fob_discount_usd": 2.5,       # Urals traded about $1-3 below Brent before the war (judgement)
        "intermediated": 0.0,
        "shadow_fleet_share": 0.05,    # a few old tankers served Iran and Venezuela (judgement)
        # Policies and state observed in 2021Q4 (where they differ from the December 2025 defaults).
        "observed": {
            "usa.base_tariff_on_ind": 0.03,        # MFN-level average before 2025 (judgement)
            "usa.oil_penalty_tariff_on_ind": 0.0,
            "usa.tariff_on_eu": 0.02,
            "usa.tariff_on_row": 0.06,             # incl. s.301 tariffs on China (judgement)
            "usa.crude_embargo": 0.0,
            "usa.listed_seller_share": 0.0,
            "usa.secondary_enforcement": 0.0,
            "usa.sanction_intensity_on_rus": 0.10,  # 2014 sectoral sanctions (judgement)
            "eu.price_cap_usd": 200.0,             # no cap before Dec 2022 (200 never binds)
            "eu.cap_enforcement": 0.0,
            "eu.crude_embargo": 0.0,
            "eu.sanction_intensity_on_rus": 0.10,
            "ind.crude_share_from_rus": 0.01,      # Kpler, calendar 2021 (calibration_targets.csv)
            "ind.crude_imports_mbd": 4.3,          # PPAC FY2021-22, 212 Mt
            "rus.crude_exports_mbd": 4.8,          # IEA 2021, about 4.7-5.0 mb/d
            "rus.settlement_local_share": 0.25,    # mostly USD before the war (judgement)
            "rus.rupee_balance_usd_bn": 0.0,
        },
    },
}


def _rows(name: str) -> list[dict]:
    """The rows of ``model/data/<name>`` (a CSV file with a header), as dicts of text."""
    with resources.files("geogame.model").joinpath("data", name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=None)
def base_data(base_name: str) -> dict:
    """The per-node data of base ``base_name`` from ``model/data``, by table and key.

    Returns a dict with ``nodes`` (node -> row of ``nodes.csv``), ``base_nodes`` (node -> row of
    ``base_nodes.csv``), ``flows`` ((importer, exporter) -> row of ``base_flows.csv``),
    ``affinity`` ((a, b) -> value) and ``arms`` (supplier -> row of ``base_arms.csv``); only rows
    of this base.
    """
    return {
        "nodes": {r["node"]: r for r in _rows("nodes.csv")},
        "base_nodes": {r["node"]: r for r in _rows("base_nodes.csv") if r["base"] == base_name},
        "flows": {(r["importer"], r["exporter"]): r for r in _rows("base_flows.csv") if r["base"] == base_name},
        "affinity": {(r["a"], r["b"]): float(r["affinity"]) for r in _rows("base_affinity.csv")
                     if r["base"] == base_name},
        "arms": {r["supplier"]: r for r in _rows("base_arms.csv") if r["base"] == base_name},
    }


def _number(row: dict | None, column: str, default: float | None = None) -> float | None:
    """A number from a data row (``default`` where the row or the cell is empty)."""
    text = (row or {}).get(column, "") or ""
    return float(text) if text.strip() else default


def _node_column(data: dict, table: str, nodes, column: str, default: float | None = None) -> np.ndarray:
    """One column of a per-node table over ``nodes``, as an array; a missing row or cell is an
    error unless ``default`` is given."""
    values = []
    for node in nodes:
        value = _number(data[table].get(node), column, default)
        if value is None:
            raise layouts.LayoutError(f"model/data: no {column} for {node!r} in {table}.csv")
        values.append(value)
    return np.array(values, dtype=float)


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def _matrix(entries: dict, nodes, default: float = 0.0) -> np.ndarray:
    """An (N,N) matrix over ``nodes`` from ``{(importer, exporter): value}`` (zero diagonal)."""
    n = len(nodes)
    m = np.full((n, n), default)
    np.fill_diagonal(m, 0.0)
    for (i, j), v in entries.items():
        m[nodes.index(i), nodes.index(j)] = v
    return m


def _instruments(values: dict[str, float], data: dict, lay: layouts.Layout) -> dict[str, np.ndarray]:
    """Every policy array of a single-world batch (B = 1), by World field name.

    Cells no setting names hold the base's fixed policies (each importer's default tariff from
    ``nodes.csv``, fixed tariffs of ``base_flows.csv`` such as US column-2 tariffs on Russia since
    2022); every setting reaches its cell through the one declaration of where it lives,
    :data:`geogame.model.instruments.INSTRUMENTS` (with the sanctions mirror), as events and moves do.
    """
    shapes = {spec.field: spec.shape(lay) for spec in INSTRUMENTS.values()}
    arrays = SimpleNamespace(layout=lay, **{name: np.zeros((1,) + shape) for name, shape in shapes.items()})
    default = _node_column(data, "nodes", lay.nodes, "default_tariff")
    for i in range(len(lay.nodes)):
        arrays.tariff[0, i, :] = default[i]
    for (importer, exporter), row in data["flows"].items():
        fixed = _number(row, "fixed_tariff")
        if fixed is not None:
            arrays.tariff[0, lay.node(importer), lay.node(exporter)] = fixed
    np.fill_diagonal(arrays.tariff[0], 0.0)
    for key in INSTRUMENTS:
        set_instrument(arrays, key, values[key])
    return {name: value for name, value in vars(arrays).items() if name != "layout"}


def base_settings(base_name: str) -> dict[str, float]:
    """Every setting as observed at the start of ``base_name``: the registry's defaults (December
    2025) overlaid with the base's own observations. Scenarios and users change these."""
    return {**parameters.defaults(), **BASES[base_name]["observed"]}


def build(base_name: str, values: dict[str, float], brent_path: dict[int, float] | None = None,
          layout: layouts.Layout | None = None):
    """Return ``(world, structure)`` for a base and a full set of validated settings.

    The world is a single-world batch (B = 1) describing the end of the base quarter. It is
    calibrated to the base's observed policies; policy settings in ``values`` that differ from
    them are then set on the world as changes that act from the first quarter (see the module
    docstring). ``layout`` (default: the installed players') says which nodes there are and who
    plays which role; both the world and the structure carry it.
    """
    lay = layout if layout is not None else layouts.current()
    observed = base_settings(base_name)
    calibration_values = {**values, **{key: observed[key] for key in INSTRUMENTS}}
    world, structure = _calibrate(base_name, calibration_values, brent_path, lay)
    structure = replace(structure, params=dict(values))
    for key in INSTRUMENTS:
        if values[key] != observed[key]:
            set_instrument(world, key, values[key])
    return world, structure


def _start_crude(v: dict, data: dict, lay: layouts.Layout, embargo: np.ndarray):
    """Buyers' crude imports, mb/d, and the seller's share of each at the start, (K,) each.

    The arms buyer's imports and share come from its settings (``<code>.crude_imports_mbd``,
    ``<code>.crude_share_from_rus``); a buyer with an observed ``seller_crude_mbd`` takes that;
    one with a token ``seller_share`` takes it unless it bars all of the seller's crude; the rest
    of the world takes what is left of the seller's exports. Returns ``(imports, shares,
    rest_mbd, taken_mbd)``, ``taken_mbd`` being what the buyers but the rest take.
    """
    buyer = lay.arms_buyer
    buyers = lay.crude_buyers
    imports = {}
    for b in buyers:
        if b == buyer:
            imports[b] = v[f"{buyer}.crude_imports_mbd"]
        else:
            imports[b] = _number(data["base_nodes"].get(b), "crude_imports_mbd")
            if imports[b] is None:
                raise layouts.LayoutError(f"model/data: no crude_imports_mbd for {b!r} in base_nodes.csv")
    supply = v[f"{lay.crude_seller}.crude_exports_mbd"]
    shares = {buyer: v[f"{buyer}.crude_share_from_rus"]}
    # What each buyer takes, subtracted in this order: the arms buyer, observed volumes, token shares.
    taken = [shares[buyer] * imports[buyer]]
    for b in buyers:
        mbd = _number(data["base_nodes"].get(b), "seller_crude_mbd")
        if b != buyer and mbd is not None:
            shares[b] = mbd / imports[b]
            taken.append(mbd)
    for b in buyers:
        if b in shares or b == layouts.REST:
            continue
        token = _number(data["base_nodes"].get(b), "seller_share", 0.0)
        shares[b] = 0.0 if embargo[lay.buyer(b)] >= 1 else token
        taken.append(shares[b] * imports[b])
    rest_mbd = supply
    for mbd in taken:
        rest_mbd = rest_mbd - mbd
    shares[layouts.REST] = rest_mbd / imports[layouts.REST]
    return (np.array([imports[b] for b in buyers]), np.array([shares[b] for b in buyers]), rest_mbd,
            sum(taken[:2]) if len(taken) > 1 else taken[0])


def _calibrate(base_name: str, values: dict[str, float], brent_path: dict[int, float] | None,
               lay: layouts.Layout):
    """The calibrated start of ``base_name`` under ``values`` (policies as observed)."""
    # Imported here, not at the top: the economics loads numba and its compiled step (about 0.3 s),
    # which reading the scenarios and the base data (``import geogame``) does not need.
    from .economics import (CrudeDemand, _buyer_risk, arms_target_shares, effective_tariff, penalty_active,
                            target_goods_flows, trade_cost)

    base = BASES[base_name]
    data = base_data(base_name)
    start = parse_quarter(base["quarter"])
    v = dict(values)
    ix = lay.index
    buyer, seller, rest = lay.arms_buyer, lay.crude_seller, layouts.REST
    b_buyer, b_rest = ix.b_buyer, ix.b_rest

    def one(x) -> np.ndarray:
        return np.array([float(x)])

    instruments = _instruments(v, data, lay)
    crude_imports_mbd, crude_share, row_mbd, taken = _start_crude(v, data, lay, instruments["crude_embargo"][0])
    supply = v[f"{seller}.crude_exports_mbd"]
    ind_share = v[f"{buyer}.crude_share_from_rus"]
    if row_mbd <= 0:
        raise parameters.SettingError(
            f"{seller}.crude_exports_mbd = {supply:g} is less than the named buyers alone take at the start "
            f"({taken:.2f} mb/d at {buyer}.crude_share_from_rus = {ind_share:g}); allowed: more than "
            f"{taken:.2f}, or a lower {buyer}.crude_share_from_rus")
    suitability = _node_column(data, "base_nodes", lay.crude_buyers, "crude_capacity")
    if crude_share[b_rest] > suitability[b_rest]:
        raise parameters.SettingError(
            f"{seller}.crude_exports_mbd = {supply:g} leaves {row_mbd:.2f} mb/d for the rest of the world, more "
            f"than its refineries can run ({suitability[b_rest] * crude_imports_mbd[b_rest]:.2f}); allowed up to "
            f"{supply - row_mbd + suitability[b_rest] * crude_imports_mbd[b_rest]:.2f}")
    if ind_share > suitability[b_buyer]:  # a ceiling below the start is a policy change, applied later
        raise parameters.SettingError(
            f"{buyer}.crude_share_from_rus = {ind_share:g} is above what {lay.names[buyer]}'s refineries can run; "
            f"allowed up to {suitability[b_buyer]:g}")

    brent_start = (brent_path or {}).get(start, v["world.brent_usd"]) * (1 + v["world.oil_supply_shock"])
    urals_start = brent_start - base["fob_discount_usd"]
    floor_key = f"{seller}.crude_supply_floor_usd"
    if urals_start <= v[floor_key] + 1.0:
        lowest = (base["fob_discount_usd"] + v[floor_key] + 1.0) / (1 + v["world.oil_supply_shock"])
        raise parameters.SettingError(
            f"world.brent_usd = {v['world.brent_usd']:g} (with world.oil_supply_shock = {v['world.oil_supply_shock']:g}) "
            f"is too low for the {base['quarter']} start: Urals would sell at ${urals_start:.1f} at the port after "
            f"the observed ${base['fob_discount_usd']:g} discount, below {lay.names[seller]}'s shut-in floor "
            f"({floor_key} = {v[floor_key]:g}); allowed from {lowest:.1f}")

    tariff, sanction = instruments["tariff"][0].copy(), instruments["sanction"][0].copy()

    flows_ref = _matrix({k: float(row["value_usd_bn"]) for k, row in data["flows"].items()}, lay.nodes)
    absorption = _node_column(data, "base_nodes", lay.nodes, "absorption_usd_bn")
    growth = _node_column(data, "nodes", lay.nodes, "nominal_growth")
    players = len(lay.players)
    affinity = np.eye(players)
    for (a, b), val in data["affinity"].items():
        i, j = lay.players.index(a), lay.players.index(b)
        affinity[i, j] = affinity[j, i] = val

    arms_orders = _node_column(data, "arms", lay.arms_suppliers, "order_share")
    arms_installed = _node_column(data, "arms", lay.arms_suppliers, "installed_share")
    arms_pipeline = _node_column(data, "arms", lay.arms_suppliers, "pipeline_share")
    penaliser_listing = v[f"{lay.penaliser}.listed_seller_share"] * v[f"{lay.penaliser}.secondary_enforcement"]
    n_buyers = len(lay.crude_buyers)

    world = World(
        quarter=start,
        **instruments,
        deal_accepted=one(0.0),
        goods_flow_usd_bn=flows_ref[None].copy(),
        crude_share=crude_share[None].copy(),
        relationship=(v["world.relationship_max"] * crude_share / suitability)[None],
        fob_discount_usd=one(base["fob_discount_usd"]),
        delivered_discount_usd=np.zeros((1, n_buyers)),
        brent_usd=one(0.0),
        rus_crude_sold_mbd=one(supply),
        arms_order_share=arms_orders[None].copy(),
        arms_installed=arms_installed[None].copy(),
        arms_pipeline=arms_pipeline[None].copy(),
        settlement_local_share=one(v[f"{seller}.settlement_local_share"]),
        rupee_balance_usd_bn=one(v[f"{seller}.rupee_balance_usd_bn"]),
        affinity=affinity[None].copy(),
        penalty_active=one(0.0),
        crude_capacity=suitability[None].copy(),
        oil_replacement_mbd=one(0.0),
        intermediated=one(base["intermediated"]),
        listing_last=one(penaliser_listing),
        shadow_fleet_share=one(base["shadow_fleet_share"]),
        coercion_last=np.zeros((1, players, players)),   # the observed policies are the reference: none felt yet
        deal_bump=np.zeros((1, players, players)),
        layout=lay,
    )
    brent_path = dict(brent_path or {})
    capacity_extra = np.zeros(n_buyers)
    capacity_extra[b_rest] = v["world.row_capacity_extra"]
    provisional = Structure(
        params=v, goods_flow_ref_usd_bn=flows_ref, cost_ref=np.ones((len(lay.nodes), len(lay.nodes))),
        absorption_ref_usd_bn=absorption, nominal_growth=growth, crude_imports_mbd=crude_imports_mbd,
        crude_suitability=suitability, crude_intercept=np.zeros(n_buyers),
        capacity_floor=_node_column(data, "nodes", lay.crude_buyers, "capacity_floor"),
        capacity_extra=capacity_extra,
        listing_refusal=_node_column(data, "nodes", lay.crude_buyers, "listing_refusal"),
        freight_usd=_node_column(data, "nodes", lay.crude_buyers, "freight_usd"),
        arms_base_utility=np.zeros(len(lay.arms_suppliers)), affinity_anchor=affinity, brent_path_usd=brent_path,
        start_quarter=start, tariff_eff_ref=np.zeros((len(lay.nodes), len(lay.nodes))), sanction_ref=sanction,
        listing_ref=penaliser_listing,
        netback_ref_usd=brent_path.get(start, v["world.brent_usd"]) * (1 + v["world.oil_supply_shock"])
        - base["fob_discount_usd"], layout=lay)
    world.brent_usd = one(provisional.reference_brent(start) * (1 + v["world.oil_supply_shock"]))
    world.penalty_active = penalty_active(world, provisional)

    # Crude intercepts: this quarter's target equals the observed share (a steady state).
    curve = CrudeDemand(world, provisional)
    fob0 = world.fob_discount_usd[:, None]
    delivered = (fob0 - curve.fixed_wedge + _buyer_risk(world, provisional) - curve.cap_wedge(fob0))[0]
    world.delivered_discount_usd = delivered[None].copy()
    risk = _buyer_risk(world, provisional)[0]
    beta = v["world.crude_discount_sensitivity"]
    intercept = np.array([
        _logit(crude_share[b] / suitability[b]) - world.relationship[0, b] - beta * (delivered[b] - risk[b])
        for b in range(n_buyers)])
    # Buyers held at zero or at an embargo limit: the intercept describes what they would buy
    # without the embargo (base_nodes.csv crude_intercept: the EU as before the war; US refiners
    # took little Russian crude).
    for b, code in enumerate(lay.crude_buyers):
        fixed = _number(data["base_nodes"].get(code), "crude_intercept")
        if fixed is not None:
            intercept[b] = fixed

    # Trade: reference costs at the tariffs the reference flows were observed at.
    ref_tariff = tariff.copy()
    for (i, j), row in data["flows"].items():
        observed_at = _number(row, "reference_tariff")
        if observed_at is not None:
            ref_tariff[lay.node(i), lay.node(j)] = observed_at
    ref_world = world.copy()
    ref_world.tariff = ref_tariff[None]
    ref_world.oil_penalty = one(0.0)
    structure_no_ref = provisional
    cost_ref = trade_cost(ref_world, structure_no_ref, effective_tariff(ref_world, structure_no_ref, one(0.0)))[0]

    # Arms: base utilities so that today's orders are the target.
    tmp = replace(provisional, cost_ref=cost_ref, crude_intercept=intercept)
    raw = arms_target_shares(world, tmp)[0]  # with zero base utilities
    arms_base = np.log(arms_orders) - np.log(raw)
    arms_base -= arms_base[ix.a_domestic]

    t_eff_now = effective_tariff(world, tmp, world.penalty_active)[0]
    structure = replace(tmp, arms_base_utility=arms_base, tariff_eff_ref=t_eff_now)

    # Flows in December 2025 have partly adjusted to the 2025 tariffs.
    q = base["pre_adjustment_quarters"]
    if q > 0:
        target = target_goods_flows(world, structure, trade_cost(world, structure, t_eff_now[None]))[0]
        lam = v["world.trade_adjustment"]
        done = 1.0 - (1.0 - lam) ** q
        positive = flows_ref > 0
        adjusted = np.where(positive, np.exp(np.log(np.where(positive, flows_ref, 1.0)) + done * (
            np.log(np.where(positive, target, 1.0)) - np.log(np.where(positive, flows_ref, 1.0)))), 0.0)
        world.goods_flow_usd_bn = adjusted[None]
    return world, structure
