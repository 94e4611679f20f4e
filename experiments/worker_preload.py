"""Imported once by the process pool's fork server, so that workers start warm.

Forked workers inherit what the server imported: the model (Mesa, NumPy, pandas) and the
compiled crude-market kernel, which is run once here so that it is loaded from numba's cache
before the fork instead of in every worker.
"""
from geogame.model import GeopoliticsModel

GeopoliticsModel("baseline", seed=0).run(1)

# Move everything imported so far out of the collector's sight: forked workers then do not
# touch (and copy) the inherited pages every time the garbage collector runs.
import gc  # noqa: E402

gc.freeze()

# Each worker is one of several processes sharing the cores: keep pyarrow to one thread so the
# workers' Parquet writes do not oversubscribe them.
import pyarrow  # noqa: E402

pyarrow.set_cpu_count(1)
pyarrow.set_io_thread_count(1)
