"""Global sensitivity analysis of the model's metrics with SALib, replicated and checked.

The analysis holds a SALib :class:`~SALib.ProblemSpec` (the swept settings, their bounds, the
outputs). Its sample matrix becomes a sweep's explicit design points, each run with
``replicates`` seeds (the same seeds at every point: common random numbers), so the runs stream
to disk and resume like any sweep. Each metric is read at one quarter (``metric@2027Q4``) or
averaged over a window (``metric@2026Q1:2027Q4``, both ends included).

What makes the indices trustworthy:

* **Replicates.** The indices are computed on the mean over the replicates of each point, so
  the model's own randomness is averaged out rather than read as a setting's effect. The seed
  spread is reported beside them: ``seed_sd`` (the standard deviation of each index computed on
  one replicate at a time) and, per metric, the share of the output's variance that is seed
  noise (``noise.csv``).
* **Convergence.** The indices are computed again on the first quarter and half of the sample
  (nested prefixes of the Sobol sequence, of the Morris trajectories, of the Latin hypercube);
  a warning names every index that moved by more than its interval between N/2 and N, and every
  S1 above ST beyond their intervals.
* **Methods.** ``sobol`` (S1, ST, S2), ``morris`` (mu, mu*, sigma), ``fast`` (extended FAST: S1,
  ST), and the given-data methods ``rbd_fast`` (S1), ``delta`` (Borgonovo's delta and S1) and
  ``pawn`` (PAWN's median and maximum KS statistic) that read any sample: ``methods=["sobol",
  "pawn"]`` computes both on the same runs. At most one of sobol, morris and fast (they each need
  their own sample); with none of them the sample is a Latin hypercube.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geogame.model import InputError, Scenario, outcome_names, parse_quarter, quarter_label, setting

#: Methods that draw their own sample (at most one per analysis).
SAMPLING_METHODS = ("sobol", "morris", "fast")
#: Methods that read any sample (a Latin hypercube when no sampling method is given).
GIVEN_DATA_METHODS = ("rbd_fast", "delta", "pawn")
METHODS = SAMPLING_METHODS + GIVEN_DATA_METHODS
#: Smallest base sample per method (FAST needs N > 4 M^2 with M = 4).
MIN_SAMPLES = {"sobol": 2, "morris": 2, "fast": 65, "latin": 16}
#: The first-order indices each method gives (second-order Sobol S2 aside).
INDEX_NAMES = {"sobol": ["S1", "ST"], "morris": ["mu", "mu_star", "sigma"], "fast": ["S1", "ST"],
               "rbd_fast": ["S1"], "delta": ["delta", "S1"], "pawn": ["pawn_median", "pawn_max"]}
#: Bootstrap resamples of Borgonovo's delta (each one re-estimates kernel densities: about 1 s
#: for 64 points and 3 settings at 30 resamples, 5 s at SALib's default of 100).
DELTA_RESAMPLES = 30
#: Columns of the indices table.
COLUMNS = ["metric", "method", "parameter", "other", "index", "value", "conf", "seed_sd", "n"]
#: An index "has not settled" when it moves between N/2 and N by more than its 95% half-width and
#: by more than this (absolute, index units).
SETTLE_TOLERANCE = 0.05


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
        In the metric's own unit (``geogame.OUTCOMES``).
    """
    labels = table["quarter"].astype(str)
    index = labels.map(parse_quarter)
    rows = table[(index >= parse_quarter(spec.first)) & (index <= parse_quarter(spec.last))]
    return rows.groupby("run_id")[spec.metric].mean()


def check_methods(methods) -> list[str]:
    """Validate the list of methods: known, no repeats, at most one that draws its own sample.

    Raises
    ------
    InputError
        Naming the method and what is allowed.
    """
    methods = [methods] if isinstance(methods, str) else list(methods or [])
    if not methods:
        raise InputError(f"--method: give at least one; allowed: {', '.join(METHODS)}")
    for m in methods:
        if m not in METHODS:
            raise InputError(f"--method = {m!r} is not known; allowed: {', '.join(METHODS)}")
    if len(set(methods)) != len(methods):
        raise InputError(f"--method: {methods} names a method twice; allowed: each once")
    sampling = [m for m in methods if m in SAMPLING_METHODS]
    if len(sampling) > 1:
        raise InputError(f"--method: {' and '.join(sampling)} each need their own sample; allowed: at most one "
                         f"of {', '.join(SAMPLING_METHODS)}, with any of {', '.join(GIVEN_DATA_METHODS)}")
    return methods


