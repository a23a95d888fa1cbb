"""Open WebSocket connections per tenant, counted across every server process.

Each open connection holds a *slot*: a member of a per-bucket set (bucket = ``tenant:<id>``,
``user:<id>`` or ``anon:<ip>``) whose score is an **expiry time**. A connection refreshes its
slot every ``WS_PRESENCE_TTL_SECONDS / 3`` and releases it on close. If a server process dies
without closing (SIGKILL, OOM, power loss) its slots simply expire after the TTL: counts never
leak, and no sweeper is needed.

* With ``REDIS_URL`` the set is a Redis sorted set, and acquiring is one Lua script (expire old
  members, count, add) so two processes can never both take the last slot. Times come from the
  Redis server's clock, so server processes with skewed clocks agree.
* On the embedded default (one process, in-memory channel layer) the same logic runs in-process.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

KEY_PREFIX = "gpubroker:ws:presence:"

_ACQUIRE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local member = ARGV[3]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if limit >= 0 and not redis.call('ZSCORE', KEYS[1], member) then
  local open = redis.call('ZCARD', KEYS[1])
  if open >= limit then
    return {0, open}
  end
end
redis.call('ZADD', KEYS[1], now + ttl, member)
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl * 1000) + 1000)
return {1, redis.call('ZCARD', KEYS[1])}
"""


@dataclass(frozen=True, slots=True)
class SlotResult:
    granted: bool
    open_connections: int  # counting this one when granted


class ConnectionRegistry(Protocol):
    async def acquire(self, bucket: str, connection_id: str, limit: int) -> SlotResult: ...

    async def refresh(self, bucket: str, connection_id: str) -> None: ...

    async def release(self, bucket: str, connection_id: str) -> None: ...

    async def count(self, bucket: str) -> int: ...


class InProcessRegistry:
    """Slots in this process's memory (embedded default). ``clock`` is injectable for tests."""

    def __init__(self, ttl: float, clock: Callable[[], float] | None = None) -> None:
        self.ttl = ttl
        self._clock = clock or time.monotonic
        self._slots: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def _live(self, bucket: str, now: float) -> dict[str, float]:
        members = self._slots.setdefault(bucket, {})
        for member, expires in list(members.items()):
            if expires <= now:
                del members[member]
        return members

    async def acquire(self, bucket: str, connection_id: str, limit: int) -> SlotResult:
        with self._lock:
            now = self._clock()
            members = self._live(bucket, now)
            if limit >= 0 and connection_id not in members and len(members) >= limit:
                return SlotResult(False, len(members))
            members[connection_id] = now + self.ttl
            return SlotResult(True, len(members))

    async def refresh(self, bucket: str, connection_id: str) -> None:
        await self.acquire(bucket, connection_id, -1)

    async def release(self, bucket: str, connection_id: str) -> None:
        with self._lock:
            members = self._slots.get(bucket)
            if members is not None:
                members.pop(connection_id, None)
                if not members:
                    del self._slots[bucket]

    async def count(self, bucket: str) -> int:
        with self._lock:
            return len(self._live(bucket, self._clock()))


class RedisRegistry:
    """Slots in Redis sorted sets, shared by every server process."""

    def __init__(self, url: str, ttl: float) -> None:
        self.url = url
        self.ttl = ttl
        # redis.asyncio clients belong to the event loop that created them.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self):  # type: ignore[no-untyped-def]
        import redis.asyncio as redis_asyncio

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = redis_asyncio.Redis.from_url(
                self.url, socket_connect_timeout=2, socket_timeout=2
            )
            self._clients[loop] = client
        return client

    async def acquire(self, bucket: str, connection_id: str, limit: int) -> SlotResult:
        granted, open_connections = await self._client().eval(
            _ACQUIRE, 1, KEY_PREFIX + bucket, self.ttl, limit, connection_id
        )
        return SlotResult(bool(granted), int(open_connections))

    async def refresh(self, bucket: str, connection_id: str) -> None:
        await self.acquire(bucket, connection_id, -1)

    async def release(self, bucket: str, connection_id: str) -> None:
        await self._client().zrem(KEY_PREFIX + bucket, connection_id)

    async def count(self, bucket: str) -> int:
        client = self._client()
        now_seconds, now_micro = await client.time()
        return int(
            await client.zcount(KEY_PREFIX + bucket, f"({now_seconds + now_micro / 1e6}", "+inf")
        )


_registry: ConnectionRegistry | None = None
_registry_key: tuple[str | None, float] | None = None


def registry() -> ConnectionRegistry:
    """The process's registry for the current settings (Redis when ``REDIS_URL`` is set)."""
    global _registry, _registry_key
    key = (settings.REDIS_URL, float(settings.WS_PRESENCE_TTL_SECONDS))
    if _registry is None or key != _registry_key:
        url, ttl = key
        _registry = RedisRegistry(url, ttl) if url else InProcessRegistry(ttl)
        _registry_key = key
    return _registry
