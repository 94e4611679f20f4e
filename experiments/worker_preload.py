"""Imported once by the process pool's fork server, so that workers start warm.

Forked workers inherit what the server imported: the model (Mesa, NumPy, pandas) and the
compiled crude-market kernel, which is run once here so that it is loaded from numba's cache
before the fork instead of in every worker.
"""
from model import GeopoliticsModel

GeopoliticsModel("baseline", seed=0).run(1)
