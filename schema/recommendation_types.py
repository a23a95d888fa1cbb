"""GraphQL types of the math core's calculators, workload estimation and recommenders.

Plain ``strawberry.type``s mirroring the services' result dataclasses (resolvers return those
dataclasses as they are). Offers appear as ``offerId`` plus the few fields a recommendation
needs; the catalogue's own ``GPUOffer`` type lives in ``schema/providers.py``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from .errors import FieldError


@strawberry.enum(description="Numeric precision / quantisation of weights and compute.")
class Precision(Enum):
    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"
    INT8 = "int8"
    INT4 = "int4"


@strawberry.enum
class WorkloadType(Enum):
    LLM_INFERENCE = "llm_inference"
    LLM_TRAINING = "llm_training"
    FINE_TUNE_FULL = "fine_tune_full"
    FINE_TUNE_LORA = "fine_tune_lora"
    FINE_TUNE_QLORA = "fine_tune_qlora"
    IMAGE_GENERATION = "image_generation"
    EMBEDDINGS = "embeddings"
    GENERIC = "generic"


@strawberry.enum(description="Whether more (BENEFIT) or less (COST) is better on a criterion.")
class CriterionType(Enum):
    BENEFIT = "benefit"
    COST = "cost"


@strawberry.enum(description="TOPSIS column normalisation.")
class Normalization(Enum):
    VECTOR = "vector"
    MINMAX = "minmax"


@strawberry.enum(description="Criteria offers can be ranked on (direction is fixed per criterion).")
class OfferCriterion(Enum):
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


@strawberry.enum
class OfferAvailability(Enum):
    AVAILABLE = "available"
    LIMITED = "limited"
    UNAVAILABLE = "unavailable"


@strawberry.enum
class InteractionKind(Enum):
    VIEW = "view"
    SELECT = "select"
    BOOK = "book"


def plain(value: Any) -> Any:
    """Input objects → dicts of plain values (enums by value) for the services."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if hasattr(value, "__strawberry_definition__"):
        return {k: plain(v) for k, v in vars(value).items() if v is not strawberry.UNSET}
    return value


# --- Inputs -----------------------------------------------------------------------------------


@strawberry.input(description="Give exactly one of tokensPerSecond, gpuModel or offerId.")
class CostPerTokenInput:
    price_per_hour: Decimal | None = None
    tokens_per_second: float | None = None
    gpu_model: str | None = None
    offer_id: strawberry.ID | None = None
    gpu_count: int | None = None
    model_params_billion: float | None = None
    precision: Precision = Precision.FP16


@strawberry.input(description="Give exactly one of tflops, gpuModel or offerId.")
class CostPerGflopInput:
    price_per_hour: Decimal | None = None
    tflops: float | None = None
    gpu_model: str | None = None
    offer_id: strawberry.ID | None = None
    gpu_count: int | None = None
    precision: Precision = Precision.FP16


@strawberry.input(description="Selects candidate offers (every condition must hold).")
class OfferFilterInput:
    gpu_types: list[str] | None = None
    providers: list[str] | None = None
    regions: list[str] | None = None
    max_price_per_hour: Decimal | None = None
    min_vram_gb: int | None = None
    min_gpu_count: int | None = None
    max_gpu_count: int | None = None
    include_spot: bool = True
    availability: list[OfferAvailability] | None = None


@strawberry.input(description="A job to size and price. Give tokens or requests.")
class WorkloadInput:
    workload_type: WorkloadType
    params_billion: float
    precision: Precision = Precision.FP16
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


@strawberry.input
class TopsisAlternativesInput:
    matrix: list[list[float]]
    weights: list[float]
    criteria_types: list[CriterionType]
    normalization: Normalization = Normalization.VECTOR


@strawberry.input
class OfferCriterionInput:
    criterion: OfferCriterion
    weight: float = 1.0


@strawberry.input
class TopsisOffersInput:
    filter: OfferFilterInput | None = None
    criteria: list[OfferCriterionInput] | None = None
    normalization: Normalization = Normalization.VECTOR
    precision: Precision = Precision.FP16
    limit: int = 20


@strawberry.input(one_of=True, description="Rank given alternatives, or offers by a filter.")
class TopsisInput:
    alternatives: TopsisAlternativesInput | None = strawberry.UNSET
    offers: TopsisOffersInput | None = strawberry.UNSET


@strawberry.input(description="Soft preferences: they shape the content-based score.")
class PreferencesInput:
    regions: list[str] | None = None
    allow_spot: bool | None = None
    min_reliability: float | None = None
    max_price_per_hour: float | None = None
    min_vram_gb: float | None = None
    criteria: list[OfferCriterionInput] | None = None
    precision: Precision = Precision.FP16


@strawberry.input(description="Blend weights (normalised; a missing one takes its default).")
class EnsembleWeightsInput:
    topsis: float | None = None
    collaborative: float | None = None
    content: float | None = None


@strawberry.input
class EnsembleInput:
    workload: WorkloadInput | None = None
    preferences: PreferencesInput | None = None
    weights: EnsembleWeightsInput | None = None
    filter: OfferFilterInput | None = None
    limit: int = 10


@strawberry.input
class RecordInteractionInput:
    offer_id: strawberry.ID
    kind: InteractionKind
    run_id: strawberry.ID | None = None


