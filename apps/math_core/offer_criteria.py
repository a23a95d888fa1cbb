"""The criteria offers can be ranked on (TOPSIS over offers, the ensemble's TOPSIS part).

Each criterion has a fixed direction (a price is always a cost, VRAM always a benefit) and reads
one column of an ``OfferTable`` — or, for the workload criteria, of the workload's per-offer
estimates. Offers without the data a criterion needs (no benchmark) are left out of a ranking
and counted, never given a made-up value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from apps.core.errors import ValidationFailed

from .algorithms.gpu_spec import Precision
from .algorithms.workload_costing import Estimates
from .candidates import OfferTable
from .errors import RecommendationErrorCode


class OfferCriterion(StrEnum):
    PRICE_PER_HOUR = "price_per_hour"
    PRICE_PER_GPU_HOUR = "price_per_gpu_hour"
    TOTAL_VRAM_GB = "total_vram_gb"
    VRAM_PER_GPU_GB = "vram_per_gpu_gb"
    GPU_COUNT = "gpu_count"
    TOTAL_TFLOPS = "total_tflops"
    MEMORY_BANDWIDTH_GBPS = "memory_bandwidth_gbps"
    TOKENS_PER_SECOND = "tokens_per_second"
    COST_PER_MILLION_TOKENS = "cost_per_million_tokens"
    COST_PER_TFLOP_HOUR = "cost_per_tflop_hour"
    RELIABILITY = "reliability"
    TOTAL_COST = "total_cost"
    DURATION_HOURS = "duration_hours"
    THROUGHPUT = "throughput"


COST_CRITERIA = frozenset(
    {
        OfferCriterion.PRICE_PER_HOUR,
        OfferCriterion.PRICE_PER_GPU_HOUR,
        OfferCriterion.COST_PER_MILLION_TOKENS,
        OfferCriterion.COST_PER_TFLOP_HOUR,
        OfferCriterion.TOTAL_COST,
        OfferCriterion.DURATION_HOURS,
    }
)
WORKLOAD_CRITERIA = frozenset(
    {OfferCriterion.TOTAL_COST, OfferCriterion.DURATION_HOURS, OfferCriterion.THROUGHPUT}
)
BENCHMARK_CRITERIA = frozenset(
    {
        OfferCriterion.TOTAL_TFLOPS,
        OfferCriterion.MEMORY_BANDWIDTH_GBPS,
        OfferCriterion.TOKENS_PER_SECOND,
        OfferCriterion.COST_PER_MILLION_TOKENS,
        OfferCriterion.COST_PER_TFLOP_HOUR,
    }
)
INVALID = RecommendationErrorCode.INVALID_CRITERIA
MAX_CRITERIA = 14

DEFAULT_CRITERIA: tuple[tuple[OfferCriterion, float], ...] = (
    (OfferCriterion.PRICE_PER_HOUR, 0.35),
    (OfferCriterion.TOTAL_TFLOPS, 0.25),
    (OfferCriterion.TOTAL_VRAM_GB, 0.15),
    (OfferCriterion.MEMORY_BANDWIDTH_GBPS, 0.10),
    (OfferCriterion.RELIABILITY, 0.15),
)
DEFAULT_WORKLOAD_CRITERIA: tuple[tuple[OfferCriterion, float], ...] = (
    (OfferCriterion.TOTAL_COST, 0.45),
    (OfferCriterion.DURATION_HOURS, 0.30),
    (OfferCriterion.RELIABILITY, 0.15),
    (OfferCriterion.TOTAL_VRAM_GB, 0.10),
)


@dataclass(frozen=True)
class CriteriaChoice:
    criteria: tuple[OfferCriterion, ...]
    weights: tuple[float, ...]

    @property
    def types(self) -> list[str]:
        return ["cost" if c in COST_CRITERIA else "benefit" for c in self.criteria]

    @property
    def needs_benchmark(self) -> bool:
        return any(c in BENCHMARK_CRITERIA for c in self.criteria)


def choose_criteria(
    given: Sequence[tuple[str, float]] | None, *, with_workload: bool
) -> CriteriaChoice:
    pairs: Sequence[tuple[str | OfferCriterion, float]]
    if not given:
        pairs = DEFAULT_WORKLOAD_CRITERIA if with_workload else DEFAULT_CRITERIA
    else:
        pairs = given
    if len(pairs) > MAX_CRITERIA:
        raise ValidationFailed(f"at most {MAX_CRITERIA} criteria", field="criteria", reason=INVALID)
    criteria: list[OfferCriterion] = []
    weights: list[float] = []
    for name, weight in pairs:
        try:
            criterion = OfferCriterion(str(name).lower())
        except ValueError:
            allowed = ", ".join(c.value for c in OfferCriterion)
            raise ValidationFailed(
                f"unknown criterion {name!r}; one of {allowed}", field="criteria", reason=INVALID
            ) from None
        if criterion in criteria:
            raise ValidationFailed(
                f"criterion {criterion.value} given twice", field="criteria", reason=INVALID
            )
        if criterion in WORKLOAD_CRITERIA and not with_workload:
            raise ValidationFailed(
                f"criterion {criterion.value} needs a workload", field="criteria", reason=INVALID
            )
        if not (isinstance(weight, int | float) and np.isfinite(weight) and weight > 0):
            raise ValidationFailed(
                "criterion weights must be positive numbers", field="weights", reason=INVALID
            )
        criteria.append(criterion)
        weights.append(float(weight))
    return CriteriaChoice(tuple(criteria), tuple(weights))


def criterion_values(
    table: OfferTable,
    criterion: OfferCriterion,
    *,
    precision: Precision = Precision.FP16,
    estimates: Estimates | None = None,
) -> np.ndarray:
    """The criterion's value for every offer of ``table`` (NaN where it cannot be known)."""
    count = table.gpu_count.astype(np.float64)
    price = table.price_per_hour
    with np.errstate(divide="ignore", invalid="ignore"):
        if criterion is OfferCriterion.PRICE_PER_HOUR:
            return price
        if criterion is OfferCriterion.PRICE_PER_GPU_HOUR:
            return price / count
        if criterion is OfferCriterion.TOTAL_VRAM_GB:
            return table.vram_gb * count
        if criterion is OfferCriterion.VRAM_PER_GPU_GB:
            return table.vram_gb
        if criterion is OfferCriterion.GPU_COUNT:
            return count
        if criterion is OfferCriterion.TOTAL_TFLOPS:
            return table.compute_tflops(precision) * count
        if criterion is OfferCriterion.MEMORY_BANDWIDTH_GBPS:
            return table.bandwidth_gbps * count
        if criterion is OfferCriterion.TOKENS_PER_SECOND:
            return table.tokens_per_second_7b * count
        if criterion is OfferCriterion.COST_PER_MILLION_TOKENS:
            return price / (table.tokens_per_second_7b * count * 3600.0) * 1e6
        if criterion is OfferCriterion.COST_PER_TFLOP_HOUR:
            return price / (table.compute_tflops(precision) * count)
        if criterion is OfferCriterion.RELIABILITY:
            return table.reliability
        if estimates is None:
            raise ValidationFailed(
                f"criterion {criterion.value} needs a workload", field="criteria"
            )
        if criterion is OfferCriterion.TOTAL_COST:
            assert estimates.total_cost is not None
            return estimates.total_cost
        if criterion is OfferCriterion.DURATION_HOURS:
            return estimates.duration_hours
        return estimates.throughput


