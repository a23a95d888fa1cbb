"""Catalogue reads for the KPI engine: the current market as numpy columns (one query, the
columns statistics need), the market's anomaly flags, and provider sync outcomes. Counts are
grouped in SQL; distributions are computed by ``apps.kpi.statistics`` (numpy) from the fetched
per-GPU prices, because SQLite has no ``percentile_cont`` and both databases must give the
identical definition."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count, FloatField, Func, Q, QuerySet

from apps.math_core.algorithms.gpu_spec import Precision
from apps.providers import offer_metrics
from apps.providers.models import Availability, GPUOffer

from . import config
from .anomalies import Flag, column_scales, flag_columns
from .cache import cached
from .history import FOLD_SEPARATOR, price_decimal
from .models import SyncOutcome
from .statistics import RobustScale


class Epoch(Func):
    """A datetime column as seconds since 1970 (double): 100,000 rows load as floats instead of
    going through the per-value timezone-aware datetime loader (about 25 µs each)."""

    output_field = FloatField()
    template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"  # SQLite

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        epoch = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)"
        return self.as_sql(compiler, connection, template=epoch, **extra)


#: The market's columns before its two moments (read as epoch seconds: ``_last_seen``, ``_created``
#: from the ORM; folded from ``last_seen_at``, ``created_at`` by ``_fold_market`` on PostgreSQL).
_OFFER_COLUMNS = (
    "pk",
    "provider__name",
    "gpu_type",
    "price_per_hour",
    "gpu_count",
    "availability_status",
    "is_spot",
    "region",
    "country",
)
MARKET_FIELDS = (*_OFFER_COLUMNS, "_last_seen", "_created")


@dataclass(frozen=True, slots=True)
class MarketRow:
    offer_id: uuid.UUID
    provider: str
    gpu_model: str
    price_per_hour: Decimal
    gpu_count: int
    availability: str
    is_spot: bool
    region: str
    country: str
    last_seen_at: float  # seconds since 1970
    created_at: float  # seconds since 1970

    @property
    def price_per_gpu_hour(self) -> float:
        return float(self.price_per_hour) / max(int(self.gpu_count), 1)

    @property
    def listed(self) -> bool:
        return self.availability != Availability.UNAVAILABLE

    @property
    def available(self) -> bool:
        return self.availability == Availability.AVAILABLE

    @property
    def tier(self) -> str:
        return "spot" if self.is_spot else "on_demand"

    @property
    def region_key(self) -> str:
        """Where an offer is for by-region figures: its ISO country when known, else the
        provider's region name."""
        return self.country or self.region


# --- the market as columns -------------------------------------------------------------------
class Codes:
    """A text column dictionary-encoded: ``codes[i]`` indexes ``names``."""

    __slots__ = ("codes", "names")

    def __init__(self, values: Iterable[str]) -> None:
        values = values if isinstance(values, list | tuple) else list(values)
        self.names = list(dict.fromkeys(values))  # first appearance order, at C speed
        lookup = {name: i for i, name in enumerate(self.names)}
        self.codes = np.fromiter(map(lookup.__getitem__, values), np.int64, count=len(values))

    def code(self, name: str) -> int:
        """The code of ``name`` (−1 when absent: it matches no row)."""
        try:
            return self.names.index(name)
        except ValueError:
            return -1

    def __getitem__(self, i: int) -> str:
        return self.names[int(self.codes[i])]


