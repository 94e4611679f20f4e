"""Blocs and a map of alignment: landscape theory and classical MDS.

* :func:`landscape` enumerates every split of the players into two camps and returns the one of
  lowest *frustration* energy (Axelrod & Bennett, "A landscape theory of aggregation",
  BJPS 23(2), 1993): ``E(X) = sum_{i<j} s_i s_j p_ij d_ij(X)`` with sizes ``s`` (GDP shares),
  propensities ``p`` (affinity) and ``d_ij = 1`` when i and j are in different camps. Friends
  split apart raise the energy; enemies split apart lower it. With four players there are
  eight configurations, so the minimum is exact, not searched for.
* :func:`alignment_map` places the players in 2-D by classical (Torgerson) MDS of the distance
  ``1 - affinity``, optionally rotated to match last quarter's map (orthogonal Procrustes) so that
  a class sees countries move rather than the picture flip.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np

from .calibration import base_data
from .layout import current as current_layout


@dataclass(frozen=True)
class Landscape:
    """The lowest-energy split of the players into two camps (see :func:`landscape`).

    Attributes
    ----------
    camps : (tuple of str, tuple of str)
        Player codes in each camp; the first camp holds the first player. An empty second camp
        means no division.
    energy : float
        Frustration energy of this split (lower is more stable).
    runner_up_energy : float
        Energy of the next-lowest split: the gap says how clear-cut the division is.
    """

    camps: tuple[tuple[str, ...], tuple[str, ...]]
    energy: float
    runner_up_energy: float

    def camp_of(self, country: str) -> int:
        """Return 0 if ``country`` is in the first camp, else 1."""
        return 0 if country in self.camps[0] else 1

    def together(self, a: str, b: str) -> bool:
        """Return True if players ``a`` and ``b`` are in the same camp."""
        return self.camp_of(a) == self.camp_of(b)

    def describe(self) -> str:
        """The split in words: ``"usa + eu | rus + ind"`` or ``"one bloc: usa + rus + ind + eu"``."""
        first = " + ".join(self.camps[0])
        if not self.camps[1]:
            return f"one bloc: {first}"
        return f"{first} | {' + '.join(self.camps[1])}"


@lru_cache(maxsize=8)
def _configurations(n: int) -> tuple[np.ndarray, np.ndarray]:
    """All two-camp assignments with the first player in camp 0, (2**(n-1), n), and their splits."""
    configs = np.array([(0,) + rest for rest in product((0, 1), repeat=n - 1)])
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    split = (configs[:, :, None] != configs[:, None, :]) & upper       # pairs i < j split apart
    return configs, split.reshape(len(configs), n * n).astype(float)


def gdp_2024_usd_trn() -> np.ndarray:
    """Players' sizes for landscape theory: nominal GDP 2024, USD trn (``base_nodes.csv``, base
    ``dec2025``; calibration_targets.csv GDP_NOMINAL), in the installed players' order."""
    lay = current_layout()
    rows = base_data("dec2025")["base_nodes"]
    return np.array([float(rows[code]["absorption_usd_bn"]) / 1000.0 for code in lay.players])


def landscape(affinity: np.ndarray, sizes: np.ndarray | None = None, names=None) -> Landscape:
    """Lowest-energy split of the players into two camps.

    Parameters
    ----------
    affinity : numpy.ndarray
        (n, n) propensities in [-1, 1] (the diagonal is ignored).
    sizes : numpy.ndarray, optional
        (n,) sizes, e.g. GDP; only their ratios matter (default: :func:`gdp_2024_usd_trn`).
    names : sequence of str
        The players' codes, in the order of the rows of ``affinity`` (default: the installed players).

    Returns
    -------
    Landscape
        The split of lowest energy and the energy of the runner-up.
    """
    a = np.asarray(affinity, dtype=float)
    s = gdp_2024_usd_trn() if sizes is None else np.asarray(sizes, dtype=float)
    names = current_layout().players if names is None else names
    n = len(s)
    configs, split = _configurations(n)                               # (C, n), (C, n*n)
    energy = split @ (np.outer(s, s) * a).ravel()
    order = np.argsort(energy, kind="stable")
    best = configs[order[0]]
    camps = (tuple(names[i] for i in range(n) if best[i] == 0), tuple(names[i] for i in range(n) if best[i] == 1))
    return Landscape(camps, float(energy[order[0]]), float(energy[order[1]]))


def alignment_map(affinity: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """2-D positions of the players by classical MDS of ``1 - affinity``.

    If ``previous`` positions are given, the result is rotated/reflected to match them as closely
    as possible (orthogonal Procrustes), so the map moves smoothly from quarter to quarter.

    Parameters
    ----------
    affinity : numpy.ndarray
        (n, n) affinities in (-1, 1).
    previous : numpy.ndarray, optional
        (n, 2) positions to align the result with (last quarter's map).

    Returns
    -------
    numpy.ndarray
        (n, 2) positions, rows in the order of ``affinity``.
    """
    d = 1.0 - np.asarray(affinity, dtype=float)
    np.fill_diagonal(d, 0.0)
    n = len(d)
    centre = np.eye(n) - np.ones((n, n)) / n
    b = -0.5 * centre @ (d ** 2) @ centre
    values, vectors = np.linalg.eigh(b)
    top = np.argsort(values)[::-1][:2]
    xy = vectors[:, top] * np.sqrt(np.maximum(values[top], 0.0))
    if previous is not None:
        u, _, vt = np.linalg.svd(xy.T @ np.asarray(previous, dtype=float))
        xy = xy @ (u @ vt)
    else:
        # A fixed orientation: the US on the left, Russia below the US-Russia axis' midpoint.
        if xy[0, 0] > 0:
            xy[:, 0] = -xy[:, 0]
        if n > 1 and xy[1, 1] > 0:
            xy[:, 1] = -xy[:, 1]
    return xy
