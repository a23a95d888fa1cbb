"""REST: market intelligence under ``/api/v2/kpi/`` — the seed's four KPI paths plus the price
index, thin over the KPI engine (``apps.kpi.services``, the functions GraphQL calls too).

* ``GET /kpi/overview``
* ``GET /kpi/gpu/{gpu_type}?tier=on_demand|spot&bucket=day|hour``
* ``GET /kpi/provider/{name}``
* ``GET /kpi/insights/market?window=24h|7d|30d``
* ``GET /kpi/index/{gpu_type}?tier=on_demand|spot&bucket=day|hour&from=&to=``

Responses are the engine's result types (money as 4-dp decimal strings, undefined statistics
null). An unknown GPU or provider is a 404 envelope; a bad window, tier, bucket or range is a 422
envelope naming the parameter.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from apps.kpi import results, services

from .envelope import enforced_by_service

router = Router()


TIERS = enforced_by_service(enum=["on_demand", "spot"])
BUCKETS = enforced_by_service(enum=["day", "hour"])
Moment = Annotated[
    str, WithJsonSchema({"anyOf": [{"format": "date"}, {"format": "date-time"}], "type": "string"})
]
RANGE_RULE = "from must not be after to; at most 400 days (day) or 14 days (hour) apart"


class GpuQuery(Schema):
    tier: str | None = Field(None, json_schema_extra=TIERS)
    bucket: str = Field("day", json_schema_extra=BUCKETS)


class InsightsQuery(Schema):
    window: str = Field("24h", json_schema_extra=enforced_by_service(enum=list(services.WINDOWS)))


class IndexQuery(Schema):
    tier: str = Field("on_demand", json_schema_extra=TIERS)
    bucket: str = Field("day", json_schema_extra=BUCKETS)
    from_: Moment | None = Field(
        None, alias="from", description=f"ISO date or time (period start); {RANGE_RULE}."
    )
    to: Moment | None = Field(None, description="ISO date or time (period start).")


@router.get("/overview", response=results.Overview, summary="KPI overview")
def overview(request: HttpRequest) -> Any:
    return services.overview()


@router.get("/gpu/{gpu_type}", response=results.GpuMetrics, summary="GPU metrics")
def gpu_metrics(request: HttpRequest, gpu_type: str, query: Query[GpuQuery]) -> Any:
    return services.gpu_metrics(gpu_type, tier=query.tier, bucket=query.bucket)


@router.get("/provider/{name}", response=results.ProviderKpis, summary="Provider KPIs")
def provider_kpis(request: HttpRequest, name: str) -> Any:
    return services.provider_kpis(name)


@router.get("/insights/market", response=results.MarketInsights, summary="Market insights")
def market_insights(request: HttpRequest, query: Query[InsightsQuery]) -> Any:
    return services.market_insights(query.window)


@router.get("/index/{gpu_type}", response=results.PriceIndexSeries, summary="Price index")
def price_index(request: HttpRequest, gpu_type: str, query: Query[IndexQuery]) -> Any:
    return services.price_index(
        gpu_type, tier=query.tier, bucket=query.bucket, start=query.from_, end=query.to
    )
