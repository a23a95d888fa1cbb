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
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils.dateparse import parse_datetime

from apps.providers.models import GPUOffer, PriceHistory

from .buckets import (
    AVAILABILITY_WEIGHT,
    BucketSummary,
    Granularity,
    State,
    fold_rows,
    merge_ordered,
)
from .models import Granularity as StoredGranularity
from .models import PriceRollup

FOUR_PLACES = Decimal("0.0001")
ROLLUP_STATE_CHUNK = 900  # offer ids per query (SQLite's host-parameter limit is 999 on old builds)
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
    """Rows of ``offers`` (no condition for all offers: every row has an offer)."""
    if offers is None or not offers.query.where:
        return Q()
    return Q(**{f"{field}__in": offers.values("pk")})


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
    # One bucket as large as the range: the database folds the raw rows by offer.
    for offer_id, summary in raw_summaries(start, end, offers):
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


#: The summary ``BucketSummary.of_row`` + ``absorb`` define, per offer, by the database.
_RAW_FOLD = (
    "SELECT offer_id, MAX(CASE WHEN rn_first = 1 THEN price_per_hour END), "
    "MAX(CASE WHEN rn_last = 1 THEN price_per_hour END), MIN(price_per_hour), "
    "MAX(price_per_hour), COUNT(*), SUM(weight), SUM(listed), "
    "MAX(CASE WHEN rn_last = 1 THEN availability_status END), MIN(recorded_at), "
    "MAX(recorded_at) FROM ({}) numbered GROUP BY offer_id"
)


def numbered_rows(queryset: QuerySet[Any], partition: list[Any], order: str) -> QuerySet[Any]:
    """Rows with their position from either end of their partition (``ROW_NUMBER`` windows),
    their availability weight and whether they were listed."""
    return queryset.order_by().annotate(
        rn_first=Window(RowNumber(), partition_by=partition, order_by=[F(order).asc(), "id"]),
        rn_last=Window(
            RowNumber(), partition_by=partition, order_by=[F(order).desc(), F("id").desc()]
        ),
        weight=Case(
            *(When(availability_status=k, then=Value(v)) for k, v in AVAILABILITY_WEIGHT.items()),
            default=Value(0.0),
            output_field=FloatField(),
        ),
        listed=Case(
            When(availability_status="unavailable", then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
    )


def _decimal(value: Any) -> Decimal:
    """A price as the ORM returns it (4 decimal places), from a raw cursor's value (a Decimal
    on PostgreSQL, a float or int on SQLite)."""
    if isinstance(value, Decimal):
        return value.quantize(FOUR_PLACES)
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(FOUR_PLACES)


def _moment(value: Any) -> datetime:
    """A datetime as the ORM returns it (aware UTC), from a raw cursor's value."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a datetime: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def raw_summaries(
    start: datetime, end: datetime, offers: QuerySet[GPUOffer] | None = None
) -> Iterator[tuple[uuid.UUID, BucketSummary]]:
    """Per offer, the summary of its raw rows in ``[start, end)``, folded by the database."""
    rows = numbered_rows(
        PriceHistory.objects.filter(_offer_filter(offers), recorded_at__gte=start).filter(
            recorded_at__lt=end
        ),
        [F("offer_id")],
        "recorded_at",
    ).values(
        "offer_id",
        "price_per_hour",
        "availability_status",
        "recorded_at",
        "weight",
        "listed",
        "rn_first",
        "rn_last",
    )
    sql, params = rows.query.sql_with_params()
    offer_field = PriceHistory._meta.get_field("offer")
    with connection.cursor() as cursor:
        cursor.execute(_RAW_FOLD.format(sql), params)
        for values in cursor.fetchall():
            offer_id = offer_field.to_python(values[0])
            yield (
                offer_id,
                BucketSummary(
                    first_price=_decimal(values[1]),
                    last_price=_decimal(values[2]),
                    min_price=_decimal(values[3]),
                    max_price=_decimal(values[4]),
                    samples=int(values[5]),
                    available_weight=float(values[6]),
                    listed_samples=int(values[7]),
                    last_availability=str(values[8]),
                    first_at=_moment(values[9]),
                    last_at=_moment(values[10]),
                ),
            )


def _latest(queryset: QuerySet, order: str) -> QuerySet:  # type: ignore[type-arg]
    return queryset.order_by(f"-{order}", "-id")


def states_before(moment: datetime, offers: QuerySet[GPUOffer]) -> dict[uuid.UUID, State]:
    """Each offer's state just before ``moment`` (offers with no earlier record are absent)."""
    states: dict[uuid.UUID, State] = {}
    if offers.query.where:
        # A subset (e.g. the offers changed since ``moment``): an index probe per offer.
        raw = _latest(
            PriceHistory.objects.filter(offer=OuterRef("pk"), recorded_at__lt=moment),
            "recorded_at",
        )
        probed = offers.annotate(
            _price=Subquery(raw.values("price_per_hour")[:1]),
            _availability=Subquery(raw.values("availability_status")[:1]),
        ).values_list("pk", "_price", "_availability")
        for pk, price, availability in probed.iterator(chunk_size=5000):
            if price is not None:
                states[pk] = State(_decimal(price), availability)
    else:
        # Every offer: one window query (ROW_NUMBER per offer, newest first) over the rows
        # before ``moment`` instead of a probe per offer.
        latest = (
            PriceHistory.objects.filter(recorded_at__lt=moment)
            .order_by()
            .annotate(
                _rank=Window(
                    RowNumber(),
                    partition_by=[F("offer_id")],
                    order_by=[F("recorded_at").desc(), F("id").desc()],
                )
            )
            .filter(_rank=1)
            .values_list("offer_id", "price_per_hour", "availability_status")
        )
        for pk, price, availability in latest.iterator(chunk_size=10000):
            states[pk] = State(_decimal(price), availability)
    # Offers whose state before ``moment`` lives in rollups only (older than the raw window):
    # the last hourly, else daily, rollup that ended by ``moment``, for those offers only.
    missing: set[uuid.UUID] | None = None
    for granularity in (StoredGranularity.HOUR, StoredGranularity.DAY):
        if not PriceRollup.objects.filter(granularity=granularity).exists():
            continue
        if missing is None:
            missing = set(offers.values_list("pk", flat=True)) - states.keys()
        if not missing:
            break
        size = Granularity(granularity).size
        wanted = sorted(missing)
        for chunk in range(0, len(wanted), ROLLUP_STATE_CHUNK):
            rolled = (
                PriceRollup.objects.filter(
                    offer_id__in=wanted[chunk : chunk + ROLLUP_STATE_CHUNK],
                    granularity=granularity,
                    bucket_start__lte=moment - size,
                )
                .order_by()
                .annotate(
                    _rank=Window(
                        RowNumber(),
                        partition_by=[F("offer_id")],
                        order_by=[F("bucket_start").desc(), F("id").desc()],
                    )
                )
                .filter(_rank=1)
                .values_list("offer_id", "last_price", "last_availability")
            )
            for pk, price, availability in rolled:
                states[pk] = State(_decimal(price), availability)
                missing.discard(pk)
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
