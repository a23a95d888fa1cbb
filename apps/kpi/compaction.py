"""Price-history compaction: raw rows older than ``PRICE_HISTORY_RAW_DAYS`` become hourly rollups,
hourly rollups older than ``PRICE_HISTORY_HOURLY_DAYS`` become daily rollups, and daily rollups
older than ``PRICE_HISTORY_DAILY_DAYS`` (unset by default: kept) are deleted.

* **Batch-wise, constant memory**: offers are walked in primary-key order, ``batch`` offers at a
  time; each batch reads only its own rows, writes its rollups and deletes what it rolled up in
  ONE transaction, so at every commit each bucket is in exactly one form (``apps.kpi.history``).
* **Idempotent**: a second run finds nothing older than the cut-offs left to move. A bucket that
  already has a rollup (rows written into an hour compacted before, e.g. by a backfill) is merged
  into it, never duplicated (unique per offer, granularity and bucket).
* **Safe while a sync runs**: the sync engine only writes rows stamped *now*, far newer than any
  cut-off; cut-offs are whole hours/days. An offer deleted by a concurrent sync (sample ⇄ live
  switch) makes its batch fail on the foreign key; the batch is retried from fresh reads.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.providers.models import GPUOffer, PriceHistory

from . import config
from .buckets import BucketSummary, Granularity, fold_rows, merge_ordered
from .history import ROLLUP_FIELDS, rollup_summary
from .models import Granularity as StoredGranularity
from .models import PriceRollup

logger = logging.getLogger("gpubroker.kpi")
RETRIES = 3


@dataclass(slots=True)
class CompactionReport:
    raw_cutoff: datetime
    hourly_cutoff: datetime
    daily_cutoff: datetime | None
    raw_rows_compacted: int = 0
    hourly_rollups_written: int = 0
    hourly_rollups_compacted: int = 0
    daily_rollups_written: int = 0
    daily_rollups_deleted: int = 0
    batches: int = 0
    retried_batches: int = 0
    seconds: float = 0.0


def _offer_batches(size: int) -> Iterator[list[uuid.UUID]]:
    last: uuid.UUID | None = None
    while True:
        qs = GPUOffer.objects.order_by("pk")
        if last is not None:
            qs = qs.filter(pk__gt=last)
        batch = list(qs.values_list("pk", flat=True)[:size])
        if not batch:
            return
        yield batch
        last = batch[-1]


def _to_model(
    offer_id: Any, granularity: str, bucket: datetime, summary: BucketSummary
) -> PriceRollup:
    return PriceRollup(
        offer_id=offer_id,
        granularity=granularity,
        bucket_start=bucket,
        first_price=summary.first_price,
        last_price=summary.last_price,
        min_price=summary.min_price,
        max_price=summary.max_price,
        samples=summary.samples,
        available_weight=summary.available_weight,
        listed_samples=summary.listed_samples,
        last_availability=summary.last_availability,
        first_at=summary.first_at,
        last_at=summary.last_at,
    )


_UPDATABLE = [f for f in ROLLUP_FIELDS if f not in ("offer_id", "bucket_start")]


def _upsert(
    granularity: str, offers: Sequence[uuid.UUID], new: dict[tuple[object, datetime], BucketSummary]
) -> int:
    """Write ``new`` rollups, merging into existing ones of the same buckets."""
    if not new:
        return 0
    low = min(bucket for _, bucket in new)
    existing = PriceRollup.objects.filter(
        offer_id__in=offers, granularity=granularity, bucket_start__gte=low
    ).select_for_update()
    updates = []
    for row in existing:
        key = (row.offer_id, row.bucket_start)
        if key not in new:
            continue
        merged = merge_ordered([rollup_summary(_values(row)), new.pop(key)])
        assert merged is not None
        fresh = _to_model(row.offer_id, granularity, row.bucket_start, merged)
        fresh.pk = row.pk
        updates.append(fresh)
    if updates:
        PriceRollup.objects.bulk_update(updates, _UPDATABLE, batch_size=1000)
    PriceRollup.objects.bulk_create(
        [_to_model(o, granularity, b, s) for (o, b), s in new.items()], batch_size=2000
    )
    return len(updates) + len(new)


def _values(row: PriceRollup) -> tuple:  # type: ignore[type-arg]
    return tuple(getattr(row, f) for f in ROLLUP_FIELDS)


def _compact_raw(offers: list[uuid.UUID], cutoff: datetime) -> tuple[int, int]:
    rows = (
        PriceHistory.objects.filter(offer_id__in=offers, recorded_at__lt=cutoff)
        .order_by("offer_id", "recorded_at", "id")
        .values_list("offer_id", "recorded_at", "price_per_hour", "availability_status")
    )
    with transaction.atomic():
        fetched = list(rows)
        if not fetched:
            return 0, 0
        new = {(o, b): s for o, b, s in fold_rows(fetched, Granularity.HOUR)}
        written = _upsert(StoredGranularity.HOUR, offers, new)
        deleted, _ = PriceHistory.objects.filter(
            offer_id__in=offers, recorded_at__lt=cutoff
        ).delete()
    return deleted, written


def _compact_hourly(offers: list[uuid.UUID], cutoff: datetime) -> tuple[int, int]:
    hourly = PriceRollup.objects.filter(
        offer_id__in=offers, granularity=StoredGranularity.HOUR, bucket_start__lt=cutoff
    )
    with transaction.atomic():
        fetched = list(hourly.order_by("offer_id", "bucket_start").values_list(*ROLLUP_FIELDS))
        if not fetched:
            return 0, 0
        days: dict[tuple[object, datetime], list[BucketSummary]] = {}
        for values in fetched:
            key = (values[0], Granularity.DAY.floor(values[1]))
            days.setdefault(key, []).append(rollup_summary(values))
        new = {key: s for key, parts in days.items() if (s := merge_ordered(parts)) is not None}
        written = _upsert(StoredGranularity.DAY, offers, new)
        deleted, _ = hourly.delete()
    return deleted, written


def _with_retries(step, report: CompactionReport, *args):  # type: ignore[no-untyped-def]
    for attempt in range(RETRIES):
        try:
            return step(*args)
        except IntegrityError:
            report.retried_batches += 1
            logger.warning("compaction batch conflicted; retrying", extra={"attempt": attempt})
    return step(*args)


def compact_price_history(
    *,
    now: datetime | None = None,
    raw_days: float | None = None,
    hourly_days: float | None = None,
    daily_days: float | None = None,
    batch_offers: int | None = None,
) -> CompactionReport:
    """Compact everything older than the cut-offs (settings unless given)."""
    started = time.perf_counter()
    now = now or timezone.now()
    raw_days = config.raw_history_days() if raw_days is None else raw_days
    hourly_days = config.hourly_rollup_days() if hourly_days is None else hourly_days
    daily_days = config.daily_rollup_days() if daily_days is None else daily_days
    size = batch_offers or config.compaction_batch_offers()
    raw_cutoff = Granularity.HOUR.floor(now - timedelta(days=raw_days))
    hourly_cutoff = min(Granularity.DAY.floor(now - timedelta(days=hourly_days)), raw_cutoff)
    hourly_cutoff = Granularity.DAY.floor(hourly_cutoff)
    daily_cutoff = Granularity.DAY.floor(now - timedelta(days=daily_days)) if daily_days else None
    report = CompactionReport(raw_cutoff, hourly_cutoff, daily_cutoff)
    for offers in _offer_batches(size):
        report.batches += 1
        moved, written = _with_retries(_compact_raw, report, offers, raw_cutoff)
        report.raw_rows_compacted += moved
        report.hourly_rollups_written += written
        moved, written = _with_retries(_compact_hourly, report, offers, hourly_cutoff)
        report.hourly_rollups_compacted += moved
        report.daily_rollups_written += written
    if daily_cutoff is not None:
        report.daily_rollups_deleted, _ = PriceRollup.objects.filter(
            granularity=StoredGranularity.DAY, bucket_start__lt=daily_cutoff
        ).delete()
    report.seconds = time.perf_counter() - started
    if report.raw_rows_compacted or report.hourly_rollups_compacted or report.daily_rollups_deleted:
        from .cache import bump

        bump()
    logger.info("price history compacted", extra={"report": repr(report)})
    return report