# --- Results ----------------------------------------------------------------------------------


@strawberry.type
class TokenCost:
    cost_per_million_tokens: Decimal
    price_per_hour: Decimal
    tokens_per_second: float
    is_estimate: bool = strawberry.field(description="True when the rate is not measured.")
    basis: str
    gpu_model: str | None
    gpu_count: int
    gpus_per_replica: int
    replicas: int
    model_params_billion: float | None
    precision: str | None
    offer_id: strawberry.ID | None


@strawberry.type
class FlopCost:
    cost_per_gflop: Decimal
    cost_per_tflop_hour: Decimal
    price_per_hour: Decimal
    tflops_per_gpu: float
    total_tflops: float
    precision: str | None
    gpu_model: str | None
    gpu_count: int
    offer_id: strawberry.ID | None


@strawberry.type
class MemoryBreakdown:
    weights_gb: float
    kv_cache_gb: float
    activations_gb: float
    gradients_gb: float
    optimizer_states_gb: float
    per_gpu_working_gb: float
    total_gb: float


@strawberry.type
class GpuModelEstimate:
    gpu_model: str
    vram_gb: int
    min_gpus: int | None = strawberry.field(description="Null: no number of these GPUs fits.")
    throughput: float | None
    duration_hours: float | None
    memory_bound: bool


@strawberry.type
class OfferEstimate:
    offer_id: strawberry.ID
    provider: str
    gpu_type: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    region: str
    is_spot: bool
    feasible: bool
    reasons: list[str] = strawberry.field(
        description="no_benchmark, insufficient_memory, deadline, budget."
    )
    min_gpus: int | None
    replicas: int
    throughput: float | None
    duration_hours: float | None
    total_cost: Decimal | None


@strawberry.type
class WorkloadEstimate:
    feasible: bool
    reason: str | None = strawberry.field(description="Why no offer can run it, when none can.")
    memory: MemoryBreakdown
    total_flops: float
    units: float
    unit: str
    assumptions: list[str]
    gpu_models: list[GpuModelEstimate]
    offers: list[OfferEstimate]
    candidate_count: int
    feasible_count: int
    truncated: bool


@strawberry.type
class TopsisScores:
    scores: list[float] = strawberry.field(description="Closeness per row, in input order.")
    ranking: list[int] = strawberry.field(description="Row indices, best first.")
    ranks: list[int] = strawberry.field(description="1-based rank per row; ties share a rank.")


@strawberry.type
class AppliedCriterion:
    criterion: str
    weight: float
    type: str


@strawberry.type(description="An offer as the recommenders show it (offerId links the catalogue).")
class OfferSummary:
    offer_id: strawberry.ID
    provider: str
    gpu_type: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    region: str
    country: str
    is_spot: bool
    reliability: float


@strawberry.type
class RankedOffer:
    offer: OfferSummary
    rank: int
    score: float
    criteria_values: JSON


@strawberry.type
class OfferRanking:
    run_id: strawberry.ID
    criteria: list[AppliedCriterion]
    normalization: str
    offers: list[RankedOffer]
    candidate_count: int
    ranked_count: int
    excluded: JSON
    truncated: bool


@strawberry.type
class TopsisPayload:
    scores: TopsisScores | None = None
    ranking: OfferRanking | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.type
class ComponentScore:
    name: str
    raw_score: float
    normalized_score: float
    weight: float
    contribution: float
    note: str


@strawberry.type
class DecidingCriterion:
    source: str
    criterion: str
    effect: str
    value: float | None
    detail: str


@strawberry.type
class Explanation:
    components: list[ComponentScore]
    deciding_criteria: list[DecidingCriterion]
    summary: str


@strawberry.type
class RecommendedOffer:
    offer: OfferSummary
    rank: int
    score: float
    total_cost: Decimal | None
    duration_hours: float | None
    throughput: float | None
    throughput_unit: str | None
    explanation: Explanation

    @strawberry.field(description="The catalogue offer's id.")
    def offer_id(self) -> strawberry.ID:
        return strawberry.ID(self.offer.offer_id)


@strawberry.type
class ComponentWeights:
    topsis: float
    collaborative: float
    content: float


def _requested_weights(root: Any) -> ComponentWeights:
    return ComponentWeights(**root.requested_weights)


def _effective_weights(root: Any) -> ComponentWeights:
    return ComponentWeights(**root.effective_weights)


@strawberry.type
class Recommendations:
    run_id: strawberry.ID
    feasible: bool
    reason: str | None
    recommendations: list[RecommendedOffer]
    candidate_count: int
    ranked_count: int
    excluded: JSON
    collaborative_source: str
    criteria: list[AppliedCriterion]
    truncated: bool
    requested_weights: ComponentWeights = strawberry.field(
        resolver=_requested_weights, description="The request's weights, normalised."
    )
    effective_weights: ComponentWeights = strawberry.field(
        resolver=_effective_weights,
        description="The weights applied: a component without signal gives its weight away.",
    )


@strawberry.type
class EnsemblePayload:
    result: Recommendations | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.type
class OfferInteraction:
    id: strawberry.ID
    offer_id: strawberry.ID
    kind: str
    run_id: strawberry.ID | None
    created_at: datetime


@strawberry.type
class RecordInteractionPayload:
    interaction: OfferInteraction | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)
