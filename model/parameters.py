"""Every setting of the model in one registry: value, allowed range, unit, kind and source.

A *setting* is anything a scenario file, a ``--set`` override, a slider or a sweep may change.
Its key is ``<owner>.<name>`` where the owner is a player (``usa``, ``rus``, ``ind``, ``eu``) or
``world``. Two families:

* ``policy``/``state`` settings are the starting values of instruments and of the world's state
  (a tariff, the price cap, India's Russian crude share). Agents and scripted events move them
  during a run.
* ``calibrated``, ``literature`` and ``judgement`` settings are behavioural and economic
  parameters that stay fixed during a run.

The ``kind`` says where a value comes from: ``data`` (an observed figure: source and date given),
``calibrated`` (fitted to the target named in ``source``), ``literature`` (the paper cited) or
``judgement`` (a modelling choice; exposed so that it can be varied).
"""
from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import dataclass

import numpy as np

KINDS = ("data", "calibrated", "literature", "judgement")


@dataclass(frozen=True)
class Setting:
    """One entry of the registry."""

    key: str
    default: float
    low: float
    high: float
    unit: str
    kind: str
    source: str
    description: str
    integer: bool = False

    @property
    def owner(self) -> str:
        """The player (``usa``, ``rus``, ``ind``, ``eu``) or ``world`` before the dot of the key."""
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        """The key after the owner (``oil_penalty_tariff_on_ind`` of ``usa.oil_penalty_tariff_on_ind``)."""
        return self.key.split(".", 1)[1]


class InputError(ValueError):
    """Bad input from a user (scenario file, override, flag): the message says what and what is allowed."""


class SettingError(InputError):
    """A setting's key or value is not allowed. The message names key, value and what is allowed."""


def make_setting(key, default, low, high, unit, kind, source, description, integer=False) -> Setting:
    """A :class:`Setting` with its numbers as floats; ``kind`` must be one of :data:`KINDS`.

    Player files declare their settings with it (``agents/players/<code>.py``), the world's are
    declared below.
    """
    assert kind in KINDS, kind
    return Setting(key, float(default), float(low), float(high), unit, kind, source, description, integer)


_s = make_setting


def behaviour_settings(code: str, name: str, the_name: str) -> list[Setting]:
    """How a player decides, the same for every player: its rationality and its horizon.

    ``name`` is how a sentence names the player as a subject (``US``), ``the_name`` as an
    object (``the US``). Each player file adds these to its settings, with its audience cost.
    """
    return [
        _s(f"{code}.rationality", 15.0, 0, 50, "1/(USD bn)", "judgement",
           "quantal response (McKelvey & Palfrey 1995); not identified by the few 2022-25 moves. Set against the "
           "stakes: a move worth the policy-change cost (0.4 $bn) less than holding is exp(-6), about 400 times, "
           "less likely, so noise seldom moves a policy for nothing (docs/decisions.md)",
           f"{name}'s rationality: 0 picks moves at random, large values pick the best move"),
        _s(f"{code}.lookahead_quarters", 12, 1, 40, "quarters", "judgement",
           "three years, about a government's term: trade closes 11% of its gap a quarter (Boehm et al. 2023), "
           "so 12 quarters see 75% of a tariff's long-run effect (docs/decisions.md)",
           f"Horizon over which {the_name} values a move (present value of its utility, quarters)", integer=True),
    ]


