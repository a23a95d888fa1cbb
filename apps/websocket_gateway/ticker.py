"""Development demo ticker: price changes every few seconds while the server runs.

Daphne has no ASGI lifespan, so :class:`DemoTickerStarter` (wrapped around the ASGI application
by ``gpubroker/asgi.py`` only when ``DEMO_TICKER`` is on) starts the ticker task on the server's
event loop with the first request. The task must live in the server process: on the embedded
default the in-memory channel layer does not cross processes. Each tick runs
``DEMO_TICKER_FUNCTION`` (a sync callable doing real, committed catalogue changes that go out
through ``catalogue_changed``) in Django's sync thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger("gpubroker.live")


def _tick_once(function: Callable[[], Any]) -> Any:
    close_old_connections()
    try:
        return function()
    finally:
        close_old_connections()


async def run_ticker(interval: float, function_path: str) -> None:
    function = import_string(function_path)
    logger.info("demo ticker started", extra={"interval": interval, "function": function_path})
    while True:
        await asyncio.sleep(interval)
        try:
            await sync_to_async(_tick_once)(function)
        except Exception:
            logger.exception("demo ticker tick failed")


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
