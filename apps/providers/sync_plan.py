"""The diff half of the sync engine: what must be written for one provider's fetched offers.

:func:`plan_sync` reads the provider's current offers in **one** query and compares them with
the fetched ones in memory. The result says which offers are new, which rows to rewrite (grouped
by the columns that actually differ), which offers came back after being unlisted, which
vanished, the ``PriceHistory`` rows (new offers, and price or availability changes only) and the
``OfferChange`` events. ``apps.providers.sync.apply_offers`` then writes it in a fixed number of
statements.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from django.db.models import BooleanField, Case, TextField, Value, When
from django.db.models.functions import Cast

from apps.math_core.models import GPUBenchmark

from .adapters import ProviderOffer
from .events import OfferChange
from .models import Availability, GPUOffer, PriceHistory, Provider

INSERT_BATCH = 1000
UPDATE_BATCH = 500
ID_BATCH = 500
#: Distinct changed-column sets written separately before they are merged into one UPDATE.
MAX_UPDATE_GROUPS = 6

#: Offer columns a sync writes (besides ids and timestamps), in comparison order.
FIELDS = (
    "gpu_type",
    "raw_gpu_name",
    "benchmark_id",
    "gpu_memory_gb",
    "gpu_count",
    "cpu_cores",
    "ram_gb",
    "storage_gb",
    "price_per_hour",
    "currency",
    "region",
    "country",
    "availability_status",
    "is_spot",
    "is_datacenter",
    "compliance_tags",
    "raw_gpu_memory_gb",
    "macro_region",
    "price_breakdown",
)
PRICE = FIELDS.index("price_per_hour")
AVAIL = FIELDS.index("availability_status")
TAGS = FIELDS.index("compliance_tags")
BREAKDOWN = FIELDS.index("price_breakdown")

T = TypeVar("T")


@dataclass(slots=True)
class SyncPlan:
    new: list[GPUOffer] = field(default_factory=list)
    #: Rows to rewrite, grouped by the columns that differ (usually just the price).
    rewrite: dict[tuple[str, ...], list[GPUOffer]] = field(default_factory=dict)
    #: Ids of unchanged offers listed as unavailable whose ``last_seen_at`` is stale.
    touch: list[Any] = field(default_factory=list)
    #: Ids of offers no longer listed (marked unavailable).
    vanish: list[Any] = field(default_factory=list)
    history: list[PriceHistory] = field(default_factory=list)
    changes: list[OfferChange] = field(default_factory=list)
    changed: int = 0
    unchanged: int = 0


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def offer_values(offer: ProviderOffer, benchmark_id: Any) -> tuple[Any, ...]:
    return (
        offer.gpu_type[:100],
        offer.raw_gpu_name[:255],
        benchmark_id,
        offer.gpu_memory_gb,
        offer.gpu_count,
        offer.cpu_cores,
        offer.ram_gb,
        offer.storage_gb,
        offer.price_per_hour,
        offer.currency[:3],
        offer.region[:100],
        offer.country[:2],
        offer.availability,
        offer.is_spot,
        offer.is_datacenter,
        list(offer.compliance_tags),
        offer.raw_gpu_memory_gb,
        offer.macro_region[:20],
        offer.price_breakdown.as_json() if offer.price_breakdown else {},
    )


def offer_change(
    kind: Literal["new", "changed", "vanished"],
    offer_id: Any,
    provider: str,
    values: Sequence[Any],
    old: Sequence[Any] | None,
    now: datetime,
    external_id: str,
) -> OfferChange:
    return OfferChange(
        kind=kind,
        offer_id=str(offer_id),
        provider=provider,
        gpu_model=values[0],
        gpu_count=values[4],
        region=values[10],
        country=values[11],
        is_spot=values[13],
        old_price_per_hour=None if old is None else Decimal(old[PRICE]),
        new_price_per_hour=Decimal(values[PRICE]),
        old_availability=None if old is None else old[AVAIL],
        new_availability=values[AVAIL],
        changed_at=now,
        extra={"external_id": external_id, "raw_gpu_name": values[1]},
    )


def existing_rows(provider: Provider, stale_before: datetime) -> Iterator[tuple[Any, ...]]:
    """``(id, external_id, *FIELDS, stale)`` of every offer of the provider, in one query.
    ``stale`` (``last_seen_at < stale_before``) is computed by the database, so no timestamps are
    read; ``compliance_tags`` is read as text and decoded only when not ``[]`` (timestamp and JSON
    decoding per row would cost half of a 20,000-offer re-sync)."""
    text_columns = {"compliance_tags": "tags_json", "price_breakdown": "breakdown_json"}
    columns = [text_columns.get(name, name) for name in FIELDS]
    stale = Case(
        When(last_seen_at__lt=stale_before, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    rows = (
        GPUOffer.objects.filter(provider=provider)
        .annotate(
            tags_json=Cast("compliance_tags", output_field=TextField()),
            breakdown_json=Cast("price_breakdown", output_field=TextField()),
            stale=stale,
        )
        .values_list("id", "external_id", *columns, "stale")
    )
    at, bd = 2 + TAGS, 2 + BREAKDOWN
    for row in rows:
        raw, raw_breakdown = row[at], row[bd]
        tags = [] if raw in (None, "[]") else json.loads(raw)
        breakdown = {} if raw_breakdown in (None, "{}") else json.loads(raw_breakdown)
        yield (*row[:at], tags, *row[at + 1 : bd], breakdown, *row[bd + 1 :])


def plan_sync(
    provider: Provider, offers: Iterable[ProviderOffer], now: datetime, stale_before: datetime
) -> SyncPlan:
    benchmarks = dict(GPUBenchmark.objects.values_list("gpu_model", "id"))
    existing = {row[1]: row for row in existing_rows(provider, stale_before)}
    plan = SyncPlan()
    seen: set[str] = set()
    for offer in offers:
        seen.add(offer.external_id)
        values = offer_values(offer, benchmarks.get(offer.gpu_type))
        row = existing.get(offer.external_id)
        if row is None:
            _plan_new(plan, provider, offer, values, now)
            continue
        offer_id, old, stale = row[0], row[2:-1], row[-1]
        if old[PRICE] != values[PRICE] or old[AVAIL] != values[AVAIL]:
            plan.changed += 1
            plan.history.append(
                PriceHistory(
                    offer_id=offer_id,
                    price_per_hour=offer.price_per_hour,
                    availability_status=offer.availability,
                )
            )
            plan.changes.append(
                offer_change(
                    "changed", offer_id, provider.name, values, old, now, offer.external_id
                )
            )
        else:
            plan.unchanged += 1
        differs = tuple(f for f, a, b in zip(FIELDS, old, values, strict=True) if a != b)
        if differs:
            rewrite = GPUOffer(
                id=offer_id,
                **dict(zip(FIELDS, values, strict=True)),
                last_seen_at=now,
                updated_at=now,
            )
            plan.rewrite.setdefault((*differs, "last_seen_at", "updated_at"), []).append(rewrite)
        elif stale and values[AVAIL] == Availability.UNAVAILABLE:
            plan.touch.append(offer_id)  # listed but unavailable: not covered by the bulk touch
    for external_id, row in existing.items():
        if external_id in seen or row[2 + AVAIL] == Availability.UNAVAILABLE:
            continue
        offer_id, old = row[0], row[2:-1]
        values = (*old[:AVAIL], Availability.UNAVAILABLE.value, *old[AVAIL + 1 :])
        plan.vanish.append(offer_id)
        plan.history.append(
            PriceHistory(
                offer_id=offer_id,
                price_per_hour=old[PRICE],
                availability_status=Availability.UNAVAILABLE,
            )
        )
        plan.changes.append(
            offer_change("vanished", offer_id, provider.name, values, old, now, external_id)
        )
    return plan


def _plan_new(
    plan: SyncPlan, provider: Provider, offer: ProviderOffer, values: tuple[Any, ...], now: datetime
) -> None:
    created = GPUOffer(
        provider=provider, external_id=offer.external_id, **dict(zip(FIELDS, values, strict=True))
    )
    plan.new.append(created)
    plan.history.append(
        PriceHistory(
            offer=created,
            price_per_hour=offer.price_per_hour,
            availability_status=offer.availability,
        )
    )
    plan.changes.append(
        offer_change("new", created.id, provider.name, values, None, now, offer.external_id)
    )


def rewrite_groups(
    groups: dict[tuple[str, ...], list[GPUOffer]],
) -> list[tuple[list[str], list[GPUOffer]]]:
    """One bulk UPDATE per set of changed columns — a price-only change writes only the price
    (Django's bulk_update costs rows × columns). Beyond :data:`MAX_UPDATE_GROUPS` distinct sets
    the rows are merged into one UPDATE of the union of their columns (every row carries all its
    values, so any union is correct), keeping the statement count bounded."""
    if len(groups) <= MAX_UPDATE_GROUPS:
        return [(list(columns), rows) for columns, rows in groups.items()]
    merged_columns: list[str] = []
    merged_rows: list[GPUOffer] = []
    for columns, rows in groups.items():
        merged_columns += [c for c in columns if c not in merged_columns]
        merged_rows += rows
    return [(merged_columns, merged_rows)]
