"""The one publisher of live prices: catalogue change events → channel-layer groups.

``apps.providers.events.catalogue_changed`` fires after a sync's transaction commits. The receiver
here forwards its price changes to two kinds of groups, which every WebSocket endpoint (GraphQL
``priceUpdates`` and the legacy ``/ws/`` feed) listens to:

* ``prices.all`` — every change; subscribers without a GPU-model filter join it;
* ``prices.gpu.<model>`` — one GPU model's changes; a subscriber filtering by model joins only
  its model's group, so it is never woken for other models.

**No flood.** A sync that changes thousands of offers does not send thousands of channel
messages: changes are first coalesced per offer (several changes of one offer in one event become
one, with the first old and the last new values), then sent as ``price.batch`` messages of at
most ``WS_PUBLISH_BATCH_SIZE`` changes per group. 5,000 changes over 20 GPU models are ~50 channel
messages, far below channels-redis' per-channel capacity (``CHANNEL_CAPACITY``, 2000), so nothing
is dropped; each consumer then filters and fans the batch out to its own client locally.

The receiver runs in the sync engine's (synchronous) code. Outside an event loop it sends with
``async_to_sync``; when it is called from a thread that is already running an event loop (async
code calling the sync path directly) blocking is impossible, so the send is scheduled on that loop.
Publishing never raises into the sync engine: a channel-layer failure is logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from apps.providers.events import OfferChange
from gpubroker import metrics

from .groups import ALL_PRICES_GROUP, PRICE_BATCH_TYPE, gpu_model_group

logger = logging.getLogger("gpubroker.live")

GroupMessage = tuple[str, dict[str, Any]]

# Sends scheduled on a running loop: kept referenced until done (asyncio holds tasks weakly).
_scheduled: set[asyncio.Task[None]] = set()


def coalesce_changes(changes: Sequence[OfferChange]) -> list[OfferChange]:
    """One change per offer, in first-seen order: the first old values and the last new ones."""
    merged: dict[str, OfferChange] = {}
    for change in changes:
        previous = merged.get(change.offer_id)
        if previous is None:
            merged[change.offer_id] = change
            continue
        merged[change.offer_id] = dataclasses.replace(
            change,
            kind="new" if previous.kind == "new" and change.kind != "vanished" else change.kind,
            old_price_per_hour=previous.old_price_per_hour,
            old_availability=previous.old_availability,
        )
    return list(merged.values())


def price_batch_messages(
    *,
    provider: str,
    changes: Sequence[OfferChange],
    published_at: float,
    batch_size: int,
) -> list[GroupMessage]:
    """The channel messages for one event: ``prices.all`` plus one group per GPU model, each
    chunked into batches of at most ``batch_size`` changes."""
    batch_size = max(1, batch_size)
    payloads = [change.as_message() for change in coalesce_changes(changes)]
    by_group: dict[str, list[dict[str, Any]]] = {ALL_PRICES_GROUP: payloads}
    for payload in payloads:
        by_group.setdefault(gpu_model_group(payload["gpu_model"]), []).append(payload)
    messages: list[GroupMessage] = []
    for group, items in by_group.items():
        for start in range(0, len(items), batch_size):
            messages.append(
                (
                    group,
                    {
                        "type": PRICE_BATCH_TYPE,
                        "group": group,
                        "provider": provider,
                        "published_at": published_at,
                        "changes": items[start : start + batch_size],
                    },
                )
            )
    return messages


async def send_group_messages(messages: Sequence[GroupMessage]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group, message in messages:
        await layer.group_send(group, message)


async def _send_logged(messages: Sequence[GroupMessage]) -> None:
    try:
        await send_group_messages(messages)
    except Exception:
        logger.exception("live price publish failed", extra={"messages": len(messages)})


def publish_price_changes(*, provider: str, changes: Sequence[OfferChange]) -> int:
    """Send one event's changes to the channel layer; returns the number of channel messages.
    Safe to call from sync code with or without a running event loop; never raises."""
    if not changes:
        return 0
    published_at = time.time()
    try:
        messages = price_batch_messages(
            provider=provider,
            changes=changes,
            published_at=published_at,
            batch_size=settings.WS_PUBLISH_BATCH_SIZE,
        )
        metrics.PRICE_EVENTS_PUBLISHED.inc(len(changes))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            async_to_sync(_send_logged)(messages)
        else:
            task = loop.create_task(_send_logged(messages))
            _scheduled.add(task)
            task.add_done_callback(_scheduled.discard)
    except Exception:
        logger.exception("live price publish failed", extra={"provider": provider})
        return 0
    return len(messages)


def on_catalogue_changed(
    sender: Any, *, provider: str, changes: Sequence[OfferChange], **kwargs: Any
) -> None:
    """Receiver of ``catalogue_changed`` (connected in ``WebsocketGatewayConfig.ready``)."""
    publish_price_changes(provider=provider, changes=changes)
