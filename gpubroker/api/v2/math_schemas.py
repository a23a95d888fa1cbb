"""Request and response bodies of the math REST endpoints (``gpubroker/api/v2/math.py``).

Field names follow the seed's snake_case. Money is a decimal string with 4 places; unit costs
below a cent (per GFLOP, per TFLOP-hour) are decimal strings with 6 significant digits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

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
    price_per_hour: Decimal | None = None
    tflops: float | None = Field(None, description="An explicit per-GPU TFLOPS figure.")
    gpu_model: str | None = Field(None, max_length=200)
    offer_id: str | None = Field(None, max_length=64)
    gpu_count: int | None = None
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


class TopsisIn(Schema):
    matrix: list[list[float]] = Field(..., description="Alternatives (rows) x criteria.")
    weights: list[float]
    criteria_types: list[Literal["benefit", "cost"]]
    normalization: Literal["vector", "minmax"] = "vector"


class TopsisOut(Schema):
    scores: list[float] = Field(..., description="Closeness per row, in input order.")
    ranking: list[int] = Field(..., description="Row indices, best first.")
    ranks: list[int] = Field(..., description="1-based rank per row (ties share a rank).")


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


class WorkloadIn(Schema):
    workload_type: WorkloadTypeName
    model: str | None = Field(
        None,
        max_length=200,
        description="A catalogue model (any alias: HF repo id, Ollama tag, common spelling); "
        "its published architecture sizes the job, explicit shape fields still win.",
    )
    params_billion: float | None = Field(None, description="Required without a model.")
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
    gpu_memory_utilization: float | None = Field(
        None, description="Share of GPU memory the serving engine may use (default 0.9, vLLM)."
    )
    runtime_overhead_gb: float | None = Field(
        None, description="Per-GPU runtime memory (CUDA context, graphs); default none."
    )
    context_length: int | None = None
    batch_size: int | None = None
    tokens: float | None = None
    requests: float | None = None
    output_tokens_per_request: int | None = None
    deadline_hours: float | None = None
    budget_usd: float | None = None
    num_layers: int | None = None
    hidden_size: int | None = None
    num_kv_heads: int | None = None
    head_dim: int | None = None
    lora_rank: int | None = None
    image_resolution: int | None = None
    diffusion_steps: int | None = None
    activation_checkpointing: bool | None = None


class EstimateWorkloadIn(WorkloadIn):
    filter: OfferFilterIn | None = None
    limit: int = 20


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
    offer_id: str = Field(..., max_length=64)
    kind: Literal["view", "select", "book"]
    run_id: str | None = Field(None, max_length=64)


class InteractionOut(Schema):
    id: int
    offer_id: UUID
    kind: str
    run_id: UUID | None
    created_at: datetime
