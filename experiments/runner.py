"""One run of a sweep, as executed on a worker (in-process, a local process or a Dask worker).

:func:`execute_run` never raises: a run that fails comes back as a result with ``error`` set,
so one bad run cannot stop a sweep.

Test hook
---------
``GEOGAME_SWEEP_FAIL_RUNS="3,7"`` (environment variable, read by the worker) makes the runs
with those run ids raise ``RuntimeError`` after the model is built. It exists only so tests can
check that a failing run is recorded without stopping the others; leave it unset otherwise.
"""
from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field

import numpy as np

from .design import RunSpec

FAIL_HOOK = "GEOGAME_SWEEP_FAIL_RUNS"
#: Identifying columns put in front of every result row.
ID_COLUMNS = ["run_id", "point_id", "replicate", "seed"]


@dataclass(frozen=True)
class RunJob:
    """What every run of a sweep shares.

    Attributes
    ----------
    scenario : model.Scenario
        The loaded scenario (shipped to workers, so a scenario file need not exist there).
    quarters : int
        Quarters to run.
    overrides : dict
        Settings fixed for every run (``--set``), under the design point's values.
    rules : dict
        Rule per country (``{"usa": "scripted"}``).
    decisions : bool
        Also return the decisions table.
    """

    scenario: object
    quarters: int
    overrides: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)
    decisions: bool = False
    out: str | None = None        # sweep folder: workers then write their own results there


@dataclass
class RunResult:
    """What a run sends back: tidy tables (pyarrow Tables: cheap to pickle and to write), or its error."""

    spec: RunSpec
    metrics: object | None = None    # pyarrow.Table, one row a quarter
    decisions: object | None = None  # pyarrow.Table, one row a decision
    error: str | None = None
    traceback: str | None = None
    saved: bool = False           # already written to the sweep folder by the worker

    @property
    def ok(self) -> bool:
        return self.error is None


def _failing_runs() -> set[int]:
    raw = os.environ.get(FAIL_HOOK, "")
    return {int(x) for x in raw.split(",") if x.strip()}


def tagged_table(columns: dict, spec: RunSpec):
    """A pyarrow Table of ``columns`` with the run's id, seed and parameter values in front.

    ``columns`` maps a column name to its values (all the same length): the quarterly table
    built straight from the model's rows, without a pandas DataFrame in between (that detour
    cost more than writing the file, for every run of a sweep).
    """
    import pyarrow as pa

    n = len(next(iter(columns.values())))
    front = {name: np.full(n, getattr(spec, name), dtype=np.int64) for name in ID_COLUMNS}
    front.update({key: np.full(n, value, dtype=float) for key, value in spec.params.items()})
    return pa.table({**front, **{name: _as_array(values) for name, values in columns.items()}})


def _as_array(values):
    """A column for pyarrow: float lists as one NumPy array (fast), anything else as it is."""
    if isinstance(values, list) and values and type(values[0]) is float:
        return np.array(values, dtype=float)
    return values


def execute_run(spec: RunSpec, job: RunJob) -> RunResult:
    """Run one model and return its tagged metrics (and decisions), or the error it raised.

    With ``job.out`` set, the result is written to the sweep folder here and the returned
    :class:`RunResult` carries no tables (``saved`` is True).
    """
    from geogame.model import GeopoliticsModel

    try:
        model = GeopoliticsModel(scenario=job.scenario, seed=spec.seed,
                                 overrides={**job.overrides, **spec.params}, rules=dict(job.rules))
        if spec.run_id in _failing_runs():
            raise RuntimeError(f"injected failure for run {spec.run_id} ({FAIL_HOOK})")
        model.run(job.quarters)
        columns = model.metrics_columns()
        result = RunResult(spec, metrics=tagged_table(
            {"quarter_index": np.arange(len(columns["quarter"]), dtype=np.int64), **columns}, spec))
        if job.decisions:
            frame = model.decisions_frame()
            result.decisions = tagged_table({c: frame[c].to_numpy() for c in frame.columns}, spec)
    except Exception as exc:  # a run that raises is a recorded result, not a crash
        if isinstance(exc.__context__, KeyboardInterrupt):
            # Ctrl-C landed while compiled code had called back into Python: numba then reports
            # a SystemError. It is an interruption, not a failed run.
            raise exc.__context__ from None
        result = RunResult(spec, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    if job.out is not None:
        # Write where the run ran (in parallel, atomically) and send back only the outcome:
        # the parent then neither unpickles tables nor writes every file itself.
        from .store import ResultStore

        ResultStore(job.out).save(result)
        result.metrics = result.decisions = None
        result.saved = True
    return result
