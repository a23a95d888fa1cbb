"""The ``gpu_kpis`` tool: a GPU model's market KPIs from the KPI engine (``apps.kpi.services.
gpu_metrics``, the function ``GET /api/v2/kpi/gpu/{gpu_type}`` and GraphQL ``gpuKpis`` call).

Its input model is derived from the engine's own signature (``gpu_model``, ``tier``, ``bucket``:
the same names and defaults; the choice parameters typed by the engine's choices ``Tier`` and
``Granularity``), so the JSON schema an agent sees cannot drift from the service. The engine
validates again (unknown GPU: ``NotFound``; bad tier or bucket: ``ValidationFailed``).

The answer is the engine's result made compact for a model: the per-GPU-hour price
distribution (price anomalies left out, as the engine does), the trends over 24 h, 7 d and 30 d
(median then and now, change, the chained price index's change and volatility where the index
exists), a summary of the stored index series, the cheapest providers, and the cheapest listed
offers of the model as catalogue citations. Money keys name themselves (``*_price_*``) so the
grounding check accepts exactly these figures."""

from __future__ import annotations

import inspect
import typing
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from apps.kpi import services as kpi
from apps.kpi.models import Granularity, Tier
from apps.kpi.results import GpuMetrics, Trend
from apps.providers.offer_filters import OfferFilters

from .citations import OfferCitation
from .tool_handlers import OPEN_AVAILABILITY, ToolOutput, _limit, _search

if TYPE_CHECKING:
    from .tools import ToolContext

#: Engine parameters that are not inputs (the moment of evaluation is always "now").
COMPUTED_PARAMETERS = frozenset({"now"})
#: The engine's choice parameters and the choices they take.
CHOICES: dict[str, type[Tier] | type[Granularity]] = {"tier": Tier, "bucket": Granularity}
DESCRIPTIONS = {
    "gpu_model": "A GPU model or family in any spelling ('H100' covers SXM, PCIe and NVL; "
    "'H100 PCIe' only that variant).",
    "tier": "on_demand or spot; both when omitted.",
    "bucket": "Granularity of the price-index series summary: day or hour.",
}
MAX_PROVIDERS = 8
CHEAPEST_OFFERS = 3


def _choice_type(choices: type[Tier] | type[Granularity]) -> Any:
    return Literal[tuple(choices.values)]


def kpi_arguments() -> type[BaseModel]:
    """The tool's input, built parameter by parameter from ``kpi.gpu_metrics``'s signature."""
    hints = typing.get_type_hints(kpi.gpu_metrics)
    spec: dict[str, Any] = {}
    for name, parameter in inspect.signature(kpi.gpu_metrics).parameters.items():
        if name in COMPUTED_PARAMETERS:
            continue
        kind = hints[name]
        if name in CHOICES:
            choice = _choice_type(CHOICES[name])
            kind = choice | None if type(None) in typing.get_args(kind) else choice
        required = parameter.default is inspect.Parameter.empty
        default = ... if required else parameter.default
        constraints: dict[str, Any] = {"description": DESCRIPTIONS.get(name)}
        if kind is str:
            constraints.update(min_length=1, max_length=100)
        spec[name] = (kind, Field(default, **constraints))
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "GpuKpisArgs", __config__=ConfigDict(extra="forbid"), **spec
    )
    return model


GpuKpisArgs = kpi_arguments()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _trend(trend: Trend) -> dict[str, Any]:
    return {
        "window": trend.window,
        "median_price_then": _money(trend.median_then),
        "median_price_now": _money(trend.median_now),
        "change_percent": _pct(trend.change_percent),
        "index_change_percent": _pct(trend.index_change_percent),
        "volatility_percent": _pct(trend.volatility_percent),
    }


def _index_summary(metrics: GpuMetrics) -> dict[str, Any] | None:
    series = metrics.series
    if not series:
        return None
    first, last = series[0], series[-1]
    return {
        "bucket": metrics.series_bucket,
        "periods": len(series),
        "first_period_start": first.period_start.isoformat(),
        "first_index_value": round(first.index_value, 2),
        "last_period_start": last.period_start.isoformat(),
        "last_index_value": round(last.index_value, 2),
        "last_median_price_per_gpu_hour": _money(last.median),
    }


def _providers(metrics: GpuMetrics) -> list[dict[str, Any]]:
    groups = [g for g in metrics.by_provider if g.price.median is not None]
    groups.sort(key=lambda g: (g.price.median, g.key))
    return [
        {
            "provider": g.key,
            "offers": g.price.count,
            "median_price_per_gpu_hour": _money(g.price.median),
            "min_price_per_gpu_hour": _money(g.price.min),
        }
        for g in groups[:MAX_PROVIDERS]
    ]


def _cheapest(metrics: GpuMetrics, tier: str | None, limit: int) -> list[OfferCitation]:
    """The cheapest listed offers of the engine's scope (its variants, its tier)."""
    filters = OfferFilters(
        gpu_model=list(metrics.variants),
        availability=OPEN_AVAILABILITY,
        is_spot=None if tier is None else tier == Tier.SPOT,
    )
    return [OfferCitation.of(row) for row in _search(filters, "price_per_gpu_hour", limit).rows]


def gpu_kpis(args: BaseModel, context: ToolContext) -> ToolOutput:
    values = args.model_dump()
    metrics = kpi.gpu_metrics(values.pop("gpu_model"), **values)
    price = metrics.price
    cheapest = _cheapest(metrics, metrics.tier, _limit(CHEAPEST_OFFERS, context))
    data = {
        "gpu_model": metrics.gpu_model,
        "variants": list(metrics.variants),
        "tier": metrics.tier or "all",
        "as_of": metrics.as_of.isoformat(),
        "offer_count": metrics.offer_count,
        "listed_count": metrics.listed_count,
        "available_count": metrics.available_count,
        "excluded_price_anomalies": metrics.excluded_anomalies,
        "min_price_per_gpu_hour": _money(price.min),
        "p25_price_per_gpu_hour": _money(price.p25),
        "median_price_per_gpu_hour": _money(price.median),
        "p75_price_per_gpu_hour": _money(price.p75),
        "max_price_per_gpu_hour": _money(price.max),
        "availability_ratio": None
        if metrics.availability_ratio is None
        else round(metrics.availability_ratio, 3),
        "spot_discount_percent": _pct(metrics.spot_discount_percent),
        "cost_per_million_tokens_at_median_price": _money(metrics.cost_per_million_tokens),
        "cost_per_tflop_hour_at_median_price": _money(metrics.cost_per_tflop_hour),
        "trends": [_trend(t) for t in metrics.trends],
        "price_index": _index_summary(metrics),
        "cheapest_providers": _providers(metrics),
        "cheapest_offers": [o.as_json() for o in cheapest],
    }
    return ToolOutput(data, [o.offer_id for o in cheapest])