class Market:
    """The current market (or a subset of it) as numpy columns, one entry per offer, in the
    order the database returned them: what ``MarketRow`` holds, without an object per offer.
    ``price`` is USD per hour as float (the exact 4-place decimal is ``decimal(i)``); prices
    per GPU-hour are ``price / max(gpu_count, 1)``, the same float arithmetic as
    ``MarketRow.price_per_gpu_hour``."""

    def __init__(
        self,
        ids: list[str],
        provider: Codes,
        model: Codes,
        price: np.ndarray,
        gpu_count: np.ndarray,
        availability: Codes,
        is_spot: np.ndarray,
        region: Codes,
        country: Codes,
        last_seen: np.ndarray,
        created: np.ndarray,
    ) -> None:
        self.ids = ids
        self.provider = provider
        self.model = model
        self.price = price
        self.gpu_count = gpu_count
        self.availability = availability
        self.is_spot = is_spot
        self.region = region
        self.country = country
        self.last_seen = last_seen
        self.created = created
        self.size = len(ids)
        #: With ``market(values=True)``: each offer's cost per million tokens and per TFLOP-hour
        #: as the SQL value keys of ``apps.providers.offer_metrics`` give them (NaN: none).
        self.tokens: np.ndarray | None = None
        self.tflops: np.ndarray | None = None
        self.per_gpu = price / np.maximum(gpu_count, 1)
        self.listed = availability.codes != availability.code(Availability.UNAVAILABLE)
        self.available = availability.codes == availability.code(Availability.AVAILABLE)
        # Peer group (model × tier) as one code: model code × 2 + spot.
        self.group = model.codes * 2 + is_spot.astype(np.int64)

    def group_key(self, code: int) -> tuple[str, str]:
        return (self.model.names[code // 2], "spot" if code % 2 else "on_demand")

    def position(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.ids)}

    def decimal(self, i: int) -> Decimal:
        return price_decimal(float(self.price[i]))

    def row(self, i: int) -> MarketRow:
        i = int(i)
        return MarketRow(
            uuid.UUID(self.ids[i]),
            self.provider[i],
            self.model[i],
            self.decimal(i),
            int(self.gpu_count[i]),
            self.availability[i],
            bool(self.is_spot[i]),
            self.region[i],
            self.country[i],
            float(self.last_seen[i]),
            float(self.created[i]),
        )


def _market_of_rows(rows: Iterable[tuple[Any, ...]]) -> Market:
    values = list(rows)
    columns = list(zip(*values, strict=True)) if values else [()] * len(MARKET_FIELDS)
    return Market(
        ids=[str(k) for k in columns[0]],
        provider=Codes(columns[1]),
        model=Codes(columns[2]),
        price=np.array([float(p) for p in columns[3]], dtype=np.float64),
        gpu_count=np.array(columns[4], dtype=np.int64),
        availability=Codes(columns[5]),
        is_spot=np.array(columns[6], dtype=bool),
        region=Codes(columns[7]),
        country=Codes(columns[8]),
        last_seen=np.array(columns[9], dtype=np.float64),
        created=np.array(columns[10], dtype=np.float64),
    )


#: PostgreSQL: every column of the market folded into one delimited text per column
#: (``string_agg``; one row back instead of 100,000 row tuples). Numbers travel as their exact
#: decimal text (numeric prices, numeric epochs), so ``float()`` of them is the value the ORM path
#: gives. Text columns are split on the unit separator; a value that contains it (never seen)
#: makes the split come out long and the ORM path is used instead.
_FOLD_MARKET = (
    "SELECT COUNT(*), string_agg(c0::text, ','), string_agg(COALESCE(c1, ''), chr(31)), "
    "string_agg(c2, chr(31)), string_agg(c3::text, ','), string_agg(c4::text, ','), "
    "string_agg(c5, chr(31)), string_agg(CASE WHEN c6 THEN '1' ELSE '0' END, ''), "
    "string_agg(c7, chr(31)), string_agg(c8, chr(31)), "
    "string_agg(EXTRACT(EPOCH FROM c9)::text, ','), "
    "string_agg(EXTRACT(EPOCH FROM c10)::text, ','){values} "
    "FROM ({inner}) AS m(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10{columns})"
)
#: The value keys (float8 text is the shortest exact form: the floats read back are the ones the
#: database would order by).
_FOLD_VALUES = (
    ", string_agg(COALESCE(c11::text, 'NaN'), ','), string_agg(COALESCE(c12::text, 'NaN'), ',')"
)


def _with_values(qs: QuerySet[GPUOffer]) -> QuerySet[GPUOffer]:
    return qs.annotate(
        _tokens=offer_metrics.cost_per_million_tokens_key(),
        _tflops=offer_metrics.cost_per_tflop_hour_key(Precision.FP16),
    )


def _floats(text: str | None) -> np.ndarray:
    return np.array(text.split(",") if text else [], dtype=np.float64)


def _texts(text: str | None, count: int) -> list[str] | None:
    parts = text.split(FOLD_SEPARATOR) if text is not None else []
    return parts if len(parts) == count else None


def _fold_market(qs: QuerySet[GPUOffer], values: bool) -> Market | None:
    extra = ("_tokens", "_tflops") if values else ()
    inner = (_with_values(qs) if values else qs).values_list(
        *_OFFER_COLUMNS, "last_seen_at", "created_at", *extra
    )
    sql, params = inner.query.sql_with_params()
    fold = _FOLD_MARKET.format(
        inner=sql,
        values=_FOLD_VALUES if values else "",
        columns=", c11, c12" if values else "",
    )
    with connection.cursor() as cursor:
        cursor.execute(fold, params)
        found = cursor.fetchone()
    count = int(found[0])
    texts = [_texts(found[i], count) for i in (2, 3, 6, 8, 9)]
    if count and any(t is None for t in texts):
        return None
    provider, model, availability, region, country = (t or [] for t in texts)
    folded = Market(
        ids=found[1].split(",") if count else [],
        provider=Codes(provider),
        model=Codes(model),
        price=_floats(found[4]),
        gpu_count=np.array(found[5].split(",") if count else [], dtype=np.int64),
        availability=Codes(availability),
        is_spot=np.frombuffer((found[7] or "").encode(), dtype=np.uint8) == ord("1"),
        region=Codes(region),
        country=Codes(country),
        last_seen=_floats(found[10]),
        created=_floats(found[11]),
    )
    if values:
        folded.tokens, folded.tflops = _floats(found[12]), _floats(found[13])
    return folded


def market(offers: QuerySet[GPUOffer] | None = None, *, values: bool = False) -> Market:
    """The market (all offers, or ``offers``) as columns in one query: on PostgreSQL folded by
    the database into one row, elsewhere the ORM's rows (``MARKET_FIELDS``). ``values``: with each
    offer's value keys (``Market.tokens``, ``Market.tflops``) from the same scan."""
    qs = (GPUOffer.objects.all() if offers is None else offers).order_by()
    if connection.vendor == "postgresql":
        folded = _fold_market(qs, values)
        if folded is not None:
            return folded
    qs = qs.annotate(_last_seen=Epoch("last_seen_at"), _created=Epoch("created_at"))
    if not values:
        return _market_of_rows(qs.values_list(*MARKET_FIELDS))
    rows = list(_with_values(qs).values_list(*MARKET_FIELDS, "_tokens", "_tflops"))
    m = _market_of_rows(r[: len(MARKET_FIELDS)] for r in rows)
    nan = float("nan")
    m.tokens = np.array([nan if r[-2] is None else r[-2] for r in rows], dtype=np.float64)
    m.tflops = np.array([nan if r[-1] is None else r[-1] for r in rows], dtype=np.float64)
    return m


def offers_of_model(gpu_model: str) -> QuerySet[GPUOffer]:
    return GPUOffer.objects.filter(gpu_type=gpu_model)


def market_flag_positions(
    m: Market, now: datetime | None, scales: dict[int, RobustScale] | None = None
) -> dict[int, list[Flag]]:
    """Flags of the offers of ``m`` by position (peer groups: model × tier, over ``m`` itself
    unless ``scales`` by group code are given); STALE judged at ``now`` (None: no STALE)."""
    found = flag_columns(
        range(m.size),  # type: ignore[arg-type]
        m.group,
        m.per_gpu,
        m.gpu_count,
        m.listed,
        rules=config.anomaly_rules(),
        scales=scales,
        last_seen=m.last_seen,
        now=now,
    )
    return {int(at): flags for at, flags in found.items()}  # type: ignore[call-overload]


def market_flags(now: datetime) -> dict[str, list[Flag]]:
    """Flags of every flagged offer in the catalogue (peer groups: model × tier), cached per
    catalogue version. STALE is judged at ``now`` rounded down to the minute."""
    minute = now.replace(second=0, microsecond=0)

    def compute() -> dict[str, list[Flag]]:
        m = market()
        return {m.ids[i]: v for i, v in market_flag_positions(m, minute).items()}

    return cached("market_flags", {"minute": minute.isoformat()}, compute)


def flags_of_offers(offer_ids: Iterable[object], now: datetime) -> dict[str, list[Flag]]:
    """Flags of the given offers, exactly as ``market_flags`` gives them, in at most ONE query:
    the market's peer scales (median, scaled MAD per model × tier) are cached per catalogue
    version, so only the given offers are read; when they are not cached yet, the one query reads
    the market (as columns, ``market``), which yields both the scales and the given offers. The
    result is cached too."""
    minute = now.replace(second=0, microsecond=0)
    ids = sorted({str(k) for k in offer_ids})
    if not ids:
        return {}

    def compute() -> dict[str, list[Flag]]:
        whole: list[Market] = []

        def scan() -> dict[Any, RobustScale]:
            whole.append(market())
            m = whole[0]
            by_code = column_scales(m.group, m.per_gpu, m.listed)
            return {m.group_key(code): scale for code, scale in by_code.items()}

        scales = cached("peer_scales", {}, scan)
        m = whole[0] if whole else market(GPUOffer.objects.filter(pk__in=ids))
        codes = {m.group_key(int(code)): int(code) for code in np.unique(m.group)}
        page_scales = {codes[k]: v for k, v in scales.items() if k in codes}
        wanted = set(ids)
        return {
            m.ids[i]: v
            for i, v in market_flag_positions(m, minute, page_scales).items()
            if m.ids[i] in wanted
        }

    # A page asked again (same catalogue version, same minute) costs no query at all.
    return cached("offer_flags", {"minute": minute.isoformat(), "ids": ids}, compute)


def offer_counts_by_model() -> dict[str, tuple[int, int]]:
    """(offers, available offers) per GPU model, grouped in SQL."""
    rows = (
        GPUOffer.objects.order_by()
        .values("gpu_type")
        .annotate(
            total=Count("pk"),
            available=Count("pk", filter=Q(availability_status=Availability.AVAILABLE)),
        )
    )
    return {row["gpu_type"]: (row["total"], row["available"]) for row in rows}


def sync_outcomes(provider: str, since: datetime) -> tuple[int, int]:
    """(finished syncs, successful syncs) of ``provider`` since ``since``."""
    row = SyncOutcome.objects.filter(provider_name=provider, finished_at__gte=since).aggregate(
        total=Count("pk"), ok=Count("pk", filter=Q(ok=True))
    )
    return int(row["total"] or 0), int(row["ok"] or 0)


def age(moment: datetime | None, now: datetime) -> timedelta | None:
    return None if moment is None else now - moment
