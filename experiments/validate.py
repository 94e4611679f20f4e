"""Validation against history: run the hindcast and the baseline over seeds, compare with data.

The observed figures live in ``model/data/validation_targets.csv``, one *target* per row: a model
metric (``series``), a scenario (``hindcast`` or ``baseline``), a period (a quarter ``2025Q4``, a
calendar year ``2023``, an Indian fiscal year ``FY2022-23`` = 2022Q2..2023Q1, a window of calendar
years ``2017-2021`` or of quarters ``2022Q2..2023Q1``), the observed value in the model's unit, a
tolerance (absolute, same unit) with its justification, whether it is required, and its source.

For each target the model value of one run is the mean of the series over the period's quarters
present in the run (the first row of a run is its starting state). Over N seeds (replicates: the
agents choose stochastically) we report the median and the 5-95% range; a target passes when
``|median - observed| <= tolerance``. The score is the share of targets passed and the mean
normalised error ``|median - observed| / tolerance`` (1 = at the edge of the tolerance).

Quarter by quarter (``model/data/quarterly_targets.csv``): one row per series and quarter of the
hindcast, built from monthly (or quarterly) public figures that are listed in the row with their
sources, the range over sources (``low``..``high``), whether the model was fitted to the figure
(``fit_status``) and whether it is compared by level or only by its quarter-on-quarter changes
(``comparison``: ``shape`` for figures on another basis than the model's metric). For each row we
report the model's median and 10-90% band over seeds in that quarter, the error, and per series the
RMSE, the share of quarters inside tolerance and the correlation of quarter-on-quarter changes
(:func:`compare_quarterly`, :func:`quarterly_fit`).

Out of sample (``model/data/outofsample_2026.csv``): figures observed in 2026, after the baseline's
calibrated start, none of them fitted (``held_out``). A metric figure is set beside the baseline's
median and 10-90% band in its quarter; an event (``event:<country>.<move>``) beside the quarter in
which the baseline's median run first takes that move; a deal's term beside the setting that holds
it. Figures covering any day after the 28 February 2026 Hormuz shock are flagged, not scored
(:func:`load_outofsample`, :func:`compare_outofsample`). Reported, never gating.

Only the model's public API is used.
"""
from __future__ import annotations

import base64
import csv
import html
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from geogame.model import (SETTINGS, EnsembleRun, InputError, iter_ensemble, load_scenario,
                           normalise_overrides)
from geogame.model import fiscal_year_quarters, outcome_names, parse_quarter, quarter_label

#: Columns the targets file must have, in order.
TARGET_COLUMNS = ["target_id", "series", "scenario", "period", "aggregation", "observed", "unit",
                  "tolerance", "tolerance_reason", "required", "source", "source_date", "confidence",
                  "note"]
SCENARIOS = ("hindcast", "baseline")
AGGREGATIONS = ("mean",)
CONFIDENCES = ("high", "medium", "low")
#: Was the model fitted to the figure? ``fitted``: a calibrated setting was set from it;
#: ``partly_fitted``: the figure overlaps a fitted one (a quarter of a fitted fiscal-year mean, or
#: the same month as a fitted anchor); ``held_out``: never used to set anything; ``input``: a
#: statutory or scripted value the scenario sets (tariffs, the cap); ``unspecified``: not stated.
FIT_STATUSES = ("fitted", "partly_fitted", "held_out", "input", "unspecified")
MAX_SEEDS = 500
#: Most runs stepped together in one ensemble batch (the engine's default; a batch of 256 runs of
#: the hindcast holds a few tens of MB).
CHUNK_SIZE = 256


@dataclass(frozen=True)
class Target:
    """One observed figure to compare the model with (see the module docstring)."""

    target_id: str
    series: str
    scenario: str
    period: str
    aggregation: str
    observed: float
    unit: str
    tolerance: float
    tolerance_reason: str
    required: bool
    source: str
    source_date: str
    confidence: str
    note: str
    fit_status: str = "unspecified"

    @property
    def quarters(self) -> list[int]:
        """Quarter indices of the period."""
        return period_quarters(self.period)


# ------------------------------------------------------------------------------------ periods
def period_quarters(period: str) -> list[int]:
    """Quarter indices (``year * 4 + q - 1``) covered by a period label.

    Parameters
    ----------
    period : str
        ``2025Q4`` (a quarter), ``2023`` (a calendar year), ``FY2022-23`` (an Indian fiscal year,
        April to March), ``2017-2021`` (calendar years, inclusive) or ``2022Q2..2023Q1``.

    Raises
    ------
    ValueError
        If the label has none of these forms or a range runs backwards.
    """
    text = str(period).strip()
    if text.startswith("FY"):
        return fiscal_year_quarters(text)
    if ".." in text:
        first, _, last = text.partition("..")
        a, b = parse_quarter(first), parse_quarter(last)
        if b < a:
            raise ValueError(f"period {text!r} runs backwards")
        return list(range(a, b + 1))
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        return list(range(year * 4, year * 4 + 4))
    match = re.fullmatch(r"(\d{4})-(\d{4})", text)
    if match:
        a, b = int(match.group(1)), int(match.group(2))
        if b < a:
            raise ValueError(f"period {text!r} runs backwards")
        return list(range(a * 4, b * 4 + 4))
    if re.fullmatch(r"\d{4}Q[1-4]", text):
        return [parse_quarter(text)]
    raise ValueError(f"period {text!r} is not a quarter (2025Q4), a year (2023), a fiscal year "
                     "(FY2022-23), a window of years (2017-2021) or of quarters (2022Q2..2023Q1)")


# ------------------------------------------------------------------------------------ targets
def default_targets_path() -> Path:
    """The project's validation data, ``model/data/validation_targets.csv``."""
    return Path(str(resources.files("geogame.model") / "data" / "validation_targets.csv"))


def _parse_bool(text: str, where: str) -> bool:
    value = str(text).strip().lower()
    if value not in ("true", "false"):
        raise InputError(f"{where}: required = {text!r} is not allowed; allowed: true, false")
    return value == "true"


def _parse_float(text: str, field: str, where: str, positive: bool = False) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {field} = {text!r} is not a number") from None
    if not math.isfinite(value) or (positive and value <= 0):
        allowed = "a finite number > 0" if positive else "a finite number"
        raise InputError(f"{where}: {field} = {text!r} is not allowed; allowed {allowed}")
    return value


def parse_target(row: dict, where: str) -> Target:
    """Validate one CSV row and return it as a :class:`Target` (raises :class:`InputError`)."""
    if not row.get("target_id", "").strip():
        raise InputError(f"{where}: target_id is empty")
    if row["scenario"] not in SCENARIOS:
        raise InputError(f"{where}: scenario = {row['scenario']!r} is not allowed; allowed: {', '.join(SCENARIOS)}")
    if row["aggregation"] not in AGGREGATIONS:
        raise InputError(f"{where}: aggregation = {row['aggregation']!r} is not allowed; "
                         f"allowed: {', '.join(AGGREGATIONS)}")
    if row["confidence"] not in CONFIDENCES:
        raise InputError(f"{where}: confidence = {row['confidence']!r} is not allowed; "
                         f"allowed: {', '.join(CONFIDENCES)}")
    try:
        period_quarters(row["period"])
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None
    for field in ("source", "source_date", "tolerance_reason"):
        if not row.get(field, "").strip():
            raise InputError(f"{where}: {field} is empty; every target needs its source, date and a reason for its tolerance")
    fit_status = (row.get("fit_status") or "unspecified").strip()
    if fit_status not in FIT_STATUSES:
        raise InputError(f"{where}: fit_status = {fit_status!r} is not allowed; allowed: {', '.join(FIT_STATUSES)}")
    return Target(
        target_id=row["target_id"].strip(), series=row["series"].strip(), scenario=row["scenario"],
        period=row["period"].strip(), aggregation=row["aggregation"],
        observed=_parse_float(row["observed"], "observed", where), unit=row["unit"],
        tolerance=_parse_float(row["tolerance"], "tolerance", where, positive=True),
        tolerance_reason=row["tolerance_reason"], required=_parse_bool(row["required"], where),
        source=row["source"], source_date=row["source_date"], confidence=row["confidence"],
        note=row.get("note", "") or "", fit_status=fit_status)


def _read_rows(path: Path, what: str, columns, parse) -> list:
    """``parse(row, where)`` for every row of the CSV file ``path`` (``where`` names the file and
    row), after checking the file exists and has ``columns``; ``what`` names the file in errors.

    Raises
    ------
    InputError
        Missing file or column, or whatever ``parse`` raises for a bad field.
    """
    if not path.is_file():
        raise InputError(f"{what} {str(path)!r} does not exist")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{what} {str(path)!r}: missing columns {', '.join(missing)}")
        return [parse(row, f"{path.name} row {n}") for n, row in enumerate(reader, 2)]


