"""GraphQL: market intelligence — ``kpiOverview``, ``gpuKpis``, ``providerKpis``,
``marketInsights`` and ``priceIndex`` — thin over the KPI engine (``apps.kpi.services``, the
functions REST calls too). Every field here is **public catalogue data** (the same for every
caller), so a shared cache may store it.

Types mirror the engine's result dataclasses (``schema/derived.py``: their fields and types come
from ``apps/kpi/results.py``, resolved by attribute); money is
``Decimal`` (4 dp) and undefined statistics are null. Unknown GPU / provider names return
``NotFoundError``; a bad date range returns ``KpiError`` naming ``from``/``to``; windows, tiers
and buckets are enums, so GraphQL validation rejects anything else.
"""

from __future__ import annotations

from datetime import datetime
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
from .derived import mirrors
from .errors import NotFoundError
from .kpi_flags import AnomalyCode
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


@strawberry.type(
    description="Per-GPU-hour price distribution (USD; numpy linear percentiles).",
    directives=[PUBLIC],
)
@mirrors(results.PriceStats)
class PriceStats:
    pass


@strawberry.type(
    description="An offer as a KPI saw it, with a link to the live offer.", directives=[PUBLIC]
)
@mirrors(results.OfferRef)
class KpiOffer:
    offer_id: strawberry.ID

    @strawberry.field(description="The catalogue offer (null when it no longer exists).")
    def offer(self, info: Info) -> GPUOfferType | None:
        return linked_offer(info, self.offer_id)  # type: ignore[return-value]


@strawberry.type(description="A provider's last successful sync and its age.", directives=[PUBLIC])
@mirrors(results.ProviderFreshness)
class ProviderFreshness:
    pass


@strawberry.type(directives=[PUBLIC])
@mirrors(results.GpuOverview)
class GpuModelOverview:
    pass


@strawberry.type(description="The market at a glance.", directives=[PUBLIC])
@mirrors(results.Overview)
class KpiOverview:
    gpu_models = strawberry.field(metadata=cost.list_size(MAX_MODELS))
    freshness = strawberry.field(metadata=cost.list_size(MAX_PROVIDERS))


@strawberry.type(directives=[PUBLIC])
@mirrors(results.GroupPriceStats)
class GroupPriceStats:
    pass


@strawberry.type(
    description="Change of the median and of the chained index over a window.", directives=[PUBLIC]
)
@mirrors(results.Trend)
class PriceTrend:
    pass


@strawberry.type(description="One chart point: a stored index period.", directives=[PUBLIC])
@mirrors(results.SeriesPoint)
class SeriesPoint:
    pass


@strawberry.type(description="KPIs of one GPU model.", directives=[PUBLIC])
@mirrors(results.GpuMetrics, union_member=True)
class GpuKpis:
    gpu_model = strawberry.field(description="The model, or the family asked for.")
    variants = strawberry.field(
        description="Canonical models covered.", metadata=cost.list_size(MAX_VARIANTS)
    )
    by_provider = strawberry.field(metadata=cost.list_size(MAX_PROVIDERS))
    by_region = strawberry.field(metadata=cost.list_size(MAX_REGIONS))
    trends = strawberry.field(metadata=cost.list_size(len(services.WINDOWS)))
    series = strawberry.field(metadata=cost.list_size(max(services.SERIES_PERIODS.values())))


@strawberry.type(directives=[PUBLIC])
@mirrors(results.ModelPriceRatio)
class ModelPriceRatio:
    pass


@strawberry.type(description="One provider against the market.", directives=[PUBLIC])
@mirrors(results.ProviderKpis, union_member=True)
class ProviderKpis:
    gpu_models = strawberry.field(metadata=cost.list_size(MAX_MODELS))
    models = strawberry.field(metadata=cost.list_size(2 * MAX_MODELS))


@strawberry.type(directives=[PUBLIC])
@mirrors(results.PriceMove)
class PriceMove:
    pass


@strawberry.type(directives=[PUBLIC])
@mirrors(results.ValueOffer)
class ValueOffer:
    pass


@strawberry.type(directives=[PUBLIC])
@mirrors(results.SupplyChange)
class SupplyChange:
    pass


@strawberry.type(directives=[PUBLIC])
@mirrors(results.CheapestRegion)
class CheapestRegion:
    pass


@strawberry.type(directives=[PUBLIC])
@mirrors(results.AnomalyOut)
class OfferAnomaly:
    flags = strawberry.field(metadata=cost.list_size(len(AnomalyCode)))


@strawberry.type(directives=[PUBLIC])
@mirrors(results.CodeCount)
class CodeCount:
    pass


@strawberry.type(description="What moved in the market over a window.", directives=[PUBLIC])
@mirrors(results.MarketInsights)
class MarketInsights:
    price_drops = strawberry.field(metadata=cost.list_size(INSIGHT_ROWS))
    price_rises = strawberry.field(metadata=cost.list_size(INSIGHT_ROWS))
    best_value_tokens = strawberry.field(metadata=cost.list_size(INSIGHT_ROWS))
    best_value_tflops = strawberry.field(metadata=cost.list_size(INSIGHT_ROWS))
    supply_changes = strawberry.field(metadata=cost.list_size(MAX_MODELS))
    cheapest_regions = strawberry.field(metadata=cost.list_size(MAX_MODELS))
    anomalies = strawberry.field(
        metadata=cost.list_size(INSIGHT_ROWS * services.ANOMALY_ROWS_PER_LIMIT)
    )
    anomaly_counts = strawberry.field(metadata=cost.list_size(len(AnomalyCode)))


@strawberry.type(
    description="Offers left out of one index period, by reason code.", directives=[PUBLIC]
)
@mirrors(results.ExclusionCounts)
class ExclusionCounts:
    new_offer = strawberry.field(description="Listed in this period only: not matched.")
    gone_offer = strawberry.field(description="Listed in the previous period only.")


@strawberry.type(
    description="One stored, immutable period of the chained price index.", directives=[PUBLIC]
)
@mirrors(results.IndexPoint)
class PriceIndexPoint:
    pass


@strawberry.type(
    description="The chained Jevons GPU-hour price index of a model and tier.", directives=[PUBLIC]
)
@mirrors(results.PriceIndexSeries, union_member=True)
class PriceIndexSeries:
    points = strawberry.field(
        metadata=cost.list_size(services.MAX_INDEX_RANGE[Granularity.DAY].days)
    )


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
