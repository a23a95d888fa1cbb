from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

pytest_plugins = ["tests.auth_fixtures"]


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (shared Redis in CI's second run)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def benchmarks(db):
    from apps.math_core.benchmark_loader import load_benchmarks

    load_benchmarks()


def services_required() -> bool:
    return bool(getattr(settings, "REQUIRE_SERVICES", False))
