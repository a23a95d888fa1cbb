"""Recommendation services behind both facades. The ensemble recommender lives here; the TOPSIS
calculator and TOPSIS over offers (``rankings``) and interactions are re-exported so the facades
import one module. Every run over offers is stored as a ``RecommendationRun`` (inputs, outputs,
the user when signed in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from apps.core.errors import ValidationFailed
from apps.core.inputs import check_limit
from apps.providers.offer_filters import OfferFilters

from .algorithms.amounts import finite, money
from .algorithms.content_based import OfferFeatures, RequirementProfile, match
from .algorithms.ensemble import BlendResult, blend, validate_weights
from .algorithms.gpu_spec import Precision
from .algorithms.topsis import topsis
from .algorithms.workload_costing import Estimates
from .algorithms.workload_mapper import Workload, WorkloadPlan, plan_workload
from .candidates import OfferTable, candidate_filters, candidate_offers, offer_table
from .errors import RecommendationErrorCode, invalid_input_as_validation_error
from .explanations import Explanation, explain
from .interactions import collaborative_signal, record_interaction
from .limits import MAX_RANKED_OFFERS
from .models import RecommendationKind
from .offer_criteria import (
    AppliedCriterion,
    ExclusionReason,
    applied_criteria,
    choose_criteria,
    criteria_matrix,
    rankable,
)
from .offer_summaries import OfferSummary, offer_summary
from .rankings import OfferRanking, TopsisOutput, topsis_calculator, topsis_offers
from .run_store import store_run
from .workloads import assess_offers, no_feasible_reason, workload_as_dict

__all__ = [
    "EnsembleResult",
    "OfferRanking",
    "Preferences",
    "Recommendation",
    "TopsisOutput",
    "ensemble_recommend",
    "record_interaction",
    "topsis_calculator",
    "topsis_offers",
]


@dataclass(frozen=True)
class Preferences:
    regions: tuple[str, ...] = ()
    allow_spot: bool | None = None
    min_reliability: float | None = None
    max_price_per_hour: float | None = None
    min_vram_gb: float | None = None
    criteria: tuple[tuple[str, float], ...] = ()
    precision: str = "fp16"

    @classmethod
    def from_fields(cls, **fields: Any) -> Preferences:
        """From a facade's parsed input: lists, criteria as pairs or ``{criterion, weight}``."""
        given = {name: value for name, value in fields.items() if value is not None}
        if "regions" in given:
            given["regions"] = tuple(str(r) for r in given["regions"])
        if "criteria" in given:
            given["criteria"] = tuple(
                (str(c["criterion"]), float(c["weight"])) if isinstance(c, dict) else tuple(c)
                for c in given["criteria"]
            )
        if "precision" in given:
            given["precision"] = str(getattr(given["precision"], "value", given["precision"]))
        return cls(**given)

    def as_dict(self) -> dict[str, Any]:
        return {
            "regions": list(self.regions),
            "allow_spot": self.allow_spot,
            "min_reliability": self.min_reliability,
            "max_price_per_hour": self.max_price_per_hour,
            "min_vram_gb": self.min_vram_gb,
            "criteria": [list(c) for c in self.criteria],
            "precision": self.precision,
        }


@dataclass(frozen=True)
class Recommendation:
    offer: OfferSummary
    rank: int
    score: float
    total_cost: Decimal | None
    duration_hours: float | None
    throughput: float | None
    throughput_unit: str | None
    explanation: Explanation


@dataclass(frozen=True)
class EnsembleResult:
    run_id: str
    feasible: bool
    reason: str | None
    recommendations: list[Recommendation]
    candidate_count: int
    ranked_count: int
    excluded: dict[str, int]
    requested_weights: dict[str, float]
    effective_weights: dict[str, float]
    collaborative_source: str
    criteria: list[AppliedCriterion] = field(default_factory=list)
    truncated: bool = False
    model: str | None = field(
        default=None,
        metadata={"description": "The catalogue model row the workload was sized with."},
    )
    assumptions: list[str] = field(
        default_factory=list,
        metadata={"description": "Every assumption and default of the workload plan."},
    )


def requirement_profile(
    prefs: Preferences, plan: WorkloadPlan | None, table: OfferTable
) -> RequirementProfile:
    vram = prefs.min_vram_gb
    compute = bandwidth = None
    price = prefs.max_price_per_hour
    if plan is not None:
        vram = max(vram or 0.0, plan.memory.total_gb)
        w, job = plan.workload, plan.job
        if w.deadline_hours is not None:
            seconds = w.deadline_hours * 3600.0
            compute = job.total_flops / (seconds * job.mfu) / 1e12
            if job.replicated and job.pass_bytes > 0:
                eta = float(np.median(table.bandwidth_efficiency())) if len(table) else 0.5
                bandwidth = job.passes * job.pass_bytes / (seconds * eta) / 1e9
            if w.budget_usd is not None:
                price = min(price or np.inf, w.budget_usd / w.deadline_hours)
    return RequirementProfile(
        vram_gb=vram or None,
        compute_tflops=compute or None,
        bandwidth_gbps=bandwidth or None,
        max_price_per_hour=price or None,
        min_reliability=prefs.min_reliability,
        regions_preferred=bool(prefs.regions),
        allow_spot=prefs.allow_spot,
    )


