"""Experimental designs: grids, sampled ranges, replicates and their seeds.

A *design* is a list of *design points* (one dict of setting values each) crossed with
``replicates`` seeds. Every value is validated with :func:`model.check_value` when the design
is built, so a bad grid or range fails before any run starts.

Seeds come from one master seed through :class:`numpy.random.SeedSequence`: replicate ``r``
gets the same seed at every design point (common random numbers), so differences between
points are not blurred by different random draws.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field

import numpy as np

from geogame.model import InputError, check_value, setting

SAMPLE_METHODS = ("lhs", "random")
#: Identifying columns put in front of every result row (the fields of :class:`RunSpec` but its params).
ID_COLUMNS = ["run_id", "point_id", "replicate", "seed"]
#: Largest design accepted (runs = design points x replicates). Checked from the options' sizes
#: before any point is built, so an enormous grid or sample is refused before memory grows.
MAX_RUNS = 1_000_000


def _too_big(what: str, count: int) -> InputError:
    return InputError(f"{what} gives {count:,} runs; allowed: at most {MAX_RUNS:,} runs in one design "
                      "(split it into several sweeps)")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep.

    Attributes
    ----------
    run_id : int
        Position in the design (point-major, replicate-minor); names the run's result file.
    point_id : int
        Index of the design point.
    replicate : int
        Replicate number, 0-based.
    seed : int
        Model seed (derived from the master seed and the replicate number).
    params : dict
        Setting values of the design point (``{"eu.price_cap_usd": 45.0}``).
    """

    run_id: int
    point_id: int
    replicate: int
    seed: int
    params: dict