_SETTINGS: list[Setting] = [
    # ---------------------------------------------------------------- world
    _s("world.brent_usd", 62.85, 30, 300, "USD/bbl", "data",
       "EIA Dec-2025 STEO, 2025Q4 derived (calibration_targets.csv BRENT_Q, low confidence)",
       "Reference Brent price (before any loss of Russian supply)"),
    _s("world.oil_supply_shock", 0.0, -0.3, 0.3, "fraction of Brent", "judgement",
       "scenario lever for an oil price shock", "Shock to the reference Brent price (0.2 = +20%)"),
    _s("world.world_oil_supply_mbd", 103.0, 50, 150, "mb/d", "data",
       "IEA Oil Market Report 2025: world supply about 103 mb/d", "World oil supply"),
    _s("world.trade_elasticity", 2.0, 0.5, 8, "-", "literature",
       "Boehm, Levchenko & Pandalai-Nayar, AER 2023: long-run trade elasticity about 2",
       "Long-run Armington elasticity of goods trade to trade costs"),
    _s("world.trade_adjustment", 0.11, 0.02, 1, "per quarter", "literature",
       "Boehm et al. 2023: elasticity 0.76 after one year, about 2 in the long run => 0.11 per quarter",
       "Share of the gap to target trade flows closed each quarter"),
    _s("world.sanction_cost", 0.95, 0, 3, "log cost at full sanction", "calibrated",
       "EU imports from Russia fell about 85% after 2022 (Eurostat): exp(-2 * 0.95) = 0.15",
       "Trade-cost wedge of full sanctions, delta in exp(delta * s)"),
    _s("world.sanction_diversion", 2.0, 0, 5, "-", "calibrated",
       "hindcast India-Russia trade FY2023-24 (~65) and FY2024-25 (68.7, DD News 2025-12): 61.7 and 69.9 at 2.0",
       "How far a sanctioned exporter cuts prices to divert its goods to open markets"),
    _s("world.crude_share_adjustment", 0.35, 0.05, 1, "per quarter", "calibrated",
       "hindcast, 5 seeds: India's Russian share 19.8% in FY2022-23 (RBI 19.1%) and 34.9% in FY2024-25 (CPR 35.1%)",
       "Share of the gap to their target Russian share that buyers close each quarter"),
    _s("world.crude_discount_sensitivity", 0.45, 0.05, 2, "logit units per USD/bbl", "calibrated",
       "hindcast: FY anchors of India's Russian share (RBI; CPR India)",
       "How strongly refiners' Russian share responds to the delivered discount"),
    _s("world.relationship_build", 0.15, 0, 0.5, "per quarter", "calibrated",
       "hindcast: India keeps ~35% Russian crude at a $3-6 delivered discount in 2024-25",
       "Speed at which buying builds relationship capital (contracts, Nayara, payment channels)"),
    _s("world.relationship_max", 4.0, 0, 8, "logit units", "calibrated",
       "hindcast: FY2024-25 share and trade (68.7) with a delivered discount of a few dollars (about $6 at the end of 2025: Reuters, Argus)", "Relationship capital of a buyer at its maximum Russian share"),
    _s("world.cap_wedge_usd", 15.0, 0, 40, "USD/bbl", "calibrated",
       "2023: FOB discount about $28 vs about $12 delivered to India (Reuters, Argus)",
       "Extra freight and insurance on Russian crude when the cap binds and is fully enforced"),
    _s("world.services_wedge_usd", 10.0, 0, 40, "USD/bbl", "calibrated",
       "2022: Western shippers and insurers withdrew; FOB discount ~$27 (Mar-Nov, Urals vs Brent) vs ~$12-15 delivered to India (Reuters, Argus)",
       "Extra freight and insurance on Russian crude at full Western sanctions (services withdrawn), whatever the cap"),
    _s("world.listing_wedge_usd", 10.0, 0, 80, "USD/bbl", "calibrated",
       "Dec 2025: FOB discount about $22 at Russian ports vs about $6 delivered to India (Reuters, Argus), after freight and services",
       "Intermediaries' and shadow fleet's margin when all sellers are listed and enforcement is full"),
    _s("world.brent_supply_multiplier", 4.0, 0, 10, "% Brent per % world supply lost", "literature",
       "short-run supply 0.1, demand -0.13 (Caldara, Cavallo & Iacoviello 2019; Baumeister & Hamilton 2019)",
       "How much Brent rises when Russian barrels are lost"),
    _s("world.arms_adjustment", 0.20, 0.02, 1, "per quarter", "judgement",
       "procurement cycles of several years", "Share of the gap to target arms-order shares closed each quarter"),
    _s("world.arms_lockin", 3.0, 0, 10, "logit units", "calibrated",
       "SIPRI: Russia's share of India's arms imports 76% (2009-13) to 36% (2020-24)",
       "Weight of the installed base (60-70% Russian-origin) in new arms orders"),
    _s("world.arms_delivery_lag_quarters", 12, 1, 40, "quarters", "judgement",
       "deliveries lag orders by years (S-400: ordered 2018, 3 of 5 delivered by 2025)",
       "Mean lag from arms order to delivery", integer=True),
    _s("world.arms_orders_usd_bn", 4.0, 0.5, 20, "USD bn/year", "judgement",
       "India 8-10% of world arms imports (SIPRI 2024), about $3-5bn a year",
       "India's arms import orders"),
    _s("world.alignment_anchor_pull", 0.05, 0, 1, "per quarter", "judgement",
       "slow pull to an anchor such as UN voting ideal points (Bailey, Strezhnev & Voeten 2017)",
       "Speed at which affinity returns to its anchor"),
    _s("world.alignment_coercion", 1.0, 0, 5, "atanh units per unit of new coercion", "judgement",
       "direction: coercion aimed at a partner lowers affinity (Flores-Macias & Kreps 2013 for the trade side); "
       "size judged so that EU secondary measures on Indian refiners cost about 0.2 of India-EU affinity at once",
       "Affinity lost at once when a new tariff or sanction hits a partner (won back when it is lifted)"),
    _s("world.alignment_coercion_lasting", 2.5, 0, 10, "atanh units per unit of coercion in force", "judgement",
       "governments adapt to standing measures: relations settle lower rather than falling without end; sized so "
       "that lasting EU secondary measures take India-EU affinity from 0.35 to about -0.1 over several years",
       "How far lasting coercion lowers the level affinity drifts back to"),
    _s("world.alignment_trade", 0.3, 0, 5, "per log change of trade", "literature",
       "Flores-Macias & Kreps 2013: trade dependence raises foreign-policy affinity (small, positive)",
       "How much growing bilateral trade raises affinity"),
    _s("world.alignment_deal", 0.08, 0, 1, "per deal", "judgement",
       "judgement: concluded deals and summits raise affinity", "Affinity gained by a concluded deal"),
    _s("world.product_ban_cost_usd", 4.0, 0, 30, "USD/bbl", "judgement",
       "India exports about $15bn a year of fuels to the EU (Kpler 2025); the ban forces segregation or lost sales",
       "Cost per barrel of Russian crude to Indian refiners when the EU product ban is in force"),
    _s("world.eu_secondary_cost_usd", 10.0, 0, 40, "USD/bbl", "judgement",
       "what-if lever; sized like the US listing's effect on Indian buying (Kpler 2025-11)",
       "Cost per barrel to Indian refiners of EU secondary measures at full intensity"),
    _s("world.ind_rus_friction", 0.15, 0, 1, "fraction of value", "judgement",
       "payment, insurance and logistics frictions in India-Russia trade (Reuters 2023-05-04 on rupee talks)",
       "Extra trade cost between India and Russia at the start"),
    _s("world.instc_cost_cut", 0.10, 0, 0.5, "fraction of value", "judgement",
       "INSTC cuts transit time and cost by about 30-40% (Russian transport ministry); freight ~1/3 of the gap",
       "Cut in India-Russia trade cost when the corridor is fully used"),
    _s("world.rupee_push_cost_cut", 0.08, 0, 0.5, "fraction of value", "judgement",
       "rupee vostro accounts, credit lines and export promotion (summit programme 2025-12-05)",
       "Cut in India-Russia trade cost from a full trade and rupee push"),
    _s("world.settlement_adjustment", 0.25, 0.02, 1, "per quarter", "judgement",
       "payment channels change over a year or two", "Share of the gap to target settlement share closed each quarter"),
    _s("world.settlement_sanction_push", 4.0, 0, 10, "logit units per unit sanction", "calibrated",
       "national-currency settlement about 90% by 2024-25 (Manturov, Interfax 2025-08-20) after SWIFT exclusions",
       "How strongly Western sanctions push India-Russia payments into national currencies"),
    _s("world.rupee_unspent_fraction", 0.05, 0, 1, "share of Russia's surplus", "judgement",
       "most of the surplus is converted via AED/CNY; press estimates of idle rupees in the $ bn range",
       "Share of Russia's surplus with India that piles up as rupees it cannot spend"),
    _s("world.rupee_drain", 0.07, 0, 1, "per quarter", "judgement",
       "Russia spends or invests part of its rupee pile each quarter", "Share of the rupee balance spent each quarter"),
    _s("world.arms_alignment_weight", 2.0, 0, 10, "logit units per unit affinity", "judgement",
       "judgement: affinity enters India's supplier logit beside price, co-production, installed base and CAATSA risk", "Weight of affinity in India's choice of arms supplier"),
    _s("world.arms_coproduction_weight", 1.0, 0, 10, "logit units", "judgement",
       "technology transfer and joint production (BrahMos, AK-203)", "Weight of co-production offers in arms orders"),
    _s("world.arms_caatsa_weight", 1.0, 0, 10, "logit units", "judgement",
       "CAATSA s.231 risk (US on China's EDD 2018; no determination on India's S-400, 2022)",
       "Weight of US secondary-sanctions risk on Russian arms orders"),
    _s("world.arms_fleet_life_years", 20, 2, 60, "years", "judgement",
       "typical service life of major platforms", "Average life of India's inventory (installed base turnover)", integer=True),
    _s("world.oil_supply_response", 0.25, 0, 1, "per quarter", "judgement",
       "OPEC+ held about 5 mb/d of spare capacity in 2025 (IEA OMR); long-run oil supply elasticity is several "
       "times the short-run 0.1 (Caldara, Cavallo & Iacoviello 2019), so a price spike from lost barrels fades within a year or two",
       "Share of the lost Russian barrels that other producers replace each quarter (Brent's spike fades)"),
    _s("world.capacity_adjustment", 0.10, 0, 1, "per quarter", "judgement",
       "Chinese and Turkish intake of Russian crude rose over 2022-23, not at once (Kpler, Vortexa via Reuters)",
       "Share of the gap to its target capacity for Russian crude a buyer closes each quarter"),
    _s("world.row_capacity_extra", 0.10, 0, 0.5, "share of the rest of the world's crude imports", "judgement",
       "China's and Turkey's intake of Russian crude rose by about 0.5 mb/d after 2022 at discounts of $10-30 "
       "(Kpler, Vortexa via Reuters); 0.10 of 14 mb/d is the most they would add at a very wide discount",
       "Capacity for Russian crude the rest of the world adds over time when it comes cheap"),
    _s("world.intermediary_rate", 0.30, 0, 1, "per quarter", "judgement",
       "after the 10 Jan 2025 listings, India's Russian intake dipped in Feb-Mar 2025 and recovered by Apr-Jun "
       "as unlisted sellers took over (Kpler via Reuters 2025-04)",
       "Share of the listed sellers' barrels not yet intermediated that unlisted traders take over each quarter"),
    _s("world.shadow_fleet_max", 0.90, 0, 1, "share of Russian crude exports", "judgement",
       "shadow tankers carried about 60-70% of Russia's seaborne crude by 2024-25 (KSE Institute tracker; Kpler)",
       "Share of Russian crude the shadow fleet would carry at full Western sanctions and no vessel listings"),
    _s("world.shadow_fleet_growth", 0.15, 0, 1, "per quarter", "judgement",
       "the shadow fleet grew from little in 2022 to most seaborne cargoes by 2024 (KSE Institute; Spiro et al. 2025)",
       "Share of the gap to its target that the shadow fleet closes each quarter"),
    _s("world.decision_discount", 0.97, 0.5, 1, "per quarter", "judgement",
       "about 12% a year: above 2025 long-term rates (US 10-year about 4.3%, India about 6.5%) for the "
       "electoral myopia of governments (docs/decisions.md)",
       "Weight a government puts on a quarter's utility relative to the quarter before, in valuing a move"),
    _s("world.policy_change_cost_usd_bn", 0.4, 0, 10, "USD bn", "judgement",
       "status-quo bias of governments: changing policy has political and administrative costs",
       "One-off cost to any country of a move other than holding"),
]

