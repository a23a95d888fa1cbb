"""Connection slots: the plan limit's counter, shared by every server process through Redis."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from apps.websocket_gateway.presence import InProcessRegistry, RedisRegistry, registry
from tests.conftest import services_required


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _registries() -> list[str]:
    # The Redis registry is exercised whenever REDIS_URL is configured (CI's second run, where
    # REQUIRE_SERVICES=1 makes an unreachable Redis a failure).
    return ["in-process", "redis"] if settings.REDIS_URL else ["in-process"]


@pytest.fixture(params=_registries())
def slots(request):
    if request.param == "redis":
        return RedisRegistry(str(settings.REDIS_URL), ttl=0.5)
    return InProcessRegistry(ttl=0.5)


def test_the_configured_registry_is_redis_when_services_are_required():
    if services_required():
        assert isinstance(registry(), RedisRegistry)
    else:
        assert isinstance(registry(), RedisRegistry if settings.REDIS_URL else InProcessRegistry)


async def test_limit_is_enforced_and_release_frees_a_slot(slots):
    assert (await slots.acquire("tenant:a", "c1", 2)).granted
    result = await slots.acquire("tenant:a", "c2", 2)
    assert result.granted and result.open_connections == 2
    refused = await slots.acquire("tenant:a", "c3", 2)
    assert not refused.granted and refused.open_connections == 2
    # Another tenant has its own count; re-acquiring one's own slot is not a new connection.
    assert (await slots.acquire("tenant:b", "c3", 2)).granted
    assert (await slots.acquire("tenant:a", "c1", 2)).granted
    await slots.release("tenant:a", "c1")
    assert (await slots.acquire("tenant:a", "c3", 2)).granted
    assert await slots.count("tenant:a") == 2


async def test_slots_of_a_silent_connection_expire_and_refresh_keeps_them(slots):
    await slots.acquire("tenant:a", "dead", 2)
    await slots.acquire("tenant:a", "alive", 2)
    for _ in range(4):  # 0.8 s > ttl 0.5 s: only the refreshed slot survives
        await asyncio.sleep(0.2)
        await slots.refresh("tenant:a", "alive")
    assert await slots.count("tenant:a") == 1
    assert (await slots.acquire("tenant:a", "new", 2)).granted


async def test_concurrent_acquires_never_exceed_the_limit(slots):
    results = await asyncio.gather(*(slots.acquire("tenant:c", f"c{i}", 5) for i in range(40)))
    assert sum(r.granted for r in results) == 5
    assert await slots.count("tenant:c") == 5


async def test_in_process_expiry_uses_the_clock():
    clock = FakeClock()
    slots = InProcessRegistry(ttl=60, clock=clock)
    assert (await slots.acquire("t", "a", 1)).granted
    assert not (await slots.acquire("t", "b", 1)).granted
    clock.now += 61
    assert (await slots.acquire("t", "b", 1)).granted
