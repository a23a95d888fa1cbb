"""Catalogue reads for the KPI engine: the current market as compact rows (one query, the
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

from django.db.models import Count, FloatField, Func, Q, QuerySet

from apps.providers.models import Availability, GPUOffer

from . import config
from .anomalies import Flag, PricePoint, flag_points, group_scales
from .cache import cached
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


MARKET_FIELDS = (
    "pk",
    "provider__name",
    "gpu_type",
    "price_per_hour",
    "gpu_count",
    "availability_status",
    "is_spot",
    "region",
    "country",
    "_last_seen",
    "_created",
)


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


def market_rows(offers: QuerySet[GPUOffer] | None = None) -> list[MarketRow]:
    qs = GPUOffer.objects.all() if offers is None else offers
    qs = qs.order_by().annotate(_last_seen=Epoch("last_seen_at"), _created=Epoch("created_at"))
    return [MarketRow(*values) for values in qs.values_list(*MARKET_FIELDS)]


def offers_of_model(gpu_model: str) -> QuerySet[GPUOffer]:
    return GPUOffer.objects.filter(gpu_type=gpu_model)


def price_point(row: MarketRow) -> PricePoint:
    return PricePoint(
        key=str(row.offer_id),
        group=(row.gpu_model, row.tier),
        price_per_gpu_hour=row.price_per_gpu_hour,
        gpu_count=row.gpu_count,
        last_seen_at=row.last_seen_at,
        listed=row.listed,
    )


def flags_for_rows(rows: Iterable[MarketRow], now: datetime) -> dict[str, list[Flag]]:
    points = [price_point(row) for row in rows]
    return {
        str(k): v for k, v in flag_points(points, rules=config.anomaly_rules(), now=now).items()
    }


def market_flags(now: datetime) -> dict[str, list[Flag]]:
    """Flags of every flagged offer in the catalogue (peer groups: model × tier), cached per
    catalogue version. STALE is judged at ``now`` rounded down to the minute."""
    minute = now.replace(second=0, microsecond=0)

    def compute() -> dict[str, list[Flag]]:
        return flags_for_rows(market_rows(), minute)

    return cached("market_flags", {"minute": minute.isoformat()}, compute)


def flags_of_offers(offer_ids: Iterable[object], now: datetime) -> dict[str, list[Flag]]:
    """Flags of the given offers, exactly as ``market_flags`` gives them, in at most ONE query:
    the market's peer scales (median, scaled MAD per model × tier) are cached per catalogue
    version, so only the given offers are read; when they are not cached yet, the one query reads
    the market, which yields both the scales and the given offers. The result is cached too."""
    minute = now.replace(second=0, microsecond=0)
    ids = sorted({str(k) for k in offer_ids})
    if not ids:
        return {}

    def compute() -> dict[str, list[Flag]]:
        market: list[MarketRow] = []

        def scan() -> dict[Any, RobustScale]:
            market.extend(market_rows())
            return group_scales(price_point(row) for row in market)

        scales = cached("peer_scales", {}, scan)
        wanted = set(ids)
        if market:
            rows = [row for row in market if str(row.offer_id) in wanted]
        else:
            rows = market_rows(GPUOffer.objects.filter(pk__in=ids))
        points = [price_point(row) for row in rows]
        found = flag_points(points, rules=config.anomaly_rules(), now=minute, scales=scales)
        return {str(k): v for k, v in found.items()}

    # A page asked again (same catalogue version, same minute) costs no query at all.
    return cached("offer_flags", {"minute": minute.isoformat(), "ids": ids}, compute)


def model_scales(rows: Iterable[MarketRow]) -> dict[Any, Any]:
    return group_scales(price_point(row) for row in rows)


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
