"""Shared fixtures. Browser tests use tests/browser_support.py (Debian chromium, offline assets)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Make pytest-playwright's fixtures launch Debian's chromium (no browser downloads here)."""
    import browser_support

    return {**browser_type_launch_args, **browser_support.launch_kwargs()}


@pytest.fixture
def batch_sizes(monkeypatch):
    """The run count of every ensemble built while the test runs, in order (``Ensemble.__init__``
    wrapped): how runs were batched."""
    from geogame.model.ensemble import Ensemble

    sizes = []
    original = Ensemble.__init__

    def counting(self, *args, **kwargs):
        original(self, *args, **kwargs)
        sizes.append(self.R)

    monkeypatch.setattr(Ensemble, "__init__", counting)
    return sizes
