"""Where runs execute: in-process, local processes, or dask.distributed.

Every backend is a context manager with ``map_unordered(fn, items)``, a generator that yields
``fn(item)`` as each call finishes (in any order) while keeping only a bounded number of calls
in flight, so memory stays flat however long the sweep, and ``stop()``, called when a sweep is
interrupted, which lets the runs in hand finish. Opening a backend connects to it, so an
unreachable scheduler fails before any run starts.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from geogame.model import InputError

BACKENDS = ("serial", "processes", "dask")
#: Calls in flight per worker: enough to keep workers busy, few enough to keep memory flat.
IN_FLIGHT_PER_WORKER = 4


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
        for item in items:
            yield fn(*item)

    def stop(self) -> None:
        """Nothing runs in the background here."""


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
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
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
        Seconds to wait when connecting to a scheduler.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 processes: bool = True, timeout: float = 10.0):
        self.scheduler = scheduler
        self.workers = check_workers(workers)
        self.processes = processes
        self.timeout = timeout
        self.client = self.cluster = None

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
        else:
            # Worker processes talk over TCP on 127.0.0.1 only; thread workers use in-process comms.
            network = {"host": "127.0.0.1"} if self.processes else {}
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                        processes=self.processes, dashboard_address=None, **network)
            self.client = Client(self.cluster, set_as_default=False)
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False

    def stop(self) -> None:
        """Runs already sent to the cluster finish there; only results written here are counted."""

    def map_unordered(self, fn, items):
        from dask.distributed import as_completed

        limit = max(1, sum(self.client.nthreads().values())) * IN_FLIGHT_PER_WORKER
        items = iter(items)
        first = [self.client.submit(fn, *item, pure=False) for item in _take(items, limit)]
        if not first:
            return
        finished = as_completed(first, loop=self.client.loop)
        for future in finished:
            result = future.result()
            future.release()
            for item in _take(items, 1):
                finished.add(self.client.submit(fn, *item, pure=False))
            yield result


def _take(items, n: int) -> list:
    out = []
    for item in items:
        out.append(item)
        if len(out) == n:
            break
    return out


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