#: The world's own settings (no player owns them), in the order of the registry's tail.
WORLD_SETTINGS: tuple[Setting, ...] = tuple(_SETTINGS)
#: Every setting by key: each installed player's (declared in its player file, in player order),
#: then the world's. The player registry fills it when it installs the players (:func:`declare`).
SETTINGS: dict[str, Setting] = {s.key: s for s in WORLD_SETTINGS}


def declare(player_settings) -> None:
    """Make ``player_settings`` (the installed players' settings, in player order) and the world's
    the registry's settings. Called by the player registry; refuses a key declared twice."""
    entries = list(player_settings) + list(WORLD_SETTINGS)
    keys = [s.key for s in entries]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"setting {twice[0]!r} is declared twice")
    SETTINGS.clear()
    SETTINGS.update({s.key: s for s in entries})


def owners() -> tuple[str, ...]:
    """The owners of the settings, in registry order: the installed players, then ``world``."""
    return tuple(dict.fromkeys(s.owner for s in SETTINGS.values() if s.owner != "world")) + ("world",)


def setting(key: str) -> Setting:
    """Return the registry entry for ``key`` or raise :class:`SettingError` suggesting the nearest key."""
    if key in SETTINGS:
        return SETTINGS[key]
    near = difflib.get_close_matches(key, SETTINGS.keys(), n=1, cutoff=0.5)
    hint = f"; did you mean {near[0]!r}?" if near else "; allowed: a key listed by `geogame params`"
    raise SettingError(f"unknown setting {show_value(key)}{hint}")


