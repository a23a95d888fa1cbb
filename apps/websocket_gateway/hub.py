"""Per-process fan-out of price batches to local subscribers.

Every server process has **one** channel-layer channel that joins the price groups its local
subscribers need (``prices.all``, ``prices.gpu.<model>``), reads each batch once and hands it to
the local subscribers' queues. Compared with one channel-layer membership per WebSocket consumer,
a group send then costs one Redis entry and one read per *process*, not per subscriber, and group
membership in Redis is one entry per process (refreshed against ``group_expiry``).

The hub belongs to the event loop that created it (daphne has one; each test has its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

from channels.layers import get_channel_layer

from .groups import PRICE_BATCH_TYPE

logger = logging.getLogger("gpubroker.live")

#: Re-add the hub's channel to its groups this often (channels-redis expires memberships after
#: ``group_expiry``; the settings keep a week, so this is ample).
GROUP_REFRESH_SECONDS = 600.0
_RETRY_SECONDS = 1.0


class PriceHub:
    def __init__(self) -> None:
        self.layer: Any = get_channel_layer()
        self.channel: str | None = None
        self.queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None

    def subscriber_count(self, group: str) -> int:
        return len(self.queues.get(group, ()))

    @contextlib.asynccontextmanager
    async def subscribe(self, group: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue receiving every batch published to ``group`` while the context is open."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        async with self._lock:
            if self.channel is None:
                # The default prefix on purpose: channels-redis reads all of a process's
                # "specific" channels through one Redis list keyed by that prefix.
                self.channel = await self.layer.new_channel()
            first = group not in self.queues
            self.queues.setdefault(group, set()).add(queue)
            if first:
                await self.layer.group_add(group, self.channel)
            self._start_tasks()
        try:
            yield queue
        finally:
            async with self._lock:
                members = self.queues.get(group)
                if members is not None:
                    members.discard(queue)
                    if not members:
                        del self.queues[group]
                        with contextlib.suppress(Exception):
                            await self.layer.group_discard(group, self.channel)

    def _start_tasks(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read())
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.create_task(self._refresh_groups())

    async def _read(self) -> None:
        assert self.channel is not None
        lost = False
        while True:
            try:
                if lost:
                    # A channel layer that failed may have come back empty (a restarted Redis
                    # keeps no group memberships): join the groups again before reading.
                    await self._rejoin_groups()
                    lost = False
                    logger.warning("live price hub reconnected to the channel layer")
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                if not lost:
                    logger.exception("live price hub could not read from the channel layer")
                lost = True
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            if message.get("type") != PRICE_BATCH_TYPE:
                continue
            for queue in list(self.queues.get(message.get("group", ""), ())):
                queue.put_nowait(message)

    async def _rejoin_groups(self) -> None:
        for group in list(self.queues):
            await self.layer.group_add(group, self.channel)

    async def _refresh_groups(self) -> None:
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            for group in list(self.queues):
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception:
                    logger.warning("live price hub could not refresh %s", group, exc_info=True)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PriceHub] = weakref.WeakKeyDictionary()


def price_hub() -> PriceHub:
    """This event loop's hub."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.layer is not get_channel_layer():
        hub = _hubs[loop] = PriceHub()
    return hub
