"""Request and response bodies of the math REST endpoints (``gpubroker/api/v2/math.py``).

Field names follow the seed's snake_case. Response bodies are derived from the services' result
dataclasses (``derived.schema_of``): their fields are declared there, once. Money is a decimal
string with 4 places; unit costs below a cent (per GFLOP, per TFLOP-hour) are decimal strings
with 6 significant digits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from ninja import Field, Schema

from apps.math_core import (
    calculators,
    explanations,
    gpu_estimates,
    offer_criteria,
    offer_summaries,
    rankings,
    recommendations,
    workloads,
)
from apps.math_core.algorithms.costs import TokenCostResult
from apps.math_core.workload_requests import WorkloadRequest

from .derived import schema_of
from .providers import OfferFilterQuery

PrecisionName = Literal["fp32", "fp16", "bf16", "fp8", "int8", "int4"]
FlopPrecisionName = Literal["fp32", "fp16", "bf16", "fp8", "int8"]
WorkloadTypeName = Literal[
    "llm_inference",
    "llm_training",
    "fine_tune_full",
    "fine_tune_lora",
    "fine_tune_qlora",
    "image_generation",
    "embeddings",
    "generic",
]
OfferCriterionName = Literal[
    "price_per_hour",
    "price_per_gpu_hour",
    "total_vram_gb",
    "vram_per_gpu_gb",
    "gpu_count",
    "total_tflops",
    "memory_bandwidth_gbps",
    "tokens_per_second",
    "cost_per_million_tokens",
    "cost_per_tflop_hour",
    "reliability",
    "total_cost",
    "duration_hours",
    "throughput",
]


# --- Calculators ------------------------------------------------------------------------------


class CostPerTokenIn(Schema):
    price_per_hour: Decimal | None = Field(None, description="USD per hour (not with offer_id).")
    tokens_per_second: float | None = Field(None, description="An explicit decode rate.")
    gpu_model: str | None = Field(None, max_length=200, description="Take the rate from this GPU.")
    offer_id: str | None = Field(None, max_length=64, description="Take everything from an offer.")
    gpu_count: int | None = Field(None, description="GPUs in the machine (default 1).")
    model_params_billion: float | None = Field(None, description="Model size (default 8.03B).")
    precision: PrecisionName = "fp16"


TokenCostOut = schema_of(TokenCostResult, name="TokenCostOut")


class CostPerGflopIn(Schema):
    price_per_hour: Decimal | None = None
    tflops: float | None = Field(None, description="An explicit per-GPU TFLOPS figure.")
    gpu_model: str | None = Field(None, max_length=200)
    offer_id: str | None = Field(None, max_length=64)
    gpu_count: int | None = None
    precision: FlopPrecisionName = "fp16"


FlopCostOut = schema_of(calculators.FlopCostResult, name="FlopCostOut")


# --- TOPSIS -----------------------------------------------------------------------------------


class TopsisIn(Schema):
    matrix: list[list[float]] = Field(..., description="Alternatives (rows) x criteria.")
    weights: list[float]
    criteria_types: list[Literal["benefit", "cost"]]
    normalization: Literal["vector", "minmax"] = "vector"


TopsisOut = schema_of(rankings.TopsisOutput, name="TopsisOut")


class OfferFilterIn(OfferFilterQuery):
    """The catalogue's offer filter (as ``GET /api/v2/providers`` takes it); without
    ``availability`` the recommenders consider available and limited offers."""


class CriterionIn(Schema):
    criterion: OfferCriterionName
    weight: float = 1.0


class TopsisOffersIn(Schema):
    filter: OfferFilterIn | None = None
    criteria: list[CriterionIn] = Field(default_factory=list, max_length=14)
    normalization: Literal["vector", "minmax"] = "vector"
    precision: PrecisionName = "fp16"
    limit: int = 20


OfferOut = schema_of(offer_summaries.OfferSummary, name="OfferOut")
AppliedCriterionOut = schema_of(offer_criteria.AppliedCriterion, name="AppliedCriterionOut")
RankedOfferOut = schema_of(rankings.RankedOffer, name="RankedOfferOut")
OfferRankingOut = schema_of(rankings.OfferRanking, name="OfferRankingOut")


# --- Workloads --------------------------------------------------------------------------------


if TYPE_CHECKING:  # what mypy sees; the fields are generated from the service's dataclass
    WorkloadIn = Schema
else:
    WorkloadIn = schema_of(
        WorkloadRequest,
        name="WorkloadIn",
        optional=True,
        types_={"workload_type": WorkloadTypeName, "precision": PrecisionName},
    )


class EstimateWorkloadIn(WorkloadIn):
    filter: OfferFilterIn | None = None
    limit: int = 20


MemoryOut = schema_of(workloads.MemorySummary, name="MemoryOut")
GpuModelEstimateOut = schema_of(gpu_estimates.GpuModelEstimate, name="GpuModelEstimateOut")
OfferEstimateOut = schema_of(workloads.OfferEstimate, name="OfferEstimateOut")
WorkloadEstimateOut = schema_of(
    workloads.WorkloadEstimate, name="WorkloadEstimateOut", omit=("workload",)
)


# --- Ensemble ---------------------------------------------------------------------------------


class PreferencesIn(Schema):
    regions: list[str] = Field(default_factory=list, max_length=50)
    allow_spot: bool | None = None
    min_reliability: float | None = Field(None, ge=0, le=1)
    max_price_per_hour: float | None = Field(None, gt=0)
    min_vram_gb: float | None = Field(None, gt=0)
    criteria: list[CriterionIn] = Field(default_factory=list, max_length=14)
    precision: PrecisionName = "fp16"


class EnsembleWeightsIn(Schema):
    topsis: float | None = None
    collaborative: float | None = None
    content: float | None = None


class EnsembleIn(Schema):
    workload: WorkloadIn | None = None
    preferences: PreferencesIn | None = None
    weights: EnsembleWeightsIn | None = None
    filter: OfferFilterIn | None = None
    limit: int = 10


ComponentScoreOut = schema_of(explanations.ComponentScore, name="ComponentScoreOut")
DecidingCriterionOut = schema_of(explanations.DecidingCriterion, name="DecidingCriterionOut")
ExplanationOut = schema_of(explanations.Explanation, name="ExplanationOut")
RecommendationOut = schema_of(recommendations.Recommendation, name="RecommendationOut")
EnsembleOut = schema_of(recommendations.EnsembleResult, name="EnsembleOut")


# --- Interactions -----------------------------------------------------------------------------


class InteractionIn(Schema):
    offer_id: str = Field(..., max_length=64)
    kind: Literal["view", "select", "book"]
    run_id: str | None = Field(None, max_length=64)


class InteractionOut(Schema):
    id: int
    offer_id: UUID
    kind: str
    run_id: UUID | None
    created_at: datetime