def check_value(key: str, value: object, where: str = "") -> float:
    """Validate one value for ``key`` and return it as a float.

    Accepts a real number (Python or NumPy, however large) or the text of one. Refuses a
    boolean (``true`` in a TOML file is not the number 1), anything else that is not a number,
    NaN, infinities and values outside the setting's range.

    Raises
    ------
    SettingError
        Naming the key, the value and the allowed range, on one line. Values are never clamped.
    """
    prefix = f"{where}: " if where else ""
    try:
        spec = setting(key)
    except SettingError as exc:
        raise SettingError(f"{prefix}{exc}") from None
    if isinstance(value, (bool, np.bool_)):
        raise SettingError(f"{prefix}{key} = {str(bool(value)).lower()} is a true/false value, not a number; "
                           f"allowed {_range(spec)}")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            raise SettingError(f"{prefix}{key} = {show_value(value)} is not a number; allowed {_range(spec)}") from None
        shown = show_value(text, quote=False)
    elif isinstance(value, numbers.Real):
        shown = show_value(value, quote=False)
        if isinstance(value, numbers.Integral):
            value = int(value)
            if not spec.low <= value <= spec.high:  # exact for any size; float() would overflow
                raise SettingError(f"{prefix}{key} = {shown} is out of range; allowed {_range(spec)}")
        value = float(value)
    else:
        raise SettingError(f"{prefix}{key} = {show_value(value)} is not a number; allowed {_range(spec)}")
    if not math.isfinite(value) or not spec.low <= value <= spec.high:
        raise SettingError(f"{prefix}{key} = {shown} is out of range; allowed {_range(spec)}")
    if spec.integer and value != int(value):
        raise SettingError(f"{prefix}{key} = {shown} must be a whole number; allowed {_range(spec)}")
    return value


