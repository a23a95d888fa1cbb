"""Development demo ticker: price changes every few seconds while the server runs.

Daphne has no ASGI lifespan, so :class:`DemoTickerStarter` (wrapped around the ASGI application
by ``gpubroker/asgi.py`` only when ``DEMO_TICKER`` is on) starts the ticker task on the server's
event loop with the first request. The task must live in the server process: on the embedded
default the in-memory channel layer does not cross processes. Each tick runs
``DEMO_TICKER_FUNCTION`` (a sync callable doing real, committed catalogue changes that go out
through ``catalogue_changed``) in Django's sync thread.

Logging: one INFO line per tick (what changed, summed over providers), the details at DEBUG; the
sync engine's own per-provider INFO lines are held back during a tick (at DEBUG they appear).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger("gpubroker.live")
_in_tick: contextvars.ContextVar[bool] = contextvars.ContextVar("in_demo_tick", default=False)
#: Logger trees whose INFO lines (per provider synced, per adapter) a tick sums up in its own.
QUIET_DURING_TICK = ("gpubroker.providers",)


class HoldBackDuringTick(logging.Filter):
    """On the root handlers: drops INFO-and-below records of :data:`QUIET_DURING_TICK` loggers
    logged inside a tick, unless the ticker's logger is at DEBUG. Warnings and errors pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not _in_tick.get():
            return True
        if not record.name.startswith(QUIET_DURING_TICK):
            return True
        return logger.isEnabledFor(logging.DEBUG)


_hold_back = HoldBackDuringTick()


def _tick_once(function: Callable[[], Any]) -> Any:
    close_old_connections()
    token = _in_tick.set(True)
    try:
        return function()
    finally:
        _in_tick.reset(token)
        close_old_connections()


_SUMMED = ("offers", "new", "changed", "vanished", "rejected", "history_rows")


def summarise_tick(result: Any, seconds: float) -> dict[str, Any]:
    """The INFO line's fields: for sync reports, their figures summed over providers (and which
    failed); for a list of changes, how many."""
    items = list(result) if isinstance(result, list | tuple) else []
    summary: dict[str, Any] = {"seconds": round(seconds, 3)}
    if items and all(hasattr(item, "provider") and hasattr(item, "changed") for item in items):
        summary["providers"] = len(items)
        for name in _SUMMED:
            summary[name] = sum(int(getattr(item, name, 0) or 0) for item in items)
        summary["failed"] = [item.provider for item in items if not getattr(item, "ok", True)]
    else:
        summary["changes"] = len(items)
    return summary


def _log_tick(result: Any, seconds: float) -> None:
    summary = summarise_tick(result, seconds)
    logger.info("demo tick", extra=summary)
    if logger.isEnabledFor(logging.DEBUG):
        for item in result if isinstance(result, list | tuple) else []:
            logger.debug("demo tick detail", extra={"item": repr(item)[:500]})


async def run_ticker(interval: float, function_path: str) -> None:
    function = import_string(function_path)
    for handler in logging.getLogger().handlers:
        if _hold_back not in handler.filters:
            handler.addFilter(_hold_back)
    logger.info("demo ticker started", extra={"interval": interval, "function": function_path})
    while True:
        await asyncio.sleep(interval)
        started = time.perf_counter()
        try:
            result = await sync_to_async(_tick_once)(function)
        except Exception:
            logger.exception("demo ticker tick failed")
            continue
        _log_tick(result, time.perf_counter() - started)


class DemoTickerStarter:
    """ASGI wrapper: starts the ticker once, on the server's loop, at the first connection."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(
                run_ticker(float(settings.DEMO_TICKER_INTERVAL), str(settings.DEMO_TICKER_FUNCTION))
            )
        await self.app(scope, receive, send)
