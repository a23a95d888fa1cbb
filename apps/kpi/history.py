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

import math
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, transaction
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
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.providers.models import GPUOffer, PriceHistory

from . import config
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
) -> dict[str, BucketSummary]:
    """Each offer's changes in ``[start, end)``, summarised, by offer id text (offers without a
    change are absent). ``hourly_only`` leaves daily rollups out (a range shorter than a day
    cannot use them)."""
    parts: dict[str, list[BucketSummary]] = {}
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
        parts.setdefault(str(values[0]), []).append(rollup_summary(values))
    merged = {}
    for offer_id, pieces in parts.items():
        # One piece (the usual case) is already the whole: each was made for this read only.
        whole = pieces[0] if len(pieces) == 1 else merge_ordered(pieces)
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
#: PostgreSQL: the same with ids, prices and times as text (prices are ``numeric(10, 4)``, so
#: their text has the 4 places the ORM's decimals have): no driver loaders, C-speed parsing.
_RAW_FOLD_TEXT = (
    "SELECT offer_id::text, MAX(CASE WHEN rn_first = 1 THEN price_per_hour END)::text, "
    "MAX(CASE WHEN rn_last = 1 THEN price_per_hour END)::text, MIN(price_per_hour)::text, "
    "MAX(price_per_hour)::text, COUNT(*), SUM(weight), SUM(listed), "
    "MAX(CASE WHEN rn_last = 1 THEN availability_status END), MIN(recorded_at)::text, "
    "MAX(recorded_at)::text FROM ({}) numbered GROUP BY offer_id"
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


def newest_per_offer(queryset: QuerySet[Any], order: str) -> QuerySet[Any]:
    """Each offer's newest row of ``queryset`` by ``order`` (ties: the highest id), as one
    ``ROW_NUMBER`` window query."""
    return (
        queryset.order_by()
        .annotate(
            _rank=Window(
                RowNumber(),
                partition_by=[F("offer_id")],
                order_by=[F(order).desc(), F("id").desc()],
            )
        )
        .filter(_rank=1)
    )


def price_decimal(value: Any) -> Decimal:
    """A price as the ORM returns it (4 decimal places), from a raw cursor's value (a Decimal
    on PostgreSQL, a float or int on SQLite) or a float column of the market (exact: a 4-place
    price has at most 10 digits)."""
    if isinstance(value, Decimal):
        return value.quantize(FOUR_PLACES)
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(FOUR_PLACES)


def _moment(value: Any) -> datetime:
    """A datetime as the ORM returns it (aware UTC), from a raw cursor's value."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed: datetime | None = datetime.fromisoformat(str(value))  # C speed
    except ValueError:
        parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a datetime: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def raw_summaries(
    start: datetime, end: datetime, offers: QuerySet[GPUOffer] | None = None
) -> Iterator[tuple[str, BucketSummary]]:
    """Per offer (id text), the summary of its raw rows in ``[start, end)``, folded by the
    database."""
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
    key: Callable[[Any], str]
    price: Callable[[Any], Decimal]
    moment: Callable[[Any], datetime]
    if connection.vendor == "postgresql":
        # Ids, prices and times come back as text: parsed at C speed, exact 4-place prices.
        fold, key, price, moment = _RAW_FOLD_TEXT, str, Decimal, datetime.fromisoformat
    else:
        fold, price, moment = _RAW_FOLD, price_decimal, _moment

        def key(value: Any) -> str:
            return str(offer_field.to_python(value))

    with connection.cursor() as cursor:
        cursor.execute(fold.format(sql), params)
        for values in cursor.fetchall():
            yield (
                key(values[0]),
                BucketSummary(
                    first_price=price(values[1]),
                    last_price=price(values[2]),
                    min_price=price(values[3]),
                    max_price=price(values[4]),
                    samples=int(values[5]),
                    available_weight=float(values[6]),
                    listed_samples=int(values[7]),
                    last_availability=str(values[8]),
                    first_at=moment(values[9]),
                    last_at=moment(values[10]),
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
                states[pk] = State(price_decimal(price), availability)
    else:
        # Every offer: one window query (ROW_NUMBER per offer, newest first) over the rows
        # before ``moment`` instead of a probe per offer.
        latest = newest_per_offer(
            PriceHistory.objects.filter(recorded_at__lt=moment), "recorded_at"
        ).values_list("offer_id", "price_per_hour", "availability_status")
        for pk, price, availability in latest.iterator(chunk_size=10000):
            states[pk] = State(price_decimal(price), availability)
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
            rolled = newest_per_offer(
                PriceRollup.objects.filter(
                    offer_id__in=wanted[chunk : chunk + ROLLUP_STATE_CHUNK],
                    granularity=granularity,
                    bucket_start__lte=moment - size,
                ),
                "bucket_start",
            ).values_list("offer_id", "last_price", "last_availability")
            for pk, price, availability in rolled:
                states[pk] = State(price_decimal(price), availability)
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
    "PastStates",
    "bucket_summaries",
    "changed_since",
    "current_or_past",
    "fold_rows",
    "past_states",
    "price_decimal",
    "rewind",
    "states_before",
]


class PastStates:
    """``rewind``'s answer as columns: the offers that changed since a moment (``ids``), each
    with its price per hour (float; NaN: no record before the moment, the offer did not exist
    then) and availability at that moment."""

    __slots__ = ("availability", "ids", "price")

    def __init__(self, ids: list[str], price: np.ndarray, availability: list[str]) -> None:
        self.ids, self.price, self.availability = ids, price, availability

    @classmethod
    def of(cls, states: dict[uuid.UUID, State | None]) -> PastStates:
        ids, prices, availability = [], [], []
        for pk, state in states.items():
            ids.append(str(pk))
            prices.append(math.nan if state is None else float(state.price_per_hour))
            availability.append("" if state is None else state.availability)
        return cls(ids, np.array(prices, dtype=np.float64), availability)


#: Joined per offer (``{offer}``: its id column): its last hourly rollup that ended by the moment
#: (``hr``), else, only then looked up, its last daily one (``dr``). The unique (offer,
#: granularity, bucket start) orders them without a tie-break.
_ROLLUP_FALLBACK = (
    "LEFT JOIN LATERAL (SELECT x.last_price AS price, x.last_availability AS availability "
    " FROM kpi_price_rollups x WHERE x.offer_id = {offer} AND x.granularity = 'hour' "
    " AND x.bucket_start <= %(hour)s ORDER BY x.bucket_start DESC LIMIT 1) hr ON true "
    "LEFT JOIN LATERAL (SELECT x.last_price AS price, x.last_availability AS availability "
    " FROM kpi_price_rollups x WHERE hr.price IS NULL AND x.offer_id = {offer} "
    " AND x.granularity = 'day' AND x.bucket_start <= %(day)s "
    " ORDER BY x.bucket_start DESC LIMIT 1) dr ON true "
)
#: The separator of text columns folded by ``string_agg`` (the unit separator, never in a value).
FOLD_SEPARATOR = "\x1f"


def _fold_states(sql: str, moment: datetime, params: dict[str, Any]) -> tuple[Any, ...]:
    """Run one of the past-state statements for ``moment``: its one row (count, ids, prices,
    availabilities as delimited text)."""
    bounds = {
        "moment": moment,
        "hour": moment - Granularity.HOUR.size,
        "day": moment - Granularity.DAY.size,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # The plans are cheap, but their estimated cost triggers JIT compilation (~0.15 s); the
        # sort of the rows before the moment fits in memory instead of spilling to disk.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, {**bounds, **params})
        return tuple(cursor.fetchone())


#: ``rewind`` in one PostgreSQL statement: the offers with a change at or after the moment (raw
#: rows, or a rollup whose last change is: a rollup's changes lie inside its bucket, so only
#: buckets starting less than a day before the moment can hold one), each with its last raw row
#: before the moment, else its last hourly, else daily, rollup that ended by then; folded into one
#: row of delimited text. For the whole market both raw reads are one ordered pass each over the
#: covering index ``kpi_price_history_offer_latest`` (each offer's newest row; each offer's last
#: row before the moment), cheaper than a probe per offer once most offers changed; for a subset
#: (one GPU model's offers) each offer of the subset probes that index.
_REWIND = (
    "WITH raw AS (SELECT o.id, r.price, r.availability "
    "FROM ({changed} UNION SELECT y.offer_id FROM kpi_price_rollups y "
    " WHERE y.granularity IN ('hour', 'day') AND y.bucket_start > %(day)s "
    " AND y.last_at >= %(moment)s) c "
    "JOIN gpu_offers o ON o.id = c.offer_id {before} {offers}), "
    # Offers without a raw row before the moment: their last rollup that ended by then.
    "s AS (SELECT id, price, availability FROM raw WHERE price IS NOT NULL UNION ALL "
    "SELECT w.id, COALESCE(hr.price, dr.price), COALESCE(hr.availability, dr.availability) "
    "FROM raw w {fallback}WHERE w.price IS NULL) "
    "SELECT COUNT(*), string_agg(s.id::text, ','), string_agg(COALESCE(s.price::text, 'NaN'), "
    "','), string_agg(COALESCE(s.availability, ''), chr(31)) FROM s"
)
_MARKET = {
    "changed": "SELECT n.offer_id FROM (SELECT DISTINCT ON (a.offer_id) a.offer_id, "
    "a.recorded_at FROM price_history a ORDER BY a.offer_id, a.recorded_at DESC, a.id DESC) n "
    "WHERE n.recorded_at >= %(moment)s",
    "before": "LEFT JOIN (SELECT DISTINCT ON (h.offer_id) h.offer_id, h.price_per_hour AS price, "
    "h.availability_status AS availability FROM price_history h WHERE h.recorded_at < %(moment)s "
    "ORDER BY h.offer_id, h.recorded_at DESC, h.id DESC) r ON r.offer_id = o.id",
}
#: A recent moment (in the newer half of the raw window): fewer rows after it than offers' newest
#: rows, so the changed offers come from the rows after it (``kpi_price_history_recorded_at``).
_MARKET_RECENT = {
    "changed": "SELECT DISTINCT a.offer_id FROM price_history a WHERE a.recorded_at >= %(moment)s",
    "before": _MARKET["before"],
}
_SUBSET = {
    "changed": "SELECT p.id AS offer_id FROM gpu_offers p WHERE p.id IN ({subset}) AND EXISTS "
    "(SELECT 1 FROM price_history a WHERE a.offer_id = p.id AND a.recorded_at >= %(moment)s)",
    "before": "LEFT JOIN LATERAL (SELECT h.price_per_hour AS price, h.availability_status AS "
    "availability FROM price_history h WHERE h.offer_id = o.id AND h.recorded_at < %(moment)s "
    "ORDER BY h.recorded_at DESC, h.id DESC LIMIT 1) r ON true",
}


def past_states(
    moment: datetime, offers: QuerySet[GPUOffer] | None = None, *, recent: bool | None = None
) -> PastStates:
    """:func:`rewind` of ``offers`` (default: all) as columns, in one query on PostgreSQL.
    ``recent`` chooses how the whole market's changed offers are found (default: whether the
    moment lies in the newer half of the raw window); the answer is the same."""
    if connection.vendor != "postgresql":
        return PastStates.of(rewind(moment, GPUOffer.objects.all() if offers is None else offers))
    params: dict[str, Any] = {}
    condition = ""
    if offers is not None and offers.query.where:
        sql, inner = offers.order_by().values("pk").query.sql_with_params()
        for i, value in enumerate(inner):
            params[f"p{i}"] = value
        # The inner query's positional placeholders as named ones (the outer query uses names).
        sql = sql.replace("%%", "\x00")
        pieces = sql.split("%s")
        sql = "".join(
            piece + (f"%(p{i})s" if i < len(pieces) - 1 else "") for i, piece in enumerate(pieces)
        ).replace("\x00", "%%")
        condition = f"WHERE o.id IN ({sql})"
    if recent is None:
        recent = timezone.now() - moment < timedelta(days=config.raw_history_days() / 2)
    shape = _MARKET_RECENT if recent else _MARKET
    if condition:
        shape = {k: v.format(subset=sql) for k, v in _SUBSET.items()}
    count, ids, prices, availability = _fold_states(
        _REWIND.format(offers=condition, fallback=_ROLLUP_FALLBACK.format(offer="w.id"), **shape),
        moment,
        params,
    )
    if not count:
        return PastStates([], np.zeros(0), [])
    return PastStates(
        ids.split(","),
        np.array(prices.split(","), dtype=np.float64),
        availability.split(FOLD_SEPARATOR),
    )


#: ``states_before`` of every offer in one PostgreSQL statement: each offer's last raw row before
#: the moment (one ordered pass over ``kpi_price_history_offer_latest``), else, for offers without
#: one, its last hourly, else daily, rollup that ended by then.
_STATES_OF_MARKET = (
    "WITH r AS (SELECT DISTINCT ON (h.offer_id) h.offer_id, h.price_per_hour AS price, "
    " h.availability_status AS availability FROM price_history h "
    " WHERE h.recorded_at < %(moment)s ORDER BY h.offer_id, h.recorded_at DESC, h.id DESC), "
    "s AS (SELECT offer_id AS id, price, availability FROM r UNION ALL "
    "SELECT o.id, COALESCE(hr.price, dr.price), COALESCE(hr.availability, dr.availability) "
    "FROM gpu_offers o LEFT JOIN r ON r.offer_id = o.id {fallback}"
    "WHERE r.offer_id IS NULL AND COALESCE(hr.price, dr.price) IS NOT NULL) "
    "SELECT COUNT(*), string_agg(s.id::text, ','), string_agg(s.price::text, ','), "
    "string_agg(s.availability, chr(31)) FROM s"
)


def states_of_market(moment: datetime) -> dict[str, State]:
    """:func:`states_before` of every offer, keyed by offer id text (one statement on
    PostgreSQL; prices travel as their exact 4-place decimal text)."""
    if connection.vendor != "postgresql":
        return {str(k): v for k, v in states_before(moment, GPUOffer.objects.all()).items()}
    count, ids, prices, availability = _fold_states(
        _STATES_OF_MARKET.format(fallback=_ROLLUP_FALLBACK.format(offer="o.id")), moment, {}
    )
    if not count:
        return {}
    return {
        key: State(Decimal(price), status)
        for key, price, status in zip(
            ids.split(","), prices.split(","), availability.split(FOLD_SEPARATOR), strict=True
        )
    }
