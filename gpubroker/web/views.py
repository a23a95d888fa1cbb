"""The landing page at ``/``: what GPUBROKER is, where its interfaces are, and a live market
snapshot (most-offered GPU models with their cheapest offers, and a server-rendered SVG chart of
one model's price series from the KPI engine). Plain HTML that works without scripts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from apps.providers.snapshot import most_offered_models

from .charts import ChartPoint, price_chart_svg

#: Seconds between the page's own refreshes (a meta refresh: live without JavaScript).
LANDING_REFRESH_SECONDS = 60


def graphiql_enabled() -> bool:
    return bool(getattr(settings, "GRAPHQL_GRAPHIQL", settings.DEBUG))


def price_series(gpu_model: str) -> list[ChartPoint]:
    """The chart-ready hourly price series of ``gpu_model`` from the KPI engine (median per
    GPU-hour with the min–max band of each stored index period); empty while the engine has
    none (the page then says there is no KPI data yet — nothing is made up)."""
    from apps.core.errors import DomainError
    from apps.kpi.services import gpu_metrics

    try:
        kpis = gpu_metrics(gpu_model, bucket="hour")
    except DomainError:
        return []
    return [
        ChartPoint(point.period_start, point.median, point.min, point.max)
        for point in kpis.series
        if point.median is not None
    ]


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    models = most_offered_models(limit=6)
    chart_model = models[0].gpu_model if models else None
    series = price_series(chart_model) if chart_model else []
    context: dict[str, Any] = {
        "models": models,
        "chart_model": chart_model,
        "chart": price_chart_svg(series, title=f"{chart_model} median price per GPU-hour")
        if series
        else None,
        "graphiql_enabled": graphiql_enabled(),
        "admin_enabled": True,
        "as_of": timezone.now(),
        "refresh_seconds": LANDING_REFRESH_SECONDS,
    }
    return render(request, "web/landing.html", context)
