"""Fit behavioural settings to the hindcast targets, with profiles and a rough uncertainty.

The loss is a sum of squared normalised residuals over the hindcast targets::

    L(theta) = sum_k ((mean_s y_k(theta, s) - observed_k) / tolerance_k) ** 2

where ``y_k(theta, s)`` is target k's model value (mean over the period's quarters in the run)
for seed ``s``. The same seeds are used at every evaluation (common random numbers), so ``L`` is
a deterministic function of ``theta`` and the fit is reproducible. The seeds of one evaluation
step together as one ensemble batch (:func:`geogame.model.iter_ensemble`), and so do the seeds of
every point where the fit asks for many at once (the quasi-random scan before the optimiser, the
loss slices after it: :meth:`Objective.losses`), each run with its own settings; each run's
table is identical to the Mesa model's, so the loss is exactly the one computed seed by seed, in
a fraction of the time. Agents' discrete choices make
``L`` piecewise smooth, so the default optimiser is Nelder-Mead with bounds (derivative-free,
:func:`scipy.optimize.minimize`). Bounds are the registry's ``low``/``high``.

Uncertainty: if tolerances were one standard error, ``L`` would be a chi-square and the set where
``L`` rises by 1 above its minimum a rough 68% interval for one parameter. We report that set from
a *slice* of the loss along each parameter (others held at the optimum), which is narrower than a
true profile when parameters are correlated. A parameter whose slice rises by less than
:data:`IDENTIFICATION_RISE` over its whole range is reported as not identified by the data.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from geogame.model import (SETTINGS, EnsembleRun, InputError, check_value, iter_ensemble, load_scenario,
                           normalise_overrides, parse_scenario, setting)

from .validate import CHUNK_SIZE, Target, load_targets, target_value

#: Rise of the loss that defines the rough interval (one parameter, chi-square with 1 d.o.f.).
INTERVAL_RISE = 1.0
#: A slice rising less than this over a parameter's whole range means: not identified.
IDENTIFICATION_RISE = 1.0
BEHAVIOURAL_KINDS = ("calibrated", "literature", "judgement")


class NotIdentifiedWarning(UserWarning):
    """The data barely constrain a fitted parameter (flat loss slice)."""


# ------------------------------------------------------------------------------------- inputs
def check_params(keys: list[str]) -> list[str]:
    """Validate the keys to fit: known, behavioural (not data), continuous, distinct.

    Raises
    ------
    InputError
        Naming the key and what is allowed.
    """
    if not keys:
        raise InputError("--params is empty; allowed: comma-separated behavioural keys such as "
                         "world.crude_discount_sensitivity,world.crude_share_adjustment")
    out = []
    for key in keys:
        spec = setting(key)
        if spec.kind not in BEHAVIOURAL_KINDS:
            raise InputError(f"--params: {key} is of kind {spec.kind!r} (an observed figure), not fitted; "
                             f"allowed kinds: {', '.join(BEHAVIOURAL_KINDS)}")
        if spec.integer:
            raise InputError(f"--params: {key} takes whole numbers only; allowed: continuous settings")
        if key in out:
            raise InputError(f"--params: {key} is given twice")
        out.append(key)
    return out


def hindcast_targets(targets: list[Target], series: list[str] | None = None) -> list[Target]:
    """The targets a hindcast fit uses: every hindcast target, or only those of ``series``.

    Raises
    ------
    InputError
        If a named series has no hindcast target.
    """
    chosen = [t for t in targets if t.scenario == "hindcast"]
    if series:
        available = sorted({t.series for t in chosen})
        for name in series:
            if name not in available:
                raise InputError(f"--series: {name!r} has no hindcast target; allowed: {', '.join(available)}")
        chosen = [t for t in chosen if t.series in series]
    return chosen


# --------------------------------------------------------------------------------- objective
@dataclass
class Objective:
    """The loss of a parameter vector over fixed seeds (see the module docstring).

    Evaluations are cached by parameter values, so profiles and the optimiser share work.
    """

    keys: list[str]
    targets: list[Target]
    seeds: list[int]
    scenario: str = "hindcast"
    base_overrides: dict = field(default_factory=dict)
    quarters: int | None = None
    rules: dict | None = None
    progress: object = None
    evaluations: int = 0
    _cache: dict = field(default_factory=dict)

    def model_values(self, theta) -> np.ndarray:
        """Each target's model value, averaged over the seeds, at ``theta``.

        The seeds run as one ensemble (common random numbers: the same seeds at every ``theta``).
        """
        return self.model_values_many([theta])[0]

    def model_values_many(self, thetas) -> list[np.ndarray]:
        """:meth:`model_values` at each of ``thetas``: the runs of every point not yet evaluated
        (each point's seeds) step together as one ensemble, each run with its point's settings."""
        keys = [tuple(round(float(v), 12) for v in theta) for theta in thetas]
        todo: dict[tuple, object] = {}                         # cache key -> the first point with it
        for key, theta in zip(keys, thetas):
            if key not in self._cache:
                todo.setdefault(key, theta)
        if todo:
            seeds = sorted(set(int(s) for s in self.seeds))     # each seed once, in order (as averaged)
            specs = [EnsembleRun(self.scenario, seed=seed,
                                 overrides={**self.base_overrides, **dict(zip(self.keys, map(float, point)))},
                                 rules=dict(self.rules) if self.rules else None)
                     for point in todo.values() for seed in seeds]
            values = np.empty((len(specs), len(self.targets)))
            for position, view in iter_ensemble(specs, self.quarters, CHUNK_SIZE):
                frame = view.metrics_frame()
                values[position] = [target_value(frame, t)[0] for t in self.targets]
            for i, key in enumerate(todo):
                self._cache[key] = values[i * len(seeds):(i + 1) * len(seeds)].mean(axis=0)
                self.evaluations += 1
                if self.progress is not None:
                    self.progress(self)
        return [self._cache[key] for key in keys]

    def losses(self, thetas) -> list[float]:
        """The loss at each of ``thetas``, their runs as one ensemble (see :meth:`model_values_many`)."""
        self.model_values_many(thetas)
        return [self(theta) for theta in thetas]

    def residuals(self, theta) -> np.ndarray:
        """Normalised residuals ``(model - observed) / tolerance`` per target."""
        observed = np.array([t.observed for t in self.targets])
        tolerance = np.array([t.tolerance for t in self.targets])
        return (self.model_values(theta) - observed) / tolerance

    def __call__(self, theta) -> float:
        r = self.residuals(theta)
        return float(np.nansum(r ** 2))


# ---------------------------------------------------------------------------------- the fit
@dataclass
class ParameterFit:
    """The fit of one parameter.

    Attributes
    ----------
    key : str
        The setting fitted.
    start, fitted : float
        Its value before and after the fit.
    low, high : float
        The bounds searched (the registry's range).
    interval : (float, float)
        Rough interval: where the loss slice stays within :data:`INTERVAL_RISE` of its minimum.
    interval_open : (bool, bool)
        True on a side where the loss never rose that much before the bound.
    identified : bool
        False if the slice rises by less than :data:`IDENTIFICATION_RISE` over the whole range.
    profile : pandas.DataFrame
        The loss slice, columns ``value, loss``.
    """

    key: str
    start: float
    fitted: float
    low: float
    high: float
    interval: tuple[float, float]
    interval_open: tuple[bool, bool]     # True where the loss never rose by INTERVAL_RISE before the bound
    identified: bool
    profile: pd.DataFrame                # columns value, loss


@dataclass
class FitResult:
    """What :func:`fit` found.

    Attributes
    ----------
    keys : list of str
        The settings fitted.
    loss_before, loss_after : float
        The loss at the start and at the optimum.
    parameters : list of ParameterFit
        One per key, with its interval and profile.
    residuals : pandas.DataFrame
        Normalised residuals per target before and after (``target_id, observed, tolerance,
        before, after``).
    seeds : list of int
        The seeds every evaluation used (common random numbers).
    evaluations : int
        Loss evaluations the optimiser made.
    message : str
        The optimiser's own message.
    """

    keys: list[str]
    loss_before: float
    loss_after: float
    parameters: list[ParameterFit]
    residuals: pd.DataFrame              # target_id, observed, tolerance, before, after (normalised)
    seeds: list[int]
    evaluations: int
    message: str

    @property
    def fitted(self) -> dict[str, float]:
        """The fitted values, key -> value (ready for ``overrides``)."""
        return {p.key: p.fitted for p in self.parameters}

    def report(self) -> str:
        """A plain-text report of the fit, residuals, profiles and identification."""
        lines = [f"loss before {self.loss_before:.3f} -> after {self.loss_after:.3f} "
                 f"({self.evaluations} evaluations, seeds {self.seeds}; optimiser: {self.message})", "",
                 "parameter                                start     fitted   rough interval (loss +1)   identified"]
        for p in self.parameters:
            lo = f"{'<=' if p.interval_open[0] else ''}{p.interval[0]:.4g}"
            hi = f"{'>=' if p.interval_open[1] else ''}{p.interval[1]:.4g}"
            lines.append(f"{p.key:38s} {p.start:8.4g} {p.fitted:10.4g}   [{lo}, {hi}]"
                         f"{'':8s}{'yes' if p.identified else 'NO (flat)'}")
        lines += ["", "normalised residuals (model - observed) / tolerance:",
                  f"{'target':22s} {'observed':>9s} {'before':>8s} {'after':>8s}"]
        for r in self.residuals.itertuples():
            lines.append(f"{r.target_id:22s} {r.observed:9.4g} {r.before:8.2f} {r.after:8.2f}")
        for p in self.parameters:
            lines += ["", f"loss slice along {p.key} (others at the optimum):"]
            lines += [f"  {v:10.4g}  {l:10.3f}" for v, l in zip(p.profile["value"], p.profile["loss"])]
        return "\n".join(lines)


def bounds_of(keys: list[str]) -> list[tuple[float, float]]:
    """Optimiser bounds: each setting's registry range."""
    return [(SETTINGS[k].low, SETTINGS[k].high) for k in keys]


def loss_slice(objective: Objective, theta: np.ndarray, i: int, points: int = 9) -> pd.DataFrame:
    """Loss along parameter ``i`` over its whole range (plus the optimum), others fixed at ``theta``."""
    low, high = bounds_of(objective.keys)[i]
    grid = np.unique(np.concatenate([np.linspace(low, high, points), [theta[i]]]))
    along = []
    for v in grid:
        t = np.array(theta, dtype=float)
        t[i] = v
        along.append(t)
    return pd.DataFrame({"value": grid, "loss": objective.losses(along)})   # every point's runs in one batch


def rough_interval(profile: pd.DataFrame, best: float, rise: float = INTERVAL_RISE):
    """Where the loss slice first rises ``rise`` above its value at ``best`` on each side.

    Linear interpolation between grid points. Returns ``((lo, hi), (lo_open, hi_open))``; a side
    is *open* when the loss never rises that much before the bound (the bound is returned).
    """
    v, l = profile["value"].to_numpy(), profile["loss"].to_numpy()
    k = int(np.argmin(np.abs(v - best)))
    level = l[k] + rise
    lo, lo_open = v[0], True
    for j in range(k, 0, -1):
        if l[j - 1] >= level:
            lo = v[j] + (level - l[j]) / (l[j - 1] - l[j]) * (v[j - 1] - v[j]) if l[j - 1] != l[j] else v[j - 1]
            lo_open = False
            break
    hi, hi_open = v[-1], True
    for j in range(k, len(v) - 1):
        if l[j + 1] >= level:
            hi = v[j] + (level - l[j]) / (l[j + 1] - l[j]) * (v[j + 1] - v[j]) if l[j + 1] != l[j] else v[j + 1]
            hi_open = False
            break
    return (float(lo), float(hi)), (lo_open, hi_open)


def fit(keys: list[str], targets: list[Target] | None = None, seeds: list[int] = (1, 2, 3),
        start: dict[str, float] | None = None, maxiter: int = 60, scenario: str = "hindcast",
        overrides: dict | None = None, quarters: int | None = None, profile_points: int = 9,
        progress: bool = False, scan: int = 16, rules: dict | None = None) -> FitResult:
    """Fit ``keys`` to ``targets`` (default: the project's hindcast targets).

    Parameters
    ----------
    keys : list of str
        Behavioural settings to fit (see :func:`check_params`).
    targets : list of Target, optional
        What to fit to; default every hindcast row of the project's validation data.
    seeds : sequence of int
        Common random numbers: the same seeds at every evaluation.
    start : dict, optional
        Starting values (default: the scenario's or registry's values).
    maxiter : int
        Iterations of Nelder-Mead.
    quarters : int, optional
        Run length (default: the scenario's); targets outside the run are dropped.
    profile_points : int
        Grid points per loss slice (0 skips slices, intervals and identification).
    scan : int
        Quasi-random (Sobol, fixed seed) points evaluated over the bounds before Nelder-Mead starts
        from the best point found (0: start from ``start``). With AI agents the loss is rugged
        (a small change of a parameter can flip a stochastic choice), so a local search alone
        gets stuck.
    rules : dict, optional
        Rule per country on top of the scenario's (``{"ind": "scripted"}``).

    Returns
    -------
    FitResult
    """
    keys = check_params(list(keys))
    overrides = normalise_overrides(overrides)
    scen = load_scenario(scenario)
    targets = hindcast_targets(load_targets()) if targets is None else list(targets)
    if quarters is not None:
        last = scen.start_quarter + quarters
        targets = [t for t in targets if min(t.quarters) <= last]
    if not targets:
        raise InputError("no targets fall inside the calibration run")
    defaults = {**{k: SETTINGS[k].default for k in keys}, **{k: v for k, v in scen.settings.items() if k in keys},
                **{k: v for k, v in overrides.items() if k in keys}}
    start = {**defaults, **{k: check_value(k, v, where="start") for k, v in (start or {}).items()}}
    theta0 = np.array([start[k] for k in keys], dtype=float)

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(desc="calibrate", unit="eval", leave=False)

    def tick(obj: Objective) -> None:
        if bar is not None:
            bar.update(1)

    objective = Objective(keys, targets, list(seeds), scenario, overrides, quarters, rules, progress=tick)
    loss0 = objective(theta0)
    bounds = bounds_of(keys)
    span = np.array([hi - lo for lo, hi in bounds])
    best = theta0
    if scan:
        from scipy.stats import qmc
        lows, highs = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
        points = qmc.scale(qmc.Sobol(len(keys), scramble=True, seed=0).random(scan), lows, highs)
        candidates = [theta0, *points]
        best = candidates[int(np.argmin(objective.losses(candidates)))]   # the scan's runs in one batch
    # Initial simplex: 10% of each range away from the best point, pointing into the box.
    simplex = [best]
    for i in range(len(keys)):
        p = best.copy()
        step = 0.10 * span[i]
        p[i] = p[i] + step if p[i] + step <= bounds[i][1] else p[i] - step
        simplex.append(p)
    result = minimize(objective, best, method="Nelder-Mead", bounds=bounds,
                      options={"maxiter": maxiter, "initial_simplex": np.array(simplex),
                               "xatol": 1e-4 * span.min(), "fatol": 1e-6})
    theta = np.clip(result.x, [b[0] for b in bounds], [b[1] for b in bounds])
    if objective(theta) > loss0:  # never report a fit worse than the start
        theta = theta0
    loss1 = objective(theta)

    params = []
    for i, key in enumerate(keys):
        if profile_points:
            prof = loss_slice(objective, theta, i, profile_points)
            interval, open_ = rough_interval(prof, theta[i])
            identified = float(prof["loss"].max() - prof["loss"].min()) >= IDENTIFICATION_RISE
            if not identified:
                warnings.warn(f"{key} is not identified by the targets: the loss changes by less than "
                              f"{IDENTIFICATION_RISE:g} over its whole range [{bounds[i][0]:g}, {bounds[i][1]:g}]",
                              NotIdentifiedWarning, stacklevel=2)
        else:
            prof, interval, open_, identified = pd.DataFrame({"value": [], "loss": []}), (math.nan, math.nan), (True, True), True
        params.append(ParameterFit(key, float(theta0[i]), float(theta[i]), bounds[i][0], bounds[i][1],
                                   interval, open_, identified, prof))
    if bar is not None:
        bar.close()
    residuals = pd.DataFrame({"target_id": [t.target_id for t in targets],
                              "observed": [t.observed for t in targets],
                              "tolerance": [t.tolerance for t in targets],
                              "before": objective.residuals(theta0), "after": objective.residuals(theta)})
    return FitResult(keys, loss0, loss1, params, residuals, list(seeds), objective.evaluations,
                     str(result.message))


# ------------------------------------------------------------------------------- scenario out
def fitted_scenario_text(scenario_text: str, fitted: dict[str, float], header: str = "") -> str:
    """The scenario file's text with ``[settings]`` updated to the fitted values.

    Existing lines for a key are replaced (their comment is replaced by a note of the fit); missing
    keys are added at the top of ``[settings]`` (a ``[settings]`` table is created if absent).
    Comments and the rest of the file are kept as they are.
    """
    lines = scenario_text.splitlines()
    today = _dt.date.today().isoformat()
    new_line = {k: f"{k} = {v!r}    # fitted to the hindcast targets by geogame calibrate, {today}"
                for k, v in fitted.items()}
    start = next((i for i, l in enumerate(lines) if l.strip() == "[settings]"), None)
    if start is None:
        first_table = next((i for i, l in enumerate(lines) if l.strip().startswith("[")), len(lines))
        lines[first_table:first_table] = ["[settings]", ""]
        start = first_table
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("[")), len(lines))
    remaining = dict(new_line)
    for i in range(start + 1, end):
        m = re.match(r"^\s*\"?([a-z]+\.[a-z0-9_]+)\"?\s*=", lines[i])
        if m and m.group(1) in remaining:
            lines[i] = remaining.pop(m.group(1))
    lines[start + 1:start + 1] = list(remaining.values())
    text = "\n".join(lines) + "\n"
    return (header + text) if header else text


def write_fitted_scenario(path: str | Path, result: FitResult, scenario: str = "hindcast") -> Path:
    """Write the fitted scenario file and check that it loads with the fitted values."""
    scen = load_scenario(scenario)
    header = "".join(f"# fitted: {p.key} = {p.fitted:.6g} (start {p.start:.6g}, rough interval "
                     f"{p.interval[0]:.4g}..{p.interval[1]:.4g}, identified: {p.identified})\n"
                     for p in result.parameters)
    header += f"# loss {result.loss_before:.4g} -> {result.loss_after:.4g} over seeds {result.seeds}\n"
    text = fitted_scenario_text(scen.text, result.fitted, header)
    parsed = parse_scenario(text, name=Path(path).stem, path=str(path))
    for key, value in result.fitted.items():
        if abs(parsed.settings[key] - value) > 1e-12:
            raise RuntimeError(f"writing {key} to the scenario failed ({parsed.settings[key]} != {value})")
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)
