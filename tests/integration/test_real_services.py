"""In CI's second run (REQUIRE_SERVICES=1 with DATABASE_URL and REDIS_URL set) these prove the
suite really ran on PostgreSQL and Redis; they fail, never skip, when a server is unreachable.
On the embedded default they check the embedded backends instead."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tests.conftest import services_required


@pytest.mark.django_db
def test_database_backend_matches_configuration():
    if services_required():
        assert connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            assert "PostgreSQL" in cursor.fetchone()[0]
    else:
        assert connection.vendor in {"sqlite", "postgresql"}


def test_cache_backend_matches_configuration():
    backend = settings.CACHES["default"]["BACKEND"]
    if services_required():
        assert backend == "django_redis.cache.RedisCache"
        from django_redis import get_redis_connection

        assert get_redis_connection("default").ping() is True
    cache.set("probe", 41 + 1, timeout=5)
    assert cache.get("probe") == 42


def test_channel_layer_round_trip():
    layer = get_channel_layer()
    if services_required():
        assert type(layer).__name__ == "RedisChannelLayer"

    async def round_trip() -> dict:
        channel = await layer.new_channel("probe.")
        await layer.send(channel, {"type": "probe", "n": 7})
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    assert asyncio.run(round_trip())["n"] == 7
