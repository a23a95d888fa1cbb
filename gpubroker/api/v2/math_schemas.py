"""Request and response bodies of the math REST endpoints (``gpubroker/api/v2/math.py``).

Field names follow the seed's snake_case. Money is a decimal string with 4 places; unit costs
below a cent (per GFLOP, per TFLOP-hour) are decimal strings with 6 significant digits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool

from apps.math_core.algorithms.workload_input import LIMITS as WORKLOAD_LIMITS
from apps.math_core.calculators import MAX_GPU_COUNT
from apps.math_core.rankings import MAX_ALTERNATIVES
from apps.math_core.rankings import MAX_CRITERIA as MAX_TOPSIS_CRITERIA

from .envelope import RequestObject, enforced_by_service
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


def Bounded(name: str, description: str | None = None) -> Any:
    """The workload field's range as the estimator checks it (``workload_input.LIMITS``)."""
    low, high = WORKLOAD_LIMITS[name]
    return Field(
        None,
        description=description,
        json_schema_extra=enforced_by_service(minimum=low, maximum=high),
    )


# --- Calculators ------------------------------------------------------------------------------


GpuModelName = Field(None, min_length=1, max_length=200, pattern=r"\S")
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


class CostPerTokenIn(Schema):
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


class TokenCostOut(Schema):
    cost_per_million_tokens: Decimal
    price_per_hour: Decimal
    tokens_per_second: float
    is_estimate: bool
    basis: str
    gpu_model: str | None
    gpu_count: int
    gpus_per_replica: int
    replicas: int
    model_params_billion: float | None
    precision: str | None
    offer_id: str | None


class CostPerGflopIn(Schema):
    """Exactly one of tflops, gpu_model or offer_id; price_per_hour with tflops or gpu_model,
    never with offer_id (422 otherwise)."""

    model_config = ConfigDict(json_schema_extra=one_rate_source("tflops"))

    price_per_hour: PricePerHour | None = Price
    tflops: float | None = Field(
        None,
        description="An explicit per-GPU TFLOPS figure.",
        json_schema_extra=enforced_by_service(exclusiveMinimum=0),
    )
    gpu_model: str | None = GpuModelName
    offer_id: UUID | None = None
    gpu_count: int | None = GpuCount
    precision: FlopPrecisionName = "fp16"


class FlopCostOut(Schema):
    cost_per_gflop: Decimal
    cost_per_tflop_hour: Decimal
    price_per_hour: Decimal
    tflops_per_gpu: float
    total_tflops: float
    precision: str | None
    gpu_model: str | None
    gpu_count: int
    offer_id: str | None


# --- TOPSIS -----------------------------------------------------------------------------------


Score = Annotated[float, Field(json_schema_extra=enforced_by_service(minimum=0))]
PositiveWeight = Annotated[float, Field(json_schema_extra=enforced_by_service(exclusiveMinimum=0))]
ROW = Annotated[
    list[Score],
    Field(json_schema_extra=enforced_by_service(minItems=1, maxItems=MAX_TOPSIS_CRITERIA)),
]


class TopsisIn(Schema):
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


class TopsisOut(Schema):
    scores: list[float] = Field(..., description="Closeness per row, in input order.")
    ranking: list[int] = Field(..., description="Row indices, best first.")
    ranks: list[int] = Field(..., description="1-based rank per row (ties share a rank).")


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


class TopsisOffersIn(Schema):
    filter: OfferFilterIn | None = None
    criteria: list[OfferCriterionIn] = Field(
        default_factory=list,
        description=CRITERIA_RULE,
        json_schema_extra=enforced_by_service(maxItems=len(CRITERIA_WITHOUT_WORKLOAD)),
    )
    normalization: Literal["vector", "minmax"] = "vector"
    precision: PrecisionName = "fp16"
    limit: int = Field(20, json_schema_extra=enforced_by_service(minimum=1, maximum=100))


class OfferOut(Schema):
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


class AppliedCriterionOut(Schema):
    criterion: str
    weight: float
    type: str


class RankedOfferOut(Schema):
    offer: OfferOut
    rank: int
    score: float
    criteria_values: dict[str, float]


class OfferRankingOut(Schema):
    run_id: str
    criteria: list[AppliedCriterionOut]
    normalization: str
    offers: list[RankedOfferOut]
    candidate_count: int
    ranked_count: int
    excluded: dict[str, int]
    truncated: bool


# --- Workloads --------------------------------------------------------------------------------