def ensemble_recommend(
    *,
    workload: Workload | None = None,
    preferences: Preferences | None = None,
    weights: Mapping[str, float] | None = None,
    offer_filter: OfferFilters | None = None,
    user: Any = None,
    limit: int = 10,
) -> EnsembleResult:
    """Rank candidate offers by a weighted blend of TOPSIS, collaborative filtering and
    content-based fit. With a workload only offers that can run it (memory, deadline, budget)
    are ranked, and an impossible workload is answered with the reason, not an error."""
    check_limit(limit, maximum=MAX_RANKED_OFFERS, reason=RecommendationErrorCode.LIMIT_OUT_OF_RANGE)
    prefs = preferences or Preferences()
    requested = dict(weights or {})
    if prefs.min_reliability is not None and not 0 < prefs.min_reliability <= 1:
        raise ValidationFailed(
            "min_reliability is a share: above 0 and at most 1", field="min_reliability"
        )
    with invalid_input_as_validation_error():
        component_weights = validate_weights(requested)
        precision = Precision.parse(prefs.precision)
        plan = plan_workload(workload) if workload is not None else None
    choice = choose_criteria(prefs.criteria or None, with_workload=plan is not None)
    compute_precision = plan.job.compute_precision if plan else precision
    f = candidate_filters(offer_filter)
    table = offer_table(candidate_offers(f))
    usable = table.has_benchmark.copy()
    excluded: dict[str, int] = {ExclusionReason.NO_BENCHMARK: int((~usable).sum())}
    estimates = None
    reason = None
    if plan is not None:
        assessment = assess_offers(plan, table)
        estimates = assessment.estimates
        excluded[ExclusionReason.INSUFFICIENT_MEMORY] = int(assessment.insufficient_memory.sum())
        excluded[ExclusionReason.DEADLINE] = int(assessment.misses_deadline.sum())
        excluded[ExclusionReason.BUDGET] = int(assessment.over_budget.sum())
        usable &= estimates.feasible
        if not usable.any():
            reason = no_feasible_reason(plan, table, assessment)
    values = criteria_matrix(table, choice, precision=compute_precision, estimates=estimates)
    keep = np.flatnonzero(rankable(values, usable))
    if reason is None and keep.size == 0:
        reason = (
            "No offers match the filter."
            if len(table) == 0
            else "No candidate offer has the benchmark data to rank it."
        )
    signal = collaborative_signal(
        user, table, workload_type=workload.workload_type.value if workload else ""
    )
    recommendations: list[Recommendation] = []
    effective = component_weights
    if keep.size:
        with invalid_input_as_validation_error():
            ranked = topsis(values[keep], choice.weights, choice.types)
            features = OfferFeatures(
                vram_gb=(table.vram_gb * table.gpu_count)[keep],
                compute_tflops=(table.compute_tflops(compute_precision) * table.gpu_count)[keep],
                bandwidth_gbps=(table.bandwidth_gbps * table.gpu_count)[keep],
                price_per_hour=table.price_per_hour[keep],
                reliability=table.reliability[keep],
                region_match=table.region_matches(prefs.regions)[keep],
                is_spot=table.is_spot[keep],
            )
            content = match(features, requirement_profile(prefs, plan, table))
        raw = {
            "topsis": ranked.closeness,
            "collaborative": signal.scores[keep],
            "content": content.similarity,
        }
        mix = blend(raw, component_weights)
        effective = mix.effective_weights
        top = mix.ranking[:limit]
        explanations = explain(
            rows=top,
            blend=mix,
            raw=raw,
            topsis=ranked,
            criteria=choice.criteria,
            values=values[keep],
            content=content,
            collaborative_source=signal.source,
            neighbours=lambda row: signal.neighbours(int(keep[row])),
            offer_label=table.label,
            total=int(keep.size),
        )
        for row, explanation in zip(top, explanations, strict=True):
            recommendations.append(
                _recommendation(table, int(keep[row]), mix, int(row), estimates, plan, explanation)
            )
    criteria_out = applied_criteria(choice.criteria, choice.weights, choice.types)
    run = store_run(
        kind=RecommendationKind.ENSEMBLE,
        user=user,
        workload=workload,
        inputs={
            "workload": workload_as_dict(workload) if workload else None,
            "preferences": prefs.as_dict(),
            "weights": requested,
            "filter": f.cache_parts(),
            "limit": limit,
        },
        outputs={
            "feasible": reason is None,
            "reason": reason,
            "excluded": excluded,
            "effective_weights": effective,
            "collaborative_source": signal.source,
            "recommendations": [
                {
                    "offer_id": r.offer.offer_id,
                    "rank": r.rank,
                    "score": r.score,
                    "components": {c.name: c.normalized_score for c in r.explanation.components},
                }
                for r in recommendations
            ],
        },
        candidates=len(table),
        feasible=reason is None,
    )
    return EnsembleResult(
        run_id=str(run.id),
        feasible=reason is None,
        reason=reason,
        recommendations=recommendations,
        candidate_count=len(table),
        ranked_count=int(keep.size),
        excluded=excluded,
        requested_weights=component_weights,
        effective_weights=effective,
        collaborative_source=signal.source,
        criteria=criteria_out,
        truncated=table.truncated,
        model=workload.model.name if workload is not None and workload.model else None,
        assumptions=list(plan.assumptions) if plan is not None else [],
    )


def _recommendation(
    table: OfferTable,
    i: int,
    mix: BlendResult,
    row: int,
    estimates: Estimates | None,
    plan: WorkloadPlan | None,
    explanation: Explanation,
) -> Recommendation:
    cost = None
    if estimates is not None and estimates.total_cost is not None:
        value = estimates.total_cost[i]
        cost = money(value) if np.isfinite(value) else None
    return Recommendation(
        offer=offer_summary(table, i),
        rank=int(mix.ranks[row]),
        score=float(mix.scores[row]),
        total_cost=cost,
        duration_hours=finite(estimates.duration_hours[i]) if estimates is not None else None,
        throughput=finite(estimates.throughput[i]) if estimates is not None else None,
        throughput_unit=f"{plan.job.unit}/s" if plan is not None else None,
        explanation=explanation,
    )
