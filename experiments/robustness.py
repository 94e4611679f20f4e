"""Robustness of levers across uncertainties, from a finished sweep.

A sweep's swept settings split into **levers** (what a government chooses: ``--levers``) and
**uncertainties** (the rest: what it does not). A *policy* is one combination of lever values, a
*scenario* one combination of uncertainty values; the sweep must have run every policy under
every scenario (a grid over the levers crossed with the uncertainties' grid or sample). The
outcome is a metric at one quarter, averaged over the replicates of each (policy, scenario).

For each policy:

* **regret** in a scenario: how much worse the policy does there than the best policy for that
  scenario (in the metric's unit); ranked by the **maximum regret** over the scenarios (Savage's
  minimax regret), with the mean regret beside it;
* **satisficing**: the share of scenarios in which the outcome meets the threshold (at most it
  when minimising, at least it when maximising);
* the mean and the worst outcome over the scenarios.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geogame.model import InputError, show_value

from .discover import check_levers, open_sweep


@dataclass
class Robustness:
    """The result of :func:`robustness`.

    Attributes
    ----------
    outcome : str
        The metric (unit in ``geogame.OUTCOMES``).
    quarter : str
    minimise : bool
    threshold : float
        Satisficing threshold (metric's unit).
    threshold_note : str
        Where the threshold came from.
    levers, uncertainties : list of str
    n_scenarios : int
    table : pandas.DataFrame
        One row per policy, ranked by maximum regret: the lever values, ``max_regret``,
        ``mean_regret``, ``satisficing`` (0-1), ``mean``, ``worst``, ``rank_regret``,
        ``rank_satisficing``.
    regret : pandas.DataFrame
        Regret of every policy (columns) in every scenario (rows), metric's unit.
    """

    outcome: str
    quarter: str
    minimise: bool
    threshold: float
    threshold_note: str
    levers: list
    uncertainties: list
    n_scenarios: int
    table: pd.DataFrame
    regret: pd.DataFrame

    def summary(self) -> str:
        """The ranking, a line per policy (at most 10)."""
        goal = "minimise" if self.minimise else "maximise"
        lines = [f"{goal} {self.outcome} at {self.quarter}: {len(self.table)} policies over {self.levers} x "
                 f"{self.n_scenarios} scenarios of {self.uncertainties}; satisficing: "
                 f"{'<=' if self.minimise else '>='} {self.threshold:.4g} ({self.threshold_note})"]
        for _, row in self.table.head(10).iterrows():
            policy = ", ".join(f"{k}={row[k]:.4g}" for k in self.levers)
            lines.append(f"  #{int(row['rank_regret'])} {policy}: max regret {row['max_regret']:.4g}, mean regret "
                         f"{row['mean_regret']:.4g}, satisficing {row['satisficing']:.0%} "
                         f"(#{int(row['rank_satisficing'])}), mean {row['mean']:.4g}, worst {row['worst']:.4g}")
        return "\n".join(lines)


def robustness(folder, outcome: str, levers, quarter: str | None = None, minimise: bool = True,
               threshold: float | None = None) -> Robustness:
    """Rank the levers' policies by regret and satisficing across the uncertainties.

    Parameters
    ----------
    folder : path
        A sweep's folder.
    outcome : str
        A metric column (``russia_crude_revenue_usd_bn``).
    levers : list of str or str
        Swept settings a government chooses (comma-separated in a string); default the
        manifest's ``levers`` if it has them. The other swept settings are the uncertainties.
    quarter : str, optional
        Quarter at which the outcome is read (default: the runs' last).
    minimise : bool
        Lower is better (True) or higher is better (False).
    threshold : float, optional
        Satisficing threshold in the metric's unit (default: the median over all runs).

    Returns
    -------
    Robustness

    Raises
    ------
    InputError
        Unknown outcome, no levers, levers that are all the swept settings, or a design that does
        not run every policy under every scenario.
    """
    view = open_sweep(folder)
    if outcome not in view.metrics:
        raise InputError(f"--outcome {outcome!r} is not in the results; allowed: {', '.join(view.metrics)}")
    levers = check_levers(levers, view.keys, view.manifest)
    if not levers:
        raise InputError(f"--levers: give the swept settings a government chooses (comma-separated); allowed: "
                         f"{', '.join(view.keys)}")
    uncertainties = [k for k in view.keys if k not in levers]
    if not uncertainties:
        raise InputError(f"--levers names every swept setting ({', '.join(levers)}); allowed: leave at least one "
                         "as an uncertainty")
    if threshold is not None and not (isinstance(threshold, (int, float)) and np.isfinite(threshold)):
        raise InputError(f"--threshold = {show_value(threshold)} is not allowed; allowed: a finite number")
    label = view.quarter(quarter)
    table = view.table([outcome], label)
    means = table.groupby(levers + uncertainties)[outcome].mean()
    grid = means.unstack(levers)  # rows: scenarios, columns: policies
    missing = int(grid.isna().to_numpy().sum())
    if missing or len(grid) < 2:
        raise InputError(f"DIR {show_value(str(folder))}: {missing} of {grid.size} (policy, scenario) pairs have "
                         f"no run{' and there is one scenario' if len(grid) < 2 else ''}; allowed: a sweep that runs "
                         f"every combination of the levers ({', '.join(levers)}) under the same values of the "
                         f"uncertainties ({', '.join(uncertainties)}), e.g. --grid for every lever crossed with "
                         "--grid or --sample for the uncertainties")
    values = grid.to_numpy()
    best = values.min(axis=1, keepdims=True) if minimise else values.max(axis=1, keepdims=True)
    regret = values - best if minimise else best - values
    note = "given"
    if threshold is None:
        threshold = float(np.median(values))
        note = "the median over all policies and scenarios; give --threshold"
    ok = values <= threshold if minimise else values >= threshold
    policies = grid.columns.to_frame(index=False)
    if len(levers) == 1:
        policies.columns = levers
    result = policies.copy()
    result["max_regret"] = regret.max(axis=0)
    result["mean_regret"] = regret.mean(axis=0)
    result["satisficing"] = ok.mean(axis=0)
    result["mean"] = values.mean(axis=0)
    result["worst"] = values.max(axis=0) if minimise else values.min(axis=0)
    result["rank_satisficing"] = result["satisficing"].rank(ascending=False, method="min").astype(int)
    result = result.sort_values(["max_regret", "mean_regret"], kind="stable").reset_index(drop=True)
    result.insert(len(levers), "rank_regret", range(1, len(result) + 1))
    regret_frame = pd.DataFrame(regret, index=grid.index, columns=grid.columns)
    return Robustness(outcome, label, minimise, threshold, note, levers, uncertainties, len(grid), result,
                      regret_frame)


def plot(result: Robustness, path: Path, top: int = 15) -> None:
    """Maximum and mean regret (metric's unit) beside the satisficing share, per policy (best first)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .report import metric_title

    shown = result.table.head(top)
    labels = [", ".join(f"{k.split('.')[-1]}={row[k]:.3g}" for k in result.levers) for _, row in shown.iterrows()]
    ys = np.arange(len(shown))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 1.6 + 0.42 * len(shown)), sharey=True)
    left.barh(ys - 0.2, shown["max_regret"], 0.4, label="maximum regret")
    left.barh(ys + 0.2, shown["mean_regret"], 0.4, label="mean regret")
    left.set_yticks(ys, labels, fontsize=8)
    left.invert_yaxis()
    left.set_xlabel(f"regret: {metric_title(result.outcome)} worse than the best policy", fontsize=8)
    left.legend(fontsize=7, loc="lower right")
    right.barh(ys, shown["satisficing"] * 100, color="tab:green")
    right.set_xlim(0, 100)
    right.set_xlabel(f"satisficing (% of {result.n_scenarios} scenarios with {result.outcome} "
                     f"{'<=' if result.minimise else '>='} {result.threshold:.3g})", fontsize=8)
    fig.suptitle(f"Policies of {', '.join(result.levers)} across {', '.join(result.uncertainties)}: "
                 f"{'minimise' if result.minimise else 'maximise'} {result.outcome} at {result.quarter}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(result: Robustness, out: Path) -> list[Path]:
    """Write ``robustness.csv``, ``regret.csv`` and ``robustness.png`` into ``out``; return them."""
    out.mkdir(exist_ok=True)
    files = [out / "robustness.csv", out / "regret.csv", out / "robustness.png"]
    result.table.to_csv(files[0], index=False)
    regret = result.regret.copy()
    regret.columns = [", ".join(f"{k}={v:g}" for k, v in zip(result.levers, np.atleast_1d(c)))
                      for c in regret.columns]
    regret.reset_index().to_csv(files[1], index=False)
    plot(result, files[2])
    return files
