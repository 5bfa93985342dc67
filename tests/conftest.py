"""pytest configuration: hypothesis profiles (shared helpers live in tests/helpers.py)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_configure(config) -> None:
    """The prepared-bars cache (research.spec.bars_cache) of a test run lives in a folder
    of its own, never in the user's ~/.cache; subprocesses inherit it."""
    import tempfile

    config._research_cache = tempfile.mkdtemp(prefix="research-test-cache-")
    os.environ["XDG_CACHE_HOME"] = config._research_cache


def pytest_unconfigure(config) -> None:
    import shutil

    if getattr(config, "_research_cache", None):
        shutil.rmtree(config._research_cache, ignore_errors=True)