def sample_kind(methods: list[str]) -> str:
    """The sampling scheme: the sampling method given, else ``latin`` (Latin hypercube)."""
    return next((m for m in methods if m in SAMPLING_METHODS), "latin")


def runs_per_sample(kind: str, d: int, second_order: bool) -> int:
    """Rows of the sample matrix per base sample N for ``d`` settings."""
    return {"sobol": 2 * d + 2 if second_order else d + 2, "morris": d + 1, "fast": d}.get(kind, 1)


def problem_spec(ranges: dict[str, tuple[float, float]], outputs: list[str]):
    """The SALib :class:`~SALib.ProblemSpec` of ``ranges`` (setting -> (low, high)) and ``outputs``."""
    from SALib import ProblemSpec

    return ProblemSpec({"names": list(ranges), "bounds": [[float(lo), float(hi)] for lo, hi in ranges.values()],
                        "outputs": list(outputs)})


def draw_sample(spec, kind: str, samples: int, second_order: bool, seed: int) -> np.ndarray:
    """Draw the sample matrix into ``spec`` (``spec.samples``) and return it.

    Sobol: Saltelli's scheme on a scrambled Sobol sequence, N*(2D+2) rows (N*(D+2) without second
    order); Morris: N trajectories of D+1 rows on 4 levels; FAST: N*D rows (M = 4); Latin
    hypercube: N rows. Rows come in blocks per base sample, so the first N/4 base samples are a
    smaller sample of the same scheme (used by the convergence check; not for FAST).
    """
    from SALib.sample import fast_sampler, latin, morris, sobol

    if kind == "sobol":
        spec.sample(sobol.sample, samples, calc_second_order=second_order, scramble=True, seed=seed)
    elif kind == "morris":
        spec.sample(morris.sample, samples, num_levels=4, seed=seed)
    elif kind == "fast":
        spec.sample(fast_sampler.sample, samples, M=4, seed=seed)
    else:
        spec.sample(latin.sample, samples, seed=seed)
    return spec.samples


def analyse(method: str, spec, x: np.ndarray, y: np.ndarray, second_order: bool = True,
            seed: int = 0) -> pd.DataFrame:
    """Sensitivity indices of one output by one method, as a tidy table.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    spec : SALib.ProblemSpec
        The problem (names and bounds).
    x : numpy.ndarray
        Sample matrix (rows: design points; columns: settings, in their own units).
    y : numpy.ndarray
        The output at each row (the mean over replicates), in the metric's unit.
    second_order : bool
        Sobol: the sample has second-order blocks and S2 is computed.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter, other, index, value, conf``; ``conf`` is the half-width of the 95%
        confidence interval (NaN where the method gives none). Indices are unitless (fractions of
        variance, KS distances) except Morris ``mu``, ``mu_star`` and ``sigma`` (the metric's unit).
    """
    names = list(spec["names"])
    rows = []

    def put(index, values, confs=None, other=None):
        for i, name in enumerate(names):
            conf = np.nan if confs is None else float(np.asarray(confs)[i])
            rows.append((name, "" if other is None else other, index, float(np.asarray(values)[i]), conf))

    try:
        _analyse(method, spec, x, y, second_order, seed, names, put, rows)
    except (ValueError, ZeroDivisionError, np.linalg.LinAlgError, IndexError) as exc:
        # Too few or degenerate points for this method (delta's density estimate, PAWN's slices):
        # the indices are unknown, which the caller reports, rather than a crash.
        rows.clear()
        for index in INDEX_NAMES[method]:
            put(index, [np.nan] * len(names), [np.nan] * len(names))
        table = pd.DataFrame(rows, columns=["parameter", "other", "index", "value", "conf"])
        table.attrs["error"] = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return table
    table = pd.DataFrame(rows, columns=["parameter", "other", "index", "value", "conf"])
    if not len(y) or np.ptp(y) <= 1e-12 * max(1.0, float(np.max(np.abs(y)))):
        # no setting moves the output (rounding aside): every index is zero
        table["value"] = 0.0
        table["conf"] = table["conf"].where(table["conf"].isna(), 0.0)
    return table


