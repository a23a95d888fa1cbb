"""A subscriber's stream of price changes: join one group, filter each batch locally."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from strawberry.channels.handlers.base import ChannelsConsumer

from apps.core.errors import DomainError
from gpubroker import metrics

from .filters import PriceFilter
from .groups import group_for
from .hub import price_hub


class WebSocketOnly(DomainError):
    code = "BAD_REQUEST"
    http_status = 400
    default_message = (
        "Subscriptions are served over WebSocket at /graphql/ (graphql-transport-ws protocol)."
    )


async def price_change_batches(
    consumer: Any, price_filter: PriceFilter
) -> AsyncGenerator[tuple[list[dict[str, Any]], float], None]:
    """Yield ``(matching changes, published_at epoch seconds)`` per published batch that has any.

    Batches come from this process's hub (one channel-layer reader per process)."""
    if not isinstance(consumer, ChannelsConsumer):
        raise WebSocketOnly()
    async with price_hub().subscribe(group_for(price_filter.group_model)) as batches:
        while True:
            batch = await batches.get()
            matching = [change for change in batch["changes"] if price_filter.matches(change)]
            if matching:
                metrics.PRICE_EVENTS_DELIVERED.labels("graphql").inc(len(matching))
                yield matching, float(batch["published_at"])


async def price_changes(
    consumer: Any, price_filter: PriceFilter
) -> AsyncGenerator[tuple[dict[str, Any], float], None]:
    """Yield ``(change message, published_at epoch seconds)`` for every change that matches."""
    async for changes, published_at in price_change_batches(consumer, price_filter):
        for change in changes:
            yield change, published_at
