"""Parameter sweeps: many runs of the model over a design, on any backend, streamed to disk.

From Python (a notebook)::

    from geogame.experiments import sweep
    table = sweep(scenario="baseline", quarters=20,
                  grid={"usa.oil_penalty_tariff_on_ind": [0, 0.25, 0.5], "eu.price_cap_usd": "40:60:5"},
                  replicates=10, seed=1, out="results/penalty_x_cap")

Both ``sweep()`` and ``geogame sweep`` default to the ``processes`` backend (every core; the
tables are identical on every backend, so the fastest local one is the default). Its workers
start from a fork server that imports the calling script's main module, so a script needs the
usual ``if __name__ == "__main__":`` guard around its sweep (a notebook does not).

The same design and master seed give identical tables on every backend: each run's result
depends only on the scenario, its settings and its seed, and results are sorted by run id.
"""
from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from geogame.model import InputError, Scenario, check_settings, load_scenario, normalise_overrides

from .backends import open_backend
from .design import Design, build_design, parse_sample
from .runner import RunJob, RunResult, execute_chunk
from .store import COMPACT_EVERY, ResultStore, read_results

#: The backend of ``sweep()`` and of ``geogame sweep`` (see the module's docstring).
DEFAULT_BACKEND = "processes"


class SweepTerminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, a batch scheduler's time limit, ``kill``): stops a sweep as Ctrl-C does."""


@contextmanager
def terminate_like_ctrl_c():
    """While a sweep runs, SIGTERM raises :class:`SweepTerminated` in the main thread, so the runs in
    hand finish and the manifest says ``interrupted`` (as for Ctrl-C). Only in the main thread
    (where Python runs signal handlers); elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SweepTerminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class SweepSummary:
    """How a sweep went.

    Attributes
    ----------
    n_runs : int
        Runs in the design.
    ran : int
        Runs executed this time.
    skipped : int
        Runs already on disk (``resume``).
    failed : int
        Runs that raised, this time.
    seconds : float
        Wall-clock time of this invocation (s).
    out : str, optional
        The sweep's folder.
    remade : int
        Result files found damaged on ``resume`` (unreadable, truncated), removed and run again.
    """

    n_runs: int
    ran: int
    skipped: int
    failed: int
    seconds: float
    out: str | None = None
    remade: int = 0
    failed_total: int = 0

    def line(self) -> str:
        """The one-line summary printed at the end of ``geogame sweep``."""
        rate = self.ran / self.seconds if self.seconds > 0 else 0.0
        where = f" -> {self.out}" if self.out else ""
        remade = f", {self.remade} damaged result files made again" if self.remade else ""
        return (f"sweep: {self.ran} runs in {self.seconds:.1f} s ({rate:.1f} runs/s), "
                f"{self.ran - self.failed} ok, {self.failed} failed, {self.skipped} already done{remade}, "
                f"{self.n_runs} in the design{where}")

    def failure_line(self) -> str | None:
        """One line when runs failed (the command then exits 1), else None."""
        failed = max(self.failed, self.failed_total)
        if not failed:
            return None
        where = f"{self.out}/failures/ and {self.out}/manifest.json" if self.out else "the table's attrs['failures']"
        return (f"sweep: {failed} of {self.n_runs} runs failed (errors in {where}); "
                "fix the cause and run the same command with --resume to retry only them")


def package_version() -> str:
    """The installed geogame version (``unknown`` from a bare checkout), for the manifest."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("geogame")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def prepare_job(scenario, quarters, overrides, rules, decisions) -> RunJob:
    """Load and validate what all runs share (scenario, run length, fixed settings, rules)."""
    from geogame.model import COUNTRIES

    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    quarters = scenario.quarters if quarters is None else quarters
    scenario.check_run_length(quarters)
    rules = dict(rules or {})
    for country, rule in rules.items():
        if country not in COUNTRIES:
            raise InputError(f"--rule {country}={rule}: country {country!r} is not known; "
                             f"allowed: {', '.join(COUNTRIES)}")
        if rule not in ("ai", "best", "scripted"):
            raise InputError(f"--rule {country}={rule}: rule {rule!r} is not allowed; allowed: ai, best, scripted")
    if isinstance(overrides, (list, tuple)):
        from .commands import parse_overrides
        fixed = parse_overrides(list(overrides))  # a key given twice is refused
    else:
        fixed = normalise_overrides(overrides)
    return RunJob(scenario, quarters, fixed, rules, bool(decisions))


