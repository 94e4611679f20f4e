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

Trade flows are *other goods* (not crude oil, not arms), USD bn a year, importer from exporter.
Flows involving the rest of the world are residuals of the countries' totals (low confidence,
they matter only as the place diverted trade goes).
"""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from . import parameters
from .calendar import parse_quarter
from .instruments import INSTRUMENTS, set_instrument
from .nodes import A_DOM, B_EU, B_IND, B_ROW, B_USA, COUNTRIES, N_NODES, NODES, RUS, USA
from .world import Structure, World

# Flows are written as {(importer, exporter): (value, source)}.
_FLOWS_2024 = {
    ("usa", "ind"): (86.51, "India exports to US FY2024-25, Commerce Ministry via PTI 2025-04-16"),
    ("ind", "usa"): (45.33, "India imports from US FY2024-25, Commerce Ministry via PTI 2025-04-16"),
    ("rus", "ind"): (4.88, "India exports to Russia FY2024-25, DD News via bne IntelliNews 2025-12"),
    # 63.84 imports from Russia less crude: 1.77 mb/d (88 Mt, Kpler) at Brent 78.5 - $3.5 delivered.
    ("ind", "rus"): (15.3, "derived: 63.84 (DD News 2025-12) - crude 1.77 mb/d * 0.365 * $75 = 48.5"),
    ("eu", "ind"): (75.76, "India exports to EU FY2024-25, Rajya Sabha reply via Lokmat 2025-07-25"),
    ("ind", "eu"): (60.77, "derived: India-EU trade 136.53 FY2024-25 (dprjuniversal) - exports 75.76"),
    ("usa", "eu"): (575.0, "EU exports to US 2024 EUR 532bn (Eurostat) at 1.08 USD/EUR"),
    ("eu", "usa"): (361.0, "EU imports from US 2024 EUR 334bn (Eurostat) at 1.08 USD/EUR"),
    ("eu", "rus"): (39.0, "EU imports from Russia 2024 about EUR 36bn (Eurostat), gas included"),
    ("rus", "eu"): (34.0, "EU exports to Russia 2024 about EUR 31.5bn (Eurostat)"),
    ("usa", "rus"): (3.0, "US imports from Russia 2024 about $3.0bn (US Census)"),
    ("rus", "usa"): (0.5, "US exports to Russia 2024 about $0.5bn (US Census)"),
    ("usa", "row"): (2635.0, "residual: US goods imports 2024 $3.3trn (Census) less the above"),
    ("row", "usa"): (1660.0, "residual: US goods exports 2024 $2.07trn (Census) less the above"),
    ("ind", "row"): (461.0, "residual: India imports FY2024-25 $720bn less crude ($137bn) and the above"),
    ("row", "ind"): (270.0, "residual: India exports FY2024-25 $437bn less the above"),
    ("rus", "row"): (260.0, "residual: Russia imports 2024 about $300bn less the above (judgement)"),
    ("row", "rus"): (243.0, "residual: Russia exports 2024 about $420bn less crude and the above (judgement)"),
    ("eu", "row"): (2100.0, "residual: extra-EU imports 2024 EUR 2.58trn (Eurostat) less the above"),
    ("row", "eu"): (2334.0, "residual: extra-EU exports 2024 EUR 2.58trn (Eurostat) less the above"),
}

_FLOWS_2021 = {
    ("usa", "ind"): (76.11, "India exports to US FY2021-22, Commerce Ministry via thefrontierpost 2022-05-29"),
    ("ind", "usa"): (43.31, "India imports from US FY2021-22, same source"),
    ("rus", "ind"): (3.26, "derived: India-Russia trade 13.12 FY2021-22 - imports 9.86 (Tribune 2023-02-16)"),
    ("ind", "rus"): (7.7, "derived: imports from Russia 9.86 FY2021-22 less crude (~0.08 mb/d at $75)"),
    ("eu", "ind"): (65.0, "India exports to EU FY2021-22 about $65bn (Commerce Ministry; approximate, medium confidence)"),
    ("ind", "eu"): (50.0, "EU exports to India 2021 EUR 42bn (Eurostat) at 1.18 USD/EUR"),
    ("usa", "eu"): (472.0, "EU exports to US 2021 EUR 399bn (Eurostat)"),
    ("eu", "usa"): (274.0, "EU imports from US 2021 EUR 232bn (Eurostat)"),
    ("eu", "rus"): (130.0, "EU imports from Russia 2021 EUR 158.5bn less crude about EUR 48bn (Eurostat)"),
    ("rus", "eu"): (105.0, "EU exports to Russia 2021 EUR 89bn (Eurostat)"),
    ("usa", "rus"): (26.0, "US imports from Russia 2021 $29.7bn less crude (US Census)"),
    ("rus", "usa"): (6.4, "US exports to Russia 2021 $6.4bn (US Census)"),
    ("usa", "row"): (2300.0, "residual, judgement (US goods imports 2021 $2.85trn)"),
    ("row", "usa"): (1430.0, "residual, judgement (US goods exports 2021 $1.75trn)"),
    ("ind", "row"): (380.0, "residual, judgement (India imports FY2021-22 $613bn)"),
    ("row", "ind"): (230.0, "residual, judgement (India exports FY2021-22 $422bn)"),
    ("rus", "row"): (180.0, "residual, judgement (Russia imports 2021 $304bn)"),
    ("row", "rus"): (240.0, "residual, judgement (Russia exports 2021 $494bn less crude $110bn)"),
    ("eu", "row"): (1800.0, "residual, judgement (extra-EU imports 2021 EUR 2.13trn)"),
    ("row", "eu"): (1900.0, "residual, judgement (extra-EU exports 2021 EUR 2.18trn)"),
}

BASES = {
    "dec2025": {
        "quarter": "2025Q4",
        "description": "State of December 2025 (summit, 50% US tariff, cap $47.60, Rosneft/Lukoil listed)",
        "flows": _FLOWS_2024,
        # Tariffs at which the reference flows were observed (2024): MFN-level, judgement.
        "reference_tariffs": {("usa", "ind"): 0.03, ("usa", "eu"): 0.015, ("usa", "row"): 0.06},
        # Quarters of partial adjustment the 2025 tariffs have had by December (7/27 Aug to Dec).
        "pre_adjustment_quarters": 1.5,
        # GDP 2024, USD bn (calibration_targets.csv GDP_NOMINAL; ROW = world $110trn less the four).
        "absorption": {"usa": 29200, "rus": 2150, "ind": 3900, "eu": 19350, "row": 55400},
        # Crude imports, mb/d: USA (EIA 2024), India (PPAC FY2024-25), EU (Eurostat 2024),
        # ROW = China 11.1 + Turkey 0.9 + others buying Russian grades (judgement).
        "crude_imports_mbd": {"usa": 6.5, "ind": None, "eu": 9.3, "row": 14.0},
        # Russian share by buyer: India from settings; EU = Druzhba pipeline ~0.2 mb/d (Hungary,
        # Slovakia); ROW = what is left of 4.7 mb/d; US none (embargo).
        "eu_rus_crude_mbd": 0.2,
        "fob_discount_usd": 22.0,      # Urals FOB discount at Russian ports, Reuters/Argus assessments, Dec 2025
        "arms_order_share": {"rus": 0.20, "usa": 0.12, "eu": 0.20, "domestic": 0.48},
        "arms_installed": {"rus": 0.62, "usa": 0.05, "eu": 0.13, "domestic": 0.20},
        # Pipeline: Russia 38% of import deliveries (SIPRI 2020-24: 36%).
        "arms_pipeline": {"rus": 0.21, "usa": 0.10, "eu": 0.24, "domestic": 0.45},
        "affinity": {("usa", "rus"): -0.55, ("usa", "ind"): 0.25, ("usa", "eu"): 0.55,
                     ("rus", "ind"): 0.50, ("rus", "eu"): -0.70, ("ind", "eu"): 0.35},
        # Highest Russian share each buyer's refineries run at the start (see CAPACITY_FLOOR).
        "crude_capacity": {"usa": 0.05, "ind": 0.45, "eu": 0.25, "row": 0.22},
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
        "flows": _FLOWS_2021,
        "reference_tariffs": {},
        "pre_adjustment_quarters": 0.0,
        "absorption": {"usa": 23300, "rus": 1840, "ind": 3150, "eu": 17200, "row": 51000},
        "crude_imports_mbd": {"usa": 6.5, "ind": None, "eu": 9.3, "row": 14.0},
        "eu_rus_crude_mbd": 2.2,       # Eurostat/IEA: EU imported about 2.2 mb/d of Russian crude in 2021
        "fob_discount_usd": 2.5,       # Urals traded about $1-3 below Brent before the war (judgement)
        # Orders: Russia 40% of new import orders (S-400 2018, AK-203 2021, frigates; judgement).
        "arms_order_share": {"rus": 0.25, "usa": 0.12, "eu": 0.25, "domestic": 0.38},
        "arms_installed": {"rus": 0.68, "usa": 0.04, "eu": 0.10, "domestic": 0.18},
        # Pipeline: Russia 44% of import deliveries (SIPRI 2017-21: 46%, 2018-22: 45%).
        "arms_pipeline": {"rus": 0.28, "usa": 0.10, "eu": 0.25, "domestic": 0.37},
        "affinity": {("usa", "rus"): -0.30, ("usa", "ind"): 0.45, ("usa", "eu"): 0.60,
                     ("rus", "ind"): 0.50, ("rus", "eu"): -0.20, ("ind", "eu"): 0.35},
        # Before the war the rest of the world ran about what it bought (2.6 of 14 mb/d; judgement).
        "crude_capacity": {"usa": 0.05, "ind": 0.45, "eu": 0.25, "row": 0.22},
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

#: Annual nominal growth of absorption, USD terms (IMF WEO 2025 projections, rounded; judgement).
NOMINAL_GROWTH = {"usa": 0.045, "rus": 0.04, "ind": 0.10, "eu": 0.035, "row": 0.045}
#: Capacity for Russian crude each buyer keeps whatever the discount (the bases' "crude_capacity"
#: is the starting value of that state). India: its refiners ran at most about 45% Russian crude
#: (IEA, May 2023). Rest of world: China's and Turkey's intake rose only about 0.5 mb/d after 2022
#: (Kpler, Vortexa via Reuters) against India's ~1.8 mb/d (teapot import quotas, ESPO pipeline
#: fixed): from 0.19 of 14 mb/d before the war to about 0.22 by 2025. EU and US: judgement.
#: The rest of the world adds up
#: to ``world.row_capacity_extra`` more when Russian crude comes cheap (economics.CAPACITY_HALF_DISCOUNT_USD).
CAPACITY_FLOOR = {"usa": 0.05, "ind": 0.45, "eu": 0.25, "row": 0.22}
#: Share of listed sellers' barrels each buyer's banks and refiners refuse at full enforcement
#: until intermediaries take over. India: its refiners (other than Nayara) paused direct purchases
#: after the 21 Nov 2025 wind-down (Reuters 2025-10-23, 2025-11); rest of world: Chinese state
#: majors paused seaborne purchases while independents kept buying (Reuters 2025-10-23): judgement.
LISTING_REFUSAL = {"usa": 0.0, "ind": 1.0, "eu": 0.0, "row": 0.4}
#: Extra freight to each buyer relative to alternative crudes, USD/bbl (judgement: voyage length).
FREIGHT_USD = {"usa": 3.0, "ind": 3.0, "eu": 0.0, "row": 2.0}
#: Tariffs not named in the settings (MFN-level averages, judgement).
DEFAULT_TARIFF = {"usa": 0.03, "rus": 0.06, "ind": 0.12, "eu": 0.03, "row": 0.05}
#: The EU's crude intercept in the Dec-2025 base, where the embargo hides it: about what the
#: pre-war base solves to (the EU bought 24% with suitability 25%).
BASE_EU_INTERCEPT = 2.0
#: US column-2 tariffs on Russia since 2022 (Suspending Normal Trade Relations Act, April 2022).
USA_TARIFF_ON_RUS = 0.35


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def _matrix(entries: dict, default: float = 0.0) -> np.ndarray:
    m = np.full((N_NODES, N_NODES), default)
    np.fill_diagonal(m, 0.0)
    for (i, j), v in entries.items():
        m[NODES.index(i), NODES.index(j)] = v
    return m


def _instruments(values: dict[str, float], base_name: str) -> dict[str, np.ndarray]:
    """Every policy array of a single-world batch (B = 1), by World field name.

    Cells no setting names hold the base's fixed policies (MFN-level tariffs, US column-2 tariffs
    on Russia since 2022); every setting reaches its cell through the one declaration of where it
    lives, :data:`model.instruments.INSTRUMENTS` (with the sanctions mirror), as events and moves do.
    """
    shapes = {}
    for name, index in INSTRUMENTS.values():
        shapes[name] = (N_NODES, N_NODES) if isinstance(index, tuple) else (4,) if isinstance(index, int) else ()
    arrays = SimpleNamespace(**{name: np.zeros((1,) + shape) for name, shape in shapes.items()})
    for i, importer in enumerate(NODES):
        arrays.tariff[0, i, :] = DEFAULT_TARIFF[importer]
    arrays.tariff[0, USA, RUS] = USA_TARIFF_ON_RUS if base_name == "dec2025" else DEFAULT_TARIFF["usa"]
    np.fill_diagonal(arrays.tariff[0], 0.0)
    for key in INSTRUMENTS:
        set_instrument(arrays, key, values[key])
    return vars(arrays)


def base_settings(base_name: str) -> dict[str, float]:
    """Every setting as observed at the start of ``base_name``: the registry's defaults (December
    2025) overlaid with the base's own observations. Scenarios and users change these."""
    return {**parameters.defaults(), **BASES[base_name]["observed"]}


