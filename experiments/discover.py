"""Scenario discovery on a finished sweep: under which settings does a condition hold?

Reads a sweep's folder (``geogame sweep --out``): the inputs are the swept settings (the design's
keys), one row per run; the output is a condition on a metric at one quarter, such as
``crude_share_ind_from_rus < 0.10`` at 2027Q4. The analysis is the EMA Workbench's:

* **PRIM** (Friedman & Fisher 1999, as in ``ema_workbench.analysis.prim``): a box over the
  settings found by peeling; its peeling trajectory (coverage, density, mass and restricted
  dimensions of every box on the way), the chosen box's limits, coverage (share of the runs where
  the condition holds that fall in the box) and density (share of the runs in the box where it
  holds);
* **CART** (``ema_workbench.analysis.cart``): a classification tree; each leaf is a box with its
  coverage and density;
* **feature scoring** (extra trees, ``ema_workbench.analysis.feature_scoring``): how much each
  setting tells about the condition (and about the metric itself).

Only the needed columns and the one quarter are read (pyarrow dataset with a filter), so memory
grows with runs x settings, not with the whole quarterly table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geogame.model import InputError, parse_quarter, quarter_label, setting, show_value

OPERATORS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
             "==": np.equal, "!=": np.not_equal}
_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*([-+0-9.eE]+)\s*$")
#: Identifying columns of a sweep's metrics files, not inputs.
ID_COLUMNS = ("run_id", "point_id", "replicate", "seed", "quarter_index", "quarter")


@dataclass(frozen=True)
class Condition:
    """A condition on a metric: ``metric op value`` (``crude_share_ind_from_rus < 0.10``).

    Attributes
    ----------
    text : str
        As given.
    metric : str
        Column of the quarterly table.
    op : str
        One of ``<, <=, >, >=, ==, !=``.
    value : float
        Threshold, in the metric's unit.
    """

    text: str
    metric: str
    op: str
    value: float

    def holds(self, values: np.ndarray) -> np.ndarray:
        """Boolean array: where the condition holds."""
        return OPERATORS[self.op](values, self.value)


def parse_condition(text: str, metrics: list[str]) -> Condition:
    """Parse ``METRIC OP NUMBER`` and check the metric is a numeric column of the results.

    Raises
    ------
    InputError
        Naming the text, the metric or the operator, and what is allowed.
    """
    match = _CONDITION.match(str(text))
    if not match:
        raise InputError(f"--where {show_value(text)} is not of the form METRIC OP NUMBER with OP one of "
                         f"{', '.join(OPERATORS)} (for example \"crude_share_ind_from_rus < 0.10\")")
    metric, op, raw = match.groups()
    if metric not in metrics:
        raise InputError(f"--where {show_value(text)}: metric {metric!r} is not in the results; "
                         f"allowed: {', '.join(metrics)}")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"--where {show_value(text)}: {raw!r} is not a number") from None
    if not np.isfinite(value):
        raise InputError(f"--where {show_value(text)}: {raw!r} is not a finite number")
    return Condition(str(text).strip(), metric, op, value)


@dataclass
class SweepView:
    """What scenario discovery and robustness read from a sweep's folder.

    Attributes
    ----------
    folder : pathlib.Path
        The sweep's folder.
    manifest : dict
        Its manifest.
    keys : list of str
        The swept settings (the design's keys).
    metrics : list of str
        Numeric metric columns of the results.
    quarters : list of str
        Quarter labels of the runs, first to last.
    files : list of str
        The runs' metrics files.
    """

    folder: Path
    manifest: dict
    keys: list
    metrics: list
    quarters: list
    files: list

    def quarter(self, text: str | None) -> str:
        """The quarter asked for (default: the last of the runs), checked against the runs."""
        if text is None:
            return self.quarters[-1]
        try:
            label = quarter_label(parse_quarter(str(text)))
        except ValueError as exc:
            raise InputError(f"--quarter {show_value(text)}: {exc}") from None
        if label not in self.quarters:
            raise InputError(f"--quarter {label} is not in the runs; allowed: {self.quarters[0]} to {self.quarters[-1]}")
        return label

    def table(self, metrics: list[str], quarter: str) -> pd.DataFrame:
        """One row per run at ``quarter``: ``run_id, point_id, replicate``, the swept settings, ``metrics``."""
        import pyarrow.dataset as ds

        columns = ["run_id", "point_id", "replicate", *self.keys, *dict.fromkeys(metrics)]
        data = ds.dataset(self.files, format="parquet")
        frame = data.to_table(columns=columns, filter=ds.field("quarter") == quarter).to_pandas()
        return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def open_sweep(folder) -> SweepView:
    """Open a finished (or partly finished) sweep's folder for reading.

    Raises
    ------
    InputError
        The folder does not exist, holds no sweep (no ``manifest.json``), or no finished run.
    """
    import pyarrow.parquet as pq

    root = Path(folder)
    shown = show_value(str(folder))
    if not root.is_dir():
        raise InputError(f"DIR {shown} is not a folder; allowed: a sweep's folder (geogame sweep --out)")
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(f"DIR {shown} holds no sweep (manifest.json missing); allowed: a folder made by "
                         "geogame sweep --out")
    from .store import ResultStore

    manifest = ResultStore(root).read_manifest(option="DIR")
    files = [str(p) for p in ResultStore(root).dataset_files()]
    if not files:
        raise InputError(f"DIR {shown} holds no finished runs ({root / 'metrics'}/run-NNNNNN.parquet)")
    keys = list((manifest.get("design") or {}).get("keys") or [])
    if not keys:
        raise InputError(f"DIR {shown}: the sweep varies no setting (its design has no keys); "
                         "scenario discovery needs swept settings")
    first_ids = pq.read_table(files[0], columns=["run_id", "quarter"])
    first_run = first_ids.column("run_id")[0]
    first = [q for r, q in zip(first_ids.column("run_id").to_pylist(), first_ids.column("quarter").to_pylist())
             if r == first_run.as_py()]
    schema = pq.read_schema(files[0])
    import pyarrow as pa
    metrics = [f.name for f in schema if f.name not in ID_COLUMNS and f.name not in keys
               and (pa.types.is_floating(f.type) or pa.types.is_integer(f.type))]
    return SweepView(root, manifest, keys, metrics, [str(q) for q in first], files)


def check_levers(levers, keys: list[str], manifest: dict | None = None) -> list[str]:
    """The levers (settings a government chooses): given, else the manifest's ``levers``, checked.

    Raises
    ------
    InputError
        A lever that is not a swept setting.
    """
    if levers is None:
        levers = (manifest or {}).get("levers") or []
    levers = [levers] if isinstance(levers, str) else list(levers)
    levers = [x.strip() for item in levers for x in str(item).split(",") if x.strip()]
    for lever in levers:
        if lever not in keys:
            raise InputError(f"--levers {lever!r} is not a swept setting of this sweep; allowed: {', '.join(keys)}")
    return levers


@dataclass
class Discovery:
    """The result of :func:`discover`.

    Attributes
    ----------
    condition : Condition
    quarter : str
    method : str
        ``prim`` or ``cart``.
    n_runs, n_hits : int
        Runs read, and runs where the condition holds.
    trajectory : pandas.DataFrame
        PRIM's peeling trajectory (``id, coverage, density, mass, res_dim, n, k``; shares 0-1);
        for CART, one row per leaf.
    box : pandas.DataFrame
        The chosen box's limits on the restricted settings: ``setting, kind, low, high, range_low,
        range_high`` (setting units). For CART, every leaf whose density is above the base rate,
        with a ``leaf`` column.
    chosen : int
        Position of the chosen box in the trajectory (PRIM) or the densest leaf (CART).
    features : pandas.DataFrame or None
        Feature scores: ``setting, kind, score_condition, score_metric`` (shares of the trees'
        impurity decrease, summing to 1 over the settings).
    """

    condition: Condition
    quarter: str
    method: str
    n_runs: int
    n_hits: int
    trajectory: pd.DataFrame
    box: pd.DataFrame
    chosen: int
    features: pd.DataFrame | None = None

    def summary(self) -> str:
        """A few lines for the terminal: the base rate, the chosen box, its coverage and density."""
        row = self.trajectory.iloc[self.chosen]
        lines = [f"{self.condition.text} at {self.quarter}: {self.n_hits} of {self.n_runs} runs "
                 f"({self.n_hits / max(self.n_runs, 1):.0%})"]
        what = "PRIM box" if self.method == "prim" else "densest CART leaf"
        lines.append(f"{what} {self.chosen}: coverage {row['coverage']:.0%}, density {row['density']:.0%}, "
                     f"mass {row['mass']:.0%}, {int(row['res_dim'])} restricted settings")
        box = self.box if self.method == "prim" else self.box[self.box["leaf"] == self.chosen]
        for r in box.itertuples():
            lines.append(f"  {r.setting} in [{r.low:.4g}, {r.high:.4g}]  (swept {r.range_low:.4g} to "
                         f"{r.range_high:.4g}; {r.kind})")
        return "\n".join(lines)


def _kinds(keys, levers):
    return {k: ("lever" if k in levers else "uncertainty") for k in keys}


def _box_table(limits: pd.DataFrame, init: pd.DataFrame, kinds: dict) -> pd.DataFrame:
    rows = []
    for key in limits.columns:
        low, high = float(limits[key].iloc[0]), float(limits[key].iloc[1])
        lo0, hi0 = float(init[key].iloc[0]), float(init[key].iloc[1])
        if low > lo0 or high < hi0:
            rows.append({"setting": key, "kind": kinds[key], "low": low, "high": high,
                         "range_low": lo0, "range_high": hi0})
    return pd.DataFrame(rows, columns=["setting", "kind", "low", "high", "range_low", "range_high"])


def discover(folder, where: str, quarter: str | None = None, method: str = "prim", features: bool = False,
             levers=None, box: int | None = None, peel_alpha: float = 0.05, mass_min: float = 0.05,
             seed: int = 0) -> Discovery:
    """Find the settings under which ``where`` holds, in a sweep's folder.

    Parameters
    ----------
    folder : path
        A sweep's folder.
    where : str
        ``METRIC OP NUMBER``, e.g. ``"crude_share_ind_from_rus < 0.10"`` (the metric's unit).
    quarter : str, optional
        Quarter at which the metric is read (default: the runs' last).
    method : {"prim", "cart"}
    features : bool
        Also score the settings (extra trees).
    levers : list of str or str, optional
        Swept settings a government chooses; the others are uncertainties (labels only).
    box : int, optional
        PRIM: the box of the peeling trajectory to report (default: the last, densest one).
    peel_alpha, mass_min : float
        PRIM's peeling share and smallest box mass (0-1).
    seed : int
        Seed of the extra trees.

    Returns
    -------
    Discovery
    """
    if method not in ("prim", "cart"):
        raise InputError(f"--method = {method!r} is not known; allowed: prim, cart")
    for name, value in (("--peel-alpha", peel_alpha), ("--mass-min", mass_min)):
        if not (isinstance(value, (int, float)) and 0 < value < 1):
            raise InputError(f"{name} = {value!r} is not allowed; allowed: a share between 0 and 1")
    view = open_sweep(folder)
    condition = parse_condition(where, view.metrics)
    label = view.quarter(quarter)
    levers = check_levers(levers, view.keys, view.manifest)
    kinds = _kinds(view.keys, levers)
    table = view.table([condition.metric], label)
    x = table[view.keys].astype(float)
    x = x.loc[:, x.nunique() > 1]  # a setting with one value cannot bound a box
    if x.shape[1] == 0:
        raise InputError(f"DIR {show_value(str(folder))}: every swept setting takes a single value; "
                         "scenario discovery needs settings that vary")
    y = condition.holds(table[condition.metric].to_numpy())
    hits = int(y.sum())
    if hits == 0 or hits == len(y):
        raise InputError(f"--where {show_value(where)} holds in {hits} of {len(y)} runs at {label}: there is "
                         "nothing to tell apart; allowed: a condition that holds in some runs and not in others")
    _quiet_ema()
    if method == "prim":
        from ema_workbench.analysis import prim

        finder = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
        found = finder.find_box()
        trajectory = found.peeling_trajectory[["id", "coverage", "density", "mass", "res_dim", "n", "k"]].copy()
        chosen = len(trajectory) - 1 if box is None else int(box)
        if not 0 <= chosen < len(trajectory):
            raise InputError(f"--box {box}: allowed 0 to {len(trajectory) - 1} (the peeling trajectory's boxes)")
        limits = _box_table(found.box_lims[chosen], finder.box_init, kinds)
    else:
        from ema_workbench.analysis import cart

        tree = cart.CART(x, y, mass_min=mass_min)
        tree.build_tree()
        stats = pd.DataFrame(tree.stats).rename(columns={"res dim": "res_dim"})
        stats.insert(0, "id", range(len(stats)))
        stats["n"] = (stats["mass"] * len(y)).round().astype(int)
        stats["k"] = (stats["coverage"] * hits).round().astype(int)
        trajectory = stats[["id", "coverage", "density", "mass", "res_dim", "n", "k"]]
        init = pd.DataFrame({k: [x[k].min(), x[k].max()] for k in x.columns})
        parts = []
        for leaf, limits in enumerate(tree.boxes):
            if trajectory["density"].iloc[leaf] > hits / len(y):
                part = _box_table(limits[x.columns], init, kinds)
                part.insert(0, "leaf", leaf)
                parts.append(part)
        limits = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["leaf", "setting", "kind", "low", "high", "range_low", "range_high"])
        chosen = int(trajectory["density"].to_numpy().argmax())
    result = Discovery(condition, label, method, len(y), hits, trajectory.reset_index(drop=True), limits, chosen)
    if features:
        result.features = feature_scores(x, y, table[condition.metric].to_numpy(), kinds, seed)
    return result


def _quiet_ema() -> None:
    """Import the EMA Workbench without its note about an optional parallel backend (ipyparallel)."""
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed")
        import ema_workbench  # noqa: F401
    logging.getLogger("EMA").setLevel(logging.WARNING)


def feature_scores(x: pd.DataFrame, y: np.ndarray, values: np.ndarray, kinds: dict, seed: int = 0) -> pd.DataFrame:
    """Extra-trees feature scores of each setting for the condition (classification) and the metric (regression).

    Returns
    -------
    pandas.DataFrame
        ``setting, kind, score_condition, score_metric`` (each column sums to 1), sorted by the first.
    """
    from ema_workbench.analysis import feature_scoring
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

    cls, _ = feature_scoring.get_ex_feature_scores(x, y.astype(int), mode=RuleInductionType.CLASSIFICATION,
                                                   random_state=seed)
    reg, _ = feature_scoring.get_ex_feature_scores(x, values, mode=RuleInductionType.REGRESSION, random_state=seed)
    table = pd.DataFrame({"setting": list(x.columns)})
    table["kind"] = table["setting"].map(kinds)
    table["score_condition"] = table["setting"].map(cls.iloc[:, 0]).astype(float)
    table["score_metric"] = table["setting"].map(reg.iloc[:, 0]).astype(float)
    return table.sort_values("score_condition", ascending=False).reset_index(drop=True)


def plot(result: Discovery, path: Path) -> None:
    """The trade-off of the boxes (coverage against density) beside the chosen box's limits.

    Left: every box of PRIM's peeling trajectory (or every CART leaf), coverage against density
    in percent, coloured by the number of restricted settings; the chosen box is circled.
    Right: the chosen box's range of each restricted setting, as a share of its swept range, with
    the limits written in the setting's units.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    traj = result.trajectory
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.2]})
    most = max(1, int(traj["res_dim"].max()))
    points = left.scatter(traj["coverage"] * 100, traj["density"] * 100, c=traj["res_dim"], cmap="viridis", s=22,
                          vmin=0, vmax=most)
    pick = traj.iloc[result.chosen]
    left.scatter([pick["coverage"] * 100], [pick["density"] * 100], s=140, facecolors="none", edgecolors="red",
                 label=f"chosen: box {result.chosen}")
    left.axhline(100 * result.n_hits / result.n_runs, color="grey", lw=0.8, ls="--", label="base rate")
    left.set_xlabel("coverage (% of runs where the condition holds that fall in the box)", fontsize=8)
    left.set_ylabel("density (% of runs in the box where it holds)", fontsize=8)
    left.set_xlim(0, 105)
    left.set_ylim(0, 105)
    bar = fig.colorbar(points, ax=left, ticks=range(most + 1))
    bar.set_label("restricted settings", fontsize=8)
    left.legend(fontsize=7, loc="lower left")
    left.set_title("PRIM peeling trajectory" if result.method == "prim" else "CART leaves", fontsize=9)
    box = result.box if result.method == "prim" else result.box[result.box["leaf"] == result.chosen]
    if len(box):
        span = (box["range_high"] - box["range_low"]).replace(0, 1)
        lo = (box["low"] - box["range_low"]) / span * 100
        hi = (box["high"] - box["range_low"]) / span * 100
        ys = np.arange(len(box))
        right.barh(ys, hi - lo, left=lo, color="tab:orange", alpha=0.7)
        for yv, r in zip(ys, box.itertuples()):
            right.text(101, yv, f"{r.low:.3g} to {r.high:.3g}\n(of {r.range_low:.3g} to {r.range_high:.3g})",
                       va="center", fontsize=7)
        right.set_yticks(ys, [f"{s}\n({setting(s).unit}; {k})" for s, k in zip(box["setting"], box["kind"])],
                         fontsize=8)
        right.invert_yaxis()
    right.set_xlim(0, 135)
    right.set_xticks([0, 25, 50, 75, 100])
    right.set_xlabel("box limits (% of the swept range)", fontsize=8)
    right.set_title(f"box {result.chosen}: coverage {pick['coverage']:.0%}, density {pick['density']:.0%}",
                    fontsize=9)
    fig.suptitle(f"Where {result.condition.text} at {result.quarter} ({result.n_hits} of {result.n_runs} runs)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_features(features: pd.DataFrame, condition: Condition, path: Path) -> None:
    """Bar chart of the feature scores (share of the trees' impurity decrease, 0-1)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ys = np.arange(len(features))
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.45 * len(features)))
    ax.barh(ys - 0.2, features["score_condition"], 0.4, label=f"condition: {condition.text}")
    ax.barh(ys + 0.2, features["score_metric"], 0.4, label=f"metric: {condition.metric}")
    ax.set_yticks(ys, [f"{s} ({k})" for s, k in zip(features["setting"], features["kind"])], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("feature score (share of the extra trees' impurity decrease)", fontsize=8)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(result: Discovery, out: Path) -> list[Path]:
    """Write the tables (CSV) and the plots (PNG) of ``result`` into ``out``; return the files."""
    out.mkdir(parents=False, exist_ok=True)
    stem = result.method
    files = [out / f"{stem}_trajectory.csv", out / f"{stem}_box.csv", out / f"{stem}.png"]
    result.trajectory.to_csv(files[0], index=False)
    result.box.to_csv(files[1], index=False)
    plot(result, files[2])
    if result.features is not None:
        files += [out / "features.csv", out / "features.png"]
        result.features.to_csv(files[-2], index=False)
        plot_features(result.features, result.condition, files[-1])
    return files
