"""Global sensitivity analysis (Sobol and Morris, via SALib) of the model's metrics.

The SALib sample matrix becomes a sweep's explicit design points (one seed, the same for every
point: common random numbers), so the runs stream to disk and resume like any sweep. Each
metric is read at one quarter (``metric@2027Q4``) or averaged over a window
(``metric@2026Q1:2027Q4``, both ends included).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geogame.model import InputError, Scenario, outcome_names, parse_quarter, quarter_label, setting

METHODS = ("sobol", "morris")


class IncompleteRuns(RuntimeError):
    """Some runs of the analysis failed, so the indices cannot be computed (exit code 1)."""


@dataclass(frozen=True)
class MetricSpec:
    """A scalar output: a metric at a quarter, or its mean over quarters ``first..last``.

    Attributes
    ----------
    text : str
        As given, e.g. ``crude_share_ind_from_rus@2027Q4``.
    metric : str
        Column of the quarterly table.
    first, last : str
        Quarter labels (equal for a single quarter).
    """

    text: str
    metric: str
    first: str
    last: str


def parse_metric(text: str, scenario: Scenario, quarters: int, metrics: list[str]) -> MetricSpec:
    """Parse and check ``metric@YYYYQn`` or ``metric@YYYYQn:YYYYQn`` against the run's quarters.

    Parameters
    ----------
    text : str
        As given on the command line.
    scenario : Scenario
        The scenario (its start quarter).
    quarters : int
        Quarters per run.
    metrics : list of str
        The columns allowed (``geogame.outcome_names(numeric=True)``).

    Returns
    -------
    MetricSpec

    Raises
    ------
    InputError
        Naming the metric or quarter that is not allowed, and what is.
    """
    name, sep, when = str(text).partition("@")
    name = name.strip()
    if name not in metrics:
        raise InputError(f"--metric {text!r}: metric {name!r} is not known; allowed: {', '.join(metrics)}")
    if not sep or not when.strip():
        raise InputError(f"--metric {text!r} needs a quarter: {name}@YYYYQn or {name}@YYYYQn:YYYYQn")
    parts = when.split(":")
    if len(parts) > 2:
        raise InputError(f"--metric {text!r}: the window is FIRST:LAST, e.g. 2026Q1:2027Q4")
    try:
        first, last = parse_quarter(parts[0]), parse_quarter(parts[-1])
    except ValueError as exc:
        raise InputError(f"--metric {text!r}: {exc}") from None
    start, end = scenario.start_quarter, scenario.start_quarter + quarters
    if last < first:
        raise InputError(f"--metric {text!r}: inverted window, {quarter_label(last)} before "
                         f"{quarter_label(first)}; allowed FIRST <= LAST")
    if first < start or last > end:
        raise InputError(f"--metric {text!r}: outside the run; allowed quarters "
                         f"{quarter_label(start)} to {quarter_label(end)}")
    return MetricSpec(text, name, quarter_label(first), quarter_label(last))


def metric_values(table: pd.DataFrame, spec: MetricSpec) -> pd.Series:
    """One value per run (indexed by run id): the metric at the quarter or its window mean.

    Parameters
    ----------
    table : pandas.DataFrame
        The runs' quarterly results (``run_id``, ``quarter`` and the metric's column).
    spec : MetricSpec
        Which metric, at which quarter or over which window.

    Returns
    -------
    pandas.Series
    """
    labels = table["quarter"].astype(str)
    index = labels.map(parse_quarter)
    rows = table[(index >= parse_quarter(spec.first)) & (index <= parse_quarter(spec.last))]
    return rows.groupby("run_id")[spec.metric].mean()


def salib_problem(ranges: dict[str, tuple[float, float]]) -> dict:
    """The SALib problem dict for ``ranges``."""
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(b) for b in ranges.values()]}


def sample_matrix(method: str, problem: dict, samples: int, second_order: bool, seed: int) -> np.ndarray:
    """SALib's sample matrix: Sobol (Saltelli scheme, N*(2D+2) rows) or Morris (N*(D+1) rows)."""
    if method == "sobol":
        from SALib.sample import sobol
        return sobol.sample(problem, samples, calc_second_order=second_order, scramble=True, seed=seed)
    from SALib.sample import morris
    return morris.sample(problem, samples, num_levels=4, seed=seed)


def analyse(method: str, problem: dict, x: np.ndarray, y: np.ndarray, second_order: bool,
            seed: int) -> pd.DataFrame:
    """Sensitivity indices of one output as a tidy table.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter, other, index, value, conf`` (``conf``: half-width of the 95%
        confidence interval). Sobol indices: ``S1``, ``ST``, ``S2`` (with ``other``); Morris:
        ``mu``, ``mu_star``, ``sigma``.
    """
    names = problem["names"]
    rows = []
    if method == "sobol":
        import warnings

        from SALib.analyze import sobol
        with warnings.catch_warnings():  # a metric no setting moves is a valid answer (all zeros)
            warnings.filterwarnings("ignore", message="Constant values encountered")
            res = sobol.analyze(problem, y, calc_second_order=second_order, conf_level=0.95, seed=seed)
        for i, name in enumerate(names):
            rows.append((name, "", "S1", res["S1"][i], res["S1_conf"][i]))
            rows.append((name, "", "ST", res["ST"][i], res["ST_conf"][i]))
        if second_order:
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    rows.append((names[i], names[j], "S2", res["S2"][i, j], res["S2_conf"][i, j]))
    else:
        from SALib.analyze import morris
        res = morris.analyze(problem, x, y, conf_level=0.95, num_levels=4, seed=seed)
        for i, name in enumerate(names):
            rows.append((name, "", "mu", res["mu"][i], np.nan))
            rows.append((name, "", "mu_star", res["mu_star"][i], res["mu_star_conf"][i]))
            rows.append((name, "", "sigma", res["sigma"][i], np.nan))
    return pd.DataFrame(rows, columns=["parameter", "other", "index", "value", "conf"])