@dataclass
class Design:
    """Design points crossed with replicates.

    Attributes
    ----------
    points : list of dict
        Setting values per design point; every dict has the same keys (the swept settings).
    replicates : int
        Runs per design point (distinct seeds).
    master_seed : int
        Seed every run seed is derived from.
    description : dict
        How the points were made (grid, ranges, sample), for the manifest.
    """

    points: list[dict]
    replicates: int = 1
    master_seed: int = 0
    description: dict = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        """The swept settings, in design order."""
        return list(self.points[0]) if self.points else []

    @property
    def n_runs(self) -> int:
        """Runs in the design: design points times replicates."""
        return len(self.points) * self.replicates

    def seeds(self) -> list[int]:
        """Model seed of each replicate, derived from the master seed (common to all points)."""
        return replicate_seeds(self.master_seed, self.replicates)

    def runs(self):
        """Yield every :class:`RunSpec`, in run-id order (lazily: memory stays flat)."""
        seeds = self.seeds()
        run_id = 0
        for point_id, params in enumerate(self.points):
            for replicate, seed in enumerate(seeds):
                yield RunSpec(run_id, point_id, replicate, seed, dict(params))
                run_id += 1

    def to_json(self) -> dict:
        """A JSON-able record of the design (points included) for the manifest."""
        return {**self.description, "replicates": self.replicates, "master_seed": self.master_seed,
                "keys": self.keys, "n_points": len(self.points), "n_runs": self.n_runs,
                "seeds": self.seeds(), "points": self.points}

    def fingerprint(self) -> str:
        """SHA-256 of the design record: two designs with equal fingerprints make the same runs."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


def replicate_seeds(master_seed: int, replicates: int) -> list[int]:
    """Return ``replicates`` model seeds (32-bit, >= 0) derived from ``master_seed``."""
    children = np.random.SeedSequence(master_seed).spawn(replicates)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


# --------------------------------------------------------------------------------- parsing
def _split_assignment(text: str, option: str) -> tuple[str, str]:
    key, sep, spec = str(text).partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key:
        raise InputError(f"{option} {text!r} is not of the form KEY=VALUES (for example eu.price_cap_usd=40:60:5)")
    setting(key)  # unknown key -> SettingError with a suggestion
    if not spec:
        raise InputError(f"{option} {key}: empty range; give values like 0,0.25,0.5 or start:stop:step")
    return key, spec


def _number(key: str, raw: str, option: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{option} {key}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{option} {key}: {raw!r} is not a finite number")
    return value


def grid_values(key: str, spec: str) -> list[float]:
    """Expand one grid spec, ``"0,0.25,0.5"`` or ``"40:60:5"`` (stop included), into values.

    Raises
    ------
    InputError
        On an empty or inverted range, a step <= 0, a duplicate, or a value the model refuses.
    """
    option = "--grid"
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise InputError(f"{option} {key}={spec!r}: a range is start:stop:step (for example 40:60:5)")
        start, stop, step = (_number(key, p, option) for p in parts)
        if step <= 0:
            raise InputError(f"{option} {key}={spec}: step {step:g} is not allowed; allowed step > 0")
        if stop < start:
            raise InputError(f"{option} {key}={spec}: inverted range, stop {stop:g} < start {start:g}; "
                             f"allowed start <= stop")
        count = math.floor((stop - start) / step + 1e-9) + 1
        if not math.isfinite(count) or count > MAX_RUNS:
            raise _too_big(f"{option} {key}={spec}", int(count) if math.isfinite(count) else count)
        count = int(count)
        values = [round(start + i * step, 12) for i in range(count)]
    else:
        values = [_number(key, p.strip(), option) for p in spec.split(",") if p.strip()]
        if not values:
            raise InputError(f"{option} {key}: empty list of values")
    if len(set(values)) != len(values):
        raise InputError(f"{option} {key}={spec}: duplicate values; each value once")
    return [check_value(key, v, where=option) for v in values]


def parse_grid(text: str) -> tuple[str, list[float]]:
    """Parse ``"key=0,0.25,0.5"`` or ``"key=start:stop:step"`` into ``(key, values)``."""
    key, spec = _split_assignment(text, "--grid")
    return key, grid_values(key, spec)


def range_bounds(key: str, low: float, high: float, option: str = "--range") -> tuple[float, float]:
    """Validate a sampling range: both bounds allowed by the model and ``low < high``."""
    if not high > low:
        kind = "empty" if high == low else "inverted"
        raise InputError(f"{option} {key}={low:g}:{high:g}: {kind} range; allowed low < high "
                         f"within the setting's range")
    return check_value(key, low, where=option), check_value(key, high, where=option)


def parse_range(text: str) -> tuple[str, tuple[float, float]]:
    """Parse ``"key=lo:hi"`` into ``(key, (lo, hi))``, validated."""
    key, spec = _split_assignment(text, "--range")
    parts = spec.split(":")
    if len(parts) != 2:
        raise InputError(f"--range {key}={spec!r} is not of the form low:high (for example 0:0.5)")
    low, high = (_number(key, p, "--range") for p in parts)
    return key, range_bounds(key, low, high)


def parse_sample(text: str) -> tuple[str, int]:
    """Parse ``"lhs:500"`` or ``"random:100"`` into ``(method, n)``."""
    method, sep, raw = str(text).partition(":")
    method = method.strip().lower()
    if method not in SAMPLE_METHODS or not sep:
        raise InputError(f"--sample {text!r}: method must be one of {', '.join(SAMPLE_METHODS)} "
                         f"followed by :N (for example lhs:500)")
    try:
        n = int(raw)
    except ValueError:
        raise InputError(f"--sample {text!r}: N = {raw!r} is not a whole number; allowed N >= 1") from None
    if n < 1:
        raise InputError(f"--sample {text!r}: N = {n} is not allowed; allowed N >= 1")
    if n > MAX_RUNS:
        raise _too_big(f"--sample {method}:{n}", n)
    return method, n


# ------------------------------------------------------------------------------- building
def sample_points(ranges: dict[str, tuple[float, float]], method: str, n: int, master_seed: int) -> list[dict]:
    """Draw ``n`` points in ``ranges`` by Latin hypercube or plain random sampling.

    The sampler's stream is derived from the master seed (independent of the run seeds).
    Whole-number settings are rounded.
    """
    from scipy.stats import qmc

    keys = list(ranges)
    rng = np.random.default_rng(np.random.SeedSequence(master_seed, spawn_key=(2**31 - 1,)))
    if method == "lhs":
        unit = qmc.LatinHypercube(d=len(keys), rng=rng).random(n)
    else:
        unit = rng.random((n, len(keys)))
    points = []
    for row in unit:
        point = {}
        for key, u in zip(keys, row):
            low, high = ranges[key]
            value = float(low + u * (high - low))
            point[key] = float(round(value)) if setting(key).integer else value
        points.append(point)
    return points


def build_design(grid: dict[str, list[float]] | None = None,
                 ranges: dict[str, tuple[float, float]] | None = None,
                 sample: tuple[str, int] | None = None,
                 points: list[dict] | None = None,
                 replicates: int = 1, master_seed: int = 0) -> Design:
    """Build a design: the full grid crossed with the sampled points (or explicit points).

    Parameters
    ----------
    grid : dict, optional
        Setting key -> list of values; every combination is a design point.
    ranges : dict, optional
        Setting key -> (low, high), sampled by ``sample``.
    sample : (method, n), optional
        ``("lhs", 500)`` or ``("random", 100)``; needs ``ranges``.
    points : list of dict, optional
        Explicit design points (used by sensitivity analysis), validated.
    replicates : int
        Seeds per design point, >= 1.
    master_seed : int
        Master seed, >= 0.
    """
    grid, ranges = dict(grid or {}), dict(ranges or {})
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 1:
        raise InputError(f"--replicates = {replicates!r} is not allowed; allowed whole numbers >= 1")
    if replicates > MAX_RUNS:
        raise _too_big(f"--replicates {replicates}", int(replicates))
    if isinstance(master_seed, bool) or not isinstance(master_seed, (int, np.integer)) or master_seed < 0:
        raise InputError(f"--seed = {master_seed!r} is not allowed; allowed whole numbers >= 0")
    both = set(grid) & set(ranges)
    if both:
        raise InputError(f"setting {sorted(both)[0]!r} is both in --grid and --range; give it once")
    for key, values in grid.items():
        if isinstance(values, str):
            grid[key] = grid_values(key, values)
        elif isinstance(values, (int, float, np.number)) or not hasattr(values, "__iter__"):
            raise InputError(f"--grid {key}: {values!r} is a single value; allowed: a list of values or "
                             "'start:stop:step' (a fixed setting goes in overrides / --set)")
        elif not list(values):
            raise InputError(f"--grid {key}: empty list of values")
        else:
            grid[key] = [check_value(key, v, where="--grid") for v in values]
    for key, bounds in ranges.items():
        ranges[key] = range_bounds(key, *map(float, bounds))
    if ranges and sample is None:
        raise InputError("--range needs --sample METHOD:N (for example --sample lhs:100)")
    if sample is not None and not ranges:
        raise InputError(f"--sample {sample[0]}:{sample[1]} needs at least one --range KEY=LOW:HIGH")
    if sample is not None and not (isinstance(sample[1], (int, np.integer)) and 1 <= sample[1] <= MAX_RUNS):
        if isinstance(sample[1], (int, np.integer)) and sample[1] > MAX_RUNS:
            raise _too_big(f"--sample {sample[0]}:{sample[1]}", int(sample[1]))
        raise InputError(f"--sample {sample[0]}:{sample[1]!r}: N is not allowed; allowed whole numbers N >= 1")
    runs = math.prod(len(v) for v in grid.values()) * (sample[1] if sample else 1) \
        * (len(points) if points is not None else 1) * int(replicates)
    if runs > MAX_RUNS:
        raise _too_big("the design (grid values x sampled points x replicates)", runs)
    grid_points = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    sampled = sample_points(ranges, *sample, master_seed=int(master_seed)) if sample else [{}]
    if points is not None:
        checked = [{k: check_value(k, v, where="design point") for k, v in p.items()} for p in points]
        if not checked:
            raise InputError("design: no points")
        first = list(checked[0])
        for number, point in enumerate(checked):
            if set(point) != set(first):
                raise InputError(f"design point {number} sets {sorted(point)}; allowed: the same settings in every "
                                 f"point, as point 0: {sorted(first)}")
        sampled = [{**s, **p} for s in sampled for p in checked]
    all_points = [{**g, **s} for g in grid_points for s in sampled]
    description = {"grid": grid, "ranges": {k: list(v) for k, v in ranges.items()},
                   "sample": {"method": sample[0], "n": sample[1]} if sample else None,
                   "explicit_points": points is not None}
    return Design(all_points, int(replicates), int(master_seed), description)
