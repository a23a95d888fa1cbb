"""``GET /health``: checks the database, the cache and the channel layer; 200 when all answer,
503 naming the failing part otherwise. No internal error text is returned, only the part's name.

Each check answers for its dependency only, promptly and without state left from an earlier
failure, so ``/health`` is 200 again as soon as the dependency is back:

* the database check runs in a thread of its own with its own (pooled) connection, closed
  after, not behind the requests queued for the process's request thread (under load it
  would otherwise time out there and report a healthy database as failing);
* the channel-layer check sends to and receives from a channel of its own *without* a
  process-local name: channels-redis serves every process-local channel (``new_channel()``)
  through one shared receive loop that the live consumers also use, so a probe waiting there
  measured that loop, not Redis, and one probe cancelled by its timeout while Redis was down
  left the next ones waiting behind it after Redis had come back."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger("gpubroker.health")
CHECK_TIMEOUT_SECONDS = 3.0


def _check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                raise RuntimeError("unexpected answer")
    finally:
        connection.close()  # this worker thread's connection: back to the pool (or closed)


def _check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    value = cache.get(key)
    cache.delete(key)
    if value != "ok":
        raise RuntimeError("cache did not return the value it was given")


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = f"health.{uuid.uuid4().hex}"
    await layer.send(channel, {"type": "health.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "health.ping":
        raise RuntimeError("channel layer returned another message")


async def _timed(name: str, check: Callable[[], Awaitable[None]]) -> tuple[str, dict[str, Any]]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
        ok = True
    except Exception:
        logger.warning("health check failed: %s", name, exc_info=True)
        ok = False
    return name, {"ok": ok, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


async def health(request: HttpRequest) -> JsonResponse:
    results = await asyncio.gather(
        _timed("database", sync_to_async(_check_database, thread_sensitive=False)),
        _timed("cache", sync_to_async(_check_cache, thread_sensitive=False)),
        _timed("channel_layer", _check_channel_layer),
    )
    checks = dict(results)
    failing = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ok" if not failing else "unavailable", "failing": failing, "checks": checks}
    return JsonResponse(body, status=200 if not failing else 503)
