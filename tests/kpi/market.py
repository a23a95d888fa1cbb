"""Builders for synthetic markets with price history at chosen times (KPI tests)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.math_core.algorithms.gpu_names import display_gpu_name
from apps.providers.models import Availability, GPUOffer, PriceHistory, Provider
from tests.catalogue_factories import benchmark_index, make_provider

#: A fixed "now" on a UTC midnight, so hour and day buckets line up with every window.
NOW = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)

Change = tuple[GPUOffer, datetime, Decimal, str]


def providers(*names: str) -> dict[str, Provider]:
    return {name: make_provider(name, last_sync_at=NOW) for name in names}


def offers(
    provider: Provider,
    count: int,
    *,
    gpu: str = "H100 SXM",
    price: Decimal | float | str = "2.0000",
    created_at: datetime = NOW,
    last_seen_at: datetime | None = None,
    **fields: Any,
) -> list[GPUOffer]:
    """``count`` saved offers (price for the whole offer), created at ``created_at`` and last
    seen at ``last_seen_at`` (default: the real now, so no offer is STALE)."""
    index = benchmark_index()
    memory = fields.pop("gpu_memory_gb", 80)
    gpu_type = display_gpu_name(gpu, memory)
    region = fields.pop("region", "us-east-1")
    rows = [
        GPUOffer(
            id=uuid.uuid4(),
            provider=provider,
            external_id=f"{provider.name}-{uuid.uuid4().hex[:10]}",
            gpu_type=gpu_type,
            raw_gpu_name=gpu,
            benchmark=index.get(gpu_type),
            gpu_memory_gb=memory,
            price_per_hour=Decimal(str(price)).quantize(Decimal("0.0001")),
            region=region,
            **fields,
        )
        for _ in range(count)
    ]
    GPUOffer.objects.bulk_create(rows)
    GPUOffer.objects.filter(pk__in=[o.pk for o in rows]).update(
        created_at=created_at, last_seen_at=last_seen_at or timezone.now()
    )
    return rows


def record(changes: Sequence[Change]) -> None:
    """History rows at the given times; each offer's current row follows its latest change."""
    rows = [
        PriceHistory(offer=offer, price_per_hour=Decimal(str(price)), availability_status=avail)
        for offer, _, price, avail in changes
    ]
    created = PriceHistory.objects.bulk_create(rows, batch_size=2000)
    for row, (_, at, _, _) in zip(created, changes, strict=True):
        row.recorded_at = at
    PriceHistory.objects.bulk_update(created, ["recorded_at"], batch_size=2000)
    latest: dict[uuid.UUID, Change] = {}
    for change in changes:
        offer = change[0]
        if offer.pk not in latest or latest[offer.pk][1] <= change[1]:
            latest[offer.pk] = change
    updates = []
    for offer, _, price, avail in latest.values():
        offer.price_per_hour = Decimal(str(price))
        offer.availability_status = avail
        updates.append(offer)
    GPUOffer.objects.bulk_update(
        updates, ["price_per_hour", "availability_status"], batch_size=2000
    )


AVAILABLE = Availability.AVAILABLE
LIMITED = Availability.LIMITED
UNAVAILABLE = Availability.UNAVAILABLE
