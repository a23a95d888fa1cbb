"""Reads of stored price history for the KPI engine, from whichever form it is in now: raw
``PriceHistory`` rows (the last ``PRICE_HISTORY_RAW_DAYS``), hourly rollups, then daily rollups.

Compaction moves whole buckets (an hour, a UTC day) at a time and deletes what it rolled up in
the same transaction, so at any moment each bucket of an offer is in exactly one form and a read
never counts a change twice. Two reads serve every KPI:

* :func:`bucket_summaries` — per offer, the summary of a time range (one index period) merged
  from all three forms (``apps.kpi.buckets``). A range of whole hours is exact while hourly data
  exists; a range of whole days is exact for ever.
* :func:`states_before` / :func:`rewind` — each offer's state (last price and availability) at a
  moment. Exact at any moment inside the raw window, and at hour (day) boundaries beyond it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from apps.providers.models import GPUOffer, PriceHistory

from .buckets import BucketSummary, Granularity, State, fold_rows, merge_ordered
from .models import Granularity as StoredGranularity
from .models import PriceRollup

ROLLUP_FIELDS = (
    "offer_id",
    "bucket_start",
    "first_price",
    "last_price",
    "min_price",
    "max_price",
    "samples",
    "available_weight",
    "listed_samples",
    "last_availability",
    "first_at",
    "last_at",
)


def rollup_summary(values: tuple) -> BucketSummary:  # type: ignore[type-arg]
    """A ``BucketSummary`` from a ``values_list(*ROLLUP_FIELDS)`` row."""
    return BucketSummary(
        first_price=values[2],
        last_price=values[3],
        min_price=values[4],
        max_price=values[5],
        samples=values[6],
        available_weight=values[7],
        listed_samples=values[8],
        last_availability=values[9],
        first_at=values[10],
        last_at=values[11],
    )


def _offer_filter(offers: QuerySet[GPUOffer] | None, field: str = "offer") -> Q:
    return Q() if offers is None else Q(**{f"{field}__in": offers.values("pk")})


def bucket_summaries(
    start: datetime,
    end: datetime,
    offers: QuerySet[GPUOffer] | None = None,
    *,
    hourly_only: bool = False,
) -> dict[uuid.UUID, BucketSummary]:
    """Each offer's changes in ``[start, end)``, summarised (offers without a change are absent).
    ``hourly_only`` leaves daily rollups out (a range shorter than a day cannot use them)."""
    parts: dict[uuid.UUID, list[BucketSummary]] = {}
    raw = (
        PriceHistory.objects.filter(_offer_filter(offers), recorded_at__gte=start)
        .filter(recorded_at__lt=end)
        .order_by("offer_id", "recorded_at", "id")
        .values_list("offer_id", "recorded_at", "price_per_hour", "availability_status")
    )
    # One bucket as large as the range: fold by offer only.
    spans: dict[uuid.UUID, BucketSummary] = {}
    for offer_id, at, price, availability in raw.iterator(chunk_size=5000):
        part = BucketSummary.of_row(price, availability, at)
        if offer_id in spans:
            spans[offer_id].absorb(part)
        else:
            spans[offer_id] = part
    for offer_id, summary in spans.items():
        parts.setdefault(offer_id, []).append(summary)
    rollups = (
        PriceRollup.objects.filter(_offer_filter(offers), bucket_start__gte=start)
        .filter(bucket_start__lt=end)
        .values_list(*ROLLUP_FIELDS)
    )
    if hourly_only:
        rollups = rollups.filter(granularity=StoredGranularity.HOUR)
    for values in rollups.iterator(chunk_size=5000):
        parts.setdefault(values[0], []).append(rollup_summary(values))
    merged = {}
    for offer_id, pieces in parts.items():
        whole = merge_ordered(pieces)
        if whole is not None:
            merged[offer_id] = whole
    return merged


def _latest(queryset: QuerySet, order: str) -> QuerySet:  # type: ignore[type-arg]
    return queryset.order_by(f"-{order}", "-id")


def states_before(moment: datetime, offers: QuerySet[GPUOffer]) -> dict[uuid.UUID, State]:
    """Each offer's state just before ``moment`` (offers with no earlier record are absent)."""
    raw = _latest(
        PriceHistory.objects.filter(offer=OuterRef("pk"), recorded_at__lt=moment), "recorded_at"
    )
    rows = offers.annotate(
        _price=Subquery(raw.values("price_per_hour")[:1]),
        _availability=Subquery(raw.values("availability_status")[:1]),
    ).values_list("pk", "_price", "_availability")
    states: dict[uuid.UUID, State] = {}
    for pk, price, availability in rows.iterator(chunk_size=5000):
        if price is not None:
            states[pk] = State(Decimal(price), availability)
    # Offers whose state before ``moment`` lives in rollups only (older than the raw window).
    for granularity in (StoredGranularity.HOUR, StoredGranularity.DAY):
        if not PriceRollup.objects.filter(granularity=granularity).exists():
            continue
        size = Granularity(granularity).size
        rolled = _latest(
            PriceRollup.objects.filter(
                offer=OuterRef("pk"), granularity=granularity, bucket_start__lte=moment - size
            ),
            "bucket_start",
        )
        rows = (
            offers.filter(~Exists(_raw_before(moment)))
            .annotate(
                _price=Subquery(rolled.values("last_price")[:1]),
                _availability=Subquery(rolled.values("last_availability")[:1]),
            )
            .filter(_price__isnull=False)
            .values_list("pk", "_price", "_availability")
        )
        for pk, price, availability in rows.iterator(chunk_size=5000):
            states.setdefault(pk, State(Decimal(price), availability))
    return states


def _raw_before(moment: datetime) -> QuerySet[PriceHistory]:
    return PriceHistory.objects.filter(offer=OuterRef("pk"), recorded_at__lt=moment)


def changed_since(moment: datetime, offers: QuerySet[GPUOffer]) -> QuerySet[GPUOffer]:
    """The offers of ``offers`` with a recorded change at or after ``moment``."""
    raw = PriceHistory.objects.filter(offer=OuterRef("pk"), recorded_at__gte=moment)
    rolled = PriceRollup.objects.filter(offer=OuterRef("pk"), last_at__gte=moment)
    return offers.filter(Exists(raw) | Exists(rolled))


def rewind(moment: datetime, offers: QuerySet[GPUOffer]) -> dict[uuid.UUID, State | None]:
    """Past states of the offers that changed since ``moment`` (``None``: the offer had no record
    before ``moment``). Offers absent from the result were in their current state then, provided
    they existed (``created_at`` before ``moment``)."""
    changed = changed_since(moment, offers)
    before = states_before(moment, changed)
    return {pk: before.get(pk) for pk in changed.values_list("pk", flat=True)}


def current_or_past(
    rows: Iterable[tuple[uuid.UUID, Decimal, str, float]],
    past: dict[uuid.UUID, State | None],
    moment: datetime,
) -> dict[uuid.UUID, State]:
    """States at ``moment`` of offers given as (id, current price, availability, created_at in
    seconds since 1970)."""
    states: dict[uuid.UUID, State] = {}
    cutoff = moment.timestamp()
    for pk, price, availability, created_at in rows:
        if pk in past:
            state = past[pk]
            if state is not None:
                states[pk] = state
        elif created_at < cutoff:
            states[pk] = State(price, availability)
    return states


__all__ = [
    "bucket_summaries",
    "changed_since",
    "current_or_past",
    "fold_rows",
    "rewind",
    "states_before",
]
