"""Per-process fan-out of price batches to local subscribers.

Every server process has **one** channel-layer channel that joins the price groups its local
subscribers need (``prices.all``, ``prices.gpu.<model>``), reads each batch once and hands it to
the local subscribers' queues. Compared with one channel-layer membership per WebSocket consumer,
a group send then costs one Redis entry and one read per *process*, not per subscriber, and group
membership in Redis is one entry per process (refreshed against ``group_expiry``).

The hub belongs to the event loop that created it (daphne has one; each test has its own).

**Degradation.** When the channel layer (Redis) cannot be read, or a group cannot be joined, no
price event can reach this process: the hub puts one ``live.status`` message with
``status: "degraded"`` into every local subscriber's queue (and into the queue of any subscriber
that joins while it lasts), keeps retrying every second, and once it has joined its groups again
sends ``status: "recovered"``. The endpoints turn these into client messages (README, "Live
prices when Redis is down"). Changes published while the hub was cut off are not replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

from channels.layers import get_channel_layer

from .groups import LIVE_STATUS_TYPE, PRICE_BATCH_TYPE

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
        #: When the channel layer was lost (epoch seconds); None while events flow.
        self.degraded_since: float | None = None

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
            if self.degraded_since is not None:
                # Cut off already: this subscriber learns it at once; the reader rejoins every
                # group in self.queues (this one included) when the layer is back.
                queue.put_nowait(self._status_message("degraded"))
            elif first:
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception:
                    logger.exception("live price hub could not join %s", group)
                    self._degrade()
                    # A reader blocked on a layer that still answers would never come round to
                    # rejoining: restart it, so it rejoins (and recovers) as after a read error.
                    if self._reader is not None:
                        self._reader.cancel()
                        self._reader = None
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

    def _status_message(self, status: str) -> dict[str, Any]:
        return {
            "type": LIVE_STATUS_TYPE,
            "status": status,
            "since": self.degraded_since if status == "degraded" else None,
            "at": time.time(),
        }

    def _broadcast(self, message: dict[str, Any]) -> None:
        for members in list(self.queues.values()):
            for queue in list(members):
                queue.put_nowait(message)

    def _degrade(self) -> None:
        """Lost the channel layer: tell every local subscriber, once per outage."""
        if self.degraded_since is None:
            self.degraded_since = time.time()
            self._broadcast(self._status_message("degraded"))

    def _recover(self) -> None:
        if self.degraded_since is not None:
            logger.warning(
                "live price hub reconnected to the channel layer",
                extra={"outage_seconds": round(time.time() - self.degraded_since, 3)},
            )
            self._broadcast(self._status_message("recovered"))
            self.degraded_since = None

    async def _read(self) -> None:
        assert self.channel is not None
        while True:
            try:
                if self.degraded_since is not None:
                    # A channel layer that failed may have come back empty (a restarted Redis
                    # keeps no group memberships): join the groups again before reading.
                    await self._rejoin_groups()
                    self._recover()
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.degraded_since is None:
                    logger.exception("live price hub could not read from the channel layer")
                self._degrade()
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