def _refuse_duplicates(items: list, key, label: str, what: str, path: Path) -> None:
    """Raise :class:`InputError` naming the ``label`` values (``key(item)``) that occur twice."""
    keys = [key(item) for item in items]
    dup = sorted({str(k) for k in keys if keys.count(k) > 1})
    if dup:
        raise InputError(f"{what} {str(path)!r}: duplicate {label} {', '.join(dup)}")


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Read and validate the targets file (default: the project's).

    Raises
    ------
    InputError
        Missing file or column, duplicate id, or any bad field (named with its row).
    """
    path = Path(path) if path is not None else default_targets_path()
    targets = _read_rows(path, "targets file", TARGET_COLUMNS, parse_target)
    _refuse_duplicates(targets, lambda t: t.target_id, "target_id", "targets file", path)
    return targets


def check_targets(targets: list[Target], scenario_quarters: dict[str, list[int]],
                  metric_columns: set[str]) -> None:
    """Raise :class:`InputError` if a target names an unknown metric or lies outside its run."""
    for t in targets:
        if t.series not in metric_columns:
            raise InputError(f"target {t.target_id}: series = {t.series!r} is not a metric of the model; "
                             f"allowed: {', '.join(sorted(metric_columns))}")
        present = set(t.quarters) & set(scenario_quarters[t.scenario])
        if not present:
            run = scenario_quarters[t.scenario]
            raise InputError(f"target {t.target_id}: period {t.period} has no quarter in the {t.scenario} run "
                             f"({quarter_label(run[0])}..{quarter_label(run[-1])})")


# -------------------------------------------------------------------------------------- runs
def run_quarters(scenario: str, quarters: int | None = None) -> list[int]:
    """Quarter indices a run of ``scenario`` reports, the starting state first."""
    s = load_scenario(scenario)
    n = s.quarters if quarters is None else quarters
    return list(range(s.start_quarter, s.start_quarter + n + 1))


def run_replicates(scenario: str, seeds: list[int], overrides: dict | None = None,
                   quarters: int | None = None, progress=None, rules: dict | None = None,
                   chunk_size: int = CHUNK_SIZE) -> pd.DataFrame:
    """Run ``scenario`` once per seed, the seeds as one ensemble; the metrics of all runs stacked.

    Parameters
    ----------
    scenario : str
        Preset name or path of a scenario file.
    seeds : list of int
        One run per seed (common random numbers: the same seeds give the same runs).
    overrides : dict, optional
        Settings on top of the scenario (validated by the model).
    quarters : int, optional
        Run length (default: the scenario's).
    progress : callable, optional
        Called with no argument after each run (for a progress bar).
    rules : dict, optional
        Rule per country on top of the scenario's (``{"ind": "scripted"}``).
    chunk_size : int
        Most runs stepped together (see :func:`run_scenarios`).

    Returns
    -------
    pandas.DataFrame
        A ``seed`` column, then each run's quarterly table, seed by seed in the order given.
    """
    return run_scenarios([scenario], seeds, overrides, quarters, progress, rules, chunk_size)[scenario]


def run_scenarios(scenarios: list[str], seeds: list[int], overrides: dict | None = None,
                  quarters: int | None = None, progress=None, rules: dict | None = None,
                  chunk_size: int = CHUNK_SIZE, decisions: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every scenario over every seed in one ensemble (:func:`geogame.model.iter_ensemble`).

    A run's table is byte-identical to ``GeopoliticsModel(scenario, seed, overrides, rules).run(quarters)``
    (the ensemble's contract), so the result equals running the seeds one by one; the runs of a
    scenario step together, ``chunk_size`` at a time, and each run's table is taken as its chunk
    finishes (memory is bounded by the chunk, not by the number of seeds).

    ``decisions``, when given, is a dict filled with scenario -> the stacked decisions of its runs
    (a ``seed`` column first, then the Mesa model's decision columns), taken from the same runs.

    Returns
    -------
    dict
        Scenario -> stacked metrics of its runs (a ``seed`` column first, seeds in the order given),
        as :func:`run_replicates` gives them.
    """
    specs = [EnsembleRun(scenario, seed=int(seed), overrides=dict(overrides or {}),
                         rules=dict(rules) if rules else None)
             for scenario in scenarios for seed in seeds]
    frames: list = [None] * len(specs)
    moves: list = [None] * len(specs)
    for position, view in iter_ensemble(specs, quarters, chunk_size):
        frame = view.metrics_frame()
        frame.insert(0, "seed", specs[position].seed)
        frames[position] = frame
        if decisions is not None:
            table = view.decisions_frame()
            table.insert(0, "seed", specs[position].seed)
            moves[position] = table
        if progress is not None:
            progress()
    n = len(seeds)
    if decisions is not None:
        decisions.update({scenario: pd.concat(moves[k * n:(k + 1) * n], ignore_index=True)
                          for k, scenario in enumerate(scenarios)})
    return {scenario: pd.concat(frames[k * n:(k + 1) * n], ignore_index=True)
            for k, scenario in enumerate(scenarios)}


def target_value(run: pd.DataFrame, target: Target) -> tuple[float, int]:
    """Mean of ``target.series`` over the period's quarters present in one run, and how many there were."""
    labels = {quarter_label(q) for q in target.quarters}
    rows = run[run["quarter"].isin(labels)]
    if rows.empty:
        return float("nan"), 0
    return float(rows[target.series].mean()), len(rows)


def compare(targets: list[Target], runs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Model versus observed per target: median and 5-95% range over seeds, error, pass/fail.

    Parameters
    ----------
    targets : list of Target
    runs : dict
        Scenario name -> stacked metrics of all seeds (from :func:`run_replicates`).

    Returns
    -------
    DataFrame
        One row per target with ``model_median``, ``model_p05``, ``model_p95``, ``error``
        (median - observed, in the series' unit), ``normalised_error`` (``|error| / tolerance``),
        ``passed``, ``quarters_in_run`` and ``quarters_in_period``.
    """
    rows = []
    for t in targets:
        run = runs[t.scenario]
        values, n_present = [], 0
        for _seed, one in run.groupby("seed", sort=True):
            value, n_present = target_value(one, t)
            values.append(value)
        values = np.asarray(values, dtype=float)
        median = float(np.median(values))
        error = median - t.observed
        rows.append({
            "target_id": t.target_id, "series": t.series, "scenario": t.scenario, "period": t.period,
            "observed": t.observed, "unit": t.unit, "tolerance": t.tolerance,
            "model_median": median, "model_p05": float(np.percentile(values, 5)),
            "model_p95": float(np.percentile(values, 95)), "error": error,
            "normalised_error": abs(error) / t.tolerance, "passed": bool(abs(error) <= t.tolerance),
            "required": t.required, "confidence": t.confidence, "fit_status": t.fit_status,
            "quarters_in_run": n_present, "quarters_in_period": len(t.quarters),
            "source": t.source, "source_date": t.source_date, "tolerance_reason": t.tolerance_reason,
            "note": t.note,
        })
    return pd.DataFrame(rows)


def score(table: pd.DataFrame) -> dict:
    """Overall score: share of targets passed, mean normalised error, required failures."""
    required = table[table["required"]]
    return {
        "targets": int(len(table)),
        "passed": int(table["passed"].sum()),
        "share_passed": float(table["passed"].mean()) if len(table) else float("nan"),
        "mean_normalised_error": float(table["normalised_error"].mean()) if len(table) else float("nan"),
        "required": int(len(required)),
        "required_passed": int(required["passed"].sum()),
        "required_failed": required.loc[~required["passed"], "target_id"].tolist(),
    }


# ---------------------------------------------------------------------------- quarterly targets
#: Columns the quarterly file must have (the targets' columns and six more).
QUARTERLY_COLUMNS = TARGET_COLUMNS + ["low", "high", "fit_status", "comparison", "monthly", "from_months"]
COMPARISONS = ("level", "shape")
FROM_MONTHS = ("mean", "annualised_sum", "")
#: Band reported around the median path, percentiles over seeds.
BAND = (10, 90)


@dataclass(frozen=True)
class QuarterlyTarget:
    """One observed quarter of one series of the hindcast (see the module docstring).

    ``monthly`` holds the (``YYYY-MM``, value) figures the quarter was built from (empty when the
    source publishes the quarter itself); ``from_months`` says how: ``mean`` (rates, shares,
    prices) or ``annualised_sum`` (monthly flows in USD bn: mean x 12, the model's "a year" unit).
    """

    target_id: str
    series: str
    period: str
    observed: float
    low: float
    high: float
    unit: str
    tolerance: float
    tolerance_reason: str
    required: bool
    fit_status: str
    comparison: str
    monthly: tuple
    from_months: str
    source: str
    source_date: str
    confidence: str
    note: str

    @property
    def quarter(self) -> int:
        """Quarter index (``year * 4 + q - 1``)."""
        return parse_quarter(self.period)


def default_quarterly_path() -> Path:
    """The project's quarterly validation data, ``model/data/quarterly_targets.csv``."""
    return Path(str(resources.files("geogame.model") / "data" / "quarterly_targets.csv"))


def parse_monthly(text: str, where: str = "monthly") -> tuple:
    """Parse ``2023-10:13.73;2023-11:16`` into ``(("2023-10", 13.73), ("2023-11", 16.0))``.

    Raises
    ------
    InputError
        A month that is not ``YYYY-MM`` or a value that is not a finite number.
    """
    out = []
    for item in (x.strip() for x in str(text or "").split(";")):
        if not item:
            continue
        month, _, value = item.partition(":")
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month.strip()):
            raise InputError(f"{where}: month {month!r} is not of the form 2023-10")
        out.append((month.strip(), _parse_float(value, "monthly value", where)))
    return tuple(out)


def month_quarter(month: str) -> int:
    """Quarter index of a ``YYYY-MM`` month."""
    year, mon = int(month[:4]), int(month[5:7])
    return year * 4 + (mon - 1) // 3


def quarter_from_months(values, how: str) -> float:
    """Aggregate monthly figures to the quarter: ``mean``, or ``annualised_sum`` (mean x 12).

    Parameters
    ----------
    values : sequence of float
        The months' figures (rates such as mb/d, shares, USD/bbl; or monthly flows in USD bn).
    how : {"mean", "annualised_sum"}
    """
    values = [float(v) for v in values]
    mean = sum(values) / len(values)
    return mean * 12.0 if how == "annualised_sum" else mean


def parse_quarterly_target(row: dict, where: str, run: list[int]) -> QuarterlyTarget:
    """Validate one row of the quarterly file (raises :class:`InputError` naming the row)."""
    base = parse_target(row, where)
    if base.scenario != "hindcast":
        raise InputError(f"{where}: scenario = {base.scenario!r}; quarterly targets are for the hindcast only")
    if not re.fullmatch(r"\d{4}Q[1-4]", base.period):
        raise InputError(f"{where}: period = {base.period!r} is not a single quarter (2023Q1)")
    quarter = parse_quarter(base.period)
    if not run[0] < quarter <= run[-1]:
        raise InputError(f"{where}: period {base.period} is outside the hindcast's simulated quarters "
                         f"({quarter_label(run[0] + 1)}..{quarter_label(run[-1])}; {quarter_label(run[0])} is its start state)")
    if base.fit_status == "unspecified":
        raise InputError(f"{where}: fit_status is empty; allowed: {', '.join(FIT_STATUSES[:-1])}")
    comparison = (row.get("comparison") or "").strip()
    if comparison not in COMPARISONS:
        raise InputError(f"{where}: comparison = {comparison!r} is not allowed; allowed: {', '.join(COMPARISONS)}")
    low = _parse_float(row["low"], "low", where)
    high = _parse_float(row["high"], "high", where)
    if not low <= base.observed <= high:
        raise InputError(f"{where}: observed {base.observed:g} is outside its range low {low:g} .. high {high:g}")
    if base.tolerance < max(base.observed - low, high - base.observed) - 1e-9:
        raise InputError(f"{where}: tolerance {base.tolerance:g} does not admit the range over sources "
                         f"({low:g} .. {high:g})")
    monthly = parse_monthly(row.get("monthly", ""), where)
    how = (row.get("from_months") or "").strip()
    if how not in FROM_MONTHS or (monthly and not how):
        raise InputError(f"{where}: from_months = {how!r} is not allowed; allowed: mean, annualised_sum "
                         "(empty only when there are no monthly figures)")
    for month, _ in monthly:
        if month_quarter(month) != quarter:
            raise InputError(f"{where}: month {month} is not in {base.period}")
    if monthly:
        expected = quarter_from_months([v for _, v in monthly], how)
        if abs(expected - base.observed) > 1e-3 * max(1.0, abs(expected)):
            raise InputError(f"{where}: observed {base.observed:g} is not the {how} of its monthly figures ({expected:.6g})")
    return QuarterlyTarget(
        target_id=base.target_id, series=base.series, period=base.period, observed=base.observed, low=low,
        high=high, unit=base.unit, tolerance=base.tolerance, tolerance_reason=base.tolerance_reason,
        required=base.required, fit_status=base.fit_status, comparison=comparison, monthly=monthly,
        from_months=how, source=base.source, source_date=base.source_date, confidence=base.confidence,
        note=base.note)


def load_quarterly_targets(path: str | Path | None = None) -> list[QuarterlyTarget]:
    """Read and validate the quarterly targets file (default: the project's).

    Every row must be one quarter inside the hindcast's simulated quarters, carry its source, date,
    range over sources and fit status; a quarter built from monthly figures must equal their
    aggregate; no series may have the same quarter twice.

    Raises
    ------
    InputError
        Missing file or column, duplicate id or series-quarter, or any bad field (named with its row).
    """
    path = Path(path) if path is not None else default_quarterly_path()
    what = "quarterly targets file"
    run = run_quarters("hindcast") if path.is_file() else []
    targets = _read_rows(path, what, QUARTERLY_COLUMNS, lambda row, where: parse_quarterly_target(row, where, run))
    _refuse_duplicates(targets, lambda t: t.target_id, "target_id", what, path)
    _refuse_duplicates(targets, lambda t: (t.series, t.period), "series and quarter", what, path)
    return targets


def quarter_paths(run: pd.DataFrame, series: str) -> pd.DataFrame:
    """One series of a stacked run as a quarter x seed table (rows in time order)."""
    wide = run.pivot(index="quarter", columns="seed", values=series)
    return wide.loc[sorted(wide.index, key=parse_quarter)]


def compare_quarterly(targets: list[QuarterlyTarget], run: pd.DataFrame) -> pd.DataFrame:
    """Model versus observed, one row per quarterly target.

    Parameters
    ----------
    targets : list of QuarterlyTarget
    run : DataFrame
        Stacked metrics of the hindcast over seeds (``seed``, ``quarter`` and the series).

    Returns
    -------
    DataFrame
        ``model_median`` and ``model_p10``/``model_p90`` over seeds in that quarter (the series'
        unit), ``error`` (median - observed), ``normalised_error`` (``|error| / tolerance``) and
        ``inside`` (``|error| <= tolerance``; missing for ``shape`` rows, which are compared by
        their changes only), with the target's fields.
    """
    rows = []
    paths = {s: quarter_paths(run, s) for s in dict.fromkeys(t.series for t in targets)}
    for t in targets:
        values = paths[t.series].loc[t.period].to_numpy(dtype=float)
        median = float(np.median(values))
        error = median - t.observed
        rows.append({
            "target_id": t.target_id, "series": t.series, "period": t.period, "observed": t.observed,
            "low": t.low, "high": t.high, "unit": t.unit, "tolerance": t.tolerance, "model_median": median,
            f"model_p{BAND[0]:02d}": float(np.percentile(values, BAND[0])),
            f"model_p{BAND[1]:02d}": float(np.percentile(values, BAND[1])),
            "error": error, "normalised_error": abs(error) / t.tolerance,
            "inside": (bool(abs(error) <= t.tolerance) if t.comparison == "level" else None),
            "required": t.required, "fit_status": t.fit_status, "comparison": t.comparison,
            "confidence": t.confidence, "source": t.source, "source_date": t.source_date,
            "tolerance_reason": t.tolerance_reason, "note": t.note,
        })
    return pd.DataFrame(rows)


def change_pairs(periods, observed, model) -> tuple[np.ndarray, np.ndarray]:
    """Quarter-on-quarter changes over consecutive observed quarters.

    Parameters
    ----------
    periods : sequence of str
        Quarter labels of the observed rows (any order).
    observed, model : sequence of float
        Observed value and model median in each of those quarters (same unit).

    Returns
    -------
    (d_observed, d_model) : arrays
        Changes from quarter q to q+1 for every q where both quarters are observed; a gap in the
        data breaks the chain (no change is taken across a missing quarter).
    """
    order = np.argsort([parse_quarter(p) for p in periods])
    q = np.array([parse_quarter(p) for p in periods])[order]
    obs = np.asarray(observed, dtype=float)[order]
    mod = np.asarray(model, dtype=float)[order]
    consecutive = np.diff(q) == 1
    return np.diff(obs)[consecutive], np.diff(mod)[consecutive]


def quarterly_fit(table: pd.DataFrame) -> pd.DataFrame:
    """Per-series fit of the quarterly path (from :func:`compare_quarterly`).

    Returns
    -------
    DataFrame
        One row per series: ``quarters`` (observed quarters), ``rmse`` and ``bias`` (mean error) of the
        median path in the series' unit, ``normalised_rmse`` (RMSE of error / tolerance),
        ``share_inside`` (share of level quarters within tolerance; missing for shape-only series),
        ``changes`` (consecutive observed pairs), ``change_corr`` (Pearson correlation of
        quarter-on-quarter changes, model median vs observed; missing with fewer than 3 pairs or no
        variation), ``direction_agree`` (share of changes with the same sign), the fit-status counts,
        ``rmse_held_out`` and ``share_inside_held_out`` (the same over held-out quarters only) and
        whether any row is required.
    """
    rows = []
    for series, g in table.groupby("series", sort=False):
        err = g["error"].to_numpy(dtype=float)
        level = g[g["comparison"] == "level"]
        d_obs, d_mod = change_pairs(g["period"].tolist(), g["observed"], g["model_median"])
        corr = float("nan")
        if len(d_obs) >= 3 and np.std(d_obs) > 0 and np.std(d_mod) > 0:
            corr = float(np.corrcoef(d_obs, d_mod)[0, 1])
        agree = float(np.mean(np.sign(d_obs) == np.sign(d_mod))) if len(d_obs) else float("nan")
        counts = g["fit_status"].value_counts()
        held = g[g["fit_status"] == "held_out"]
        held_level = held[held["comparison"] == "level"]
        rows.append({
            "series": series, "unit": g["unit"].iloc[0], "comparison": "/".join(sorted(set(g["comparison"]))),
            "quarters": int(len(g)), "first": min(g["period"], key=parse_quarter),
            "last": max(g["period"], key=parse_quarter),
            "rmse": float(np.sqrt(np.mean(err ** 2))), "bias": float(np.mean(err)),
            "normalised_rmse": float(np.sqrt(np.mean((err / g["tolerance"].to_numpy(dtype=float)) ** 2))),
            "share_inside": (float(level["inside"].astype(bool).mean()) if len(level) else float("nan")),
            "changes": int(len(d_obs)), "change_corr": corr, "direction_agree": agree,
            "held_out": int(counts.get("held_out", 0)), "partly_fitted": int(counts.get("partly_fitted", 0)),
            "fitted": int(counts.get("fitted", 0)),
            "rmse_held_out": (float(np.sqrt(np.mean(held["error"].to_numpy(dtype=float) ** 2))) if len(held)
                              else float("nan")),
            "share_inside_held_out": (float(held_level["inside"].astype(bool).mean()) if len(held_level)
                                      else float("nan")),
            "required": bool(g["required"].any()),
        })
    return pd.DataFrame(rows)


def quarterly_required_failed(table: pd.DataFrame) -> list[str]:
    """Ids of required quarterly targets outside tolerance (level rows only)."""
    req = table[table["required"] & (table["comparison"] == "level")]
    return req.loc[~req["inside"].astype(bool), "target_id"].tolist()


def quarterly_figure(series: str, targets: list[QuarterlyTarget], run: pd.DataFrame):
    """Hindcast median and 10-90% band over seeds against the observed quarters of one series.

    Observed points carry the tolerance as an error bar and the range over sources as a thick bar;
    filled markers are held out, hollow ones partly fitted. Shape-only series (another basis than
    the model's metric) are drawn on a second axis. Returns the figure.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wide = quarter_paths(run, series)
    x = np.array([_x(q) for q in wide.index])
    values = wide.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(8.0, 4.6))
    ax.fill_between(x, np.percentile(values, BAND[0], axis=1), np.percentile(values, BAND[1], axis=1),
                    color="tab:blue", alpha=0.25, label=f"hindcast {BAND[0]}-{BAND[1]}% over {values.shape[1]} seeds")
    ax.plot(x, np.median(values, axis=1), color="tab:blue", lw=2, label="hindcast median")
    unit = targets[0].unit
    shape = all(t.comparison == "shape" for t in targets)
    obs_ax = ax.twinx() if shape else ax
    for status, filled in (("held_out", True), ("partly_fitted", False), ("fitted", False), ("input", False)):
        pts = [t for t in targets if t.fit_status == status]
        if not pts:
            continue
        px = np.array([_x(t.period) for t in pts])
        py = np.array([t.observed for t in pts])
        colour = "black" if status == "held_out" else "tab:orange"
        obs_ax.vlines(px, [t.low for t in pts], [t.high for t in pts], colors=colour, lw=4, alpha=0.5)
        obs_ax.errorbar(px, py, yerr=[t.tolerance for t in pts], fmt="o", color=colour, capsize=3,
                        markerfacecolor=(colour if filled else "white"),
                        label=f"observed, {status.replace('_', ' ')} (bar: tolerance)")
    ax.set_xlabel("year (quarter mid-points)")
    ax.set_ylabel(f"model ({unit})" if shape else f"{series} ({unit})")
    if shape:
        obs_ax.set_ylabel(f"observed, other basis ({unit})")
    ax.set_title(f"hindcast, quarter by quarter: {series}", fontsize=10)
    ax.grid(alpha=0.3)
    handles = ax.get_legend_handles_labels()
    if shape:
        extra = obs_ax.get_legend_handles_labels()
        handles = (handles[0] + extra[0], handles[1] + extra[1])
    ax.legend(*handles, fontsize=7, loc="best")
    dates = sorted({t.source_date for t in targets})
    caption = (f"Sources: model/data/quarterly_targets.csv ({len(targets)} quarters; source dates "
               f"{dates[0]} to {dates[-1]}); thick bars: range over sources.")
    if shape:
        caption += " " + targets[0].note
    fig.text(0.01, 0.01, _wrap(caption, 150), fontsize=6.5, va="bottom", ha="left")
    fig.tight_layout(rect=(0, 0.07 + 0.025 * (len(caption) // 150), 1, 1))
    return fig


# ---------------------------------------------------------------- out of sample: 2026 so far
#: Columns the out-of-sample file must have, in order.
OUTOFSAMPLE_COLUMNS = ["figure_id", "series", "period", "month", "date", "observed", "low", "high", "unit",
                       "setting", "source_url", "publisher", "source_date", "confidence", "fit_status", "note"]
#: The baseline is compared with what happened after its start; nothing in the file was fitted.
OUTOFSAMPLE_FIT_STATUS = "held_out"
#: An ``event:<country>.<move>`` series is a move of a player, compared by the quarter it was taken.
EVENT_PREFIX = "event:"
#: The US-Israel-Iran war began on 28 February 2026 and closed the Strait of Hormuz to about half of
#: India's crude; the model has no Gulf supply shock, so a figure covering any later day is flagged,
#: not scored.
SHOCK_DATE = "2026-02-28"
SHOCK_FLAG = "outside the model (Hormuz)"


@dataclass(frozen=True)
class OutOfSampleFigure:
    """One observed 2026 figure to set beside the baseline (``model/data/outofsample_2026.csv``).

    A *metric* figure (``series`` a column of the quarterly table) is compared with the baseline's
    value in ``period``: median and 10-90% band over seeds. An *event* (``series`` =
    ``event:<country>.<move>``, ``date`` when it happened) is compared by the quarter the baseline's
    median run first takes the move; an event with an ``observed`` value also names the model
    ``setting`` that holds the corresponding term (the deal's tariff or crude ceiling).
    ``month`` (``YYYY-MM``) and ``date`` (``YYYY-MM-DD``) say what the figure covers, inside
    ``period``; ``observed`` is ``None`` for an event without a value.
    """

    figure_id: str
    series: str
    period: str
    month: str
    date: str
    observed: float | None
    low: float | None
    high: float | None
    unit: str
    setting: str
    source_url: str
    publisher: str
    source_date: str
    confidence: str
    fit_status: str
    note: str

    @property
    def is_event(self) -> bool:
        """True for a move of a player (``event:<country>.<move>``)."""
        return self.series.startswith(EVENT_PREFIX)

    @property
    def country(self) -> str:
        """The player of an event (empty for a metric)."""
        return self.series[len(EVENT_PREFIX):].partition(".")[0] if self.is_event else ""

    @property
    def move(self) -> str:
        """The move of an event (empty for a metric)."""
        return self.series[len(EVENT_PREFIX):].partition(".")[2] if self.is_event else ""

    @property
    def last_day(self) -> str:
        """Last day the figure covers (``YYYY-MM-DD``): its date, else its month's, else its quarter's."""
        return figure_last_day(self.period, self.month, self.date)

    @property
    def after_shock(self) -> bool:
        """True when the figure covers a day after the Hormuz shock (:data:`SHOCK_DATE`)."""
        return self.last_day > SHOCK_DATE


def figure_last_day(period: str, month: str = "", date: str = "") -> str:
    """Last day a figure covers: its ``date``, else the end of its ``month``, else of its quarter."""
    import calendar
    if date:
        return date
    if not month:
        q = parse_quarter(period)
        month = f"{q // 4}-{(q % 4) * 3 + 3:02d}"
    year, mon = int(month[:4]), int(month[5:7])
    return f"{month}-{calendar.monthrange(year, mon)[1]:02d}"


def default_outofsample_path() -> Path:
    """The project's out-of-sample data, ``model/data/outofsample_2026.csv``."""
    return Path(str(resources.files("geogame.model") / "data" / "outofsample_2026.csv"))


def player_moves() -> dict[str, set[str]]:
    """Each player's move names (from the declared players, :data:`geogame.PLAYERS`)."""
    from geogame import PLAYERS
    return {p.CODE: {m.name for m in p.MENU} for p in PLAYERS}


def _is_date(text: str) -> bool:
    import datetime
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


def parse_outofsample_figure(row: dict, where: str, run: list[int], metrics: set[str],
                             moves: dict[str, set[str]]) -> OutOfSampleFigure:
    """Validate one row of the out-of-sample file (raises :class:`InputError` naming the row and field).

    Parameters
    ----------
    row : dict
        The CSV row.
    where : str
        ``<file> row <n>``, put in front of every message.
    run : list of int
        Quarter indices of the baseline run (its start state first).
    metrics : set of str
        The model's metric columns.
    moves : dict
        Player code -> its move names (:func:`player_moves`).
    """
    def text(field: str) -> str:
        return (row.get(field) or "").strip()

    figure_id, series, period = text("figure_id"), text("series"), text("period")
    if not figure_id:
        raise InputError(f"{where}: figure_id is empty")
    if series.startswith(EVENT_PREFIX):
        country, _, move = series[len(EVENT_PREFIX):].partition(".")
        if country not in moves:
            raise InputError(f"{where}: series = {series!r}: player {country!r} is not allowed; "
                             f"allowed: {', '.join(sorted(moves))}")
        if move not in moves[country]:
            raise InputError(f"{where}: series = {series!r}: {move!r} is not a move of {country}; "
                             f"allowed: {', '.join(sorted(moves[country]))}")
    elif series not in metrics:
        raise InputError(f"{where}: series = {series!r} is not allowed; allowed: a metric of the model "
                         f"({', '.join(sorted(metrics))}) or event:<country>.<move>")
    if not re.fullmatch(r"\d{4}Q[1-4]", period):
        raise InputError(f"{where}: period = {period!r} is not a single quarter (2026Q1)")
    quarter = parse_quarter(period)
    if not run[0] < quarter <= run[-1]:
        raise InputError(f"{where}: period {period} is outside the baseline's simulated quarters "
                         f"({quarter_label(run[0] + 1)}..{quarter_label(run[-1])}; "
                         f"{quarter_label(run[0])} is its start state, calibrated, not out of sample)")
    month, date = text("month"), text("date")
    if month and (not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month) or month_quarter(month) != quarter):
        raise InputError(f"{where}: month = {month!r} is not allowed; allowed: empty or a month YYYY-MM in {period}")
    if date and (not _is_date(date) or month_quarter(date[:7]) != quarter or (month and date[:7] != month)):
        raise InputError(f"{where}: date = {date!r} is not allowed; allowed: empty or a day YYYY-MM-DD in "
                         f"{month or period}")
    is_event = series.startswith(EVENT_PREFIX)
    if is_event and not date:
        raise InputError(f"{where}: date is empty; an event needs the day it happened (YYYY-MM-DD)")
    setting = text("setting")
    observed = low = high = None
    if text("observed") or not is_event:
        observed = _parse_float(text("observed"), "observed", where)
        low = _parse_float(text("low"), "low", where) if text("low") else observed
        high = _parse_float(text("high"), "high", where) if text("high") else observed
        if not low <= observed <= high:
            raise InputError(f"{where}: observed {observed:g} is outside its range low {low:g} .. high {high:g}")
        if not text("unit"):
            raise InputError(f"{where}: unit is empty; an observed value needs its unit")
    elif text("low") or text("high"):
        raise InputError(f"{where}: low/high given without an observed value")
    if is_event and observed is not None and setting not in SETTINGS:
        raise InputError(f"{where}: setting = {setting!r} is not allowed; an event with an observed value names "
                         "the model setting that holds the corresponding term (see geogame params)")
    if not is_event and setting:
        raise InputError(f"{where}: setting = {setting!r} is not allowed for a metric; allowed: empty")
    url = text("source_url")
    if not re.fullmatch(r"https?://\S+", url):
        raise InputError(f"{where}: source_url = {url!r} is not allowed; allowed: one http(s) address")
    if not text("publisher"):
        raise InputError(f"{where}: publisher is empty; every figure needs its source's publisher")
    source_date = text("source_date")
    if not (_is_date(source_date) or re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", source_date)):
        raise InputError(f"{where}: source_date = {source_date!r} is not allowed; allowed: YYYY-MM-DD "
                         "(or YYYY-MM for an undated page)")
    if text("confidence") not in CONFIDENCES:
        raise InputError(f"{where}: confidence = {text('confidence')!r} is not allowed; "
                         f"allowed: {', '.join(CONFIDENCES)}")
    if text("fit_status") != OUTOFSAMPLE_FIT_STATUS:
        raise InputError(f"{where}: fit_status = {text('fit_status')!r} is not allowed; allowed: "
                         f"{OUTOFSAMPLE_FIT_STATUS} (nothing in the out-of-sample file may have been fitted)")
    return OutOfSampleFigure(
        figure_id=figure_id, series=series, period=period, month=month, date=date, observed=observed, low=low,
        high=high, unit=text("unit"), setting=setting, source_url=url, publisher=text("publisher"),
        source_date=source_date, confidence=text("confidence"), fit_status=OUTOFSAMPLE_FIT_STATUS,
        note=text("note"))


def load_outofsample(path: str | Path | None = None) -> list[OutOfSampleFigure]:
    """Read and validate the out-of-sample file (default: the project's).

    Every row must be one figure inside the baseline's simulated quarters, with a metric of the
    model or a move of a player, its source address, publisher and date, ``held_out``; a value
    within its range; an event with its day. Ids are unique.

    Raises
    ------
    InputError
        Missing file or column, duplicate id, or any bad field (named with its row).
    """
    path = Path(path) if path is not None else default_outofsample_path()
    what = "out-of-sample file"
    if not path.is_file():
        raise InputError(f"{what} {str(path)!r} does not exist")
    run = run_quarters("baseline")
    metrics = set(outcome_names()) - {"quarter"}
    moves = player_moves()
    figures = _read_rows(path, what, OUTOFSAMPLE_COLUMNS,
                         lambda row, where: parse_outofsample_figure(row, where, run, metrics, moves))
    _refuse_duplicates(figures, lambda f: f.figure_id, "figure_id", what, path)
    return figures


def first_move_quarters(decisions: pd.DataFrame, country: str, move: str, seeds) -> np.ndarray:
    """Per seed, the quarter index at which ``country`` first takes ``move`` (``inf`` if never).

    ``decisions`` is the stacked decisions table of the runs (a ``seed`` column, then the Mesa
    model's decision columns: ``quarter``, ``country``, ``move``, ...).
    """
    taken = decisions[(decisions["country"] == country) & (decisions["move"] == move)]
    first = taken.groupby("seed")["quarter"].agg(lambda qs: min(parse_quarter(q) for q in qs))
    return np.array([float(first.get(s, np.inf)) for s in seeds])


def median_run_quarter(quarters: np.ndarray) -> float:
    """The quarter of the median run (the lower median, so it is a quarter some run took; ``inf`` if
    more than half of the runs never take the move)."""
    ordered = np.sort(np.asarray(quarters, dtype=float))
    return float(ordered[(len(ordered) - 1) // 2])


def _quarter_or_never(q: float) -> str:
    return quarter_label(int(q)) if math.isfinite(q) else "not in the run"


def _value_verdict(median: float, low: float, high: float, band: tuple[float, float]) -> str:
    if low <= median <= high:
        return "matches"
    near = " (observed range overlaps the model's band)" if band[0] <= high and low <= band[1] else ""
    return ("model higher" if median > high else "model lower") + near


def compare_outofsample(figures: list[OutOfSampleFigure], run: pd.DataFrame, decisions: pd.DataFrame,
                        settings: dict[str, float]) -> pd.DataFrame:
    """The baseline beside what happened, one row per figure.

    Parameters
    ----------
    figures : list of OutOfSampleFigure
    run : DataFrame
        Stacked metrics of the baseline over seeds (``seed``, ``quarter`` and the series).
    decisions : DataFrame
        Stacked decisions of the same runs (a ``seed`` column, then ``quarter``, ``country``, ``move``).
    settings : dict
        The baseline's settings as run (scenario and overrides): an event's term is read from here.

    Returns
    -------
    DataFrame
        Per figure: ``kind`` (``metric``, ``event`` or ``term``); for a metric the baseline's
        ``model_median`` and ``model_p10``/``model_p90`` over seeds in the figure's quarter and
        ``error`` (median - observed); for an event ``model_quarter`` (the quarter the median run
        first takes the move), ``model_quarter_p10``/``_p90`` over seeds, ``share_of_runs`` that take
        it and ``lag_quarters`` (model - observed; positive: the model is late); for a term also the
        setting's value as ``model_median`` and its ``error``; ``shock`` (:data:`SHOCK_FLAG` when the
        figure covers a day after :data:`SHOCK_DATE`) and a plain ``verdict``; the figure's fields.
    """
    seeds = sorted(run["seed"].unique())
    paths = {f.series: quarter_paths(run, f.series) for f in figures if not f.is_event}
    rows = []
    for f in figures:
        row = {"figure_id": f.figure_id, "series": f.series, "kind": "metric", "period": f.period,
               "month": f.month, "date": f.date, "observed": f.observed, "low": f.low, "high": f.high,
               "unit": f.unit, "model_median": np.nan, f"model_p{BAND[0]:02d}": np.nan,
               f"model_p{BAND[1]:02d}": np.nan, "error": np.nan, "model_quarter": "",
               "model_quarter_p10": "", "model_quarter_p90": "", "share_of_runs": np.nan,
               "lag_quarters": np.nan, "setting": f.setting, "shock": SHOCK_FLAG if f.after_shock else ""}
        if not f.is_event:
            values = paths[f.series].loc[f.period].to_numpy(dtype=float)
            median = float(np.median(values))
            band = (float(np.percentile(values, BAND[0])), float(np.percentile(values, BAND[1])))
            row.update({"model_median": median, f"model_p{BAND[0]:02d}": band[0],
                        f"model_p{BAND[1]:02d}": band[1], "error": median - f.observed,
                        "verdict": _value_verdict(median, f.low, f.high, band)})
        else:
            firsts = first_move_quarters(decisions, f.country, f.move, seeds)
            q = median_run_quarter(firsts)
            lag = q - parse_quarter(f.period) if math.isfinite(q) else np.nan
            timing = ("not taken by the median run" if not math.isfinite(q) else "same quarter" if lag == 0
                      else f"model {abs(int(lag))} quarter{'s' if abs(lag) > 1 else ''} {'late' if lag > 0 else 'early'}")
            row.update({"kind": "event", "model_quarter": _quarter_or_never(q),
                        "model_quarter_p10": _quarter_or_never(float(np.percentile(firsts, BAND[0], method="lower"))),
                        "model_quarter_p90": _quarter_or_never(float(np.percentile(firsts, BAND[1], method="higher"))),
                        "share_of_runs": float(np.mean(np.isfinite(firsts))), "lag_quarters": lag,
                        "verdict": timing})
            if f.observed is not None:
                term = float(settings[f.setting])
                row.update({"kind": "term", "model_median": term, f"model_p{BAND[0]:02d}": term,
                            f"model_p{BAND[1]:02d}": term, "error": term - f.observed,
                            "verdict": f"term: {_value_verdict(term, f.low, f.high, (term, term))}; timing: {timing}"})
        if f.after_shock:
            row["verdict"] = f"not scored, {SHOCK_FLAG}: " + row["verdict"]
        row.update({"confidence": f.confidence, "fit_status": f.fit_status, "source_url": f.source_url,
                    "publisher": f.publisher, "source_date": f.source_date, "note": f.note})
        rows.append(row)
    return pd.DataFrame(rows)


def outofsample_summary(table: pd.DataFrame) -> dict:
    """Counts over the out-of-sample table: figures, scored (before the shock), matching, flagged,
    and the events' lags (model quarter - observed quarter, scored events only)."""
    scored = table[table["shock"] == ""]
    values = scored[scored["kind"] != "event"]
    events = scored[scored["kind"] == "event"]   # a term's timing repeats its event's: counted once
    return {
        "figures": int(len(table)), "scored": int(len(scored)), "flagged": int(len(table) - len(scored)),
        "values": int(len(values)),
        "values_matching": int(values["verdict"].str.contains(r"^(?:term: )?matches").sum()),
        "events": int(len(events)),
        "events_same_quarter": int((events["lag_quarters"] == 0).sum()),
        "events_late": int((events["lag_quarters"] > 0).sum()),
        "events_early": int((events["lag_quarters"] < 0).sum()),
        "events_not_taken": int(events["lag_quarters"].isna().sum()),
    }


# ------------------------------------------------------------------------------------ figures
def _x(label: str) -> float:
    """Calendar time of the middle of a quarter, in years (2025Q4 -> 2025.875)."""
    q = parse_quarter(label)
    return q / 4.0 + 0.125


def series_figure(series: str, targets: list[Target], runs: dict[str, pd.DataFrame]):
    """Model median path with the 5-95% band over seeds, beside the observed points.

    Observed values are drawn over their period's quarters (a bar for multi-quarter periods)
    with the tolerance as an error bar; the sources go into the caption. Returns the figure.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [s for s in SCENARIOS if any(t.scenario == s for t in targets)]
    fig, axes = plt.subplots(1, len(scenarios), figsize=(6.2 * len(scenarios), 4.2), squeeze=False)
    for ax, scen in zip(axes[0], scenarios):
        run = runs[scen]
        wide = run.pivot(index="quarter", columns="seed", values=series)
        wide = wide.loc[sorted(wide.index, key=parse_quarter)]
        x = np.array([_x(q) for q in wide.index])
        values = wide.to_numpy()
        ax.fill_between(x, np.percentile(values, 5, axis=1), np.percentile(values, 95, axis=1),
                        color="tab:blue", alpha=0.25, label=f"model 5-95% ({values.shape[1]} seeds)")
        ax.plot(x, np.median(values, axis=1), color="tab:blue", lw=2, label="model median")
        first = True
        for t in (t for t in targets if t.scenario == scen):
            qs = t.quarters
            x0, x1 = qs[0] / 4.0, (qs[-1] + 1) / 4.0
            colour = "black" if t.required else "tab:orange"
            ax.hlines(t.observed, x0, x1, colors=colour, lw=2.5)
            ax.errorbar((x0 + x1) / 2, t.observed, yerr=t.tolerance, fmt="o", color=colour, capsize=4,
                        label=("observed ± tolerance" if first else None))
            ax.annotate(t.period, ((x0 + x1) / 2, t.observed), textcoords="offset points", xytext=(4, 6),
                        fontsize=7, color=colour)
            first = False
        ax.set_title(f"{scen}: {series}", fontsize=10)
        ax.set_xlabel("year")
        ax.set_ylabel(targets[0].unit)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    sources = sorted({f"{t.period}: {t.source} ({t.source_date})" for t in targets})
    caption = "Observed (black = required, orange = informative) - sources: " + "; ".join(sources)
    fig.text(0.01, 0.01, _wrap(caption, 190), fontsize=6.5, va="bottom", ha="left")
    n_lines = caption.count("\n") + len(caption) // 190 + 1
    fig.tight_layout(rect=(0, min(0.08 + 0.035 * n_lines, 0.5), 1, 1))
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(text, width))


# -------------------------------------------------------------------------------------- report
@dataclass
class ValidationResult:
    """What :func:`validate` produced."""

    table: pd.DataFrame
    score: dict
    runs: dict[str, pd.DataFrame]
    seeds: list[int]
    overrides: dict[str, float]
    files: list[Path]
    scenario_settings: dict = None   # scenario -> its settings that differ from the registry defaults
    quarterly: pd.DataFrame = None   # one row per quarterly target (compare_quarterly)
    quarterly_fit: pd.DataFrame = None   # one row per series (quarterly_fit)
    outofsample: pd.DataFrame = None   # one row per observed 2026 figure (compare_outofsample)

    @property
    def quarterly_failed(self) -> list[str]:
        """Required quarterly targets outside tolerance."""
        return [] if self.quarterly is None or self.quarterly.empty else quarterly_required_failed(self.quarterly)

    @property
    def ok(self) -> bool:
        """True when every required target (fiscal-year and quarterly) passes."""
        return not self.score["required_failed"] and not self.quarterly_failed

    def summary(self) -> str:
        """One line: targets passed, required passed, mean normalised error, quarterly fit."""
        s = self.score
        failed = f" (failed: {', '.join(s['required_failed'])})" if s["required_failed"] else ""
        line = (f"validation: {s['passed']}/{s['targets']} targets pass ({s['share_passed']:.0%}), "
                f"required {s['required_passed']}/{s['required']}{failed}; mean normalised error "
                f"{s['mean_normalised_error']:.2f}; {len(self.seeds)} seeds")
        if self.quarterly is not None and not self.quarterly.empty:
            q = self.quarterly
            level = q[q["comparison"] == "level"]
            qfailed = self.quarterly_failed
            line += (f"; quarterly: {int(level['inside'].astype(bool).sum())}/{len(level)} quarters inside tolerance "
                     f"over {q['series'].nunique()} series, required {int((q['required']).sum())}"
                     + (f" (failed: {', '.join(qfailed)})" if qfailed else ""))
        if self.outofsample is not None and not self.outofsample.empty:
            o = outofsample_summary(self.outofsample)
            line += (f"; out of sample 2026 (not fitted, not gating): {o['values_matching']}/{o['values']} values "
                     f"match, events {o['events_same_quarter']} same quarter / {o['events_late']} late / "
                     f"{o['events_early']} early / {o['events_not_taken']} not taken, {o['flagged']} of "
                     f"{o['figures']} figures {SHOCK_FLAG}")
        return line


def prepare(seeds: int, first_seed: int, overrides, targets_path=None, quarterly_path=None, quarterly: bool = True):
    """Validate every input before any run: returns ``(targets, seed list, overrides, quarterly targets)``.

    Raises
    ------
    InputError
        Bad seed count or first seed, bad override, bad targets file or a target the runs cannot cover.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or not 1 <= seeds <= MAX_SEEDS:
        raise InputError(f"--seeds = {seeds!r} is not allowed; allowed whole numbers 1 to {MAX_SEEDS}")
    if isinstance(first_seed, bool) or not isinstance(first_seed, (int, np.integer)) or first_seed < 0:
        raise InputError(f"--seed = {first_seed!r} is not allowed; allowed whole numbers >= 0")
    overrides = normalise_overrides(overrides)
    targets = load_targets(targets_path)
    columns = set(outcome_names()) - {"quarter"}   # the declared columns (geogame.model.outcomes)
    check_targets(targets, {s: run_quarters(s) for s in SCENARIOS}, columns)
    qtargets = load_quarterly_targets(quarterly_path) if quarterly else []
    for t in qtargets:
        if t.series not in columns:
            raise InputError(f"quarterly target {t.target_id}: series = {t.series!r} is not a metric of the model; "
                             f"allowed: {', '.join(sorted(columns))}")
    return targets, list(range(int(first_seed), int(first_seed) + int(seeds))), overrides, qtargets


def validate(out_dir: str | Path, seeds: int = 20, first_seed: int = 1, overrides=None,
             targets_path=None, command: str | None = None, progress: bool = False,
             quarterly_path=None, quarterly: bool = True, outofsample_path=None,
             outofsample: bool = True) -> ValidationResult:
    """Run the hindcast and the baseline over seeds, compare with the targets, write the report.

    Writes ``validation.csv``, one PNG per observed series and ``validation.html`` (self-contained)
    into ``out_dir`` (created if missing); with ``quarterly`` (default) also ``quarterly.csv`` (one
    row per observed quarter), ``quarterly_fit.csv`` (one row per series) and one
    ``quarterly_<series>.png`` per series, from ``quarterly_path`` (default: the project's
    ``model/data/quarterly_targets.csv``); with ``outofsample`` (default) also
    ``outofsample_2026.csv``: the baseline beside what was observed in 2026, one row per figure of
    ``outofsample_path`` (default: the project's ``model/data/outofsample_2026.csv``). The
    out-of-sample comparison is reported, never gating: nothing was fitted to it, and history after
    28 February 2026 left the model's world (see :data:`SHOCK_FLAG`).
    """
    targets, seed_list, overrides, qtargets = prepare(seeds, first_seed, overrides, targets_path,
                                                      quarterly_path, quarterly)
    figures = load_outofsample(outofsample_path) if outofsample else []
    out = Path(out_dir)
    if command is None:
        command = reproduce_command(out, seeds, first_seed, overrides, targets_path, quarterly_path, quarterly,
                                    outofsample_path, outofsample)
    _check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(seed_list) * len(SCENARIOS), desc="validate runs", unit="run", leave=False)
    decisions: dict = {} if figures else None
    runs = run_scenarios(list(SCENARIOS), seed_list, overrides, progress=bar.update if bar else None,
                         decisions=decisions)
    if bar:
        bar.close()
    table = compare(targets, runs)
    result = ValidationResult(table=table, score=score(table), runs=runs, seeds=seed_list,
                              overrides=overrides, files=[], scenario_settings=non_default_settings())
    if qtargets:
        result.quarterly = compare_quarterly(qtargets, runs["hindcast"])
        result.quarterly_fit = quarterly_fit(result.quarterly)
    if figures:
        settings = {**{k: s.default for k, s in SETTINGS.items()}, **load_scenario("baseline").settings,
                    **overrides}
        result.outofsample = compare_outofsample(figures, runs["baseline"], decisions["baseline"], settings)
    result.files = write_report(out, result, targets, command, qtargets)
    return result


def non_default_settings() -> dict[str, dict[str, float]]:
    """Per scenario, the settings its file sets to values other than the registry defaults."""
    out = {}
    for name in SCENARIOS:
        settings = load_scenario(name).settings
        out[name] = {k: v for k, v in sorted(settings.items()) if v != SETTINGS[k].default}
    return out


def reproduce_command(out, seeds: int, first_seed: int, overrides: dict, targets_path=None,
                      quarterly_path=None, quarterly: bool = True, outofsample_path=None,
                      outofsample: bool = True) -> str:
    """The ``geogame validate`` command line that reproduces a report."""
    import shlex
    parts = ["geogame", "validate", "--out", str(out), "--seeds", str(seeds), "--seed", str(first_seed)]
    for key, value in sorted(overrides.items()):
        parts += ["--set", f"{key}={value:g}"]
    if targets_path:
        parts += ["--targets", str(targets_path)]
    if not quarterly:
        parts += ["--no-quarterly"]
    elif quarterly_path:
        parts += ["--quarterly", str(quarterly_path)]
    if not outofsample:
        parts += ["--no-outofsample"]
    elif outofsample_path:
        parts += ["--outofsample", str(outofsample_path)]
    return " ".join(shlex.quote(p) for p in parts)


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} exists and is not a folder")
    parent = out if out.exists() else out.parent
    while not parent.exists():
        parent = parent.parent
    import os
    if not os.access(parent, os.W_OK):
        raise InputError(f"--out {str(out)!r}: folder {str(parent)!r} is not writable")


def _png_name(series: str) -> str:
    return f"{series}.png"


def write_report(out: Path, result: ValidationResult, targets: list[Target], command: str,
                 qtargets: list[QuarterlyTarget] | None = None) -> list[Path]:
    """Write the CSV tables, one PNG per series and the HTML report; return the paths written."""
    import matplotlib.pyplot as plt

    files = []
    csv_path = out / "validation.csv"
    result.table.to_csv(csv_path, index=False)
    files.append(csv_path)
    images = {}
    for series in dict.fromkeys(t.series for t in targets):
        fig = series_figure(series, [t for t in targets if t.series == series], result.runs)
        path = out / _png_name(series)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        images[series] = base64.b64encode(path.read_bytes()).decode("ascii")
        files.append(path)
    qimages = {}
    if qtargets and result.quarterly is not None:
        for name, frame in (("quarterly.csv", result.quarterly), ("quarterly_fit.csv", result.quarterly_fit)):
            frame.to_csv(out / name, index=False)
            files.append(out / name)
        for series in dict.fromkeys(t.series for t in qtargets):
            fig = quarterly_figure(series, [t for t in qtargets if t.series == series], result.runs["hindcast"])
            path = out / f"quarterly_{series}.png"
            fig.savefig(path, dpi=100)
            plt.close(fig)
            qimages[series] = base64.b64encode(path.read_bytes()).decode("ascii")
            files.append(path)
    if result.outofsample is not None:
        path = out / "outofsample_2026.csv"
        result.outofsample.to_csv(path, index=False)
        files.append(path)
    html_path = out / "validation.html"
    html_path.write_text(render_html(result, images, command, qimages), encoding="utf-8")
    files.append(html_path)
    return files


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _fmt_or_dash(x) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else _fmt(float(x))


def render_quarterly_html(result: ValidationResult, images: dict[str, str]) -> str:
    """The report's quarter-by-quarter section: per-series fit, per-quarter table, charts."""
    if result.quarterly is None or result.quarterly.empty:
        return ""
    e = html.escape
    lo, hi = f"model_p{BAND[0]:02d}", f"model_p{BAND[1]:02d}"
    fit_rows = "".join(
        f"<tr><td>{e(r.series)}</td><td>{e(r.unit)}</td><td>{e(r.comparison)}</td><td>{r.quarters} ({e(r.first)}..{e(r.last)})</td>"
        f"<td>{r.held_out} / {r.partly_fitted} / {r.fitted}</td><td>{_fmt(r.rmse)}</td><td>{_fmt_or_dash(r.rmse_held_out)}</td>"
        f"<td>{_fmt(r.bias)}</td>"
        f"<td>{r.normalised_rmse:.2f}</td><td>{'-' if not math.isfinite(r.share_inside) else f'{r.share_inside:.0%}'}</td>"
        f"<td>{'-' if not math.isfinite(r.share_inside_held_out) else f'{r.share_inside_held_out:.0%}'}</td>"
        f"<td>{r.changes}</td><td>{_fmt_or_dash(r.change_corr)}</td>"
        f"<td>{'-' if not math.isfinite(r.direction_agree) else f'{r.direction_agree:.0%}'}</td>"
        f"<td>{'yes' if r.required else 'no'}</td></tr>" for r in result.quarterly_fit.itertuples())
    rows = []
    for r in result.quarterly.itertuples():
        inside = getattr(r, "inside")
        verdict = "changes only" if inside is None or (isinstance(inside, float) and math.isnan(inside)) else (
            "inside" if inside else "outside")
        cls = {"inside": "pass", "outside": "fail"}.get(verdict, "")
        rows.append(
            f"<tr class='{cls}'><td>{e(r.target_id)}</td><td>{e(r.series)}</td><td>{e(r.period)}</td>"
            f"<td>{_fmt(r.observed)} ({_fmt(r.low)}..{_fmt(r.high)})</td><td>{_fmt(r.model_median)}</td>"
            f"<td>{_fmt(getattr(r, lo))} - {_fmt(getattr(r, hi))}</td><td>{_fmt(r.tolerance)}</td><td>{_fmt(r.error)}</td>"
            f"<td>{r.normalised_error:.2f}</td><td>{verdict}</td><td>{e(r.fit_status.replace('_', ' '))}</td>"
            f"<td>{'yes' if r.required else 'no'}</td><td>{e(r.confidence)}</td><td>{e(r.unit)}</td>"
            f"<td>{e(r.source)} ({e(str(r.source_date))})</td><td>{e(r.tolerance_reason)}</td><td>{e(r.note)}</td></tr>")
    figures = "".join(f"<figure><img alt='quarterly {e(k)}' src='data:image/png;base64,{v}'>"
                      f"<figcaption>quarterly: {e(k)}</figcaption></figure>" for k, v in images.items())
    q = result.quarterly
    split = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in q["fit_status"].value_counts().items())
    head = ["target", "series", "quarter", "observed (range over sources)", "model median",
            f"model {BAND[0]}-{BAND[1]}%", "tolerance", "error", "|error|/tol", "result", "fit status", "required",
            "confidence", "unit", "source (date)", "why this tolerance", "note"]
    return f"""<h2>Quarter by quarter (hindcast)</h2>
<p>{len(q)} observed quarters of {q['series'].nunique()} series from <code>model/data/quarterly_targets.csv</code>
(monthly public figures aggregated to quarters; sources per row). Fit status: {e(split)}. <b>Held out</b>: no
setting was fitted to the figure. <b>Partly fitted</b>: the quarter lies in a fiscal year whose mean was a
calibration anchor (India's Russian share in FY2022-23 and FY2024-25), or it is the month of an anchor (December
2025 discounts), so its level is not independent evidence; its path within the year is. Model values are the
hindcast in that quarter, median and {BAND[0]}-{BAND[1]}% band over seeds. <i>Shape</i> series are on another
basis than the model's metric and are judged by their quarter-on-quarter changes only.</p>
<table><tr><th>series</th><th>unit</th><th>compared by</th><th>quarters</th><th>held out / partly fitted / fitted</th>
<th>RMSE</th><th>RMSE, held out only</th><th>bias (mean error)</th><th>RMSE / tolerance</th><th>share inside tolerance</th>
<th>share inside, held out only</th>
<th>consecutive changes</th><th>correlation of changes</th><th>same direction</th><th>required</th></tr>
{fit_rows}</table>
<h3>Per quarter</h3>
<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>
{''.join(rows)}
</table>
<h3>Charts</h3>
<p>Blue: hindcast median and {BAND[0]}-{BAND[1]}% band over seeds. Black filled: held-out quarters; orange hollow:
partly fitted; error bars: tolerance; thick bars: range over sources.</p>
{figures}
"""


def render_outofsample_html(result: ValidationResult) -> str:
    """The report's out-of-sample section: the baseline beside what was observed in 2026."""
    table = result.outofsample
    if table is None or table.empty:
        return ""
    e = html.escape
    o = outofsample_summary(table)
    lo, hi = f"model_p{BAND[0]:02d}", f"model_p{BAND[1]:02d}"
    rows = []
    for r in table.itertuples():
        observed = "-" if pd.isna(r.observed) else f"{_fmt(r.observed)} ({_fmt(r.low)}..{_fmt(r.high)})"
        model = "-" if pd.isna(r.model_median) else (
            f"{_fmt(r.model_median)} (setting <code>{e(r.setting)}</code>)" if r.kind == "term"
            else f"{_fmt(r.model_median)} ({_fmt(getattr(r, lo))} - {_fmt(getattr(r, hi))})")
        timing = "-" if r.kind == "metric" else (
            f"{e(r.model_quarter)} ({e(r.model_quarter_p10)} - {e(r.model_quarter_p90)}; "
            f"{r.share_of_runs:.0%} of runs)")
        cls = "" if r.shock else ("pass" if str(r.verdict).startswith(("matches", "same quarter", "term: matches"))
                                  else "fail")
        rows.append(
            f"<tr class='{cls}'><td>{e(r.figure_id)}</td><td>{e(r.series)}</td><td>{e(r.period)}</td>"
            f"<td>{e(r.date or r.month)}</td><td>{observed}</td><td>{e(str(r.unit))}</td><td>{model}</td>"
            f"<td>{timing}</td><td>{e(r.verdict)}</td><td>{e(r.confidence)}</td>"
            f"<td><a href='{e(r.source_url)}'>{e(r.publisher)}</a> ({e(str(r.source_date))})</td>"
            f"<td>{e(r.note)}</td></tr>")
    head = ["figure", "series", "quarter", "covers", "observed (range)", "unit",
            f"model median ({BAND[0]}-{BAND[1]}% over seeds)", "model's median run takes the move (10-90%)",
            "verdict", "confidence", "source (date)", "note"]
    return f"""<h2>Out of sample: 2026 so far (baseline)</h2>
<p>{o['figures']} figures observed after the baseline's start (December 2025), from the out-of-sample file
(default <code>model/data/outofsample_2026.csv</code>); none was used to set anything (all held out). Metric
figures are set beside the baseline in their quarter (median and {BAND[0]}-{BAND[1]}% band over seeds); events
beside the quarter in which the baseline's median run first takes the same move; a deal's terms beside the model
setting that holds them (a setting of the run, not something the model forecast). Figures covering any day after
{SHOCK_DATE}, when the US-Israel-Iran war closed the Strait of Hormuz, are marked <b>{SHOCK_FLAG}</b> and not
scored: the model has no Gulf supply shock. This section does not gate the exit code.</p>
<ul><li>values before the shock: {o['values_matching']} of {o['values']} inside the observed range</li>
<li>events before the shock: {o['events_same_quarter']} in the same quarter, {o['events_late']} late,
{o['events_early']} early, {o['events_not_taken']} not taken by the median run</li>
<li>{o['flagged']} of {o['figures']} figures {SHOCK_FLAG}</li></ul>
<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>
{''.join(rows)}
</table>
"""


def render_html(result: ValidationResult, images: dict[str, str], command: str,
                quarterly_images: dict[str, str] | None = None) -> str:
    """The self-contained HTML report (figures embedded as base64 PNG)."""
    s = result.score
    e = html.escape
    rows = []
    for r in result.table.itertuples():
        verdict = "pass" if r.passed else "FAIL"
        rows.append(
            f"<tr class='{'pass' if r.passed else 'fail'}'><td>{e(r.target_id)}</td><td>{e(r.series)}</td>"
            f"<td>{e(r.scenario)}</td><td>{e(r.period)}</td><td>{r.quarters_in_run}/{r.quarters_in_period}</td>"
            f"<td>{_fmt(r.observed)}</td><td>{_fmt(r.model_median)}</td>"
            f"<td>{_fmt(r.model_p05)} - {_fmt(r.model_p95)}</td><td>{_fmt(r.tolerance)}</td>"
            f"<td>{_fmt(r.error)}</td><td>{r.normalised_error:.2f}</td><td>{verdict}</td>"
            f"<td>{'yes' if r.required else 'no'}</td><td>{e(str(getattr(r, 'fit_status', 'unspecified')).replace('_', ' '))}</td>"
            f"<td>{e(r.confidence)}</td><td>{e(r.unit)}</td>"
            f"<td>{e(r.source)} ({e(str(r.source_date))})</td><td>{e(r.tolerance_reason)}</td><td>{e(r.note)}</td></tr>")
    overrides = ("".join(f"<li><code>{e(k)} = {v:g}</code></li>" for k, v in sorted(result.overrides.items()))
                 or "<li>none: every setting at its scenario's value (registry defaults otherwise)</li>")
    scenario_lists = "".join(
        f"<li>{e(name)}: " + (", ".join(f"<code>{e(k)} = {v:g}</code>" for k, v in values.items()) or "none")
        + "</li>" for name, values in (result.scenario_settings or {}).items())
    figures = "".join(f"<figure><img alt='{e(k)}' src='data:image/png;base64,{v}'><figcaption>{e(k)}</figcaption></figure>"
                      for k, v in images.items())
    fit_split = (", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.table["fit_status"].value_counts().items())
                 if "fit_status" in result.table else "not stated")
    verdict = "All required targets pass." if not s["required_failed"] else (
        "Required targets FAIL: " + ", ".join(s["required_failed"]))
    head = ["target", "series", "scenario", "period", "quarters in run", "observed", "model median",
            "model 5-95%", "tolerance", "error", "|error|/tol", "result", "required", "fit status", "confidence", "unit",
            "source (date)", "why this tolerance", "note"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>geogame validation</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; max-width: 1500px; }}
table {{ border-collapse: collapse; font-size: 12px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 5px; vertical-align: top; }}
tr.fail td {{ background: #fde2e2; }} tr.pass td {{ background: #e6f4e6; }}
figure {{ display: inline-block; margin: 0.5em; }} img {{ max-width: 100%; }}
code {{ background: #f4f4f4; padding: 1px 3px; }}
</style></head><body>
<h1>geogame: model versus history</h1>
<p>The hindcast starts in 2021Q4 (the US and the EU follow the measures they actually took; India and Russia
decide by the model's rules) and runs to 2025Q4; the baseline starts in December 2025. Each was run with
{len(result.seeds)} seeds (seeds {result.seeds[0]}..{result.seeds[-1]}); the table gives the median over seeds
and the 5-95% range. A target passes when |median - observed| &le; tolerance. Model values are means over the
quarters of the period that are in the run (column "quarters in run").</p>
<h2>Score</h2>
<ul><li>{s['passed']} of {s['targets']} targets pass ({s['share_passed']:.0%}); mean normalised error
{s['mean_normalised_error']:.2f} (1 = at the edge of the tolerance)</li>
<li>required targets: {s['required_passed']} of {s['required']} pass. <b>{e(verdict)}</b></li>
<li>fit status of these targets: {e(fit_split)}</li></ul>
<h2>Reproduce</h2><p><code>{e(command)}</code></p>
<h2>Parameter set</h2><p>Overrides given on the command line (applied to both scenarios):</p><ul>{overrides}</ul>
<p>Settings each scenario file sets away from the registry defaults (<code>geogame params</code>; scripted
events then change policies on their dates):</p><ul>{scenario_lists}</ul>
<h2>Targets</h2>
<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>
{''.join(rows)}
</table>
<h2>Figures</h2>
<p>Blue: model median with the 5-95% band over seeds. Black: required observed figures; orange: informative ones;
bars span the period, error bars the tolerance. Sources in each caption.</p>
{figures}
{render_quarterly_html(result, quarterly_images or {})}
{render_outofsample_html(result)}
</body></html>
"""
