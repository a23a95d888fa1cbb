from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import connections

from apps.websocket_gateway import presence


@pytest.fixture(autouse=True)
def _fresh_connection_registry_and_channel_layer():
    """Each test counts its own connections and starts with empty groups (in Redis both go with
    the autouse cache.clear(), which flushes the test Redis database)."""
    presence._registry = None
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(layer.flush)()
    yield
    presence._registry = None
    # Consumers ran ORM code in asgiref's sync thread: close that thread's connections, or
    # PostgreSQL refuses to drop the test database at the end of the session.
    asyncio.run(sync_to_async(connections.close_all)())


def pytest_collection_modifyitems(config, items):
    """``services`` tests need the Redis channel layer (the in-memory one is per process). They
    run when REDIS_URL is set and always under REQUIRE_SERVICES=1 (failing when Redis is down);
    on the embedded default they are deselected, not skipped."""
    from django.conf import settings

    from tests.conftest import services_required

    if settings.REDIS_URL or services_required():
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        (drop if item.get_closest_marker("services") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