def _analyse(method, spec, x, y, second_order, seed, names, put, rows) -> None:
    from SALib.analyze import delta, fast, morris, pawn, rbd_fast, sobol

    quiet = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        warnings.simplefilter("ignore")  # constant outputs and FAST's note on its intervals: valid answers
        if method == "sobol":
            res = sobol.analyze(spec, y, calc_second_order=second_order, conf_level=0.95, seed=seed)
            put("S1", res["S1"], res["S1_conf"])
            put("ST", res["ST"], res["ST_conf"])
            if second_order:
                for i in range(len(names)):
                    for j in range(i + 1, len(names)):
                        rows.append((names[i], names[j], "S2", float(res["S2"][i, j]), float(res["S2_conf"][i, j])))
        elif method == "morris":
            res = morris.analyze(spec, x, y, conf_level=0.95, num_levels=4, seed=seed)
            put("mu", res["mu"])
            put("mu_star", res["mu_star"], res["mu_star_conf"])
            put("sigma", res["sigma"])
        elif method == "fast":
            res = fast.analyze(spec, y, M=4, conf_level=0.95, seed=seed)
            put("S1", res["S1"], res["S1_conf"])
            put("ST", res["ST"], res["ST_conf"])
        elif method == "rbd_fast":
            res = rbd_fast.analyze(spec, x, y, M=10, conf_level=0.95, seed=seed)
            put("S1", res["S1"], res["S1_conf"])
        elif method == "delta":
            # Borgonovo's delta on the raw data (its bootstrap of kernel densities is the slow part
            # of every analysis: DELTA_RESAMPLES resamples), then the first-order index on the same data.
            res = delta.analyze(spec, x, y, conf_level=0.95, seed=seed, method="delta",
                                num_resamples=DELTA_RESAMPLES)
            d = np.asarray(res["delta_raw"], dtype=float)
            if np.any((d < -0.05) | (d > 1.05)):  # delta lies in [0, 1]: the density estimate broke down
                raise ValueError(f"delta of {names[int(np.argmax(np.abs(d - 0.5)))]} = {d.max() if d.max() > 1.05 else d.min():.3g} "
                                 "is outside [0, 1] (kernel density estimate failed: an output almost "
                                 "determined by one setting, or too few points)")
            put("delta", d, res["delta_raw_conf"])
            res = delta.analyze(spec, x, y, conf_level=0.95, seed=seed, method="sobol")
            put("S1", res["S1"], res["S1_conf"])
        elif method == "pawn":
            res = pawn.analyze(spec, x, y, S=10, seed=seed)
            put("pawn_median", res["median"])
            put("pawn_max", res["maximum"])
        else:  # pragma: no cover - check_methods refuses it first
            raise InputError(f"--method = {method!r} is not known; allowed: {', '.join(METHODS)}")


