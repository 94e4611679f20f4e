"""One run of a sweep, as executed on a worker (in-process, a local process or a Dask worker).

:func:`execute_run` never raises: a run that fails comes back as a result with ``error`` set,
so one bad run cannot stop a sweep.

What a run does is :func:`run_model` (build the model from the job and the run's spec, run it),
unless the job names another function in :attr:`RunJob.run_function`: the extension point for
wrapping a run (timing it, instrumenting the model, or, in tests, making chosen runs fail). The
function travels with the job to the workers, so it must be picklable (a module-level function).
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .design import RunSpec

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
    out : str, optional
        Sweep folder: workers then write their own results there.
    run_function : callable, optional
        ``run_function(spec, job) -> model``: builds and runs the model of one run and returns
        it (an object with ``metrics_columns()`` and ``decisions_frame()``); default
        :func:`run_model`. Must be picklable to reach process and Dask workers. Not part of the
        sweep's manifest or fingerprint.
    """

    scenario: object
    quarters: int
    overrides: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)
    decisions: bool = False
    out: str | None = None
    run_function: Callable | None = None


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


def run_model(spec: RunSpec, job: RunJob):
    """Build the model of one run (the job's scenario, settings and rules, the run's seed and
    design point) and run it for ``job.quarters``; the default :attr:`RunJob.run_function`.

    Returns
    -------
    geogame.GeopoliticsModel
        The model after its run.
    """
    from geogame.model import GeopoliticsModel

    model = GeopoliticsModel(scenario=job.scenario, seed=spec.seed,
                             overrides={**job.overrides, **spec.params}, rules=dict(job.rules))
    return model.run(job.quarters)


def execute_run(spec: RunSpec, job: RunJob) -> RunResult:
    """Run one model and return its tagged metrics (and decisions), or the error it raised.

    With ``job.out`` set, the result is written to the sweep folder here and the returned
    :class:`RunResult` carries no tables (``saved`` is True).
    """
    try:
        model = (job.run_function or run_model)(spec, job)
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
