from __future__ import annotations

import os

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


@pytest.fixture(autouse=True)
def _graphql_optimizer():
    """``GRAPHQL_OPTIMIZER=off`` (a CI step) runs the tests with strawberry-django's optimizer
    switched off, so the resolvers' fallback paths (no prefetch hints applied) are exercised."""
    if os.environ.get("GRAPHQL_OPTIMIZER", "on") != "off":
        yield
        return
    from strawberry_django.optimizer import DjangoOptimizerExtension

    with DjangoOptimizerExtension.disabled():
        yield


@pytest.fixture
def benchmarks(db):
    from apps.math_core.benchmark_loader import load_benchmarks

    load_benchmarks()


def services_required() -> bool:
    return bool(getattr(settings, "REQUIRE_SERVICES", False))
