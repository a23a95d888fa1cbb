from __future__ import annotations

import pytest

from apps.websocket_gateway import presence


@pytest.fixture(autouse=True)
def _fresh_connection_registry():
    """Each test counts its own connections (the Redis registry's keys go with cache.clear())."""
    presence._registry = None
    yield
    presence._registry = None
