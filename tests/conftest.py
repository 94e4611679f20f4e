"""Shared fixtures. Browser tests use tests/browser_support.py (Debian chromium, offline assets)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Make pytest-playwright's fixtures launch Debian's chromium (no browser downloads here)."""
    import browser_support

    return {**browser_type_launch_args, **browser_support.launch_kwargs()}
