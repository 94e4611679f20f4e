"""Runs of a sweep, as executed on a worker (in-process, a local process or a Dask worker).

A worker's task is a **chunk**: a list of run specs (``chunk_size`` of them; 1 by default) and the
job they share. :func:`execute_chunk` runs it and never raises for a run that fails: such a run
comes back as a :class:`RunResult` with ``error`` set, so one bad run cannot stop a sweep.

Extension points, both carried by the :class:`RunJob` to the workers (so both must be picklable:
module-level functions):

``RunJob.run_function(spec, job) -> model``
    What one run does; default :func:`run_model` (build the model from the job and the run's
    spec, run it for ``job.quarters``). For wrapping a run: timing it, instrumenting the model,
    or, in tests, making chosen runs fail.

``RunJob.chunk_function(specs, job) -> iterable of (spec, outcome)``
    What a chunk does; default :func:`run_chunk`, which loops ``run_function`` over the specs.
    The contract, for an engine that steps many runs together in one batch (issue 11):

    * it receives the chunk's :class:`~experiments.design.RunSpec` list (each with its own
      ``run_id``, ``seed`` and ``params``) and the shared job (scenario, quarters, fixed
      ``overrides`` under each spec's ``params``, ``rules``);
    * it yields one ``(spec, outcome)`` pair per spec, in any order, **as each run finishes**
      (a generator: every pair is written to disk when yielded, so a chunk killed half way
      loses only its unfinished runs and ``--resume`` redoes exactly those);
    * ``outcome`` is either an object with ``metrics_columns() -> dict`` (column name -> one
      value per quarter, starting state included, the model's own columns) and
      ``decisions_frame() -> pandas.DataFrame`` (read only with ``--decisions``), such as a
      finished :class:`geogame.GeopoliticsModel`; or the exception that run raised (a failed run);
    * the outcome of a run must depend only on its spec and the job, never on the other runs of
      the chunk nor on the chunk's size: the tests check that chunk sizes 1, 7 and 256 give
      identical tables;
    * if it raises, the runs it has not yet yielded are recorded as failed with that error;
      a spec it never yields is recorded as failed ("no result from the chunk function").

    Results are tagged here (:func:`tagged_table`: run id, seed, settings in front), so an
    engine returns only the model's columns.

With ``RunJob.out`` set the worker writes each run's result to the sweep's folder itself as the
chunk yields it (see :mod:`experiments.store`), and sends back results without tables.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from .design import ID_COLUMNS, RunSpec
from .store import ResultStore

__all__ = ["ID_COLUMNS", "RunJob", "RunResult", "execute_chunk", "execute_run", "run_chunk", "run_model",
           "tagged_table"]


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
    chunk_function : callable, optional
        ``chunk_function(specs, job) -> iterable of (spec, model or exception)``: runs a chunk of
        runs (see the module's docstring for the contract); default :func:`run_chunk`. Picklable;
        not part of the manifest or fingerprint.
    """

    scenario: object
    quarters: int
    overrides: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)
    decisions: bool = False
    out: str | None = None
    run_function: Callable | None = None
    chunk_function: Callable | None = None


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
        """True if the run finished without an error."""
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


def run_chunk(specs: list[RunSpec], job: RunJob) -> Iterable[tuple[RunSpec, object]]:
    """The default :attr:`RunJob.chunk_function`: each run on its own, one after another.

    Yields
    ------
    (RunSpec, model or Exception)
        Each spec with its finished model, or the exception its run raised.
    """
    run = job.run_function or run_model
    for spec in specs:
        try:
            outcome = run(spec, job)
        except Exception as exc:  # a run that raises is a recorded result, not a crash
            _reraise_interruption(exc)
            outcome = exc
        yield spec, outcome


def _reraise_interruption(exc: BaseException) -> None:
    """Ctrl-C that landed while compiled code had called back into Python: numba then reports a
    SystemError. It is an interruption, not a failed run."""
    if isinstance(exc.__context__, KeyboardInterrupt):
        raise exc.__context__ from None


def result_of(spec: RunSpec, outcome, job: RunJob) -> RunResult:
    """Tag a run's outcome (a finished model, or the exception it raised) as a :class:`RunResult`."""
    if isinstance(outcome, BaseException):
        return RunResult(spec, error=f"{type(outcome).__name__}: {outcome}",
                         traceback="".join(traceback.format_exception(outcome)))
    try:
        columns = outcome.metrics_columns()
        result = RunResult(spec, metrics=tagged_table(
            {"quarter_index": np.arange(len(columns["quarter"]), dtype=np.int64), **columns}, spec))
        if job.decisions:
            frame = outcome.decisions_frame()
            result.decisions = tagged_table({c: frame[c].to_numpy() for c in frame.columns}, spec)
        return result
    except Exception as exc:  # an outcome whose tables cannot be read is a failed run too
        _reraise_interruption(exc)
        return RunResult(spec, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())


class _WriteFailed(Exception):
    """Carries the OSError of writing a result past the handler for a failing chunk function."""


def execute_chunk(specs: list[RunSpec], job: RunJob) -> list[RunResult]:
    """Run a chunk of runs and return one :class:`RunResult` per spec (in the order they finished).

    With ``job.out`` set, each result is written to the sweep folder here as soon as the chunk
    function yields it, and the returned results carry no tables (``saved`` is True): the parent
    then neither unpickles tables nor writes every file itself.
    """
    store = ResultStore(job.out) if job.out is not None else None
    results: list[RunResult] = []
    waiting = {spec.run_id: spec for spec in specs}

    def keep(result: RunResult) -> None:
        if store is not None:
            try:
                store.save(result)
            except OSError as exc:  # a full disk: the sweep stops (resumable), not the run's fault
                raise _WriteFailed(exc) from None
            result.metrics = result.decisions = None
            result.saved = True
        results.append(result)

    try:
        try:
            for spec, outcome in (job.chunk_function or run_chunk)(specs, job):
                if waiting.pop(spec.run_id, None) is None:
                    continue  # not in this chunk, or yielded twice: the first result stands
                keep(result_of(spec, outcome, job))
        except _WriteFailed:
            raise
        except Exception as exc:  # the chunk function itself failed: its unfinished runs fail with it
            _reraise_interruption(exc)
            error, trace = f"{type(exc).__name__}: {exc}", traceback.format_exc()
            for spec in list(waiting.values()):
                keep(RunResult(spec, error=error, traceback=trace))
            waiting.clear()
        for spec in waiting.values():
            keep(RunResult(spec, error="RuntimeError: no result from the chunk function for this run"))
    except _WriteFailed as failed:
        raise failed.args[0] from None
    return results


def execute_run(spec: RunSpec, job: RunJob) -> RunResult:
    """Run one model and return its tagged result (a chunk of one run; see :func:`execute_chunk`)."""
    return execute_chunk([spec], job)[0]
