"""GraphQL: market intelligence — ``kpiOverview``, ``gpuKpis``, ``providerKpis``,
``marketInsights`` and ``priceIndex`` — thin over the KPI engine (``apps.kpi.services``, the
functions REST calls too). Every field here is **public catalogue data** (the same for every
caller), so a shared cache may store it.

Types mirror the engine's result dataclasses field by field (resolved by attribute); money is
``Decimal`` (4 dp) and undefined statistics are null. Unknown GPU / provider names return
``NotFoundError``; a bad date range returns ``KpiError`` naming ``from``/``to``; windows, tiers
and buckets are enums, so GraphQL validation rejects anything else.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from apps.core.errors import NotFound, ValidationFailed
from apps.kpi import results, services
from apps.kpi.errors import KpiErrorCode as KpiCodes
from apps.kpi.models import Granularity
from apps.math_core.algorithms.gpu_names import FAMILIES, MODELS

from . import cost
from .errors import NotFoundError
from .kpi_flags import AnomalyCode, OfferFlag
from .offer_links import linked_offer, register_offers
from .privacy import PUBLIC
from .providers import GPUOfferType


@strawberry.enum(description="Time window of trends and market insights.")
class KpiWindow(Enum):
    H24 = "24h"
    D7 = "7d"
    D30 = "30d"


@strawberry.enum(description="Price tier: on-demand or spot / interruptible.")
class PriceTier(Enum):
    ON_DEMAND = "on_demand"
    SPOT = "spot"


@strawberry.enum(description="Period length of a series: an hour or a UTC day.")
class SeriesBucket(Enum):
    HOUR = "hour"
    DAY = "day"


#: List sizes for the query-cost model (schema/cost.py): the most items each list can hold.
MAX_MODELS = len(MODELS)  # canonical GPU models the normaliser knows
MAX_VARIANTS = max(len(members) for members in FAMILIES.values())
MAX_PROVIDERS = 50  # providers (the registry has five adapters)
MAX_REGIONS = 200  # countries and provider regions of one GPU model
INSIGHT_ROWS = 10  # KPI_INSIGHT_LIMIT's default

KpiErrorCode = strawberry.enum(KpiCodes, description="What went wrong with a KPI request.")


@strawberry.type(description="A problem with one argument of a KPI query.", directives=[PUBLIC])
class KpiError:
    field: str | None
    message: str
    code: KpiErrorCode  # type: ignore[valid-type]

    @classmethod
    def from_domain(cls, exc: ValidationFailed) -> KpiError:
        reason = exc.reason if isinstance(exc.reason, KpiCodes) else KpiCodes.VALIDATION_ERROR
        return cls(field=exc.field, message=exc.message, code=reason)


def _dataclass_type(kind: type) -> Any:
    """``is_type_of`` for a union member backed by an engine dataclass."""
    return classmethod(lambda cls, obj, info: isinstance(obj, kind))


@strawberry.type(
    description="Per-GPU-hour price distribution (USD; numpy linear percentiles).",
    directives=[PUBLIC],
)
class PriceStats:
    count: int
    min: Decimal | None
    p25: Decimal | None
    median: Decimal | None
    p75: Decimal | None
    max: Decimal | None
    mean: Decimal | None


@strawberry.type(
    description="An offer as a KPI saw it, with a link to the live offer.", directives=[PUBLIC]
)
class KpiOffer:
    offer_id: strawberry.ID
    provider: str
    gpu_model: str
    gpu_count: int
    price_per_hour: Decimal
    price_per_gpu_hour: Decimal
    region: str
    country: str
    is_spot: bool
    availability_status: str

    @strawberry.field(description="The catalogue offer (null when it no longer exists).")
    def offer(self, info: Info) -> GPUOfferType | None:
        return linked_offer(info, self.offer_id)  # type: ignore[return-value]


@strawberry.type(description="A provider's last successful sync and its age.", directives=[PUBLIC])
class ProviderFreshness:
    provider: str
    display_name: str
    last_sync_at: datetime | None
    age_seconds: float | None
    stale: bool


@strawberry.type(directives=[PUBLIC])
class GpuModelOverview:
    gpu_model: str
    offer_count: int
    available_count: int
    min_price_per_gpu_hour: Decimal | None
    median_price_per_gpu_hour: Decimal | None
    change_24h_percent: float | None
    cheapest_available: KpiOffer | None


@strawberry.type(description="The market at a glance.", directives=[PUBLIC])
class KpiOverview:
    as_of: datetime
    offers_total: int
    offers_available: int
    active_providers: int
    gpu_model_count: int
    gpu_models: list[GpuModelOverview] = strawberry.field(metadata=cost.list_size(MAX_MODELS))
    freshness: list[ProviderFreshness] = strawberry.field(metadata=cost.list_size(MAX_PROVIDERS))
    stale_after_seconds: float


@strawberry.type(directives=[PUBLIC])
class GroupPriceStats:
    key: str
    price: PriceStats


@strawberry.type(
    description="Change of the median and of the chained index over a window.", directives=[PUBLIC]
)
class PriceTrend:
    window: str
    median_then: Decimal | None
    median_now: Decimal | None
    change_percent: float | None
    index_change_percent: float | None
    volatility_percent: float | None


@strawberry.type(description="One chart point: a stored index period.", directives=[PUBLIC])
class SeriesPoint:
    period_start: datetime
    median: Decimal | None
    min: Decimal | None
    max: Decimal | None
    offer_count: int
    index_value: float


@strawberry.type(description="KPIs of one GPU model.", directives=[PUBLIC])
class GpuKpis:
    gpu_model: str = strawberry.field(description="The model, or the family asked for.")
    variants: list[str] = strawberry.field(
        description="Canonical models covered.", metadata=cost.list_size(MAX_VARIANTS)
    )
    tier: str | None
    as_of: datetime
    offer_count: int
    listed_count: int
    available_count: int
    excluded_anomalies: int
    price: PriceStats
    by_provider: list[GroupPriceStats] = strawberry.field(metadata=cost.list_size(MAX_PROVIDERS))
    by_region: list[GroupPriceStats] = strawberry.field(metadata=cost.list_size(MAX_REGIONS))
    availability_ratio: float | None
    spot_discount_percent: float | None
    cost_per_million_tokens: Decimal | None
    cost_per_tflop_hour: Decimal | None
    trends: list[PriceTrend] = strawberry.field(metadata=cost.list_size(len(services.WINDOWS)))
    series_bucket: str
    series: list[SeriesPoint] = strawberry.field(
        metadata=cost.list_size(max(services.SERIES_PERIODS.values()))
    )
    is_type_of = _dataclass_type(results.GpuMetrics)


@strawberry.type(directives=[PUBLIC])
class ModelPriceRatio:
    gpu_model: str
    tier: str
    offers: int
    provider_median: Decimal | None
    market_median: Decimal | None
    ratio: float | None


@strawberry.type(description="One provider against the market.", directives=[PUBLIC])
class ProviderKpis:
    name: str
    display_name: str
    as_of: datetime
    offer_count: int
    listed_count: int
    available_count: int
    gpu_models: list[str] = strawberry.field(metadata=cost.list_size(MAX_MODELS))
    price_index_vs_market: float | None
    models: list[ModelPriceRatio] = strawberry.field(metadata=cost.list_size(2 * MAX_MODELS))
    reliability_score: float
    error_count: int
    sync_window_days: float
    syncs_in_window: int
    sync_success_rate: float | None
    last_sync_at: datetime | None
    stale: bool
    availability_ratio: float | None
    is_type_of = _dataclass_type(results.ProviderKpis)


@strawberry.type(directives=[PUBLIC])
class PriceMove:
    offer: KpiOffer
    old_price_per_gpu_hour: Decimal
    new_price_per_gpu_hour: Decimal
    change_percent: float


@strawberry.type(directives=[PUBLIC])
class ValueOffer:
    offer: KpiOffer
    value: Decimal


@strawberry.type(directives=[PUBLIC])
class SupplyChange:
    gpu_model: str
    appeared: int
    vanished: int
    net: int


@strawberry.type(directives=[PUBLIC])
class CheapestRegion:
    gpu_model: str
    region: str
    median_price_per_gpu_hour: Decimal | None
    offer: KpiOffer


@strawberry.type(directives=[PUBLIC])
class OfferAnomaly:
    offer: KpiOffer
    flags: list[OfferFlag] = strawberry.field(metadata=cost.list_size(len(AnomalyCode)))


@strawberry.type(directives=[PUBLIC])
class CodeCount:
    code: str
    count: int


@strawberry.type(description="What moved in the market over a window.", directives=[PUBLIC])
class MarketInsights:
    window: str
    as_of: datetime
    since: datetime
    price_drops: list[PriceMove] = strawberry.field(metadata=cost.list_size(INSIGHT_ROWS))
    price_rises: list[PriceMove] = strawberry.field(metadata=cost.list_size(INSIGHT_ROWS))
    best_value_tokens: list[ValueOffer] = strawberry.field(metadata=cost.list_size(INSIGHT_ROWS))
    best_value_tflops: list[ValueOffer] = strawberry.field(metadata=cost.list_size(INSIGHT_ROWS))
    supply_changes: list[SupplyChange] = strawberry.field(metadata=cost.list_size(MAX_MODELS))
    cheapest_regions: list[CheapestRegion] = strawberry.field(metadata=cost.list_size(MAX_MODELS))
    anomalies: list[OfferAnomaly] = strawberry.field(
        metadata=cost.list_size(INSIGHT_ROWS * services.ANOMALY_ROWS_PER_LIMIT)
    )
    anomaly_counts: list[CodeCount] = strawberry.field(metadata=cost.list_size(len(AnomalyCode)))


@strawberry.type(
    description="Offers left out of one index period, by reason code.", directives=[PUBLIC]
)
class ExclusionCounts:
    price_outlier_high: int
    price_outlier_low: int
    likely_per_node_as_per_gpu: int
    likely_cents_as_dollars: int
    new_offer: int = strawberry.field(description="Listed in this period only: not matched.")
    gone_offer: int = strawberry.field(description="Listed in the previous period only.")


@strawberry.type(
    description="One stored, immutable period of the chained price index.", directives=[PUBLIC]
)
class PriceIndexPoint:
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


@strawberry.type(
    description="The chained Jevons GPU-hour price index of a model and tier.", directives=[PUBLIC]
)
class PriceIndexSeries:
    gpu_model: str
    tier: str
    bucket: str
    methodology: str
    methodology_version: int
    start: datetime
    end: datetime
    points: list[PriceIndexPoint] = strawberry.field(
        metadata=cost.list_size(services.MAX_INDEX_RANGE[Granularity.DAY].days)
    )
    is_type_of = _dataclass_type(results.PriceIndexSeries)


GpuKpisResult = Annotated[GpuKpis | NotFoundError, strawberry.union("GpuKpisResult")]
ProviderKpisResult = Annotated[ProviderKpis | NotFoundError, strawberry.union("ProviderKpisResult")]
PriceIndexResult = Annotated[
    PriceIndexSeries | NotFoundError | KpiError, strawberry.union("PriceIndexResult")
]


def _offer_ids(value: object) -> list[str]:
    """Every ``offer_id`` in an engine result (so linked offers load in one query)."""
    found: list[str] = []
    if isinstance(value, results.OfferRef):
        found.append(value.offer_id)
    elif isinstance(value, list):
        for item in value:
            found.extend(_offer_ids(item))
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            found.extend(_offer_ids(getattr(value, name)))
    return found


def _linked(info: Info, value: Any) -> Any:
    register_offers(info, _offer_ids(value))
    return value


@strawberry.type(directives=[PUBLIC])
class Query:
    @strawberry.field(description="Market overview: totals, per-model prices, freshness. Public.")
    def kpi_overview(self, info: Info) -> KpiOverview:
        return _linked(info, services.overview())  # type: ignore[no-any-return]

    @strawberry.field(
        description="KPIs of one GPU model (any known spelling); both tiers unless tier is "
        "given; series per stored index period (bucket). Public."
    )
    def gpu_kpis(
        self,
        gpu_model: str,
        tier: PriceTier | None = None,
        bucket: SeriesBucket = SeriesBucket.DAY,
    ) -> GpuKpisResult:
        try:
            metrics = services.gpu_metrics(
                gpu_model, tier=tier.value if tier else None, bucket=bucket.value
            )
        except NotFound as exc:
            return NotFoundError.from_domain(exc)
        return metrics  # type: ignore[return-value]

    @strawberry.field(description="One provider's KPIs against the market. Public.")
    def provider_kpis(self, name: str) -> ProviderKpisResult:
        try:
            return services.provider_kpis(name)  # type: ignore[return-value]
        except NotFound as exc:
            return NotFoundError.from_domain(exc)

    @strawberry.field(description="Price moves, best value, supply, regions, anomalies. Public.")
    def market_insights(self, info: Info, window: KpiWindow = KpiWindow.H24) -> MarketInsights:
        return _linked(info, services.market_insights(window.value))  # type: ignore[no-any-return]

    @strawberry.field(
        description="The stored chained Jevons price index of a GPU model (periods whose start "
        "is in [from, to]; default the last 90 days, 7 for hourly). Public."
    )
    def price_index(
        self,
        gpu_model: str,
        tier: PriceTier = PriceTier.ON_DEMAND,
        bucket: SeriesBucket = SeriesBucket.DAY,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> PriceIndexResult:
        try:
            return services.price_index(  # type: ignore[return-value]
                gpu_model, tier=tier.value, bucket=bucket.value, start=from_, end=to
            )
        except NotFound as exc:
            return NotFoundError.from_domain(exc)
        except ValidationFailed as exc:
            return KpiError.from_domain(exc)
