"""GraphQL enums and input types of the math core (calculators, workloads, TOPSIS, ensemble,
interactions), and ``plain`` which turns parsed inputs into the services' keyword arguments."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

if TYPE_CHECKING:
    from .providers import OfferFilterInput

#: The catalogue's ``OfferFilter`` input (``schema/providers.py`` imports this module: lazy).
OfferFilter = Annotated["OfferFilterInput", strawberry.lazy("schema.providers")]
FILTER_DOC = (
    "The catalogue's offer filter (as in `offers`); without `availability` only available "
    "and limited offers are considered."
)


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


@strawberry.input(description="A job to size and price. Give tokens or requests.")
class WorkloadInput:
    workload_type: WorkloadType
    model: str | None = strawberry.field(
        default=None,
        description="A catalogue model (any alias: HF repo id, Ollama tag, common spelling); "
        "its published architecture sizes the job, explicit shape fields still win.",
    )
    params_billion: float | None = strawberry.field(
        default=None, description="Required without a model."
    )
    precision: Precision | None = strawberry.field(
        default=None,
        description="Default: the model's native dtype, else fp16 (listed in assumptions).",
    )
    quantization: str | None = strawberry.field(
        default=None,
        description="Weight format: fp32, fp16, bf16, fp8, int8, int4, awq, gptq or a GGUF type "
        "(q8_0, q6_k, q5_k_m, q4_k_m, q3_k_m, q2_k, ...).",
    )
    kv_cache_dtype: str | None = strawberry.field(
        default=None, description="fp16, bf16, fp8 or fp32."
    )
    gpu_memory_utilization: float | None = strawberry.field(
        default=None, description="Share of GPU memory the serving engine may use (0.9)."
    )
    runtime_overhead_gb: float | None = strawberry.field(
        default=None, description="Per-GPU runtime memory (CUDA context, graphs); default none."
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
    filter: OfferFilter | None = strawberry.field(default=None, description=FILTER_DOC)
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
    filter: OfferFilter | None = strawberry.field(default=None, description=FILTER_DOC)
    limit: int = 10


@strawberry.input
class RecordInteractionInput:
    offer_id: strawberry.ID
    kind: InteractionKind
    run_id: strawberry.ID | None = None
