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

from geogame.model import SETTINGS, GeopoliticsModel, InputError, load_scenario, normalise_overrides
from geogame.model.calendar import fiscal_year_quarters, parse_quarter, quarter_label

#: Columns the targets file must have, in order.
TARGET_COLUMNS = ["target_id", "series", "scenario", "period", "aggregation", "observed", "unit",
                  "tolerance", "tolerance_reason", "required", "source", "source_date", "confidence",
                  "note"]
SCENARIOS = ("hindcast", "baseline")
AGGREGATIONS = ("mean",)
CONFIDENCES = ("high", "medium", "low")
MAX_SEEDS = 500


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
    return Target(
        target_id=row["target_id"].strip(), series=row["series"].strip(), scenario=row["scenario"],
        period=row["period"].strip(), aggregation=row["aggregation"],
        observed=_parse_float(row["observed"], "observed", where), unit=row["unit"],
        tolerance=_parse_float(row["tolerance"], "tolerance", where, positive=True),
        tolerance_reason=row["tolerance_reason"], required=_parse_bool(row["required"], where),
        source=row["source"], source_date=row["source_date"], confidence=row["confidence"],
        note=row.get("note", "") or "")


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Read and validate the targets file (default: the project's).

    Raises
    ------
    InputError
        Missing file or column, duplicate id, or any bad field (named with its row).
    """
    path = Path(path) if path is not None else default_targets_path()
    if not path.is_file():
        raise InputError(f"targets file {str(path)!r} does not exist")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in TARGET_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"targets file {str(path)!r}: missing columns {', '.join(missing)}")
        targets = [parse_target(row, f"{path.name} row {n}") for n, row in enumerate(reader, 2)]
    ids = [t.target_id for t in targets]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError(f"targets file {str(path)!r}: duplicate target_id {', '.join(duplicates)}")
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
                   quarters: int | None = None, progress=None, rules: dict | None = None) -> pd.DataFrame:
    """Run ``scenario`` once per seed; return the metrics of all runs stacked, with a ``seed`` column.

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
    """
    frames = []
    for seed in seeds:
        model = GeopoliticsModel(scenario=scenario, seed=int(seed), overrides=dict(overrides or {}),
                                 rules=dict(rules) if rules else None)
        frame = model.run(quarters).metrics_frame()
        frame.insert(0, "seed", int(seed))
        frames.append(frame)
        if progress is not None:
            progress()
    return pd.concat(frames, ignore_index=True)


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
            "required": t.required, "confidence": t.confidence,
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

    @property
    def ok(self) -> bool:
        """True when every required target passes."""
        return not self.score["required_failed"]

    def summary(self) -> str:
        """One line: targets passed, required passed, mean normalised error."""
        s = self.score
        failed = f" (failed: {', '.join(s['required_failed'])})" if s["required_failed"] else ""
        return (f"validation: {s['passed']}/{s['targets']} targets pass ({s['share_passed']:.0%}), "
                f"required {s['required_passed']}/{s['required']}{failed}; mean normalised error "
                f"{s['mean_normalised_error']:.2f}; {len(self.seeds)} seeds")


def prepare(seeds: int, first_seed: int, overrides, targets_path=None):
    """Validate every input before any run: returns ``(targets, seed list, overrides)``.

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
    columns = set(GeopoliticsModel(scenario="baseline", seed=0).metrics_frame().columns) - {"quarter"}
    check_targets(targets, {s: run_quarters(s) for s in SCENARIOS}, columns)
    return targets, list(range(int(first_seed), int(first_seed) + int(seeds))), overrides


def validate(out_dir: str | Path, seeds: int = 20, first_seed: int = 1, overrides=None,
             targets_path=None, command: str | None = None, progress: bool = False) -> ValidationResult:
    """Run the hindcast and the baseline over seeds, compare with the targets, write the report.

    Writes ``validation.csv``, one PNG per observed series and ``validation.html`` (self-contained)
    into ``out_dir`` (created if missing).
    """
    targets, seed_list, overrides = prepare(seeds, first_seed, overrides, targets_path)
    out = Path(out_dir)
    if command is None:
        command = reproduce_command(out, seeds, first_seed, overrides, targets_path)
    _check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(seed_list) * len(SCENARIOS), desc="validate runs", unit="run", leave=False)
    runs = {s: run_replicates(s, seed_list, overrides, progress=bar.update if bar else None) for s in SCENARIOS}
    if bar:
        bar.close()
    table = compare(targets, runs)
    result = ValidationResult(table=table, score=score(table), runs=runs, seeds=seed_list,
                              overrides=overrides, files=[], scenario_settings=non_default_settings())
    result.files = write_report(out, result, targets, command)
    return result


def non_default_settings() -> dict[str, dict[str, float]]:
    """Per scenario, the settings its file sets to values other than the registry defaults."""
    out = {}
    for name in SCENARIOS:
        settings = load_scenario(name).settings
        out[name] = {k: v for k, v in sorted(settings.items()) if v != SETTINGS[k].default}
    return out


def reproduce_command(out, seeds: int, first_seed: int, overrides: dict, targets_path=None) -> str:
    """The ``geogame validate`` command line that reproduces a report."""
    import shlex
    parts = ["geogame", "validate", "--out", str(out), "--seeds", str(seeds), "--seed", str(first_seed)]
    for key, value in sorted(overrides.items()):
        parts += ["--set", f"{key}={value:g}"]
    if targets_path:
        parts += ["--targets", str(targets_path)]
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


def write_report(out: Path, result: ValidationResult, targets: list[Target], command: str) -> list[Path]:
    """Write the CSV table, one PNG per series and the HTML report; return the paths written."""
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
    html_path = out / "validation.html"
    html_path.write_text(render_html(result, images, command), encoding="utf-8")
    files.append(html_path)
    return files


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def render_html(result: ValidationResult, images: dict[str, str], command: str) -> str:
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
            f"<td>{'yes' if r.required else 'no'}</td><td>{e(r.confidence)}</td><td>{e(r.unit)}</td>"
            f"<td>{e(r.source)} ({e(str(r.source_date))})</td><td>{e(r.tolerance_reason)}</td><td>{e(r.note)}</td></tr>")
    overrides = ("".join(f"<li><code>{e(k)} = {v:g}</code></li>" for k, v in sorted(result.overrides.items()))
                 or "<li>none: every setting at its scenario's value (registry defaults otherwise)</li>")
    scenario_lists = "".join(
        f"<li>{e(name)}: " + (", ".join(f"<code>{e(k)} = {v:g}</code>" for k, v in values.items()) or "none")
        + "</li>" for name, values in (result.scenario_settings or {}).items())
    figures = "".join(f"<figure><img alt='{e(k)}' src='data:image/png;base64,{v}'><figcaption>{e(k)}</figcaption></figure>"
                      for k, v in images.items())
    verdict = "All required targets pass." if not s["required_failed"] else (
        "Required targets FAIL: " + ", ".join(s["required_failed"]))
    head = ["target", "series", "scenario", "period", "quarters in run", "observed", "model median",
            "model 5-95%", "tolerance", "error", "|error|/tol", "result", "required", "confidence", "unit",
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
<li>required targets: {s['required_passed']} of {s['required']} pass. <b>{e(verdict)}</b></li></ul>
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
</body></html>
"""
