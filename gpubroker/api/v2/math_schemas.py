"""Request and response bodies of the math REST endpoints (``gpubroker/api/v2/math.py``).

Field names follow the seed's snake_case. Response bodies are derived from the services' result
dataclasses (``derived.schema_of``): their fields are declared there, once. Money is a decimal
string with 4 places; unit costs below a cent (per GFLOP, per TFLOP-hour) are decimal strings
with 6 significant digits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool

from apps.core.text import NOT_BLANK
from apps.math_core import (
    benchmarks,
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
from apps.math_core.algorithms.workload_input import LIMITS as WORKLOAD_LIMITS
from apps.math_core.calculators import MAX_GPU_COUNT, MAX_TFLOPS_PER_GPU
from apps.math_core.rankings import MAX_ALTERNATIVES
from apps.math_core.rankings import MAX_CRITERIA as MAX_TOPSIS_CRITERIA
from apps.math_core.workload_requests import WorkloadRequest

from .derived import schema_of
from .envelope import NotBool, RequestObject, enforced_by_service
from .providers import OfferFilterQuery, money

if TYPE_CHECKING:
    PricePerHour = Decimal
else:
    PricePerHour = money(None)

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
#: Without a workload (``topsis-offers``) the workload criteria are refused (by the service).
CRITERIA_WITHOUT_WORKLOAD = [
    name
    for name in OfferCriterionName.__args__  # type: ignore[attr-defined]
    if name not in ("total_cost", "duration_hours", "throughput")
]
Weight = Field(
    1.0, description="A positive weight.", json_schema_extra=enforced_by_service(exclusiveMinimum=0)
)
CRITERIA_RULE = "each criterion at most once"


# --- Calculators ------------------------------------------------------------------------------


GpuModelName = Field(None, min_length=1, max_length=benchmarks.MAX_GPU_NAME, pattern=NOT_BLANK)
Price = Field(None, description="USD per hour (not with offer_id).")
GpuCount = Field(
    None,
    description="GPUs in the machine (default 1; not with offer_id).",
    json_schema_extra=enforced_by_service(minimum=1, maximum=MAX_GPU_COUNT),
)


def one_rate_source(rate: str) -> dict[str, Any]:
    """JSON Schema of the calculators' rule: exactly one of ``rate``, gpu_model or offer_id;
    price_per_hour with the first two, nothing else with an offer."""
    null = {"type": "null"}

    def branch(given: str, *, priced: bool) -> dict[str, Any]:
        others = {name: null for name in (rate, "gpu_model", "offer_id") if name != given}
        if not priced:
            others |= {"price_per_hour": null, "gpu_count": null}
        required = [given, "price_per_hour"] if priced else [given]
        present = {name: {"not": null} for name in required}
        return {"required": required, "properties": others | present}

    return {
        "oneOf": [
            branch(rate, priced=True),
            branch("gpu_model", priced=True),
            branch("offer_id", priced=False),
        ]
    }


class CostPerTokenIn(RequestObject):
    """Exactly one of tokens_per_second, gpu_model or offer_id; price_per_hour with
    tokens_per_second or gpu_model, never with offer_id (422 otherwise)."""

    model_config = ConfigDict(json_schema_extra=one_rate_source("tokens_per_second"))

    price_per_hour: PricePerHour | None = Price
    tokens_per_second: float | None = Field(
        None,
        description="An explicit decode rate.",
        json_schema_extra=enforced_by_service(exclusiveMinimum=0),
    )
    gpu_model: str | None = GpuModelName
    offer_id: UUID | None = Field(None, description="Take everything from an offer.")
    gpu_count: int | None = GpuCount
    model_params_billion: float | None = Field(None, description="Model size (default 8.03B).")
    precision: PrecisionName = "fp16"


TokenCostOut = schema_of(TokenCostResult, name="TokenCostOut")


class CostPerGflopIn(RequestObject):
    """Exactly one of tflops, gpu_model or offer_id; price_per_hour with tflops or gpu_model,
    never with offer_id (422 otherwise)."""

    model_config = ConfigDict(json_schema_extra=one_rate_source("tflops"))

    price_per_hour: PricePerHour | None = Price
    tflops: float | None = Field(
        None,
        description="An explicit per-GPU TFLOPS figure.",
        json_schema_extra=enforced_by_service(exclusiveMinimum=0, maximum=MAX_TFLOPS_PER_GPU),
    )
    gpu_model: str | None = GpuModelName
    offer_id: UUID | None = None
    gpu_count: int | None = GpuCount
    precision: FlopPrecisionName = "fp16"


FlopCostOut = schema_of(calculators.FlopCostResult, name="FlopCostOut")


# --- TOPSIS -----------------------------------------------------------------------------------


Score = Annotated[float, NotBool, Field(json_schema_extra=enforced_by_service(minimum=0))]
PositiveWeight = Annotated[
    float, NotBool, Field(json_schema_extra=enforced_by_service(exclusiveMinimum=0))
]
ROW = Annotated[
    list[Score],
    Field(json_schema_extra=enforced_by_service(minItems=1, maxItems=MAX_TOPSIS_CRITERIA)),
]


class TopsisIn(RequestObject):
    matrix: list[ROW] = Field(
        ...,
        description="Alternatives (rows) x criteria; every row as long as weights.",
        json_schema_extra=enforced_by_service(minItems=1, maxItems=MAX_ALTERNATIVES),
    )
    weights: list[PositiveWeight] = Field(
        ...,
        description="One per criterion.",
        json_schema_extra=enforced_by_service(minItems=1, maxItems=MAX_TOPSIS_CRITERIA),
    )
    criteria_types: list[Literal["benefit", "cost"]] = Field(
        ...,
        description="One per criterion.",
        json_schema_extra=enforced_by_service(minItems=1, maxItems=MAX_TOPSIS_CRITERIA),
    )
    normalization: Literal["vector", "minmax"] = "vector"


TopsisOut = schema_of(rankings.TopsisOutput, name="TopsisOut")


class OfferFilterIn(OfferFilterQuery, RequestObject):
    """The catalogue's offer filter (as ``GET /api/v2/providers`` takes it); without
    ``availability`` the recommenders consider available and limited offers."""


class CriterionIn(RequestObject):
    criterion: OfferCriterionName
    weight: float = Weight


class OfferCriterionIn(RequestObject):
    criterion: OfferCriterionName = Field(
        json_schema_extra=enforced_by_service(enum=CRITERIA_WITHOUT_WORKLOAD)
    )
    weight: float = Weight


class TopsisOffersIn(RequestObject):
    filter: OfferFilterIn | None = None
    criteria: list[OfferCriterionIn] = Field(
        default_factory=list,
        description=CRITERIA_RULE,
        json_schema_extra=enforced_by_service(maxItems=len(CRITERIA_WITHOUT_WORKLOAD)),
    )
    normalization: Literal["vector", "minmax"] = "vector"
    precision: PrecisionName = "fp16"
    limit: int = Field(20, json_schema_extra=enforced_by_service(minimum=1, maximum=100))


OfferOut = schema_of(offer_summaries.OfferSummary, name="OfferOut")
AppliedCriterionOut = schema_of(offer_criteria.AppliedCriterion, name="AppliedCriterionOut")
RankedOfferOut = schema_of(rankings.RankedOffer, name="RankedOfferOut")
OfferRankingOut = schema_of(rankings.OfferRanking, name="OfferRankingOut")


# --- Workloads --------------------------------------------------------------------------------


#: The workload fields are generated from the service's ``WorkloadRequest`` (names, types,
#: descriptions, text lengths); declared here are the types OpenAPI lists more precisely and the
#: ranges the estimator checks (every field ``workload_input.LIMITS`` bounds; ``schema_of``
#: refuses a bound for a field the dataclass lacks), so that OpenAPI tells the truth.


def _workload_bounds(name: str) -> dict[str, Any]:
    low, high = WORKLOAD_LIMITS[name]
    return {"json_schema_extra": enforced_by_service(minimum=low, maximum=high)}


if TYPE_CHECKING:  # what mypy sees; the fields are generated from the service's dataclass
    WorkloadIn = RequestObject
else:
    WorkloadIn = schema_of(
        WorkloadRequest,
        name="WorkloadIn",
        optional=True,
        base=RequestObject,
        types_={
            "workload_type": WorkloadTypeName,
            "precision": PrecisionName,
            "activation_checkpointing": StrictBool,
        },
        extras={
            "model": {"min_length": 1, "pattern": NOT_BLANK},
            **{name: _workload_bounds(name) for name in WORKLOAD_LIMITS},
        },
    )


class EstimateWorkloadIn(WorkloadIn):
    filter: OfferFilterIn | None = None
    limit: int = Field(20, json_schema_extra=enforced_by_service(minimum=1, maximum=200))


MemoryOut = schema_of(workloads.MemorySummary, name="MemoryOut")
GpuModelEstimateOut = schema_of(gpu_estimates.GpuModelEstimate, name="GpuModelEstimateOut")
OfferEstimateOut = schema_of(workloads.OfferEstimate, name="OfferEstimateOut")
WorkloadEstimateOut = schema_of(
    workloads.WorkloadEstimate, name="WorkloadEstimateOut", omit=("workload",)
)


# --- Ensemble ---------------------------------------------------------------------------------


class PreferencesIn(RequestObject):
    regions: list[str] = Field(default_factory=list, max_length=50)
    allow_spot: StrictBool | None = None
    min_reliability: float | None = Field(
        None, json_schema_extra=enforced_by_service(exclusiveMinimum=0, maximum=1)
    )
    max_price_per_hour: float | None = Field(None, gt=0)
    min_vram_gb: float | None = Field(None, gt=0)
    criteria: list[CriterionIn] = Field(
        default_factory=list,
        max_length=14,
        description=CRITERIA_RULE + "; total_cost, duration_hours and throughput need a workload",
    )
    precision: PrecisionName = "fp16"


#: A component's weight: a non-negative number (the service refuses a negative one).
ComponentWeight = Field(None, json_schema_extra=enforced_by_service(minimum=0))


class EnsembleWeightsIn(RequestObject):
    topsis: float | None = ComponentWeight
    collaborative: float | None = ComponentWeight
    content: float | None = ComponentWeight


class EnsembleIn(RequestObject):
    workload: WorkloadIn | None = None
    preferences: PreferencesIn | None = None
    weights: EnsembleWeightsIn | None = None
    filter: OfferFilterIn | None = None
    limit: int = Field(10, json_schema_extra=enforced_by_service(minimum=1, maximum=100))


ComponentScoreOut = schema_of(explanations.ComponentScore, name="ComponentScoreOut")
DecidingCriterionOut = schema_of(explanations.DecidingCriterion, name="DecidingCriterionOut")
ExplanationOut = schema_of(explanations.Explanation, name="ExplanationOut")
RecommendationOut = schema_of(recommendations.Recommendation, name="RecommendationOut")
EnsembleOut = schema_of(recommendations.EnsembleResult, name="EnsembleOut")


# --- Interactions -----------------------------------------------------------------------------


class InteractionIn(RequestObject):
    offer_id: UUID
    kind: Literal["view", "select", "book"]
    run_id: UUID | None = None


class InteractionOut(Schema):
    id: int
    offer_id: UUID
    kind: str
    run_id: UUID | None
    created_at: datetime