def convergence_sizes(kind: str, samples: int) -> list[int]:
    """Base sample sizes of the convergence check: N/4, N/2, N (those large enough to analyse)."""
    if kind == "fast":
        return [samples]  # a FAST sample has no smaller prefix of the same scheme
    floor = 4 if kind in ("sobol", "morris") else 16
    sizes = sorted({n for n in (samples // 4, samples // 2) if n >= floor} | {samples})
    return sizes


def prefix_rows(kind: str, n: int, per_sample: int) -> int:
    """Rows of the sample matrix that make the first ``n`` base samples."""
    return n * per_sample


def settle_warnings(conv: pd.DataFrame, final: pd.DataFrame) -> list[str]:
    """Warnings about indices that have not settled and about S1 above ST.

    Parameters
    ----------
    conv : pandas.DataFrame
        Indices at each base sample size (``n``), columns of :data:`COLUMNS`.
    final : pandas.DataFrame
        Indices at the full sample.

    Returns
    -------
    list of str
        One sentence per problem, naming the metric, method, setting and values.
    """
    out = []
    sizes = sorted(conv["n"].unique())
    if len(sizes) >= 2:
        key = ["metric", "method", "parameter", "other", "index"]
        half = conv[conv["n"] == sizes[-2]].set_index(key)
        full = conv[conv["n"] == sizes[-1]].set_index(key)
        joined = full.join(half[["value"]].rename(columns={"value": "value_half"}), how="inner")
        for (metric, method, param, other, index), row in joined.iterrows():
            if index in ("mu", "sigma"):
                continue  # signed or spread: read with mu_star
            moved = abs(row["value"] - row["value_half"])
            bound = row["conf"] if np.isfinite(row["conf"]) else 0.0
            scale = 1.0 if index not in ("mu_star",) else max(abs(row["value"]), 1e-12)
            if moved > max(bound, SETTLE_TOLERANCE * scale):
                what = f"{param}" + (f" x {other}" if other else "")
                out.append(f"{metric} {method} {index} of {what} has not settled: {row['value_half']:.3f} at "
                           f"N={sizes[-2]}, {row['value']:.3f} at N={sizes[-1]} (95% half-width "
                           f"{bound:.3f}); use a larger --samples")
    for (metric, method), part in final.groupby(["metric", "method"], sort=False):
        if not {"S1", "ST"} <= set(part["index"]):
            continue
        s1 = part[part["index"] == "S1"].set_index("parameter")
        st = part[part["index"] == "ST"].set_index("parameter")
        for param in s1.index:
            a, b = s1.loc[param], st.loc[param]
            if a["value"] - b["value"] > np.nan_to_num(a["conf"]) + np.nan_to_num(b["conf"]):
                out.append(f"{metric} {method}: S1 of {param} ({a['value']:.3f} +- {a['conf']:.3f}) is above its "
                           f"ST ({b['value']:.3f} +- {b['conf']:.3f}) beyond their intervals: the sample is too "
                           f"small for these indices; use a larger --samples")
    return out


def noise_table(values: dict[str, np.ndarray]) -> pd.DataFrame:
    """How much of each output's variance is the model's seed noise.

    Parameters
    ----------
    values : dict
        Metric text -> array of shape (design points, replicates), in the metric's unit.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, replicates, seed_sd`` (mean over points of the standard deviation over
        seeds, metric's unit), ``design_sd`` (standard deviation of the point means over the
        design, metric's unit) and ``seed_share`` (within-point variance over total variance, 0-1;
        NaN with one replicate).
    """
    rows = []
    for metric, y in values.items():
        reps = y.shape[1]
        within = float(np.mean(np.var(y, axis=1, ddof=1))) if reps > 1 else np.nan
        between = float(np.var(y.mean(axis=1), ddof=1)) if y.shape[0] > 1 else 0.0
        total = (within if np.isfinite(within) else 0.0) + between
        rows.append({"metric": metric, "replicates": reps,
                     "seed_sd": float(np.sqrt(within)) if np.isfinite(within) else np.nan,
                     "design_sd": float(np.sqrt(between)),
                     "seed_share": within / total if reps > 1 and total > 0 else (0.0 if reps > 1 else np.nan)})
    return pd.DataFrame(rows)


def read_metric_values(folder: Path, specs: list[MetricSpec], n_points: int, replicates: int) -> dict:
    """Read each metric of every run into a (points, replicates) array (only the needed columns).

    Raises
    ------
    IncompleteRuns
        Some runs failed or are missing.
    """
    from .store import ResultStore, read_results

    columns = ["run_id", "point_id", "replicate", "quarter"] + sorted({s.metric for s in specs})
    runs = read_results(folder, columns=columns) if ResultStore(folder).dataset_files() \
        else pd.DataFrame(columns=columns)   # no run finished: every run is counted missing below
    out = {}
    expected = n_points * replicates
    for spec in specs:
        per_run = metric_values(runs, spec).reindex(range(expected))
        if per_run.isna().any():
            missing = int(per_run.isna().sum())
            raise IncompleteRuns(f"{missing} of {expected} runs failed or are missing (see "
                                 f"{folder / 'manifest.json'}); the indices need every run: fix the cause "
                                 "and rerun with --resume")
        out[spec.text] = per_run.to_numpy().reshape(n_points, replicates)  # run_id = point * R + replicate
    return out


def indices(methods: list[str], spec, x: np.ndarray, values: dict[str, np.ndarray], kind: str, samples: int,
            second_order: bool, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The indices on the replicate means, their seed spread, and the convergence table.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, list of str)
        The indices (columns :data:`COLUMNS`) at the full sample, the same at N/4, N/2, N, and a
        note for each method that could not be computed at a size (its indices are NaN there).
    """
    per = runs_per_sample(kind, len(spec["names"]), second_order)
    sizes = convergence_sizes(kind, samples)
    final, conv, notes = [], [], []
    for metric, y in values.items():
        mean = y.mean(axis=1)
        for method in methods:
            for n in sizes:
                rows = prefix_rows(kind, n, per)
                part = analyse(method, spec, x[:rows], mean[:rows], second_order, seed)
                if "error" in part.attrs:
                    notes.append(f"{metric} {method} cannot be computed at N={n}: {part.attrs['error']}")
                part.insert(0, "method", method)
                part.insert(0, "metric", metric)
                part["n"] = n
                conv.append(part)
            full = conv[-1].copy()
            if y.shape[1] > 1:
                each = [analyse(method, spec, x, y[:, r], second_order, seed)["value"].to_numpy()
                        for r in range(y.shape[1])]
                full["seed_sd"] = np.std(np.vstack(each), axis=0, ddof=1)
            else:
                full["seed_sd"] = np.nan
            final.append(full)
    table = pd.concat(final, ignore_index=True)[COLUMNS]
    convergence = pd.concat(conv, ignore_index=True)[[c for c in COLUMNS if c != "seed_sd"]]
    return table, convergence, notes


def bar_chart(table: pd.DataFrame, path: Path) -> None:
    """One panel per metric and method: the main indices per setting with their 95% intervals.

    Sobol and FAST show S1 and ST, RBD-FAST S1, delta its delta, PAWN its median, Morris mu*
    (in the metric's unit). The seed spread of each index (``seed_sd``) is drawn as a thin red
    bar just below its bar, apart from the 95% interval.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .report import metric_title

    shown = {"sobol": ["S1", "ST"], "fast": ["S1", "ST"], "rbd_fast": ["S1"], "delta": ["delta"],
             "pawn": ["pawn_median"], "morris": ["mu_star"]}
    panels = list(dict.fromkeys(zip(table["metric"], table["method"])))
    n_params = table["parameter"].nunique()
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 1.4 + (0.45 * n_params + 0.9) * len(panels)),
                             squeeze=False)
    for ax, (metric, method) in zip(axes[:, 0], panels):
        part = table[(table["metric"] == metric) & (table["method"] == method)
                     & table["index"].isin(shown[method])]
        params = list(dict.fromkeys(part["parameter"]))
        y = np.arange(len(params))
        height = 0.8 / len(shown[method])
        for k, index in enumerate(shown[method]):
            sel = part[part["index"] == index].set_index("parameter").reindex(params)
            has_ci = sel["conf"].notna().any()
            ax.barh(y + k * height, sel["value"], height, xerr=sel["conf"].fillna(0) if has_ci else None,
                    label=f"{index} (bar: 95% CI)" if has_ci else index, capsize=3, ecolor="dimgrey")
            if sel["seed_sd"].notna().any():  # drawn just below the interval, so the two stay apart
                ax.errorbar(sel["value"], y + k * height + height * 0.3, xerr=sel["seed_sd"].fillna(0), fmt="none",
                            ecolor="crimson", elinewidth=1.2, capsize=2,
                            label="seed spread of the index (1 sd)" if k == 0 else None)
        ax.set_yticks(y + height * (len(shown[method]) - 1) / 2, params, fontsize=8)
        ax.invert_yaxis()
        name, _, when = metric.partition("@")
        ax.set_title(f"{method}: {metric_title(name)} at {when}", fontsize=9)
        ax.set_xlabel(f"mu* ({metric_title(name)} per unit range)" if method == "morris" else
                      "index (share of output variance)" if method in ("sobol", "fast", "rbd_fast") else
                      "index (0-1)", fontsize=8)
        ax.axvline(0, color="grey", lw=0.5)
        ax.legend(loc="best", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def convergence_chart(convergence: pd.DataFrame, path: Path) -> None:
    """Each plotted index against the base sample size N, one panel per metric and method."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(dict.fromkeys(zip(convergence["metric"], convergence["method"])))
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.8 * len(panels)), squeeze=False)
    for ax, (metric, method) in zip(axes[:, 0], panels):
        part = convergence[(convergence["metric"] == metric) & (convergence["method"] == method)
                           & (convergence["other"] == "") & ~convergence["index"].isin(["mu", "sigma", "pawn_max"])]
        for (param, index), line in part.groupby(["parameter", "index"], sort=False):
            ax.errorbar(line["n"], line["value"], yerr=line["conf"].fillna(0), marker="o", ms=3, capsize=2,
                        label=f"{index} {param}")
        sizes = sorted(part["n"].unique())
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("base sample size N (runs per replicate = N x runs per sample)", fontsize=8)
        ax.set_ylabel("index", fontsize=8)
        ax.set_title(f"convergence: {method} of {metric}", fontsize=9)
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sensitivity(methods="sobol", ranges: dict | None = None, metrics: list[str] | None = None,
                samples: int = 64, replicates: int = 1, second_order: bool = True, scenario="baseline",
                quarters: int | None = None, overrides=None, rules=None, seed: int = 0,
                backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
                out=None, resume: bool = False, progress: bool = False, connect_timeout: float = 10.0,
                dask_processes: bool = True) -> pd.DataFrame:
    """Run a global sensitivity analysis and return its indices as a tidy DataFrame.

    Parameters
    ----------
    methods : str or list of str
        From :data:`METHODS`; at most one of ``sobol``, ``morris``, ``fast``.
    ranges : dict
        Setting key -> (low, high) in the setting's unit; at least two settings.
    metrics : list of str
        ``metric@YYYYQn`` or ``metric@YYYYQn:YYYYQn``.
    samples : int
        Base sample size N (Sobol: a power of 2 is best; Morris: trajectories; FAST: points per
        setting, at least 65; Latin hypercube: points, at least 16).
    replicates : int
        Seeds per design point; the indices use the mean over them.
    second_order : bool
        Sobol: also second-order indices (N*(2D+2) points instead of N*(D+2)).
    out : path
        Folder for ``sensitivity.csv``, ``convergence.csv``, ``noise.csv``, the charts and the
        runs (``OUT/runs``); its parent must exist.

    Other parameters are those of :func:`geogame.experiments.sweep`.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, method, parameter, other, index, value, conf, seed_sd, n``: ``conf`` the
        half-width of the 95% interval, ``seed_sd`` the standard deviation of the index computed on
        one replicate at a time (NaN with one replicate), ``n`` the base sample size. ``attrs``
        holds ``convergence`` (the indices at N/4, N/2, N), ``noise`` (see :func:`noise_table`),
        ``warnings`` (list of str) and ``summary`` (the sweep's :class:`SweepSummary`).
    """
    from .design import MAX_RUNS, build_design, range_bounds
    from .sweeps import prepare_job, sweep_to_folder

    methods = check_methods(methods)
    ranges = dict(ranges or {})
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)):
        raise InputError(f"--samples = {samples!r} is not allowed; allowed whole numbers >= 2")
    kind = sample_kind(methods)
    least = MIN_SAMPLES[kind]  # given-data methods on a Latin hypercube need 16 points
    if samples < least:
        raise InputError(f"--samples = {samples} is not allowed with --method {','.join(methods)}; "
                         f"allowed whole numbers >= {least}")
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 1:
        raise InputError(f"--replicates = {replicates!r} is not allowed; allowed whole numbers >= 1")
    if len(ranges) < 2:
        raise InputError(f"--range: {len(ranges)} setting(s) given; allowed: at least two for a sensitivity analysis")
    ranges = {k: range_bounds(k, *map(float, b)) for k, b in ranges.items()}
    n_runs = samples * runs_per_sample(kind, len(ranges), second_order) * replicates
    if n_runs > MAX_RUNS:
        raise InputError(f"--samples {samples} x --replicates {replicates} with {len(ranges)} ranges gives "
                         f"{n_runs:,} runs; allowed: at most {MAX_RUNS:,} runs in one design")
    if out is None:
        raise InputError("--out is required")
    job = prepare_job(scenario, quarters, overrides, rules, False)
    both = sorted(set(ranges) & set(job.overrides))
    if both:
        raise InputError(f"setting {both[0]!r} is both varied by --range and fixed by --set; allowed: one of the two")
    if not metrics:
        raise InputError("--metric: give at least one, e.g. crude_share_ind_from_rus@2027Q4")
    columns = outcome_names(numeric=True)  # the declared outcomes (geogame.model.outcomes)
    specs = [parse_metric(m, job.scenario, job.quarters, columns) for m in metrics]
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"--out {str(out)!r}: folder {str(parent)!r} does not exist")
    spec = problem_spec(ranges, [s.text for s in specs])
    x = draw_sample(spec, kind, samples, second_order, seed)
    whole = [setting(k).integer for k in spec["names"]]
    points = [{k: float(round(v)) if w else float(v) for k, v, w in zip(spec["names"], row, whole)} for row in x]
    x = np.array([[p[k] for k in spec["names"]] for p in points])  # what ran (whole numbers rounded)
    build_design(points=points, replicates=replicates, master_seed=seed)  # every point allowed, before writing
    out.mkdir(exist_ok=True)
    summary = sweep_to_folder(job.scenario, job.quarters, points=points, replicates=replicates, seed=seed,
                              overrides=job.overrides, rules=job.rules, backend=backend, workers=workers,
                              scheduler=scheduler, out=out / "runs", resume=resume, progress=progress,
                              connect_timeout=connect_timeout, dask_processes=dask_processes)
    values = read_metric_values(out / "runs", specs, len(points), replicates)
    spec.set_results(np.column_stack([v.mean(axis=1) for v in values.values()]))
    table, convergence, notes = indices(methods, spec, x, values, kind, samples, second_order, seed)
    noise = noise_table(values)
    notes += settle_warnings(convergence, table)
    table.to_csv(out / "sensitivity.csv", index=False)
    convergence.to_csv(out / "convergence.csv", index=False)
    noise.to_csv(out / "noise.csv", index=False)
    (out / "warnings.txt").write_text("".join(f"{w}\n" for w in notes))
    bar_chart(table, out / "sensitivity.png")
    if convergence["n"].nunique() > 1:
        convergence_chart(convergence, out / "convergence.png")
    table.attrs.update(convergence=convergence, noise=noise, warnings=notes, summary=summary)
    return table


def run_sensitivity(method: str, ranges: dict, metrics: list[str], samples: int = 64,
                    second_order: bool = True, **options):
    """The older entry point: :func:`sensitivity` with one method; returns ``(table, summary)``.

    Parameters
    ----------
    method : str or list of str
        As ``methods`` of :func:`sensitivity`.
    ranges, metrics, samples, second_order, options
        As for :func:`sensitivity`.

    Returns
    -------
    (pandas.DataFrame, SweepSummary)
    """
    table = sensitivity(method, ranges, metrics, samples=samples, second_order=second_order, **options)
    return table, table.attrs["summary"]