#: Longest --connect-timeout accepted (s).
MAX_CONNECT_TIMEOUT = 3600.0
#: Schemes a dask scheduler address may have.
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(?P<port>[0-9]{1,5}))?$")


def check_connect_timeout(seconds) -> float:
    """Validate ``--connect-timeout``: a number of seconds, more than 0 and at most an hour."""
    from geogame.model import show_value

    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or not 0 < seconds <= MAX_CONNECT_TIMEOUT:
        raise InputError(f"--connect-timeout = {show_value(seconds)} is not allowed; allowed: seconds "
                         f"greater than 0 and up to {MAX_CONNECT_TIMEOUT:g}")
    return float(seconds)


def check_scheduler_address(address: str) -> str:
    """Validate the form of ``--scheduler`` (``tcp://host:8786``) before anything starts."""
    from geogame.model import show_value

    if isinstance(address, str) and re.match(r"^inproc://\S+$", address.strip()):
        return address.strip()  # a scheduler in this process (tests, notebooks)
    match = _ADDRESS.match(address.strip()) if isinstance(address, str) else None
    scheme = match and (match.group("scheme") or "tcp")
    port = match and match.group("port")
    if not match or scheme not in SCHEDULER_SCHEMES or (scheme != "inproc" and port is None) \
            or (port is not None and not 1 <= int(port) <= 65535):
        raise InputError(f"--scheduler {show_value(address)} is not a scheduler address; allowed: "
                         f"SCHEME://HOST:PORT with SCHEME one of {', '.join(SCHEDULER_SCHEMES)} and PORT 1-65535 "
                         "(for example tcp://10.0.0.5:8786)")
    return address.strip()


def job_record(job: RunJob) -> dict:
    """The shared part of a sweep, for the manifest (and its fingerprint)."""
    return {"scenario": job.scenario.name, "scenario_text": job.scenario.text,
            "quarters": job.quarters, "overrides": job.overrides, "rules": job.rules,
            "decisions": job.decisions}


#: Fields of the manifest a resumed sweep must match (the design is compared through its fingerprint).
RESUME_FIELDS = ("scenario_text", "quarters", "overrides", "rules", "decisions")
#: Parts of the design record shown when the fingerprints differ.
DESIGN_FIELDS = ("keys", "grid", "ranges", "sample", "explicit_points", "replicates", "master_seed", "n_points",
                 "points")


def resume_differences(manifest: dict, record: dict, fingerprint: str) -> list[str]:
    """What differs between an interrupted sweep's manifest and the sweep given now: ``field: old -> new``."""
    def shown(value) -> str:
        text = json.dumps(value, sort_keys=True, default=str)
        return text if len(text) <= 80 else text[:77] + "..."

    out = []
    if manifest.get("fingerprint") != fingerprint:
        old, new = manifest.get("design") or {}, record["design"]
        for key in DESIGN_FIELDS:
            if old.get(key) != new.get(key):
                out.append(f"design {key}: {shown(old.get(key))} (manifest) vs {shown(new.get(key))} (now)")
        if not out:
            out.append("design: the points or seeds differ")
    for key in RESUME_FIELDS:
        if manifest.get(key) != record[key]:
            if key == "scenario_text":
                out.append(f"scenario: the text of {manifest.get('scenario')!r} (manifest) differs from "
                           f"{record['scenario']!r} (now)")
            else:
                out.append(f"{key}: {shown(manifest.get(key))} (manifest) vs {shown(record[key])} (now)")
    return out


def _chunks(specs, size: int):
    """Group specs into lists of ``size`` (the last may be shorter)."""
    chunk = []
    for spec in specs:
        chunk.append(spec)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


#: Most runs a worker task holds when ``chunk_size`` is left to the sweep (see :func:`auto_chunk_size`).
AUTO_CHUNK_MAX = 64


