"""Price-history compaction: raw rows older than ``PRICE_HISTORY_RAW_DAYS`` become hourly rollups,
hourly rollups older than ``PRICE_HISTORY_HOURLY_DAYS`` become daily rollups, and daily rollups
older than ``PRICE_HISTORY_DAILY_DAYS`` (unset by default: kept) are deleted.

* **In the database, batch-wise, constant memory**: offers are walked in primary-key ranges of
  ``batch`` offers; for each range ONE ``INSERT … SELECT … GROUP BY`` folds the rows into rollups
  (first and last by ``ROW_NUMBER()`` windows, min, max and sums by aggregates: the summary
  ``apps.kpi.buckets`` defines; standard SQL both SQLite and PostgreSQL run) and one ``DELETE``
  removes what was rolled up, in ONE transaction, so at every commit each bucket is in exactly one
  form (``apps.kpi.history``). No row passes through Python.
* **Idempotent**: a second run finds nothing older than the cut-offs left to move. A bucket that
  already has a rollup (rows written into an hour compacted before, e.g. by a backfill) is merged
  into it by ``INSERT … ON CONFLICT DO UPDATE`` (both databases), never duplicated.
* **Safe while a sync runs**: the sync engine only writes rows stamped *now*, far newer than any
  cut-off; cut-offs are whole hours/days. An offer deleted by a concurrent sync (sample ⇄ live
  switch) makes its batch fail on the foreign key; the batch is retried from fresh reads.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, FloatField, IntegerField, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber, TruncDay, TruncHour
from django.utils import timezone

from apps.providers.models import Availability, GPUOffer, PriceHistory

from . import config
from .buckets import AVAILABILITY_WEIGHT, Granularity
from .history import ROLLUP_FIELDS
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


def _offer_batches(size: int) -> Iterator[tuple[uuid.UUID | None, uuid.UUID]]:
    """Ranges ``(after, up to]`` of offer primary keys, ``size`` offers each."""
    last: uuid.UUID | None = None
    while True:
        qs = GPUOffer.objects.order_by("pk")
        if last is not None:
            qs = qs.filter(pk__gt=last)
        upper = qs.values_list("pk", flat=True)[size - 1 : size].first()
        if upper is None:
            upper = qs.values_list("pk", flat=True).last()
            if upper is None:
                return
            yield last, upper
            return
        yield last, upper
        last = upper


def _in_range(queryset: QuerySet[Any], after: uuid.UUID | None, upto: uuid.UUID) -> QuerySet[Any]:
    queryset = queryset.filter(offer_id__lte=upto)
    return queryset if after is None else queryset.filter(offer_id__gt=after)


def _weight() -> Case:
    return Case(
        *(When(availability_status=k, then=Value(v)) for k, v in AVAILABILITY_WEIGHT.items()),
        default=Value(0.0),
        output_field=FloatField(),
    )


def _numbered(queryset: QuerySet[Any], bucket: Any, order: str, **extra: Any) -> QuerySet[Any]:
    """Rows with their bucket and their position from either end of it (window functions)."""
    partition = [F("offer_id"), bucket]
    return queryset.order_by().annotate(
        bucket=bucket,
        rn_first=Window(RowNumber(), partition_by=partition, order_by=[F(order).asc(), "id"]),
        rn_last=Window(
            RowNumber(), partition_by=partition, order_by=[F(order).desc(), F("id").desc()]
        ),
        **extra,
    )


#: Per (offer, bucket): the one summary ``apps.kpi.buckets`` defines, aggregated by the database.
_FOLD = {
    "raw": (
        "MAX(CASE WHEN rn_first = 1 THEN price_per_hour END), "
        "MAX(CASE WHEN rn_last = 1 THEN price_per_hour END), "
        "MIN(price_per_hour), MAX(price_per_hour), COUNT(*), SUM(weight), SUM(listed), "
        "MAX(CASE WHEN rn_last = 1 THEN availability_status END), "
        "MIN(recorded_at), MAX(recorded_at)"
    ),
    "hour": (
        "MAX(CASE WHEN rn_first = 1 THEN first_price END), "
        "MAX(CASE WHEN rn_last = 1 THEN last_price END), "
        "MIN(min_price), MAX(max_price), SUM(samples), SUM(available_weight), "
        "SUM(listed_samples), MAX(CASE WHEN rn_last = 1 THEN last_availability END), "
        "MIN(first_at), MAX(last_at)"
    ),
}

_COLUMNS = (
    "offer_id, granularity, bucket_start, first_price, last_price, min_price, max_price, "
    "samples, available_weight, listed_samples, last_availability, first_at, last_at"
)


def _merge_clause() -> str:
    """A bucket that already has a rollup absorbs the new one (``buckets.merge_ordered``: the
    part that starts first gives the first price, the other the last; min, max and sums)."""
    t = "kpi_price_rollups"
    new_first = f"excluded.first_at < {t}.first_at"

    def pick(column: str, when_new_first: str, otherwise: str) -> str:
        return f"{column} = CASE WHEN {new_first} THEN {when_new_first} ELSE {otherwise} END"

    return "ON CONFLICT (offer_id, granularity, bucket_start) DO UPDATE SET " + ", ".join(
        [
            pick("first_price", "excluded.first_price", f"{t}.first_price"),
            pick("first_at", "excluded.first_at", f"{t}.first_at"),
            pick("last_price", f"{t}.last_price", "excluded.last_price"),
            pick("last_availability", f"{t}.last_availability", "excluded.last_availability"),
            pick("last_at", f"{t}.last_at", "excluded.last_at"),
            f"min_price = CASE WHEN excluded.min_price < {t}.min_price "
            f"THEN excluded.min_price ELSE {t}.min_price END",
            f"max_price = CASE WHEN excluded.max_price > {t}.max_price "
            f"THEN excluded.max_price ELSE {t}.max_price END",
            f"samples = {t}.samples + excluded.samples",
            f"available_weight = {t}.available_weight + excluded.available_weight",
            f"listed_samples = {t}.listed_samples + excluded.listed_samples",
        ]
    )


def _fold_into(granularity: str, source: QuerySet[Any], fold: str) -> int:
    """INSERT … SELECT the folded ``source`` rows as rollups of ``granularity`` (one statement;
    nothing passes through Python). Returns the rollups written or merged."""
    sql, params = source.query.sql_with_params()
    # Only constants and Django-compiled SQL (its values stay parameters) are spliced in.
    select = f"SELECT offer_id, %s, bucket, {_FOLD[fold]} FROM ({sql}) numbered "  # noqa: S608
    statement = (
        f"INSERT INTO kpi_price_rollups ({_COLUMNS}) {select}"
        "WHERE 1 = 1 GROUP BY offer_id, bucket " + _merge_clause()
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [granularity, *params])
        return max(cursor.rowcount, 0)


def _compact_raw(after: uuid.UUID | None, upto: uuid.UUID, cutoff: datetime) -> tuple[int, int]:
    rows = _in_range(PriceHistory.objects.filter(recorded_at__lt=cutoff), after, upto)
    source = _numbered(
        rows,
        TruncHour("recorded_at", tzinfo=UTC),
        "recorded_at",
        weight=_weight(),
        listed=Case(
            When(availability_status=Availability.UNAVAILABLE, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
    ).values(
        "offer_id",
        "bucket",
        "price_per_hour",
        "availability_status",
        "recorded_at",
        "weight",
        "listed",
        "rn_first",
        "rn_last",
    )
    with transaction.atomic():
        written = _fold_into(StoredGranularity.HOUR, source, "raw")
        deleted = rows._raw_delete(rows.db) if written else 0
    return deleted, written


def _compact_hourly(after: uuid.UUID | None, upto: uuid.UUID, cutoff: datetime) -> tuple[int, int]:
    hourly = _in_range(
        PriceRollup.objects.filter(granularity=StoredGranularity.HOUR, bucket_start__lt=cutoff),
        after,
        upto,
    )
    source = _numbered(hourly, TruncDay("bucket_start", tzinfo=UTC), "bucket_start").values(
        "offer_id",
        "bucket",
        *(f for f in ROLLUP_FIELDS if f not in ("offer_id", "bucket_start")),
        "rn_first",
        "rn_last",
    )
    with transaction.atomic():
        written = _fold_into(StoredGranularity.DAY, source, "hour")
        deleted = hourly._raw_delete(hourly.db) if written else 0
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
    for after, upto in _offer_batches(size):
        report.batches += 1
        moved, written = _with_retries(_compact_raw, report, after, upto, raw_cutoff)
        report.raw_rows_compacted += moved
        report.hourly_rollups_written += written
        moved, written = _with_retries(_compact_hourly, report, after, upto, hourly_cutoff)
        report.hourly_rollups_compacted += moved
        report.daily_rollups_written += written
    if daily_cutoff is not None:
        report.daily_rollups_deleted, _ = PriceRollup.objects.filter(
            granularity=StoredGranularity.DAY, bucket_start__lt=daily_cutoff
        ).delete()
    moved = report.raw_rows_compacted or report.hourly_rollups_compacted
    if (moved or report.daily_rollups_deleted) and connection.vendor == "postgresql":
        # A compaction can move most of both tables: fresh planner statistics, or the KPI reads'
        # per-offer probes of the rollups may walk the (granularity, time) index believing it
        # holds no hourly rollups (``history.past_states``).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE price_history, kpi_price_rollups")
    report.seconds = time.perf_counter() - started
    if report.raw_rows_compacted or report.hourly_rollups_compacted or report.daily_rollups_deleted:
        from .cache import bump

        bump()
    logger.info("price history compacted", extra={"report": repr(report)})
    return report