class WorkloadIn(RequestObject):
    workload_type: WorkloadTypeName
    model: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="A catalogue model (any alias: HF repo id, Ollama tag, common spelling); "
        "its published architecture sizes the job, explicit shape fields still win.",
    )
    params_billion: float | None = Bounded(
        "params_billion", description="Required without a model."
    )
    precision: PrecisionName | None = Field(
        None, description="Default: the model's native dtype, else fp16 (listed in assumptions)."
    )
    quantization: str | None = Field(
        None,
        max_length=20,
        description="Weight format: fp32, fp16, bf16, fp8, int8, int4, awq, gptq or a GGUF type "
        "(q8_0, q6_k, q5_k_m, q4_k_m, q3_k_m, q2_k, ...).",
    )
    kv_cache_dtype: str | None = Field(None, max_length=10, description="fp16, bf16, fp8, fp32.")
    gpu_memory_utilization: float | None = Bounded(
        "gpu_memory_utilization",
        description="Share of GPU memory the serving engine may use (default 0.9, vLLM).",
    )
    runtime_overhead_gb: float | None = Bounded(
        "runtime_overhead_gb",
        description="Per-GPU runtime memory (CUDA context, graphs); default none.",
    )
    context_length: int | None = Bounded("context_length")
    batch_size: int | None = Bounded("batch_size")
    tokens: float | None = Bounded("tokens")
    requests: float | None = Bounded("requests")
    output_tokens_per_request: int | None = Bounded("output_tokens_per_request")
    deadline_hours: float | None = Bounded("deadline_hours")
    budget_usd: float | None = Bounded("budget_usd")
    num_layers: int | None = Bounded("num_layers")
    hidden_size: int | None = Bounded("hidden_size")
    num_kv_heads: int | None = Bounded("num_kv_heads")
    head_dim: int | None = Bounded("head_dim")
    lora_rank: int | None = Bounded("lora_rank")
    image_resolution: int | None = Bounded("image_resolution")
    diffusion_steps: int | None = Bounded("diffusion_steps")
    activation_checkpointing: StrictBool | None = None


class EstimateWorkloadIn(WorkloadIn):
    filter: OfferFilterIn | None = None
    limit: int = Field(20, json_schema_extra=enforced_by_service(minimum=1, maximum=200))


class MemoryOut(Schema):
    weights_gb: float
    kv_cache_gb: float
    activations_gb: float
    gradients_gb: float
    optimizer_states_gb: float
    per_gpu_working_gb: float
    total_gb: float
    kv_bytes_per_token: float
    usable_vram_fraction: float


class GpuModelEstimateOut(Schema):
    gpu_model: str
    vram_gb: int
    min_gpus: int | None
    throughput: float | None
    duration_hours: float | None
    memory_bound: bool
    single_stream_tokens_per_second: float | None
    batched_tokens_per_second: float | None
    prefill_tokens_per_second: float | None
    throughput_note: str


class OfferEstimateOut(Schema):
    offer_id: str
    provider: str
    gpu_type: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    region: str
    is_spot: bool
    feasible: bool
    reasons: list[str]
    min_gpus: int | None
    replicas: int
    throughput: float | None
    duration_hours: float | None
    total_cost: Decimal | None


class WorkloadEstimateOut(Schema):
    feasible: bool
    reason: str | None
    memory: MemoryOut
    total_flops: float
    units: float
    unit: str
    assumptions: list[str]
    gpu_models: list[GpuModelEstimateOut]
    offers: list[OfferEstimateOut]
    candidate_count: int
    feasible_count: int
    truncated: bool
    model: str | None = Field(None, description="The catalogue row the estimate used.")
    model_source: str | None = None


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


class EnsembleWeightsIn(RequestObject):
    topsis: float | None = None
    collaborative: float | None = None
    content: float | None = None


class EnsembleIn(Schema):
    workload: WorkloadIn | None = None
    preferences: PreferencesIn | None = None
    weights: EnsembleWeightsIn | None = None
    filter: OfferFilterIn | None = None
    limit: int = Field(10, json_schema_extra=enforced_by_service(minimum=1, maximum=100))


class ComponentScoreOut(Schema):
    name: str
    raw_score: float
    normalized_score: float
    weight: float
    contribution: float
    note: str


class DecidingCriterionOut(Schema):
    source: str
    criterion: str
    effect: str
    value: float | None
    detail: str


class ExplanationOut(Schema):
    components: list[ComponentScoreOut]
    deciding_criteria: list[DecidingCriterionOut]
    summary: str


class RecommendationOut(Schema):
    offer: OfferOut
    rank: int
    score: float
    total_cost: Decimal | None
    duration_hours: float | None
    throughput: float | None
    throughput_unit: str | None
    explanation: ExplanationOut


class EnsembleOut(Schema):
    run_id: str
    feasible: bool
    reason: str | None
    recommendations: list[RecommendationOut]
    candidate_count: int
    ranked_count: int
    excluded: dict[str, int]
    requested_weights: dict[str, float]
    effective_weights: dict[str, float]
    collaborative_source: str
    criteria: list[AppliedCriterionOut]
    truncated: bool
    model: str | None = Field(None, description="The catalogue model row the workload used.")
    assumptions: list[str] = Field(default_factory=list)


# --- Interactions -----------------------------------------------------------------------------


class InteractionIn(Schema):
    offer_id: UUID
    kind: Literal["view", "select", "book"]
    run_id: UUID | None = None


class InteractionOut(Schema):
    id: int
    offer_id: UUID
    kind: str
    run_id: UUID | None
    created_at: datetime