def bar_chart(table: pd.DataFrame, method: str, path: Path) -> None:
    """One panel per metric: S1 and ST (Sobol) or mu* (Morris) per parameter, with 95% CIs."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ["S1", "ST"] if method == "sobol" else ["mu_star"]
    metrics = list(dict.fromkeys(table["metric"]))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 2.2 + 0.5 * table["parameter"].nunique()
                                                          * len(metrics)), squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        part = table[(table["metric"] == metric) & table["index"].isin(shown)]
        params = list(dict.fromkeys(part["parameter"]))
        y = np.arange(len(params))
        height = 0.8 / len(shown)
        for k, index in enumerate(shown):
            sel = part[part["index"] == index].set_index("parameter").reindex(params)
            ax.barh(y + k * height, sel["value"], height, xerr=sel["conf"].fillna(0), label=index, capsize=3)
        ax.set_yticks(y + height * (len(shown) - 1) / 2, params)
        ax.invert_yaxis()
        ax.set_title(f"{method.capitalize()} sensitivity of {metric}")
        ax.axvline(0, color="grey", lw=0.5)
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_sensitivity(method: str, ranges: dict, metrics: list[str], samples: int = 64,
                    second_order: bool = True, scenario="baseline", quarters: int | None = None,
                    overrides=None, rules=None, seed: int = 0, backend: str = "serial",
                    workers: int | None = None, scheduler: str | None = None, out=None,
                    resume: bool = False, progress: bool = False, connect_timeout: float = 10.0,
                    dask_processes: bool = True):
    """Run a Sobol or Morris analysis; write OUT/sensitivity.csv and OUT/sensitivity.png.

    Parameters
    ----------
    method : {"sobol", "morris"}
    ranges : dict
        Setting key -> (low, high); at least two settings.
    metrics : list of str
        ``metric@YYYYQn`` or ``metric@YYYYQn:YYYYQn``.
    samples : int
        Base sample size N (Sobol: power of 2 preferred; Morris: trajectories).
    second_order : bool
        Sobol: also second-order indices.
    out : path
        Folder for the table, the chart and the runs (``OUT/runs``).

    Other parameters are those of :func:`geogame.experiments.sweep`.

    Returns
    -------
    (pandas.DataFrame, SweepSummary)
        Indices with columns ``metric, parameter, other, index, value, conf``, and how the runs went.
    """
    from .design import build_design, range_bounds
    from .store import read_results
    from .sweeps import prepare_job, sweep_to_folder

    if method not in METHODS:
        raise InputError(f"--method = {method!r} is not known; allowed: {', '.join(METHODS)}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise InputError(f"--samples = {samples!r} is not allowed; allowed whole numbers >= 2")
    if len(ranges) < 2:
        raise InputError(f"--range: {len(ranges)} setting(s) given; allowed: at least two for a sensitivity analysis")
    ranges = {k: range_bounds(k, *map(float, b)) for k, b in ranges.items()}
    if out is None:
        raise InputError("--out is required")
    job = prepare_job(scenario, quarters, overrides, rules, False)
    columns = outcome_names(numeric=True)  # the declared outcomes (geogame.model.outcomes)
    if not metrics:
        raise InputError("--metric: give at least one, e.g. crude_share_ind_from_rus@2027Q4")
    specs = [parse_metric(m, job.scenario, job.quarters, columns) for m in metrics]
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"--out {str(out)!r}: folder {str(parent)!r} does not exist")
    problem = salib_problem(ranges)
    x = sample_matrix(method, problem, samples, second_order, seed)
    whole = [setting(k).integer for k in problem["names"]]
    points = [{k: float(round(v)) if w else float(v) for k, v, w in zip(problem["names"], row, whole)}
              for row in x]
    build_design(points=points, master_seed=seed)  # every point allowed, before anything is written
    out.mkdir(exist_ok=True)
    summary = sweep_to_folder(job.scenario, job.quarters, points=points, replicates=1, seed=seed,
                              overrides=job.overrides, rules=job.rules, backend=backend, workers=workers,
                              scheduler=scheduler, out=out / "runs", resume=resume, progress=progress,
                              connect_timeout=connect_timeout, dask_processes=dask_processes)
    runs = read_results(out / "runs")
    tables = []
    for spec in specs:
        values = metric_values(runs, spec).reindex(range(len(x)))
        if values.isna().any():
            missing = int(values.isna().sum())
            raise IncompleteRuns(f"{missing} of {len(x)} runs failed or are missing (see {out / 'runs' / 'manifest.json'}); "
                             f"the indices need every run: fix the cause and rerun with --resume")
        part = analyse(method, problem, x, values.to_numpy(), second_order, seed)
        part.insert(0, "metric", spec.text)
        tables.append(part)
    table = pd.concat(tables, ignore_index=True)
    table.to_csv(out / "sensitivity.csv", index=False)
    bar_chart(table, method, out / "sensitivity.png")
    return table, summary
