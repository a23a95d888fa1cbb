"""What the recommenders share: the offer fields every answer shows, and storing a run."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from apps.core.errors import ValidationFailed

from .algorithms.workload_mapper import Workload
from .candidates import OfferTable
from .errors import RecommendationErrorCode
from .models import RecommendationRun
from .service_utils import money

MAX_RESULTS = 100


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_RESULTS:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_RESULTS}",
            field="limit",
            reason=RecommendationErrorCode.LIMIT_OUT_OF_RANGE,
        )
    return limit


def store_run(
    *,
    kind: str,
    user: Any,
    workload: Workload | None,
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    candidates: int,
    feasible: bool,
) -> RecommendationRun:
    signed_in = user if user is not None and getattr(user, "is_authenticated", False) else None
    return RecommendationRun.objects.create(
        kind=kind,
        user=signed_in,
        workload_type=workload.workload_type.value if workload else "",
        inputs=inputs,
        outputs=outputs,
        candidate_count=candidates,
        feasible=feasible,
    )


@dataclass(frozen=True)
class AppliedCriterion:
    criterion: str
    weight: float  # normalised
    type: str  # benefit | cost


def applied_criteria(
    criteria: tuple[Any, ...], weights: tuple[float, ...], types: list[str]
) -> list[AppliedCriterion]:
    total = sum(weights)
    return [
        AppliedCriterion(str(getattr(c, "value", c)), w / total, t)
        for c, w, t in zip(criteria, weights, types, strict=True)
    ]


@dataclass(frozen=True)
class OfferSummary:
    offer_id: str
    provider: str
    gpu_type: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    region: str
    country: str
    is_spot: bool
    reliability: float


def offer_summary(table: OfferTable, i: int) -> OfferSummary:
    return OfferSummary(
        offer_id=table.offer_id(i),
        provider=table.provider[i],
        gpu_type=table.gpu_type[i],
        gpu_count=int(table.gpu_count[i]),
        vram_gb=int(table.vram_gb[i]),
        price_per_hour=money(table.price[i]),
        region=table.region[i],
        country=table.country[i],
        is_spot=bool(table.is_spot[i]),
        reliability=float(table.reliability[i]),
    )


def rankable(values: np.ndarray, usable: np.ndarray) -> np.ndarray:
    return usable & np.isfinite(values).all(axis=1) & (values >= 0).all(axis=1)
