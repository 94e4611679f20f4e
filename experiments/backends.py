"""Where runs execute: in-process, local processes, or dask.distributed.

Every backend is a context manager with ``map_unordered(fn, items)``, a generator that yields
``fn(item)`` as each call finishes (in any order) while keeping only a bounded number of calls
in flight, so memory stays flat however long the sweep, and ``stop()``, called when a sweep is
interrupted, which lets the runs in hand finish. Opening a backend connects to it, so an
unreachable scheduler (or one without workers) fails before any run starts. ``describe()`` says
where the runs execute, for the manifest.

No process is left behind: local pool workers watch the sweep process and exit when it dies
(even by ``kill -9``, which no handler sees; see :func:`_watch_parent`), and the fork server
exits by itself when the sweep process is gone. A Dask backend adapts the runs it keeps in
flight to the cluster's threads as workers come and go, and stops with :class:`NoWorkers` when
the cluster has had none for ``timeout`` seconds.
"""
from __future__ import annotations

import multiprocessing
import os
import select
import signal
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from geogame.model import InputError

BACKENDS = ("serial", "processes", "dask")
#: Calls in flight per worker: enough to keep workers busy, few enough to keep memory flat.
IN_FLIGHT_PER_WORKER = 4


#: Seconds between looks at a Dask cluster's workers while waiting for results.
DASK_POLL = 0.5


class NoWorkers(RuntimeError):
    """The Dask cluster has had no worker for longer than the backend's timeout, during a sweep."""


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_workers(workers) -> int:
    """Validate ``--workers`` (None means all cores)."""
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"--workers = {workers!r} is not allowed; allowed whole numbers >= 1")
    return workers


class SerialBackend:
    """Runs one after another in this process (easiest to debug)."""

    name = "serial"
    workers = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map_unordered(self, fn, items):
        """Run ``fn(*item)`` for each item here, one after the other, yielding each result."""
        for item in items:
            yield fn(*item)

    def stop(self) -> None:
        """Nothing runs in the background here."""

    def describe(self) -> dict:
        """What the manifest records of this backend: its name and one worker."""
        return {"backend": self.name, "workers": 1}


class ProcessBackend:
    """A pool of local worker processes (``forkserver``, with the model preloaded).

    Starting the pool takes a couple of seconds (the fork server imports the model before it
    forks the workers). That happens on a background thread, and meanwhile this process, which
    has the model loaded already, runs the first runs of the sweep itself: the boot costs no
    throughput. Once every worker has answered, all runs go to the pool. A run's result does not
    depend on where it ran (its seed is part of its spec), so tables are the same either way.
    """

    name = "processes"
    #: Run in this process while the pool boots (tests switch it off to send every run to the pool).
    run_while_booting = True

    def __init__(self, workers: int | None = None):
        self.workers = check_workers(workers)
        self.pool = None
        self._booted = threading.Event()
        self._boot_thread = None

    def __enter__(self):
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["geogame.experiments.runner", "geogame.experiments.worker_preload"])
            _start_forkserver_ignoring_ctrl_c()
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                        initializer=_watch_parent, initargs=(os.getpid(),))
        self._boot_thread = threading.Thread(target=self._boot, name="geogame-pool-boot", daemon=True)
        self._boot_thread.start()
        return self

    def _boot(self) -> None:
        """Start every worker (submitting blocks until the fork server has forked it) and wait."""
        try:
            wait([self.pool.submit(_ready) for _ in range(self.workers)])
        except Exception:  # a broken pool shows itself to map_unordered's first submit
            pass
        finally:
            self._booted.set()

    def describe(self) -> dict:
        """What the manifest records of this backend: its name and the number of worker processes."""
        return {"backend": self.name, "workers": self.workers}

    def stop(self) -> None:
        """Hand out no more runs and wait for the runs in hand (a fraction of a second each, and
        their files are then on disk), so that a sweep's manifest counts every finished run."""
        self._shutdown(wait=True)

    def __exit__(self, exc_type, *exc):
        # On an interruption, do not wait for queued runs: finished ones are already on disk.
        self._shutdown(wait=exc_type is None)
        return False

    def _shutdown(self, wait: bool) -> None:
        """Cancel queued runs; with ``wait``, also let the running ones finish."""
        if self._boot_thread is not None:
            self._boot_thread.join()
        self.pool.shutdown(wait=wait, cancel_futures=True)

    def map_unordered(self, fn, items):
        """Run ``fn(*item)`` for each item in the pool, yielding results as they finish (in any
        order); while the pool boots, this process runs the first items itself."""
        items = iter(items)
        while self.run_while_booting and not self._booted.is_set():
            item = next(items, None)
            if item is None:
                return
            yield fn(*item)
        yield from _bounded(lambda item: self.pool.submit(fn, *item), items,
                            self.workers * IN_FLIGHT_PER_WORKER,
                            lambda pending: wait(pending, return_when=FIRST_COMPLETED)[0])