def build(base_name: str, values: dict[str, float], brent_path: dict[int, float] | None = None):
    """Return ``(world, structure)`` for a base and a full set of validated settings.

    The world is a single-world batch (B = 1) describing the end of the base quarter. It is
    calibrated to the base's observed policies; policy settings in ``values`` that differ from
    them are then set on the world as changes that act from the first quarter (see the module
    docstring).
    """
    observed = base_settings(base_name)
    calibration_values = {**values, **{key: observed[key] for key in INSTRUMENTS}}
    world, structure = _calibrate(base_name, calibration_values, brent_path)
    structure = replace(structure, params=dict(values))
    for key in INSTRUMENTS:
        if values[key] != observed[key]:
            set_instrument(world, key, values[key])
    return world, structure


def _calibrate(base_name: str, values: dict[str, float], brent_path: dict[int, float] | None):
    """The calibrated start of ``base_name`` under ``values`` (policies as observed)."""
    from .economics import (CrudeDemand, effective_tariff, target_goods_flows, trade_cost,
                            penalty_active, arms_target_shares, _buyer_risk)

    base = BASES[base_name]
    start = parse_quarter(base["quarter"])
    v = dict(values)

    def one(x) -> np.ndarray:
        return np.array([float(x)])

    crude_imports = dict(base["crude_imports_mbd"], ind=v["ind.crude_imports_mbd"])
    crude_imports_mbd = np.array([crude_imports[b] for b in ("usa", "ind", "eu", "row")])
    supply = v["rus.crude_exports_mbd"]
    ind_share = v["ind.crude_share_from_rus"]
    eu_share = base["eu_rus_crude_mbd"] / crude_imports["eu"]
    usa_share = 0.0 if v["usa.crude_embargo"] >= 1 else 0.005
    row_mbd = supply - ind_share * crude_imports["ind"] - base["eu_rus_crude_mbd"] - usa_share * crude_imports["usa"]
    if row_mbd <= 0:
        raise parameters.SettingError(
            f"rus.crude_exports_mbd = {supply:g} is less than India and the EU alone buy at the start "
            f"({ind_share * crude_imports['ind'] + base['eu_rus_crude_mbd']:.2f} mb/d at "
            f"ind.crude_share_from_rus = {ind_share:g}); allowed: more than "
            f"{ind_share * crude_imports['ind'] + base['eu_rus_crude_mbd']:.2f}, or a lower ind.crude_share_from_rus")
    suitability = np.array([base["crude_capacity"][b] for b in ("usa", "ind", "eu", "row")])
    crude_share = np.array([usa_share, ind_share, eu_share, row_mbd / crude_imports["row"]])
    if crude_share[B_ROW] > suitability[B_ROW]:
        raise parameters.SettingError(
            f"rus.crude_exports_mbd = {supply:g} leaves {row_mbd:.2f} mb/d for the rest of the world, more "
            f"than its refineries can run ({suitability[B_ROW] * crude_imports['row']:.2f}); allowed up to "
            f"{supply - row_mbd + suitability[B_ROW] * crude_imports['row']:.2f}")
    if ind_share > suitability[B_IND]:  # a ceiling below the start is a policy change, applied later
        raise parameters.SettingError(
            f"ind.crude_share_from_rus = {ind_share:g} is above what India's refineries can run; allowed up to "
            f"{suitability[B_IND]:g}")

    brent_start = (brent_path or {}).get(start, v["world.brent_usd"]) * (1 + v["world.oil_supply_shock"])
    urals_start = brent_start - base["fob_discount_usd"]
    if urals_start <= v["rus.crude_supply_floor_usd"] + 1.0:
        lowest = (base["fob_discount_usd"] + v["rus.crude_supply_floor_usd"] + 1.0) / (1 + v["world.oil_supply_shock"])
        raise parameters.SettingError(
            f"world.brent_usd = {v['world.brent_usd']:g} (with world.oil_supply_shock = {v['world.oil_supply_shock']:g}) "
            f"is too low for the {base['quarter']} start: Urals would sell at ${urals_start:.1f} at the port after "
            f"the observed ${base['fob_discount_usd']:g} discount, below Russia's shut-in floor "
            f"(rus.crude_supply_floor_usd = {v['rus.crude_supply_floor_usd']:g}); allowed from {lowest:.1f}")

    instruments = _instruments(v, base_name)
    tariff, sanction = instruments["tariff"][0].copy(), instruments["sanction"][0].copy()

    flows_ref = _matrix({k: val for k, (val, _src) in base["flows"].items()})
    absorption = np.array([base["absorption"][n] for n in NODES], dtype=float)
    growth = np.array([NOMINAL_GROWTH[n] for n in NODES])
    affinity = np.eye(4)
    for (a, b), val in base["affinity"].items():
        i, j = COUNTRIES.index(a), COUNTRIES.index(b)
        affinity[i, j] = affinity[j, i] = val

    order = ("rus", "usa", "eu", "domestic")
    arms_orders = np.array([base["arms_order_share"][k] for k in order])
    arms_installed = np.array([base["arms_installed"][k] for k in order])
    arms_pipeline = np.array([base["arms_pipeline"][k] for k in order])

    world = World(
        quarter=start,
        **instruments,
        deal_accepted=one(0.0),
        goods_flow_usd_bn=flows_ref[None].copy(),
        crude_share=crude_share[None].copy(),
        relationship=(v["world.relationship_max"] * crude_share / suitability)[None],
        fob_discount_usd=one(base["fob_discount_usd"]),
        delivered_discount_usd=np.zeros((1, 4)),
        brent_usd=one(0.0),
        rus_crude_sold_mbd=one(supply),
        arms_order_share=arms_orders[None].copy(),
        arms_installed=arms_installed[None].copy(),
        arms_pipeline=arms_pipeline[None].copy(),
        settlement_local_share=one(v["rus.settlement_local_share"]),
        rupee_balance_usd_bn=one(v["rus.rupee_balance_usd_bn"]),
        affinity=affinity[None].copy(),
        penalty_active=one(0.0),
        crude_capacity=suitability[None].copy(),
        oil_replacement_mbd=one(0.0),
        intermediated=one(base["intermediated"]),
        listing_last=one(v["usa.listed_seller_share"] * v["usa.secondary_enforcement"]),
        shadow_fleet_share=one(base["shadow_fleet_share"]),
        coercion_last=np.zeros((1, 4, 4)),   # the observed policies are the reference: none felt yet
        deal_bump=np.zeros((1, 4, 4)),
    )
    brent_path = dict(brent_path or {})
    provisional = Structure(
        params=v, goods_flow_ref_usd_bn=flows_ref, cost_ref=np.ones((N_NODES, N_NODES)),
        absorption_ref_usd_bn=absorption, nominal_growth=growth, crude_imports_mbd=crude_imports_mbd,
        crude_suitability=suitability, crude_intercept=np.zeros(4),
        capacity_floor=np.array([CAPACITY_FLOOR[b] for b in ("usa", "ind", "eu", "row")]),
        capacity_extra=np.array([0.0, 0.0, 0.0, v["world.row_capacity_extra"]]),
        listing_refusal=np.array([LISTING_REFUSAL[b] for b in ("usa", "ind", "eu", "row")]),
        freight_usd=np.array(
            [FREIGHT_USD[b] for b in ("usa", "ind", "eu", "row")]),
        arms_base_utility=np.zeros(4), affinity_anchor=affinity, brent_path_usd=brent_path,
        start_quarter=start, tariff_eff_ref=np.zeros((N_NODES, N_NODES)), sanction_ref=sanction,
        listing_ref=v["usa.listed_seller_share"] * v["usa.secondary_enforcement"],
        netback_ref_usd=brent_path.get(start, v["world.brent_usd"]) * (1 + v["world.oil_supply_shock"])
        - base["fob_discount_usd"])
    world.brent_usd = one(provisional.reference_brent(start) * (1 + v["world.oil_supply_shock"]))
    world.penalty_active = penalty_active(world, provisional)

    # Crude intercepts: this quarter's target equals the observed share (a steady state).
    curve = CrudeDemand(world, provisional)
    fob0 = world.fob_discount_usd[:, None]
    delivered = (fob0 - curve.fixed_wedge + _buyer_risk(world, provisional) - curve.cap_wedge(fob0))[0]
    world.delivered_discount_usd = delivered[None].copy()
    risk = np.zeros(4)
    risk[B_IND] = (v["eu.product_ban"] * v["world.product_ban_cost_usd"]
                   + v["eu.secondary_on_ind"] * v["world.eu_secondary_cost_usd"])
    beta = v["world.crude_discount_sensitivity"]
    intercept = np.array([
        _logit(crude_share[b] / suitability[b]) - world.relationship[0, b] - beta * (delivered[b] - risk[b])
        for b in range(4)])
    # Buyers held at zero or at an embargo limit: the intercept describes what they would buy
    # without the embargo (EU as before the war; US refiners took little Russian crude).
    intercept[B_USA] = -3.0
    if base_name == "dec2025":
        intercept[B_EU] = BASE_EU_INTERCEPT

    # Trade: reference costs at the tariffs the reference flows were observed at.
    ref_tariff = tariff.copy()
    for (i, j), val in base["reference_tariffs"].items():
        ref_tariff[NODES.index(i), NODES.index(j)] = val
    ref_world = world.copy()
    ref_world.tariff = ref_tariff[None]
    ref_world.oil_penalty = one(0.0)
    structure_no_ref = provisional
    cost_ref = trade_cost(ref_world, structure_no_ref, effective_tariff(ref_world, structure_no_ref, one(0.0)))[0]

    # Arms: base utilities so that today's orders are the target.
    tmp = replace(provisional, cost_ref=cost_ref, crude_intercept=intercept)
    raw = arms_target_shares(world, tmp)[0]  # with zero base utilities
    arms_base = np.log(arms_orders) - np.log(raw)
    arms_base -= arms_base[A_DOM]

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

