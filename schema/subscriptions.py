"""Live prices over GraphQL subscriptions (``graphql-transport-ws`` at ``/graphql/``).

Thin: the filter is validated by ``apps.websocket_gateway.filters``, the stream comes from
``apps.websocket_gateway.streams``; this module only shapes messages into GraphQL types.

``offer`` links the catalogue's ``GPUOffer``. The optimizer does not run inside subscription
generators, so the offers are read explicitly (provider and benchmark joined, one query per
message or batch) and only when a subscription selects ``offer``: the fan-out of subscribers
that do not ask for it costs no database work.

Subscribers that do not select ``offer`` receive one shared event object per change (or per
batch and filter result) in their process, and ``schema.live_execution`` executes it once per
distinct document and variables: the fan-out cost per subscriber is then the send, not GraphQL
execution.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from channels.db import database_sync_to_async
from strawberry.types.nodes import FragmentSpread, InlineFragment, Selection

from apps.providers import selectors
from apps.providers.models import GPUOffer
from apps.websocket_gateway.filters import PriceFilter
from apps.websocket_gateway.streams import LiveStatus, price_change_batches, price_changes

from . import cost
from .context import Info
from .live_execution import SharedEvent
from .privacy import PUBLIC
from .providers import Availability
from .recommendation_types import LinkedOffer


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


@strawberry.type(description="A change of one offer's price or availability.", directives=[PUBLIC])
class PriceUpdate(SharedEvent):
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
    old_availability: Availability | None
    new_availability: Availability
    changed_at: datetime = strawberry.field(description="When the sync saw the change.")
    published_at: datetime = strawberry.field(
        description="When the change was committed and published."
    )
    offer: LinkedOffer | None = strawberry.field(
        default=None, description="The catalogue offer (null when it is no longer listed)."
    )

    @classmethod
    def from_message(
        cls, change: dict[str, Any], published_at: float, offers: dict[str, GPUOffer]
    ) -> PriceUpdate:
        count = max(int(change["gpu_count"]), 1)
        old_price = change.get("old_price_per_hour")
        old_per_gpu = change.get("old_price_per_gpu_hour")
        return cls(
            offer_id=strawberry.ID(str(change["offer_id"])),
            kind=OfferChangeKind(change["kind"]),
            provider=change["provider"],
            gpu_model=change["gpu_model"],
            gpu_count=count,
            region=change["region"],
            country=change.get("country") or "",
            spot=bool(change["is_spot"]),
            old_price_per_hour=Decimal(old_price) if old_price is not None else None,
            new_price_per_hour=Decimal(change["new_price_per_hour"]),
            old_price_per_gpu_hour=Decimal(old_per_gpu) if old_per_gpu is not None else None,
            new_price_per_gpu_hour=Decimal(change["new_price_per_gpu_hour"]),
            old_availability=change.get("old_availability"),
            new_availability=change["new_availability"],
            changed_at=datetime.fromisoformat(change["changed_at"]),
            published_at=datetime.fromtimestamp(published_at, UTC),
            offer=offers.get(str(change["offer_id"])),  # type: ignore[arg-type]
        )


@strawberry.type(
    description="The matching changes of one published batch (a sync's changes arrive in "
    "batches of up to a few hundred): one message for many changes.",
    directives=[PUBLIC],
)
class PriceUpdateBatch(SharedEvent):
    published_at: datetime
    updates: list[PriceUpdate] = strawberry.field(metadata=cost.list_size(200))


#: Events without ``offer`` built once per process for every subscriber that receives them
#: (keyed by the identity of the hub's change messages, which the entry keeps alive), so
#: ``SharedEventExecutionContext`` executes each once per operation. Cleared when it grows past
#: the bound: a miss only rebuilds the event.
_shared: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_SHARED_MAX = 4096


def _shared_event(changes: list[dict[str, Any]], published_at: float, build: Any) -> Any:
    # Keyed by the builder too: a batch whose one matching change is a ``priceUpdates`` event's
    # change must still get a PriceUpdateBatch, not that subscriber's PriceUpdate.
    key = (build, *map(id, changes), hash(published_at))
    hit = _shared.get(key)
    if (
        hit is not None
        and len(hit[0]) == len(changes)
        and all(a is b for a, b in zip(hit[0], changes, strict=True))
    ):
        return hit[1]
    if len(_shared) >= _SHARED_MAX:
        _shared.clear()
    event = build(changes, published_at, {})
    _shared[key] = (list(changes), event)
    return event


def _price_filter(given: PriceUpdateFilter | None) -> PriceFilter:
    given = given or PriceUpdateFilter()
    return PriceFilter.build(
        gpu_model=given.gpu_model,
        provider=given.provider,
        region=given.region,
        max_price_per_gpu_hour=given.max_price_per_gpu_hour,
        spot=given.spot,
    )


def _selects(selections: list[Selection], path: tuple[str, ...]) -> bool:
    for selection in selections:
        if isinstance(selection, (FragmentSpread, InlineFragment)):
            if _selects(selection.selections, path):
                return True
        elif selection.name == path[0] and (
            len(path) == 1 or _selects(selection.selections, path[1:])
        ):
            return True
    return False


def _offer_loader(info: Info, *path: str) -> Any:
    """Reads the changes' offers when the subscription selects ``path``; else reads nothing."""
    if not _selects(info.selected_fields[0].selections, path):
        return None
    return database_sync_to_async(selectors.offers_by_ids)


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
        load = _offer_loader(info, "offer")
        async for item in price_changes(consumer, price_filter):
            if isinstance(item, LiveStatus):
                yield _notice(item)
                continue
            change, published_at = item
            if load is None:
                yield _shared_event([change], published_at, _single)
                continue
            offers = await load([change["offer_id"]])
            yield PriceUpdate.from_message(change, published_at, offers)

    @strawberry.subscription(
        description="The same changes as priceUpdates, one message per published batch: for "
        "clients that follow many offers (a sync can change thousands)."
    )
    async def price_update_batches(
        self, info: Info, filter: PriceUpdateFilter | None = None
    ) -> AsyncGenerator[PriceUpdateBatch, None]:
        price_filter = _price_filter(filter)
        consumer = getattr(info.context, "ws", None)
        load = _offer_loader(info, "updates", "offer")
        async for batch in price_change_batches(consumer, price_filter):
            if isinstance(batch, LiveStatus):
                yield _notice(batch)
                continue
            changes, published_at = batch
            if load is None:
                yield _shared_event(changes, published_at, _batch)
                continue
            offers = await load([change["offer_id"] for change in changes])
            yield _batch(changes, published_at, offers)


def _notice(status: LiveStatus) -> Any:
    """The hub's degraded/recovered notice as the subscription's next event: an exception
    object, which graphql-core turns into a ``next`` message whose ``errors`` carry it (code
    ``LIVE_UPDATES_DEGRADED`` or ``LIVE_UPDATES_RESUMED``, ``data: null``); the subscription
    stays open."""
    return status.as_error()


def _single(
    changes: list[dict[str, Any]], published_at: float, offers: dict[str, GPUOffer]
) -> PriceUpdate:
    return PriceUpdate.from_message(changes[0], published_at, offers)


def _batch(
    changes: list[dict[str, Any]], published_at: float, offers: dict[str, GPUOffer]
) -> PriceUpdateBatch:
    return PriceUpdateBatch(
        published_at=datetime.fromtimestamp(published_at, UTC),
        updates=[PriceUpdate.from_message(c, published_at, offers) for c in changes],
    )
