"""Grounding checks shared by the local and remote tests: every money amount an answer may state,
recomputed from the database and the services independently of the assistant's own grounding."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from apps.math_core import limits, workloads
from apps.providers.models import GPUOffer
from apps.providers.offer_filters import OfferFilters

MONEY = re.compile(r"\$(\d+(?:\.\d+)?)")


def _shown(value: Decimal, figure: str) -> bool:
    decimals = len(figure.split(".")[1]) if "." in figure else 0
    step = Decimal(1).scaleb(-decimals)
    return value.quantize(step, rounding=ROUND_HALF_UP) == Decimal(figure)


def catalogue_figures(answer: dict[str, Any]) -> set[Decimal]:
    """Every money amount the answer may state, recomputed here from the database and the
    services (independently of the assistant's own grounding code): the cited offers' prices
    as stored, the total costs the estimate service gives for the recorded tool arguments,
    and the price-history rows of the GPU for trends."""
    from apps.providers.models import PriceHistory

    allowed: set[Decimal] = set()
    for offer in answer["offers"]:
        row = GPUOffer.objects.get(pk=offer["offer_id"])
        assert Decimal(offer["price_per_hour"]) == row.price_per_hour
        allowed.update((row.price_per_hour, row.price_per_gpu_hour))
    for call in answer["tool_calls"]:
        assert call["ok"], call
        args = call["arguments"]
        if call["name"] in ("estimate_workload", "compare_gpus", "recommend_offers"):
            workload = args.get("workload")
            if workload is None:
                continue
            names = args.get("gpu_models")
            filters = OfferFilters(
                **(args.get("filter") or {}), availability=["available", "limited"]
            )
            if names:
                filters = OfferFilters(
                    gpu_model=names or None, availability=["available", "limited"]
                )
            estimate = workloads.estimate_workload(
                workload=workloads.build_workload(**workload),
                offer_filter=filters,
                limit=limits.MAX_ESTIMATED_OFFERS,
            )
            allowed.update(o.total_cost for o in estimate.offers if o.total_cost is not None)
        if call["name"] == "gpu_kpis":
            allowed.update(kpi_figures(args))
        if call["name"] == "price_trend":
            history = PriceHistory.objects.filter(offer__gpu_type__startswith=args["gpu"])
            for change in history.select_related("offer"):
                allowed.add(change.price_per_hour / change.offer.gpu_count)
    return allowed


def kpi_figures(args: dict[str, Any]) -> set[Decimal]:
    """Every money amount of the KPI engine's own result for the tool's arguments."""
    from apps.kpi import services as kpi

    metrics = kpi.gpu_metrics(
        args["gpu_model"], tier=args.get("tier"), bucket=args.get("bucket", "day")
    )
    stats = [metrics.price, *(g.price for g in metrics.by_provider)]
    amounts = [getattr(s, f) for s in stats for f in ("min", "p25", "median", "p75", "max")]
    amounts += [t.median_then for t in metrics.trends] + [t.median_now for t in metrics.trends]
    amounts += [p.median for p in metrics.series]
    amounts += [metrics.cost_per_million_tokens, metrics.cost_per_tflop_hour]
    return {a for a in amounts if a is not None}


def assert_grounded(answer: dict[str, Any]) -> None:
    allowed = catalogue_figures(answer)
    for figure in MONEY.findall(answer["text"]):
        assert any(_shown(a, figure) for a in allowed), (figure, answer["text"])