def show_value(value: object, quote: bool = True, limit: int = 60) -> str:
    """A value as an error message shows it: on one line and at most about ``limit`` characters.

    Text is quoted with ``repr`` (so control characters and newlines show as escapes) unless
    ``quote`` is False; a long value keeps its start and end and says how
    long it was (a 400-digit number, a 5,000-character name). Floats are shown exactly (``repr``).
    """
    if isinstance(value, float):
        text = repr(float(value))  # exact: 1.0000001 is not shown as 1, nor 4.0 as the whole number 4
    elif isinstance(value, str) and not quote:
        text = value if value.isprintable() else repr(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value) if abs(value) < 10 ** (limit - 1) else f"{str(value)[:12]}...({len(str(abs(value)))} digits)"
    else:
        try:
            text = repr(value)
        except RecursionError:  # deeply nested lists or dicts
            text = f"<a deeply nested {type(value).__name__}>"
    if len(text) > limit:
        text = f"{text[:limit // 2]}...{text[-12:]} ({len(text):,} characters)"
    return text


def _range(spec: Setting) -> str:
    kind = "whole numbers" if spec.integer else "values"
    return f"{kind} from {spec.low:g} to {spec.high:g} ({spec.unit})"


def parse_assignment(text: str) -> tuple[str, float]:
    """Parse ``"usa.oil_penalty_tariff_on_ind=0"`` into a validated ``(key, value)`` pair."""
    if "=" not in text:
        raise SettingError(f"override {show_value(text)} is not of the form owner.name=value (for example eu.price_cap_usd=40)")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise SettingError(f"override {show_value(text)} has no setting name before '='; allowed owner.name=value "
                           "(for example eu.price_cap_usd=40)")
    return key, check_value(key, raw)


def defaults() -> dict[str, float]:
    """All settings at their registry defaults (the December 2025 baseline)."""
    return {k: s.default for k, s in SETTINGS.items()}
