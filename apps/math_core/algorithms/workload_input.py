"""A job description as the estimators take it (pure): ``WorkloadType``, the validated
``Workload`` and its limits. ``workload_mapper.plan_workload`` turns one into memory and work."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from .architecture import (
    WEIGHT_FORMATS,
    Architecture,
    ModelKind,
    WeightFormat,
    kv_dtype_bytes,
    weight_format,
)
from .errors import InvalidInput
from .gpu_spec import Precision


class WorkloadType(StrEnum):
    LLM_INFERENCE = "llm_inference"
    LLM_TRAINING = "llm_training"
    FINE_TUNE_FULL = "fine_tune_full"
    FINE_TUNE_LORA = "fine_tune_lora"
    FINE_TUNE_QLORA = "fine_tune_qlora"
    IMAGE_GENERATION = "image_generation"
    EMBEDDINGS = "embeddings"
    GENERIC = "generic"


TRAINING_TYPES = frozenset(
    {
        WorkloadType.LLM_TRAINING,
        WorkloadType.FINE_TUNE_FULL,
        WorkloadType.FINE_TUNE_LORA,
        WorkloadType.FINE_TUNE_QLORA,
    }
)


def check_limit(name: str, value: object, *, field: str | None = None) -> None:
    """``value`` is a number within ``LIMITS[name]``, else ``InvalidInput`` naming ``field``
    (default ``name``)."""
    low, high = LIMITS[name]
    field = field or name
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{field} must be a number", field=field)
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidInput(f"{field} must be between {low:g} and {high:g}", field=field)


ADAPTER_TYPES = frozenset({WorkloadType.FINE_TUNE_LORA, WorkloadType.FINE_TUNE_QLORA})

DEFAULT_CONTEXT_LENGTH = 4096
DEFAULT_OUTPUT_TOKENS = 512

LIMITS = {
    "params_billion": (1e-4, 20_000.0),
    "context_length": (1, 10_000_000),
    "batch_size": (1, 65_536),
    "tokens": (1, 1e16),
    "requests": (1, 1e13),
    "output_tokens_per_request": (1, 10_000_000),
    "deadline_hours": (1e-6, 1e6),
    "budget_usd": (1e-6, 1e12),
    "num_layers": (1, 10_000),
    "hidden_size": (1, 1_000_000),
    "num_kv_heads": (1, 100_000),
    "head_dim": (1, 65_536),
    "lora_rank": (1, 65_536),
    "image_resolution": (64, 16_384),
    "diffusion_steps": (1, 10_000),
    "gpu_memory_utilization": (0.05, 1.0),
    "runtime_overhead_gb": (0.0, 1_000.0),
}
#: Which workload types each catalogue model kind can run.
MODEL_KIND_WORKLOADS: dict[ModelKind, frozenset[WorkloadType]] = {
    ModelKind.LLM: frozenset(WorkloadType) - {WorkloadType.IMAGE_GENERATION},
    ModelKind.EMBEDDING: frozenset({WorkloadType.EMBEDDINGS, WorkloadType.GENERIC}),
    ModelKind.DIFFUSION: frozenset({WorkloadType.IMAGE_GENERATION, WorkloadType.GENERIC}),
}


@dataclass(frozen=True, slots=True)
class Workload:
    workload_type: WorkloadType
    params_billion: float
    precision: Precision = Precision.FP16
    context_length: int = DEFAULT_CONTEXT_LENGTH
    batch_size: int = 1
    tokens: float | None = None
    requests: float | None = None
    output_tokens_per_request: int = DEFAULT_OUTPUT_TOKENS
    deadline_hours: float | None = None
    budget_usd: float | None = None
    num_layers: int | None = None
    hidden_size: int | None = None
    num_kv_heads: int | None = None
    head_dim: int | None = None
    lora_rank: int = 16
    image_resolution: int = 1024
    diffusion_steps: int = 30
    activation_checkpointing: bool = True
    #: A catalogue model: its published architecture sizes the job (see module doc).
    model: Architecture | None = None
    #: Weight storage format (``architecture.WEIGHT_FORMATS``); None = ``precision``.
    quantization: str | None = None
    #: KV-cache element type (fp16/bf16/fp8/fp32); None = fp8 with fp8 weights, else fp16.
    kv_cache_dtype: str | None = None
    #: Share of each GPU's memory the serving engine may use (vLLM's default 0.9).
    gpu_memory_utilization: float | None = None
    #: Per-GPU runtime memory (CUDA context, graphs, communication buffers) on top of the job.
    runtime_overhead_gb: float | None = None
    #: Names of the inputs that took their default (listed in the plan's assumptions).
    defaults: tuple[str, ...] = ()

    def weight_format(self) -> WeightFormat:
        if self.quantization is not None:
            return weight_format(self.quantization)
        return WEIGHT_FORMATS[self.precision.value]

    def kv_element_bytes(self) -> float:
        if self.kv_cache_dtype is not None:
            return kv_dtype_bytes(self.kv_cache_dtype)
        return 1.0 if self.weight_format().compute is Precision.FP8 else 2.0

    def validate(self) -> None:
        for name in LIMITS:
            value = getattr(self, name)
            if value is not None:
                check_limit(name, value)
        fmt = self.weight_format()
        self.kv_element_bytes()
        if self.model is not None:
            if self.workload_type not in MODEL_KIND_WORKLOADS[self.model.kind]:
                raise InvalidInput(
                    f"{self.model.name} is a {self.model.kind.value} model and cannot run a "
                    f"{self.workload_type.value} workload",
                    field="workload_type",
                )
            limit = self.model.max_context
            if limit and self.context_length > limit:
                raise InvalidInput(
                    f"context_length {self.context_length} exceeds {self.model.name}'s maximum "
                    f"context of {limit} tokens",
                    field="context_length",
                )
        if (
            self.quantization is not None
            and self.workload_type
            in (
                WorkloadType.LLM_TRAINING,
                WorkloadType.FINE_TUNE_FULL,
            )
            and fmt.compute is Precision.FP16
            and fmt.bits_per_weight < 16
        ):
            raise InvalidInput(
                f"full training cannot update {fmt.name} weights; use fine_tune_qlora",
                field="quantization",
            )
        if self.tokens is None and self.requests is None:
            raise InvalidInput("give tokens or requests to process", field="tokens")
        if self.workload_type is WorkloadType.IMAGE_GENERATION and self.requests is None:
            raise InvalidInput("image generation counts images: give requests", field="requests")
        if (
            self.workload_type is WorkloadType.LLM_INFERENCE
            and self.output_tokens_per_request > self.context_length
        ):
            raise InvalidInput(
                "output_tokens_per_request cannot exceed context_length",
                field="output_tokens_per_request",
            )
        if self.workload_type in (
            WorkloadType.LLM_TRAINING,
            WorkloadType.FINE_TUNE_FULL,
        ) and self.precision in (Precision.INT8, Precision.INT4):
            raise InvalidInput(
                "full training needs fp32, fp16, bf16 or fp8 weights; use fine_tune_qlora "
                "or fine_tune_lora for a quantised base model",
                field="precision",
            )
