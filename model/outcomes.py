"""Every column of the quarterly table, declared once: name, unit, description, formula and range.

The quarterly table (:meth:`geogame.model.GeopoliticsModel.metrics_frame`, one row a quarter) is
the model's output contract: sweeps write it to Parquet, validation compares it with history,
sensitivity analysis reads its columns and the app plots them. This module says what each column
is, in the spirit of the EMA Workbench's ``ScalarOutcome``: one frozen :class:`Outcome` per
column, in the table's order, in :data:`OUTCOMES`. Code that needs the names reads
:func:`outcome_names` instead of building a model to discover them, and ``docs/outcomes.md`` is
generated from here (``scripts/make_outcome_table.py``). ``tests/test_outcomes.py`` checks that a
run's columns are exactly these names in this order and that every value lies in its range.

Annualised flows (trade, revenue, savings) are the quarter's rate expressed per year, in USD bn a
year; ``BN_PER_MBD_USD`` (0.365) turns mb/d times USD/bbl into USD bn a year.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from .nodes import COUNTRIES, COUNTRY_NAMES, COUNTRY_PAIRS

#: What a column holds.
KINDS = ("label", "number", "flag")


@dataclass(frozen=True)
class Outcome:
    """One column of the quarterly table.

    Attributes
    ----------
    name : str
        Column name (a contract: scenario files, validation targets and users' notebooks use it).
    unit : str
        Unit of the values (``"fraction"``, ``"USD/bbl"``, ``"USD bn/yr"``, ...).
    description : str
        What the column measures, in a sentence.
    computed : str
        How the model computes it, naming the world's fields and settings it reads.
    low, high : float or None
        Bounds of the values where the column has them (``None``: unbounded on that side).
    open_bounds : bool
        True if the bounds themselves are excluded (alignment lies in ``(-1, 1)``).
    kind : {"label", "number", "flag"}
        ``label``: text (the quarter); ``number``: a real value; ``flag``: 0 or 1.
    """

    name: str
    unit: str
    description: str
    computed: str
    low: float | None = None
    high: float | None = None
    open_bounds: bool = False
    kind: str = "number"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"outcome {self.name}: kind {self.kind!r} is not one of {KINDS}")

    @property
    def range_text(self) -> str:
        """The range as a reader writes it: ``[0, 1]``, ``(-1, 1)``, ``>= 0``, ``{0, 1}`` or ``""``."""
        if self.kind == "flag":
            return "{0, 1}"
        if self.low is None and self.high is None:
            return ""
        if self.high is None:
            return f"{'>' if self.open_bounds else '>='} {self.low:g}"
        if self.low is None:
            return f"{'<' if self.open_bounds else '<='} {self.high:g}"
        left, right = ("(", ")") if self.open_bounds else ("[", "]")
        return f"{left}{self.low:g}, {self.high:g}{right}"

    def out_of_range(self, values) -> np.ndarray:
        """Boolean mask of ``values`` outside the declared range (NaN counts as outside).

        Parameters
        ----------
        values : array_like
            Values of this column (any shape).

        Returns
        -------
        numpy.ndarray
            True where a value breaks the declaration; all False for a ``label`` column.
        """
        if self.kind == "label":
            return np.zeros(np.shape(values), dtype=bool)
        x = np.asarray(values, dtype=float)
        bad = ~np.isfinite(x)
        if self.kind == "flag":
            return bad | ~np.isin(x, (0.0, 1.0))
        with np.errstate(invalid="ignore"):
            if self.low is not None:
                bad |= (x <= self.low) if self.open_bounds else (x < self.low)
            if self.high is not None:
                bad |= (x >= self.high) if self.open_bounds else (x > self.high)
        return bad


def _share(name, description, computed) -> Outcome:
    return Outcome(name, "fraction", description, computed, 0.0, 1.0)


def _usd_bn(name, description, computed, low: float | None = 0.0) -> Outcome:
    return Outcome(name, "USD bn/yr", description, computed, low)


def _alignment_outcomes() -> list[Outcome]:
    """One ``alignment_X_Y`` column for every pair of players, in the order of ``COUNTRY_PAIRS``."""
    return [Outcome(f"alignment_{COUNTRIES[i]}_{COUNTRIES[j]}", "affinity",
                    f"Affinity between {COUNTRY_NAMES[COUNTRIES[i]]} and {COUNTRY_NAMES[COUNTRIES[j]]}",
                    f"world.affinity[{COUNTRIES[i]}, {COUNTRIES[j]}]: drifts to its anchor, rises with "
                    "bilateral trade and deals, falls with coercion aimed at the pair (tanh of a sum "
                    "kept in atanh space)", -1.0, 1.0, open_bounds=True)
            for i, j in COUNTRY_PAIRS]


_OUTCOMES: list[Outcome] = [
    Outcome("quarter", "YYYYQn", "Calendar quarter the row describes; the first row is the calibrated start",
            "calendar.quarter_label(world.quarter)", kind="label"),
    # ------------------------------------------------------------------ US tariff on India
    Outcome("tariff_usa_on_ind", "fraction",
            "US statutory tariff on Indian goods (base plus the oil penalty while it applies)",
            "world.tariff[usa, ind] + penalty_active * world.oil_penalty (exempt goods not netted out)",
            0.0, None),
    Outcome("oil_penalty_in_force", "0/1", "1 in quarters the US oil penalty on India is applied",
            "world.penalty_active * (world.oil_penalty > 0): India's Russian share above "
            "usa.oil_penalty_threshold and a penalty set", kind="flag"),
    # ------------------------------------------------------------------ crude oil
    _share("crude_share_ind_from_rus", "Russia's share of India's crude imports (by volume)",
           "world.crude_share[ind]: moves part of the way to refiners' logit target each quarter"),
    Outcome("crude_imports_ind_mbd", "mb/d", "India's crude imports (held at the setting)",
            "setting ind.crude_imports_mbd", 0.0, None),
    Outcome("crude_imports_ind_from_rus_mbd", "mb/d", "India's imports of Russian crude",
            "crude_imports_ind_mbd * crude_share_ind_from_rus", 0.0, None),
    _share("crude_share_row_from_rus", "Russia's share of the rest of the world's crude imports",
           "world.crude_share[row]"),
    _share("crude_share_eu_from_rus", "Russia's share of the EU's crude imports",
           "world.crude_share[eu]: what the EU embargo leaves (pipeline exemption)"),
    _share("crude_capacity_row_for_rus",
           "Highest Russian share the rest of the world's refineries can run this quarter",
           "world.crude_capacity[row]: moves over years toward a target that rises with the delivered "
           "discount (teapot quotas, contracts), at world.capacity_adjustment a quarter"),
    _share("listing_access_ind", "Share of Russian barrels Indian buyers can take while sellers are listed",
           "economics.listing_access: 1 - listed share * US secondary enforcement * refusal "
           "* (1 - share moved through unlisted intermediaries)"),
    _share("shadow_fleet_share", "Share of Russian crude exports carried by the shadow fleet",
           "world.shadow_fleet_share: grows toward world.shadow_fleet_max times Western sanctions, "
           "less vessel listings (cap enforcement), at world.shadow_fleet_growth a quarter"),
    Outcome("oil_supply_replaced_mbd", "mb/d", "Supply other producers have added to replace lost Russian barrels",
            "world.oil_replacement_mbd: closes world.oil_supply_response of the gap to the barrels "
            "Russia no longer sells each quarter; only the unreplaced loss moves Brent", 0.0, None),
    Outcome("brent_usd", "USD/bbl", "Brent price",
            "reference Brent (scenario path or world.brent_usd, times 1 + oil_supply_shock) raised by "
            "lost Russian barrels through world.brent_supply_multiplier", 0.0, None),
    Outcome("urals_price_fob_usd", "USD/bbl", "Urals price at Russian ports (Russia's netback)",
            "brent_usd - urals_discount_fob_usd"),
    Outcome("urals_discount_fob_usd", "USD/bbl", "Urals discount to Brent at Russian ports",
            "world.fob_discount_usd: the price that clears Russia's exports against buyers' demand"),
    Outcome("urals_discount_delivered_ind_usd", "USD/bbl",
            "Discount to Brent Indian refiners see on Russian crude delivered",
            "world.delivered_discount_usd[ind]: FOB discount less the freight, services, cap and "
            "listing wedges and India's extra discount"),
    Outcome("price_cap_usd", "USD/bbl", "Price cap on Russian seaborne crude in force",
            "world.price_cap_usd (setting eu.price_cap_usd, moved by events and moves)", 0.0, None),
    Outcome("rus_crude_exports_mbd", "mb/d", "Russia's crude exports sold",
            "world.rus_crude_sold_mbd: rus.crude_exports_mbd scaled by the netback supply curve",
            0.0, None),
    _usd_bn("russia_crude_revenue_usd_bn", "Russia's crude export revenue, annualised",
            "BN_PER_MBD_USD * (rus_crude_exports_mbd * urals_price_fob_usd - India's Russian barrels "
            "* Russia's extra discount to India)", low=None),
    _usd_bn("india_oil_savings_usd_bn", "What India saves on discounted Russian crude, annualised",
            "BN_PER_MBD_USD * crude_imports_ind_from_rus_mbd * urals_discount_delivered_ind_usd", low=None),
    # ------------------------------------------------------------------ goods trade
    _usd_bn("exports_ind_to_rus_usd_bn", "India's goods exports to Russia, annualised",
            "world.goods_flow_usd_bn[rus, ind] (Armington flows with partial adjustment)"),
    _usd_bn("exports_rus_to_ind_usd_bn", "Russia's exports to India including crude, annualised",
            "world.goods_flow_usd_bn[ind, rus] + BN_PER_MBD_USD * crude_imports_ind_from_rus_mbd "
            "* (brent_usd - urals_discount_delivered_ind_usd)"),
    _usd_bn("trade_ind_rus_usd_bn", "India-Russia trade (both directions), annualised",
            "exports_ind_to_rus_usd_bn + exports_rus_to_ind_usd_bn"),
    _usd_bn("exports_ind_to_usa_usd_bn", "India's goods exports to the US, annualised",
            "world.goods_flow_usd_bn[usa, ind]"),
    _usd_bn("exports_ind_to_eu_usd_bn", "India's goods exports to the EU, annualised",
            "world.goods_flow_usd_bn[eu, ind]"),
    _usd_bn("exports_usa_to_ind_usd_bn", "US goods exports to India, annualised",
            "world.goods_flow_usd_bn[ind, usa]"),
    # ------------------------------------------------------------------ arms
    _share("arms_share_ind_from_rus", "Russia's share of India's new arms import orders",
           "world.arms_order_share[rus] / (orders from Russia + the US + the EU); domestic orders excluded"),
    _share("arms_delivery_share_ind_from_rus", "Russia's share of India's arms imports in the delivery pipeline",
           "world.arms_pipeline[rus] / (pipeline from Russia + the US + the EU): orders lagged by "
           "world.arms_delivery_lag_quarters"),
    _share("arms_share_ind_domestic", "Domestic production's share of India's new arms orders",
           "world.arms_order_share[domestic]"),
    _usd_bn("arms_sales_rus_to_ind_usd_bn", "Russia's arms deliveries to India, annualised",
            "world.arms_pipeline[rus] * world.arms_orders_usd_bn"),
    # ------------------------------------------------------------------ settlement
    _share("settlement_local_share_ind_rus", "Share of India-Russia payments settled in rupees and roubles",
           "world.settlement_local_share: logit target pushed by Western sanctions, partial adjustment"),
    Outcome("rupee_balance_usd_bn", "USD bn", "Russia's unspendable rupee balance (a stock)",
            "world.rupee_balance_usd_bn: grows with world.rupee_unspent_fraction of Russia's surplus "
            "with India, drained by world.rupee_drain and rus.rupee_recycling", 0.0, None),
    # ------------------------------------------------------------------ alignment
    *_alignment_outcomes(),
    _share("india_autonomy", "India's strategic autonomy index",
           "mean of rescaled 1 - HHI of India's crude suppliers, arms suppliers and export markets, "
           "times the balance 1 - |affinity(ind, usa) - affinity(ind, rus)| / 2"),
    Outcome("bloc_ind_with_usa", "0/1", "1 if India is in the US camp of the lowest-energy split",
            "alignment.landscape(world.affinity, GDP sizes): Axelrod-Bennett landscape theory", kind="flag"),
    Outcome("bloc_ind_with_rus", "0/1", "1 if India is in Russia's camp of the lowest-energy split",
            "alignment.landscape(world.affinity, GDP sizes): Axelrod-Bennett landscape theory", kind="flag"),
]

#: Every column of the quarterly table, in the table's order.
OUTCOMES: tuple[Outcome, ...] = tuple(_OUTCOMES)
_BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}
assert len(_BY_NAME) == len(OUTCOMES), "an outcome is declared twice"


def outcome_names(numeric: bool = False) -> list[str]:
    """Names of the quarterly table's columns, in order.

    Parameters
    ----------
    numeric : bool
        Leave out the ``label`` column (``quarter``): the names a sensitivity analysis or a
        summary statistic can use.

    Returns
    -------
    list of str
    """
    return [o.name for o in OUTCOMES if not (numeric and o.kind == "label")]


def outcome(name: str) -> Outcome:
    """Return the declaration of column ``name``.

    Raises
    ------
    KeyError
        If no column has that name; the message suggests the nearest one.
    """
    if name in _BY_NAME:
        return _BY_NAME[name]
    near = difflib.get_close_matches(name, _BY_NAME, n=1, cutoff=0.5)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise KeyError(f"no outcome {name!r} in the quarterly table{hint}")


def describe(name: str) -> str:
    """One line about column ``name``: description, unit and range (for labels and tooltips)."""
    o = outcome(name)
    tail = f", {o.range_text}" if o.range_text else ""
    return f"{o.description} ({o.unit}{tail})"

