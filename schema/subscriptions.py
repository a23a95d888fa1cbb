"""Live prices over GraphQL subscriptions (``graphql-transport-ws`` at ``/graphql/``).

Thin: the filter is validated by ``apps.websocket_gateway.filters``, the stream comes from
``apps.websocket_gateway.streams``; this module only shapes messages into GraphQL types.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from apps.websocket_gateway.filters import PriceFilter
from apps.websocket_gateway.streams import price_change_batches, price_changes

_FOUR_DP = Decimal("0.0001")


@strawberry.enum(description="What happened to the offer.")
class OfferChangeKind(Enum):
    NEW = "new"
    CHANGED = "changed"
    VANISHED = "vanished"


@strawberry.input(description="Receive only matching changes; every condition given must hold.")
class PriceUpdateFilter:
    gpu_model: str | None = strawberry.field(
        default=None, description='GPU model in any spelling ("H100 SXM", "h100_sxm5").'
    )
    provider: str | None = strawberry.field(default=None, description='Provider, e.g. "runpod".')
    region: str | None = strawberry.field(default=None, description="Region (case-insensitive).")
    max_price_per_gpu_hour: Decimal | None = strawberry.field(
        default=None, description="Only changes whose new price per GPU-hour is at most this."
    )
    spot: bool | None = strawberry.field(
        default=None, description="true: spot/interruptible only; false: on-demand only."
    )


@strawberry.type(description="A change of one offer's price or availability.")
class PriceUpdate:
    offer_id: strawberry.ID
    kind: OfferChangeKind
    provider: str
    gpu_model: str = strawberry.field(description="Canonical GPU model name.")
    gpu_count: int
    region: str
    country: str
    spot: bool
    old_price_per_hour: Decimal | None = strawberry.field(
        description="USD per hour for the whole offer before the change (null for a new offer)."
    )
    new_price_per_hour: Decimal = strawberry.field(description="USD per hour, whole offer.")
    old_price_per_gpu_hour: Decimal | None
    new_price_per_gpu_hour: Decimal
    old_availability: str | None
    new_availability: str
    changed_at: datetime = strawberry.field(description="When the sync saw the change.")
    published_at: datetime = strawberry.field(
        description="When the change was committed and published."
    )

    @classmethod
    def from_message(cls, change: dict[str, Any], published_at: float) -> PriceUpdate:
        count = max(int(change["gpu_count"]), 1)
        old_price = change.get("old_price_per_hour")
        old = Decimal(old_price) if old_price is not None else None
        return cls(
            offer_id=strawberry.ID(str(change["offer_id"])),
            kind=OfferChangeKind(change["kind"]),
            provider=change["provider"],
            gpu_model=change["gpu_model"],
            gpu_count=count,
            region=change["region"],
            country=change.get("country") or "",
            spot=bool(change["is_spot"]),
            old_price_per_hour=old,
            new_price_per_hour=Decimal(change["new_price_per_hour"]),
            old_price_per_gpu_hour=(old / count).quantize(_FOUR_DP) if old is not None else None,
            new_price_per_gpu_hour=Decimal(change["new_price_per_gpu_hour"]),
            old_availability=change.get("old_availability"),
            new_availability=change["new_availability"],
            changed_at=datetime.fromisoformat(change["changed_at"]),
            published_at=datetime.fromtimestamp(published_at, UTC),
        )


@strawberry.type(
    description="The matching changes of one published batch (a sync's changes arrive in "
    "batches of up to a few hundred): one message for many changes."
)
class PriceUpdateBatch:
    published_at: datetime
    updates: list[PriceUpdate]


def _price_filter(given: PriceUpdateFilter | None) -> PriceFilter:
    given = given or PriceUpdateFilter()
    return PriceFilter.build(
        gpu_model=given.gpu_model,
        provider=given.provider,
        region=given.region,
        max_price_per_gpu_hour=given.max_price_per_gpu_hour,
        spot=given.spot,
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Live price and availability changes of offers, one message per change, "
        "as syncs commit them."
    )
    async def price_updates(
        self, info: Info, filter: PriceUpdateFilter | None = None
    ) -> AsyncGenerator[PriceUpdate, None]:
        price_filter = _price_filter(filter)
        consumer = getattr(info.context, "ws", None)
        async for change, published_at in price_changes(consumer, price_filter):
            yield PriceUpdate.from_message(change, published_at)

    @strawberry.subscription(
        description="The same changes as priceUpdates, one message per published batch: for "
        "clients that follow many offers (a sync can change thousands)."
    )
    async def price_update_batches(
        self, info: Info, filter: PriceUpdateFilter | None = None
    ) -> AsyncGenerator[PriceUpdateBatch, None]:
        price_filter = _price_filter(filter)
        consumer = getattr(info.context, "ws", None)
        async for changes, published_at in price_change_batches(consumer, price_filter):
            yield PriceUpdateBatch(
                published_at=datetime.fromtimestamp(published_at, UTC),
                updates=[PriceUpdate.from_message(change, published_at) for change in changes],
            )