def _start_forkserver_ignoring_ctrl_c() -> None:
    """Start the fork server with SIGINT ignored, so that it and the workers it forks ignore Ctrl-C.

    Ctrl-C reaches every process of the terminal's foreground group. Only this process should act
    on it: it stops handing out runs and shuts the pool down, while the workers finish the run in
    hand (a fraction of a second) and write it. Without this, workers stop mid-run and print
    tracebacks, and a Ctrl-C that lands inside compiled code shows up as a bogus failed run.
    """
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()  # signal handlers can only be changed from the main thread
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the server it spawns
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def _watch_parent(pid: int) -> None:
    """Worker initializer: exit this worker as soon as the sweep process ``pid`` has died.

    A pool worker's parent is the fork server, not the sweep process, so the watch is on ``pid``
    itself: a Linux pidfd (readable once that process exits; no polling), else a look every
    half second. Nothing is lost by exiting: finished runs are on disk, and a run cut short
    left at most a temporary file, which ``--resume`` removes.
    """
    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            select.select([fd], [], [])
        else:  # pragma: no cover - not Linux >= 5.3
            while True:
                time.sleep(0.5)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
        os._exit(1)

    try:
        os.kill(pid, 0)
    except ProcessLookupError:  # already gone
        os._exit(1)
    threading.Thread(target=watch, name="geogame-parent-watch", daemon=True).start()


def _ready() -> bool:
    """A no-op a worker answers once it is up (see :meth:`ProcessBackend._boot`)."""
    return True


