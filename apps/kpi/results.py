"""The KPI engine's result types (plain frozen dataclasses: cacheable, shaped by both facades).
Money is ``Decimal`` with 4 decimal places (``None`` when a statistic is undefined, never 0 or
NaN); percentages and ratios are floats."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PriceStats:
    """Per-GPU-hour price distribution (numpy linear percentiles)."""

    count: int
    min: Decimal | None = None
    p25: Decimal | None = None
    median: Decimal | None = None
    p75: Decimal | None = None
    max: Decimal | None = None
    mean: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OfferRef:
    offer_id: str
    provider: str
    gpu_model: str
    gpu_count: int
    price_per_hour: Decimal
    price_per_gpu_hour: Decimal
    region: str
    country: str
    is_spot: bool
    availability_status: str


@dataclass(frozen=True, slots=True)
class ProviderFreshness:
    provider: str
    display_name: str
    last_sync_at: datetime | None
    age_seconds: float | None
    stale: bool


@dataclass(frozen=True, slots=True)
class GpuOverview:
    gpu_model: str
    offer_count: int
    available_count: int
    min_price_per_gpu_hour: Decimal | None
    median_price_per_gpu_hour: Decimal | None
    change_24h_percent: float | None
    cheapest_available: OfferRef | None


@dataclass(frozen=True, slots=True)
class Overview:
    as_of: datetime
    offers_total: int
    offers_available: int
    active_providers: int
    gpu_model_count: int
    gpu_models: list[GpuOverview]
    freshness: list[ProviderFreshness]
    stale_after_seconds: float


@dataclass(frozen=True, slots=True)
class GroupPriceStats:
    key: str
    price: PriceStats


@dataclass(frozen=True, slots=True)
class Trend:
    window: str
    median_then: Decimal | None
    median_now: Decimal | None
    change_percent: float | None
    index_change_percent: float | None
    volatility_percent: float | None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    period_start: datetime
    median: Decimal | None
    min: Decimal | None
    max: Decimal | None
    offer_count: int
    index_value: float


@dataclass(frozen=True, slots=True)
class GpuMetrics:
    gpu_model: str
    variants: list[str]
    tier: str | None
    as_of: datetime
    offer_count: int
    listed_count: int
    available_count: int
    excluded_anomalies: int
    price: PriceStats
    by_provider: list[GroupPriceStats]
    by_region: list[GroupPriceStats]
    availability_ratio: float | None
    spot_discount_percent: float | None
    cost_per_million_tokens: Decimal | None
    cost_per_tflop_hour: Decimal | None
    trends: list[Trend]
    series_bucket: str
    series: list[SeriesPoint]


@dataclass(frozen=True, slots=True)
class ModelPriceRatio:
    gpu_model: str
    tier: str
    offers: int
    provider_median: Decimal | None
    market_median: Decimal | None
    ratio: float | None


@dataclass(frozen=True, slots=True)
class ProviderKpis:
    name: str
    display_name: str
    as_of: datetime
    offer_count: int
    listed_count: int
    available_count: int
    gpu_models: list[str]
    price_index_vs_market: float | None
    models: list[ModelPriceRatio]
    reliability_score: float
    error_count: int
    sync_window_days: float
    syncs_in_window: int
    sync_success_rate: float | None
    last_sync_at: datetime | None
    stale: bool
    availability_ratio: float | None


@dataclass(frozen=True, slots=True)
class FlagOut:
    code: str
    score: float | None
    peer_median: Decimal | None
    ratio: float | None
    detail: str


@dataclass(frozen=True, slots=True)
class PriceMove:
    offer: OfferRef
    old_price_per_gpu_hour: Decimal
    new_price_per_gpu_hour: Decimal
    change_percent: float


@dataclass(frozen=True, slots=True)
class ValueOffer:
    offer: OfferRef
    value: Decimal


@dataclass(frozen=True, slots=True)
class SupplyChange:
    gpu_model: str
    appeared: int
    vanished: int
    net: int


@dataclass(frozen=True, slots=True)
class CheapestRegion:
    gpu_model: str
    region: str
    median_price_per_gpu_hour: Decimal | None
    offer: OfferRef


@dataclass(frozen=True, slots=True)
class AnomalyOut:
    offer: OfferRef
    flags: list[FlagOut]


@dataclass(frozen=True, slots=True)
class CodeCount:
    code: str
    count: int


@dataclass(frozen=True, slots=True)
class MarketInsights:
    window: str
    as_of: datetime
    since: datetime
    price_drops: list[PriceMove]
    price_rises: list[PriceMove]
    best_value_tokens: list[ValueOffer]
    best_value_tflops: list[ValueOffer]
    supply_changes: list[SupplyChange]
    cheapest_regions: list[CheapestRegion]
    anomalies: list[AnomalyOut]
    anomaly_counts: list[CodeCount]


@dataclass(frozen=True, slots=True)
class ExclusionCounts:
    """Offers left out of one index period, by reason code."""

    price_outlier_high: int = 0
    price_outlier_low: int = 0
    likely_per_node_as_per_gpu: int = 0
    likely_cents_as_dollars: int = 0
    new_offer: int = 0
    gone_offer: int = 0

    @classmethod
    def of(cls, counts: dict[str, int]) -> ExclusionCounts:
        return cls(**{code.lower(): int(n) for code, n in counts.items()})


@dataclass(frozen=True, slots=True)
class IndexPoint:
    period_start: datetime
    period_end: datetime
    index_value: float
    relative: float | None
    imputed: bool
    price_level: Decimal | None
    price_min: Decimal | None
    price_max: Decimal | None
    offer_count: int
    matched_offers: int
    provider_count: int
    exclusions: ExclusionCounts
    input_hash: str


@dataclass(frozen=True, slots=True)
class PriceIndexSeries:
    gpu_model: str
    tier: str
    bucket: str
    methodology: str
    methodology_version: int
    start: datetime
    end: datetime
    points: list[IndexPoint] = field(default_factory=list)
