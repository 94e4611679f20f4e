"""The lever-response table: what each policy lever a user can set must do to the world.

Every policy setting (each key of :data:`model.instruments.INSTRUMENTS`) and the starting-state
settings a user may sweep are listed here with the outcome they must move and the direction,
after ``quarters`` quarters of the ``dec2025`` start with every country scripted (holding) and no
scenario events, compared with the same run at the observed policies. ``tests/test_levers.py``
runs the whole table, so a lever that stops acting (for example because the calibration absorbs
it) fails CI; ``geogame levers`` runs it under a modeller's own settings (``--set``) and prints
the measured changes.

A row may hold other settings fixed in both arms (``context``): the price cap's enforcement acts
only when the cap binds, so its row lowers the cap in both runs first. Offers act only through
India's reply: their rows let India play its best response (rule ``best``).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LeverResponse:
    """One row of the table: set ``setting`` to ``value`` and ``outcome`` moves by ``sign``.

    Attributes
    ----------
    setting : str
        Registry key of the lever (``eu.price_cap_usd``).
    value : float
        The value it is changed to, in the setting's unit (the other arm keeps the observed value).
    outcome : str
        Column of the quarterly table that must move.
    sign : int
        +1 if the outcome must rise, -1 if it must fall.
    why : str
        The mechanism, in plain words.
    context : dict
        Settings applied to both arms (the situation in which the lever acts).
    rules : dict
        Decision rules by country code or by role (``{"arms_buyer": "best"}``); everyone else
        is ``scripted``.
    quarters : int
        Quarters after which the two runs are compared.
    """

    setting: str
    value: float
    outcome: str
    sign: int
    why: str
    context: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)
    quarters: int = 8


LEVER_RESPONSES: tuple[LeverResponse, ...] = (
    # ---------------------------------------------------------------- United States
    LeverResponse("usa.base_tariff_on_ind", 0.0, "exports_ind_to_usa_usd_bn", +1,
                  "a lower tariff makes Indian goods cheaper in the US"),
    LeverResponse("usa.oil_penalty_tariff_on_ind", 0.0, "exports_ind_to_usa_usd_bn", +1,
                  "dropping the oil penalty lowers the tariff India pays while it buys Russian crude"),
    LeverResponse("usa.oil_penalty_threshold", 0.5, "tariff_usa_on_ind", -1,
                  "above India's Russian share, the penalty no longer applies"),
    LeverResponse("usa.tariff_on_eu", 0.5, "alignment_usa_eu", -1,
                  "a higher tariff on EU goods is coercion that lowers US-EU affinity"),
    LeverResponse("usa.tariff_on_row", 0.5, "exports_ind_to_usa_usd_bn", +1,
                  "US buyers divert from the rest of the world to Indian goods"),
    LeverResponse("usa.crude_embargo", 0.0, "urals_discount_fob_usd", -1,
                  "US refiners may buy Russian crude again: more demand narrows the discount"),
    LeverResponse("usa.listed_seller_share", 1.0, "crude_share_ind_from_rus", -1,
                  "banks and refiners refuse newly listed sellers' cargoes until intermediaries appear"),
    LeverResponse("usa.secondary_enforcement", 0.8, "crude_share_ind_from_rus", -1,
                  "harder enforcement makes more of the listed barrels untouchable"),
    LeverResponse("usa.sanction_intensity_on_rus", 0.3, "urals_discount_fob_usd", -1,
                  "Western services return: the freight and insurance wedge on Russian crude shrinks"),
    LeverResponse("usa.deal_offer", 1.0, "crude_share_ind_from_rus", -1,
                  "India accepts a 15% tariff for a 10% Russian-crude ceiling when the export gain outweighs "
                  "the discount", rules={"arms_buyer": "best"}),
    LeverResponse("usa.deal_tariff_on_ind", 0.0, "exports_ind_to_usa_usd_bn", +1,
                  "a deal at a 0% tariff is accepted and opens the US market",
                  context={"usa.deal_offer": 1.0}, rules={"arms_buyer": "best"}),
    LeverResponse("usa.deal_crude_ceiling", 0.0, "crude_share_ind_from_rus", -1,
                  "an accepted deal with a lower ceiling leaves India less Russian crude",
                  context={"usa.deal_offer": 1.0, "usa.deal_tariff_on_ind": 0.0}, rules={"arms_buyer": "best"}),
    # ---------------------------------------------------------------- European Union
    LeverResponse("eu.price_cap_usd", 30.0, "russia_crude_revenue_usd_bn", -1,
                  "a binding cap adds shipping costs on cargoes outside the shadow fleet: Urals sells lower"),
    LeverResponse("eu.cap_enforcement", 0.9, "russia_crude_revenue_usd_bn", -1,
                  "with the cap binding, enforcement (vessel listings) widens its wedge",
                  context={"eu.price_cap_usd": 35.0}),
    LeverResponse("eu.crude_embargo", 0.0, "urals_discount_fob_usd", -1,
                  "EU refiners may buy Russian crude again: more demand narrows the discount"),
    LeverResponse("eu.crude_embargo_announced", 1.0, "crude_share_eu_from_rus", -1,
                  "announcing a full embargo (pipeline too) makes EU refiners wind down"),
    LeverResponse("eu.sanction_intensity_on_rus", 0.5, "urals_discount_fob_usd", -1,
                  "Western services return: the freight and insurance wedge on Russian crude shrinks"),
    LeverResponse("eu.product_ban", 1.0, "crude_share_ind_from_rus", -1,
                  "Indian refiners must segregate or lose EU fuel sales: Russian crude costs them more"),
    LeverResponse("eu.secondary_on_ind", 1.0, "crude_share_ind_from_rus", -1,
                  "secondary measures add a risk cost to every Russian barrel Indian refiners buy"),
    LeverResponse("eu.tariff_on_ind", 0.0, "exports_ind_to_eu_usd_bn", +1,
                  "a free-trade agreement makes Indian goods cheaper in the EU"),
    # ---------------------------------------------------------------- India
    LeverResponse("ind.crude_ceiling", 0.10, "crude_share_ind_from_rus", -1,
                  "a government ceiling binds at once"),
    LeverResponse("ind.tariff_on_usa", 0.5, "exports_usa_to_ind_usd_bn", -1,
                  "retaliation makes US goods dearer in India"),
    LeverResponse("ind.rupee_settlement_push", 1.0, "exports_ind_to_rus_usd_bn", +1,
                  "rupee settlement, credit lines and export promotion cut the cost of India-Russia trade"),
    LeverResponse("ind.instc", 1.0, "exports_ind_to_rus_usd_bn", +1,
                  "the corridor cuts transport costs between India and Russia"),
    LeverResponse("ind.arms_tilt_west", 2.0, "arms_share_ind_from_rus", -1,
                  "a procurement tilt towards Western suppliers"),
    # ---------------------------------------------------------------- Russia
    LeverResponse("rus.extra_discount_ind_usd", 10.0, "crude_share_ind_from_rus", +1,
                  "a deeper discount to Indian buyers raises what they take, within the listing limits",
                  context={"usa.listed_seller_share": 0.0}),
    LeverResponse("rus.coproduction_offer", 1.0, "arms_share_ind_from_rus", +1,
                  "co-production and technology transfer make Russian arms more attractive"),
    LeverResponse("rus.rupee_recycling", 1.0, "rupee_balance_usd_bn", -1,
                  "Russia reinvests its idle rupees in India"),
    # ---------------------------------------------------------------- world and starting state
    LeverResponse("world.oil_supply_shock", 0.2, "brent_usd", +1,
                  "a supply shock lifts the reference Brent price"),
    LeverResponse("ind.crude_share_from_rus", 0.30, "crude_share_ind_from_rus", -1,
                  "a lower starting share (with the calibration solved for it) stays lower"),
    LeverResponse("rus.crude_exports_mbd", 4.9, "russia_crude_revenue_usd_bn", +1,
                  "a larger starting export volume (the rest of the world's intake solved for it) earns more"),
)


def _arms(row: LeverResponse, overrides: dict | None = None) -> tuple:
    """``row``'s two arms: ``(scenario, [observed policies, lever changed], rules)``.

    The scenario is the baseline start without its events; ``overrides`` apply to both arms,
    under the row's own context and lever.
    """
    from dataclasses import replace

    from .layout import ROLES, current
    from .scenarios import load_scenario

    lay = current()
    scenario = replace(load_scenario("baseline"), events=(), name="lever_response")
    rules = {country: "scripted" for country in lay.players}
    rules.update({lay.role(who) if who in ROLES else who: rule for who, rule in row.rules.items()})
    common = {**(overrides or {}), **row.context}
    return scenario, [common, {**common, row.setting: row.value}], rules


def measure(row: LeverResponse, seed: int = 0, overrides: dict | None = None) -> tuple[float, float]:
    """Run ``row``'s two arms, one Mesa model each, and return the outcome after ``row.quarters`` quarters.

    ``overrides`` (validated settings, for example a modeller's changed elasticity) apply to both
    arms, under the row's own context and lever. :func:`measure_table` gives the same numbers
    for many rows at once, stepped as one ensemble.

    Returns
    -------
    (observed_policies, changed) : tuple of float
        The outcome, in its own unit, at the observed policies and with the lever changed.
    """
    from .model import GeopoliticsModel

    scenario, arms, rules = _arms(row, overrides)
    results = []
    for arm in arms:
        model = GeopoliticsModel(scenario=scenario, seed=seed, overrides=arm, rules=rules)
        model.run(row.quarters)
        results.append(float(model.latest[row.outcome]))
    return results[0], results[1]


def measure_table(rows=LEVER_RESPONSES, seed: int = 0, overrides: dict | None = None) -> list[tuple[float, float]]:
    """:func:`measure` for every row of ``rows``, all arms stepped together as ensembles.

    The arms of rows with the same run length go to one :func:`~model.ensemble.run_ensemble`
    call (arms that differ in their settings share a batch: see :mod:`model.ensemble`),
    and each run's table is the Mesa model's, so every pair equals ``measure(row, seed, overrides)``
    exactly (``tests/test_levers.py``), several times faster for the whole table.

    Returns
    -------
    list of (observed_policies, changed)
        One pair per row, in order, each outcome in its own unit.
    """
    from .ensemble import EnsembleRun, run_ensemble

    rows = list(rows)
    out: list = [None] * len(rows)
    by_length: dict[int, list[int]] = {}
    for i, row in enumerate(rows):
        by_length.setdefault(row.quarters, []).append(i)
    for quarters, members in by_length.items():
        specs = []
        for i in members:
            scenario, arms, rules = _arms(rows[i], overrides)
            specs += [EnsembleRun(scenario, seed=seed, overrides=arm, rules=rules) for arm in arms]
        views = run_ensemble(specs, quarters)
        for k, i in enumerate(members):
            outcome = rows[i].outcome
            out[i] = tuple(float(views[2 * k + a].metrics_columns()[outcome][-1]) for a in (0, 1))
    return out