class DaskBackend:
    """dask.distributed: a scheduler address (``tcp://host:8786``) or a local cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler; workers need geogame installed. Without it a
        ``LocalCluster`` bound to 127.0.0.1 is started with ``workers`` single-threaded workers.
    workers : int, optional
        Local cluster size (default: all cores).
    processes : bool
        Local cluster workers as processes (default) or threads in this process.
    timeout : float
        Seconds to wait when connecting to a scheduler, for its first worker, and, during a
        sweep, before giving up on a cluster that has lost every worker.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 processes: bool = True, timeout: float = 10.0):
        self.scheduler = scheduler
        self.workers = check_workers(workers)
        self.processes = processes
        self.timeout = timeout
        self.client = self.cluster = None
        self.limit = 0
        #: In-flight limits used, in order (a new entry each time the cluster's size changed).
        self.limits: list[int] = []
        self.most_threads = 0

    def __enter__(self):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - optional dependency
            raise InputError("--backend dask needs dask[distributed]; pip install 'geogame[experiments]'") from None
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout=f"{self.timeout}s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError(f"--scheduler {self.scheduler!r} is not reachable ({type(exc).__name__}: "
                                 f"{exc}); allowed: the address of a running dask scheduler, "
                                 f"e.g. tcp://host:8786") from None
            try:
                self.client.wait_for_workers(1, timeout=self.timeout)
            except (TimeoutError, OSError):
                self.client.close()
                raise InputError(f"--scheduler {self.scheduler!r} has no workers (none joined within "
                                 f"{self.timeout:g} s, --connect-timeout); start some with: dask worker "
                                 f"{self.scheduler}") from None
        else:
            # Worker processes talk over TCP on 127.0.0.1 only; thread workers use in-process comms.
            # The scheduler's and workers' HTTP servers (health checks; with bokeh installed, the
            # workers' dashboards too) take 127.0.0.1 and a free port: left to dask, thread
            # workers' servers listen on every interface and the scheduler's takes port 8787.
            network = {"host": "127.0.0.1"} if self.processes else {}
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                        processes=self.processes, dashboard_address=None,
                                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                        worker_dashboard_address="127.0.0.1:0", **network)
            self.client = Client(self.cluster, set_as_default=False)
        self.most_threads = self._threads()[1]
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False

    def _threads(self) -> tuple[int, int]:
        """(workers, threads) of the cluster now, as the scheduler last reported them."""
        info = self.client.scheduler_info() or {}
        workers = info.get("workers") or {}
        return len(workers), sum(int(w.get("nthreads", 1)) for w in workers.values())

    def describe(self) -> dict:
        """The cluster's own worker and thread counts (not this machine's cores)."""
        n, threads = self._threads() if self.client is not None else (0, 0)
        return {"backend": self.name, "workers": n, "threads": threads, "most_threads": self.most_threads,
                "scheduler": self.scheduler or "local cluster"}

    def stop(self) -> None:
        """Runs already sent to the cluster finish there; only results written here are counted."""

    def map_unordered(self, fn, items):
        """Submit calls keeping ``threads x 4`` in flight, the threads counted again every
        :data:`DASK_POLL` seconds (workers that join get work; a cluster that shrinks gets less)."""
        from dask.distributed import wait as dask_wait

        items = iter(items)
        pending: set = set()
        exhausted = False
        alone_since = None
        while True:
            _, threads = self._threads()
            self.most_threads = max(self.most_threads, threads)
            limit = max(1, threads) * IN_FLIGHT_PER_WORKER
            if limit != self.limit:
                self.limit = limit
                self.limits.append(limit)
            if threads == 0:
                alone_since = alone_since if alone_since is not None else time.monotonic()
                if time.monotonic() - alone_since > self.timeout:
                    raise NoWorkers(f"the Dask cluster ({self.scheduler or 'local'}) has had no workers for "
                                    f"{self.timeout:g} s (--connect-timeout); start workers and run the same "
                                    "command with --resume")
            else:
                alone_since = None
            while not exhausted and len(pending) < limit:
                item = next(items, None)
                if item is None:
                    exhausted = True
                    break
                pending.add(self.client.submit(fn, *item, pure=False))
            if not pending:
                return
            try:
                with self.client.as_current():  # dask's wait() uses the current client
                    done, _ = dask_wait(list(pending), timeout=DASK_POLL, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            for future in done:
                pending.discard(future)
                result = future.result()
                future.release()
                yield result


def _bounded(submit, items, limit: int, wait_some):
    """Submit ``items`` keeping at most ``limit`` futures pending; yield results as they finish."""
    items = iter(items)
    pending = set()
    queue = deque()
    exhausted = False
    while True:
        while not exhausted and len(pending) < limit:
            try:
                item = next(items)
            except StopIteration:
                exhausted = True
                break
            pending.add(submit(item))
        if not pending:
            return
        done = wait_some(pending)
        for future in done:
            pending.discard(future)
            queue.append(future)
        while queue:
            yield queue.popleft().result()


def open_backend(name: str, workers: int | None = None, scheduler: str | None = None, **options):
    """Return the backend called ``name`` (not yet entered), validated."""
    if name not in BACKENDS:
        raise InputError(f"--backend = {name!r} is not known; allowed: {', '.join(BACKENDS)}")
    if scheduler and name != "dask":
        raise InputError(f"--scheduler needs --backend dask (got --backend {name})")
    if name == "serial":
        check_workers(workers)
        return SerialBackend()
    if name == "processes":
        return ProcessBackend(workers)
    return DaskBackend(scheduler=scheduler, workers=workers, **options)