def criteria_matrix(
    table: OfferTable,
    choice: CriteriaChoice,
    *,
    precision: Precision = Precision.FP16,
    estimates: Estimates | None = None,
) -> np.ndarray:
    """(m, n) matrix of criterion values; rows with a NaN/inf value cannot be ranked."""
    columns = [
        criterion_values(table, c, precision=precision, estimates=estimates)
        for c in choice.criteria
    ]
    return np.column_stack(columns) if columns else np.zeros((len(table), 0))


class ExclusionReason(StrEnum):
    """Why candidate offers were left out of a ranking: the keys of a result's ``excluded``."""

    MISSING_DATA = "missing_data"
    NO_BENCHMARK = "no_benchmark"
    INSUFFICIENT_MEMORY = "insufficient_memory"
    DEADLINE = "deadline"
    BUDGET = "budget"


def rankable(values: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Rows that can be ranked: usable, with a finite, non-negative value on every criterion."""
    return usable & np.isfinite(values).all(axis=1) & (values >= 0).all(axis=1)


@dataclass(frozen=True)
class AppliedCriterion:
    criterion: str
    weight: float  # normalised
    type: str  # benefit | cost


def applied_criteria(
    criteria: tuple[Any, ...], weights: tuple[float, ...], types: list[str]
) -> list[AppliedCriterion]:
    """The criteria a ranking used, with their weights normalised to sum to 1."""
    total = sum(weights)
    return [
        AppliedCriterion(str(getattr(c, "value", c)), w / total, t)
        for c, w, t in zip(criteria, weights, types, strict=True)
    ]
