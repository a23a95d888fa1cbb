"""A subscriber's stream of price changes: join one group, filter each batch locally.

Besides batches the stream yields :class:`LiveStatus` notices from the process's hub: price
events cannot be delivered (the channel layer is unreachable) and, later, they flow again.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from strawberry.channels.handlers.base import ChannelsConsumer

from apps.core.errors import DomainError
from gpubroker import metrics

from .filters import PriceFilter
from .groups import LIVE_STATUS_TYPE, group_for
from .hub import price_hub


class WebSocketOnly(DomainError):
    code = "BAD_REQUEST"
    http_status = 400
    default_message = (
        "Subscriptions are served over WebSocket at /graphql/ (graphql-transport-ws protocol)."
    )


class LiveUpdatesDegraded(DomainError):
    """Sent on an open price subscription (not raised): events cannot be delivered for now."""

    code = "LIVE_UPDATES_DEGRADED"
    http_status = 503
    default_message = (
        "Live price updates are interrupted: this server cannot reach the channel layer (Redis). "
        "The subscription stays open and a LIVE_UPDATES_RESUMED notice follows when updates "
        "flow again."
    )


class LiveUpdatesResumed(DomainError):
    """Sent on an open price subscription (not raised): events flow again after an outage."""

    code = "LIVE_UPDATES_RESUMED"
    http_status = 200
    default_message = (
        "Live price updates have resumed. Changes made during the interruption were not "
        "delivered: read current prices (the offers query) to catch up."
    )


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """``status`` is ``"degraded"`` or ``"recovered"``; ``at`` and ``since`` are epoch seconds
    (``since``: when the outage began, for ``degraded``)."""

    status: str
    at: float
    since: float | None = None

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> LiveStatus:
        since = message.get("since")
        return cls(
            str(message["status"]),
            float(message["at"]),
            float(since) if since is not None else None,
        )

    @property
    def degraded(self) -> bool:
        return self.status == "degraded"

    def as_error(self) -> DomainError:
        """The notice as a GraphQL error (the subscription's ``next`` carries it)."""
        return LiveUpdatesDegraded() if self.degraded else LiveUpdatesResumed()

    def as_feed_message(self) -> dict[str, Any]:
        """The legacy ``/ws/`` feed's ``status`` message."""
        error = self.as_error()
        message: dict[str, Any] = {
            "type": "status",
            "status": self.status,
            "code": error.code,
            "message": error.message,
            "timestamp": datetime.fromtimestamp(self.at, UTC).isoformat(),
        }
        if self.since is not None:
            message["since"] = datetime.fromtimestamp(self.since, UTC).isoformat()
        return message


async def price_change_batches(
    consumer: Any, price_filter: PriceFilter
) -> AsyncGenerator[tuple[list[dict[str, Any]], float] | LiveStatus, None]:
    """Yield ``(matching changes, published_at epoch seconds)`` per published batch that has any,
    and the hub's :class:`LiveStatus` notices.

    Batches come from this process's hub (one channel-layer reader per process)."""
    if not isinstance(consumer, ChannelsConsumer):
        raise WebSocketOnly()
    async with price_hub().subscribe(group_for(price_filter.group_model)) as batches:
        while True:
            batch = await batches.get()
            if batch.get("type") == LIVE_STATUS_TYPE:
                yield LiveStatus.from_message(batch)
                continue
            matching = [change for change in batch["changes"] if price_filter.matches(change)]
            if matching:
                metrics.PRICE_EVENTS_DELIVERED.labels("graphql").inc(len(matching))
                yield matching, float(batch["published_at"])


async def price_changes(
    consumer: Any, price_filter: PriceFilter
) -> AsyncGenerator[tuple[dict[str, Any], float] | LiveStatus, None]:
    """Yield ``(change message, published_at epoch seconds)`` for every change that matches, and
    the hub's :class:`LiveStatus` notices."""
    async for item in price_change_batches(consumer, price_filter):
        if isinstance(item, LiveStatus):
            yield item
            continue
        changes, published_at = item
        for change in changes:
            yield change, published_at