def auto_chunk_size(n_runs: int, workers: int | None = None) -> int:
    """Runs per worker task when the user names none: about four tasks per worker (so the work
    spreads evenly and progress shows), at most :data:`AUTO_CHUNK_MAX` (memory grows with the
    chunk; batching gains little beyond it), at least 1. A chunk of more than one run steps as one
    ensemble; the results do not depend on the chunk size."""
    workers = max(1, int(workers or os.cpu_count() or 1))
    return max(1, min(AUTO_CHUNK_MAX, math.ceil(n_runs / (4 * workers))))


def check_chunk_size(chunk_size) -> int:
    """Validate ``--chunk-size``: runs per worker task, a whole number from 1 to 100,000."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1 <= chunk_size <= 100_000:
        raise InputError(f"--chunk-size = {chunk_size!r} is not allowed; allowed whole numbers from 1 to 100000")
    return chunk_size


def check_compact_every(compact_every) -> int:
    """Validate ``--compact-every``: finished runs per compacted part, a whole number >= 0 (0: never
    compact, keep one file per run)."""
    if isinstance(compact_every, bool) or not isinstance(compact_every, int) or compact_every < 0:
        raise InputError(f"--compact-every = {compact_every!r} is not allowed; allowed whole numbers >= 1, "
                         "or 0 to keep one file per run")
    return compact_every


def run_design(design: Design, job: RunJob, backend, out: str | None = None, resume: bool = False,
               progress: bool = False, on_result=None, chunk_size: int = 1,
               compact_every: int = COMPACT_EVERY) -> SweepSummary:
    """Execute ``design`` on an opened ``backend``; write results to ``out`` as runs finish.

    Parameters
    ----------
    design : Design
        The runs.
    job : RunJob
        Scenario, run length, fixed settings, rules.
    backend : backend object
        Entered backend (see :mod:`experiments.backends`).
    out : path, optional
        Sweep folder; None keeps nothing on disk (``on_result`` must collect the results).
    resume : bool
        Run only the runs whose results are not on disk; the design must match the manifest.
    progress : bool
        Show a tqdm progress bar (runs done, rate, ETA) on stderr.
    on_result : callable, optional
        Called with every :class:`RunResult` as it arrives.
    chunk_size : int
        Runs per worker task (see :mod:`experiments.runner`); the tables do not depend on it.
    compact_every : int
        Finished runs gathered into one compacted part (see :mod:`experiments.store`).
    """
    from tqdm import tqdm

    started, clock = _now(), time.perf_counter()
    store = ResultStore(out) if out is not None else None
    record = {"design": design.to_json(), **job_record(job)}
    fingerprint = Design.fingerprint(design)
    done: set[int] = set()
    remade: list[str] = []
    manifest = {}
    if store is not None:
        if resume:
            manifest = store.read_manifest()
            differences = resume_differences(manifest, record, fingerprint)
            if differences:
                raise InputError(f"--resume: the sweep differs from the one in {store.manifest_path}: "
                                 f"{'; '.join(differences)}; give the same options as the interrupted sweep "
                                 "(or --rerun its manifest into a new --out)")
            store.remove_temp_files()  # left by workers killed mid-write
            done, remade = store.verify(rows=job.quarters + 1)
        store.create()
        sessions = _list(manifest.get("sessions"))
        if sessions and isinstance(sessions[-1], dict) and sessions[-1].get("ended") is None:
            # The last session never wrote its end: its process was killed (kill -9, power cut).
            sessions[-1] = {**sessions[-1], "status": "killed", "found_killed": started}
        manifest = {**record, "fingerprint": fingerprint, "package_version": package_version(),
                    "python": sys.version.split()[0], **_backend_record(backend),
                    "chunk_size": chunk_size, "compact_every": compact_every,
                    "started": manifest.get("started", started),
                    "sessions": sessions + [{"started": started, "ended": None, "status": "running",
                                             **_backend_record(backend)}],
                    "ended": None, "status": "running", "failures": store.failures_list()}
        store.write_manifest(manifest)
    todo = ((chunk, job) for chunk in _chunks((spec for spec in design.runs() if spec.run_id not in done),
                                              chunk_size))
    n_todo = design.n_runs - len(done)
    failed = ran = since_compaction = 0
    status, error = "interrupted", None
    bar = tqdm(total=n_todo, desc="sweep", unit="run", disable=not progress, file=sys.stderr,
               dynamic_ncols=True, smoothing=0.1)
    try:
        for results in backend.map_unordered(execute_chunk, todo):
            for result in results:
                ran += 1
                failed += not result.ok
                if store is not None and not result.saved:
                    store.save(result)
                if on_result is not None:
                    on_result(result)
            bar.update(len(results))
            if failed:
                bar.set_postfix(failed=failed, refresh=False)
            since_compaction += len(results)
            if store is not None and compact_every and since_compaction >= compact_every:
                store.compact()
                since_compaction = 0
        status = "complete"
    except SweepTerminated:
        status = "interrupted (SIGTERM)"
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        status, error = "stopped by an error", _error_text(exc)
        raise
    finally:
        bar.close()
        if status != "complete":
            backend.stop()  # let runs in hand finish, so the manifest below counts them
        seconds = time.perf_counter() - clock
        if store is not None:
            _finish(store, design, manifest, status, error, backend, compact=bool(compact_every))
    failed_total = len(store.failures_list()) if store is not None else failed
    return SweepSummary(design.n_runs, ran, len(done), failed, seconds, None if out is None else str(out),
                        remade=len(remade), failed_total=failed_total)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


def _backend_record(backend) -> dict:
    """Where the runs execute, for the manifest: the backend and its workers (a Dask cluster's own count)."""
    return backend.describe()


def _finish(store: ResultStore, design: Design, manifest: dict, status: str, error: str | None, backend,
            compact: bool = True) -> None:
    """Compact what is left and write the manifest's end (status, counts, failures).

    A compaction that fails (a full disk) keeps the run files and is recorded; if even the manifest
    cannot be written, the previous one (status ``running``) stays and ``--resume`` marks the
    session killed. Raises the compaction's error after writing the manifest unless an error is
    already on its way.
    """
    in_flight = status != "complete"  # an interruption or an error is on its way up
    compaction_error = None
    try:
        if compact:
            store.compact()
    except OSError as exc:
        compaction_error = exc
        if error is None:
            status, error = "stopped by an error", _error_text(exc)
    ended = _now()
    failures = store.failures_list()
    missing = design.n_runs - len(store.done_ids())
    if status == "complete" and missing:
        status = "complete with failures"
    session = {**manifest["sessions"][-1], "ended": ended, "status": status, **_backend_record(backend)}
    parts = store.part_files()
    manifest.update(ended=ended, status=status, failures=failures, runs_done=design.n_runs - missing,
                    results={"parts": [p.name for p in parts], "run_files": len(store.result_files())},
                    sessions=[*manifest["sessions"][:-1], session])
    if error is not None:
        manifest["error"] = error
    else:
        manifest.pop("error", None)
    try:
        store.write_manifest(manifest)
    except OSError:
        if not in_flight and compaction_error is None:
            raise
    if compaction_error is not None and not in_flight:
        raise compaction_error


def _list(value) -> list:
    return value if isinstance(value, list) else []


def sweep(scenario="baseline", quarters: int | None = None, grid: dict | None = None,
          ranges: dict | None = None, sample=None, points: list[dict] | None = None,
          replicates: int = 1, seed: int = 0, overrides=None, rules: dict | None = None,
          backend: str = DEFAULT_BACKEND, workers: int | None = None, scheduler: str | None = None,
          out=None, resume: bool = False, decisions: bool = False, progress: bool = False,
          dask_processes: bool = True, chunk_size: int | None = None, compact_every: int = COMPACT_EVERY,
          run_function=None, chunk_function=None, connect_timeout: float = 10.0) -> pd.DataFrame:
    """Run a sweep and return its tidy quarterly table (one row per run and quarter).

    Parameters
    ----------
    scenario : str, path or Scenario
        Preset name or scenario file.
    quarters : int, optional
        Quarters per run (default: the scenario's).
    grid : dict, optional
        Setting key -> list of values or ``"start:stop:step"``; every combination is run.
    ranges : dict, optional
        Setting key -> (low, high) for ``sample``.
    sample : str or (method, n), optional
        ``"lhs:500"`` or ``"random:100"`` over ``ranges``.
    points : list of dict, optional
        Explicit design points (setting key -> value).
    replicates : int
        Seeds per design point.
    seed : int
        Master seed; run seeds are derived from it with numpy's SeedSequence.
    overrides : dict or list of "key=value", optional
        Settings fixed for every run.
    rules : dict, optional
        Rule per country, ``"ai"`` or ``"scripted"``.
    backend : {"processes", "serial", "dask"}
        Where runs execute; default ``processes``, as ``geogame sweep`` (a script needs an
        ``if __name__ == "__main__":`` guard; see the module's docstring).
    workers : int, optional
        Worker processes (default: all cores).
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``); default a local cluster on 127.0.0.1.
    out : path, optional
        Folder to stream results to (see :mod:`experiments.store`); None keeps them in memory.
    resume : bool
        Finish an interrupted sweep in ``out``.
    decisions : bool
        Also keep every run's decisions (in ``out``/decisions, or ``table.attrs["decisions"]``).
    progress : bool
        Show a progress bar.
    dask_processes : bool
        Local dask cluster workers as processes (True) or threads (False).
    chunk_size : int, optional
        Runs per worker task, stepped together as one ensemble (see :mod:`experiments.runner`);
        default :func:`auto_chunk_size`. The table does not depend on it.
    compact_every : int
        Finished runs per compacted Parquet part in ``out`` (see :mod:`experiments.store`).
    run_function, chunk_function : callable, optional
        The runner's extension points (:class:`experiments.runner.RunJob`), picklable.
    connect_timeout : float
        Seconds to wait for a Dask scheduler and its first worker (and, during the sweep, for a
        cluster that has lost every worker) before giving up.

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id, point_id, replicate, seed``, the swept settings, ``quarter_index,
        quarter`` and every metric, sorted by run and quarter. ``attrs["summary"]`` holds the
        :class:`SweepSummary`, ``attrs["failures"]`` the failed runs.
    """
    kept: list[RunResult] = []
    summary = sweep_to_folder(scenario, quarters, grid, ranges, sample, points, replicates, seed,
                              overrides, rules, backend, workers, scheduler, out, resume, decisions,
                              progress, dask_processes, on_result=None if out is not None else kept.append,
                              chunk_size=chunk_size, compact_every=compact_every, run_function=run_function,
                              chunk_function=chunk_function, connect_timeout=connect_timeout)
    if out is not None:
        table = read_results(out)
        failures = ResultStore(out).failures_list()
        if decisions:
            table.attrs["decisions"] = read_results(out, "decisions")
    else:
        table = collect([r.metrics for r in kept if r.ok])
        failures = [{**vars(r.spec), "error": r.error} for r in kept if not r.ok]
        if decisions:
            table.attrs["decisions"] = collect([r.decisions for r in kept if r.ok])
    table.attrs["summary"] = summary
    table.attrs["failures"] = failures
    return table


@dataclass
class SweepPlan:
    """A sweep checked and ready to start: what ``--dry-run`` describes.

    Attributes
    ----------
    design : Design
    job : RunJob
    out : str, optional
    chunk_size : int
        Runs per worker task (the user's, or :func:`auto_chunk_size`).
    """

    design: Design
    job: RunJob
    out: str | None
    chunk_size: int = 1


def plan_sweep(scenario="baseline", quarters=None, grid=None, ranges=None, sample=None, points=None,
               replicates=1, seed=0, overrides=None, rules=None, backend=DEFAULT_BACKEND, workers=None,
               scheduler=None, out=None, resume=False, decisions=False, connect_timeout: float = 10.0,
               chunk_size: int | None = None, compact_every: int = COMPACT_EVERY, run_function=None,
               chunk_function=None) -> SweepPlan:
    """Check every input of a sweep (nothing run, nothing written) and return its design and job.

    Raises
    ------
    InputError
        One line naming the first bad input.
    """
    from .backends import check_workers

    if backend not in ("serial", "processes", "dask"):
        raise InputError(f"--backend = {backend!r} is not known; allowed: serial, processes, dask")
    if scheduler is not None:
        scheduler = check_scheduler_address(scheduler)
    check_connect_timeout(connect_timeout)
    check_workers(workers)
    if chunk_size is not None:
        check_chunk_size(chunk_size)
    check_compact_every(compact_every)
    job = prepare_job(scenario, quarters, overrides, rules, decisions)
    if isinstance(sample, str):
        sample = parse_sample(sample)
    design = build_design(grid, ranges, sample, points, replicates, seed)
    if chunk_size is None:
        chunk_size = auto_chunk_size(design.n_runs, workers if backend == "processes" else None)
    if chunk_function is None and run_function is None and chunk_size > 1:
        from geogame.model import ensemble_chunk  # a chunk's runs step together in one batch (issue 11)

        chunk_function = ensemble_chunk
    if run_function is not None or chunk_function is not None:
        job = replace(job, run_function=run_function or job.run_function,
                      chunk_function=chunk_function or job.chunk_function)
    both = sorted(set(design.keys) & set(job.overrides))
    if both:
        raise InputError(f"setting {both[0]!r} is both varied by the design (--grid/--range) and fixed by --set "
                         f"{both[0]}={job.overrides[both[0]]:g}; allowed: one of the two")
    check_points(design, job)
    if out is not None:
        ResultStore(out).check(resume)
    elif resume:
        raise InputError("--resume needs --out, the folder of the interrupted sweep")
    return SweepPlan(design, job, None if out is None else str(out), chunk_size)


def sweep_to_folder(scenario="baseline", quarters=None, grid=None, ranges=None, sample=None, points=None,
                    replicates=1, seed=0, overrides=None, rules=None, backend=DEFAULT_BACKEND, workers=None,
                    scheduler=None, out=None, resume=False, decisions=False, progress=False,
                    dask_processes=True, on_result=None, connect_timeout: float = 10.0,
                    chunk_size: int | None = None, compact_every: int = COMPACT_EVERY, run_function=None,
                    chunk_function=None) -> SweepSummary:
    """Validate everything, then run the sweep streaming results to ``out``; return the summary.

    Takes the parameters of :func:`sweep`; nothing is held in memory (the command line's path).
    All input is checked, and the backend connected, before the first run starts. SIGTERM stops
    the sweep as Ctrl-C does (raising :class:`SweepTerminated`, a ``KeyboardInterrupt``).
    """
    plan = plan_sweep(scenario, quarters, grid, ranges, sample, points, replicates, seed, overrides, rules,
                      backend, workers, scheduler, out, resume, decisions, connect_timeout, chunk_size,
                      compact_every, run_function, chunk_function)
    job = plan.job
    if out is not None and not (backend == "dask" and scheduler):
        # Workers on this machine write their own results; a remote cluster's workers do not
        # see this disk, so then the results come back and this process writes them.
        job = replace(job, out=str(Path(out).resolve()))
    options = {}
    if backend == "dask":
        options = {"timeout": connect_timeout} if scheduler else {"processes": dask_processes,
                                                                    "timeout": connect_timeout}
    with terminate_like_ctrl_c(), open_backend(backend, workers, scheduler, **options) as runner:
        return run_design(plan.design, job, runner, out, resume, progress, on_result, plan.chunk_size,
                          compact_every)


def check_points(design: Design, job: RunJob) -> None:
    """Refuse, before any run, a design point whose settings together cannot start a run.

    Each value was range-checked when the design was built; this catches combinations the
    calibrated start rejects (see :func:`model.check_settings`), naming the point.
    """
    for number, point in enumerate(design.points):
        try:
            check_settings(job.scenario, {**job.overrides, **point})
        except InputError as exc:
            shown = ", ".join(f"{k}={v:g}" for k, v in point.items())
            raise InputError(f"design point {number} ({shown}): {exc}") from None


def collect(tables: list) -> pd.DataFrame:
    """Concatenate per-run tables (pyarrow Tables) into one DataFrame, sorted by run (and quarter).

    Reads the same as the Parquet dataset a sweep writes (``read_results``).
    """
    import pyarrow as pa

    if not tables:
        return pd.DataFrame()
    table = pa.concat_tables(tables).to_pandas()
    order = ["run_id", "quarter_index"] if "quarter_index" in table else ["run_id"]
    return table.sort_values(order, kind="stable").reset_index(drop=True)
