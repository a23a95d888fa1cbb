"""Helpers for the live-price tests: sample offers, channel-layer group membership, payloads."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channels.layers import get_channel_layer

from apps.providers.events import OfferChange

SUBSCRIBE_PRICES = """
subscription Prices($filter: PriceUpdateFilter) {
  priceUpdates(filter: $filter) {
    offerId kind provider gpuModel gpuCount region spot
    oldPricePerHour newPricePerHour oldPricePerGpuHour newPricePerGpuHour
    oldAvailability newAvailability changedAt publishedAt
  }
}
"""


def offer_change(
    offer_id: str = "00000000-0000-0000-0000-000000000001",
    *,
    provider: str = "runpod",
    gpu_model: str = "H100 SXM 80GB",
    gpu_count: int = 1,
    region: str = "US-TX-3",
    is_spot: bool = False,
    old: str | None = "2.9900",
    new: str = "2.4900",
    old_availability: str | None = "available",
    new_availability: str = "available",
) -> OfferChange:
    return OfferChange(
        kind="changed" if old is not None else "new",
        offer_id=offer_id,
        provider=provider,
        gpu_model=gpu_model,
        gpu_count=gpu_count,
        region=region,
        country="US",
        is_spot=is_spot,
        old_price_per_hour=Decimal(old) if old is not None else None,
        new_price_per_hour=Decimal(new),
        old_availability=old_availability,
        new_availability=new_availability,
        changed_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


async def group_size(group: str) -> int:
    layer: Any = get_channel_layer()
    if hasattr(layer, "groups") and isinstance(layer.groups, dict):  # InMemoryChannelLayer
        return len(layer.groups.get(group, {}))
    connection = layer.connection(layer.consistent_hash(group))
    return int(await connection.zcard(layer._group_key(group)))


async def wait_for_group(group: str, size: int, timeout: float = 5.0) -> None:
    """Subscriptions join their group asynchronously: wait until ``size`` members are in."""
    deadline = time.monotonic() + timeout
    while await group_size(group) < size:
        if time.monotonic() > deadline:
            raise AssertionError(f"group {group} never reached {size} members")
        await asyncio.sleep(0.01)
