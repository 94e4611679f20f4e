"""Landscape blocs and the alignment map."""
from __future__ import annotations

import numpy as np
import pytest

from geogame.model.alignment import alignment_map, landscape

SIZES = np.array([29.2, 2.15, 3.9, 19.35])  # GDP 2024, USD trn (usa, rus, ind, eu)


def _affinity(usa_rus, usa_ind, usa_eu, rus_ind, rus_eu, ind_eu):
    a = np.eye(4)
    for (i, j), v in {(0, 1): usa_rus, (0, 2): usa_ind, (0, 3): usa_eu, (1, 2): rus_ind,
                      (1, 3): rus_eu, (2, 3): ind_eu}.items():
        a[i, j] = a[j, i] = v
    return a


def test_west_against_russia_and_india_follows_its_stronger_ties():
    # India closer to the West than to Russia: it joins the West.
    west = landscape(_affinity(-0.6, 0.5, 0.6, 0.1, -0.7, 0.4), SIZES)
    assert west.camps == (("usa", "ind", "eu"), ("rus",))
    # India at odds with the US and the EU but close to Russia: it joins Russia.
    east = landscape(_affinity(-0.6, -0.5, 0.6, 0.7, -0.7, -0.4), SIZES)
    assert east.together("ind", "rus") and not east.together("ind", "usa")
    assert east.energy <= east.runner_up_energy


def test_all_friends_make_one_bloc():
    result = landscape(_affinity(0.2, 0.3, 0.5, 0.4, 0.1, 0.3), SIZES)
    assert result.camps[1] == ()
    assert result.describe().startswith("one bloc")


def test_energy_is_exact_minimum_over_all_configurations():
    rng = np.random.default_rng(0)
    for _ in range(20):
        raw = rng.uniform(-1, 1, (4, 4))
        a = (raw + raw.T) / 2
        np.fill_diagonal(a, 1)
        result = landscape(a, SIZES)
        # brute force over all 16 assignments (camps are unordered, so 8 distinct)
        energies = []
        for code in range(16):
            camp = [(code >> k) & 1 for k in range(4)]
            e = sum(SIZES[i] * SIZES[j] * a[i, j] for i in range(4) for j in range(i + 1, 4) if camp[i] != camp[j])
            energies.append(e)
        assert result.energy == pytest.approx(min(energies))


def test_map_distances_follow_affinity_and_stay_oriented():
    a = _affinity(-0.6, 0.3, 0.6, 0.5, -0.7, 0.35)
    xy = alignment_map(a)
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    # allies closer than rivals
    assert dist[0, 3] < dist[0, 1]
    assert dist[1, 2] < dist[1, 3]
    # a small change in affinity moves the points a little, not a mirror image
    moved = alignment_map(_affinity(-0.6, 0.25, 0.6, 0.55, -0.7, 0.35), previous=xy)
    assert np.abs(moved - xy).max() < 0.2


def test_mds_recovers_euclidean_distances():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(4, 2)) * 0.3
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    xy = alignment_map(1.0 - d)
    assert np.allclose(np.linalg.norm(xy[:, None] - xy[None], axis=2), d, atol=1e-8)
