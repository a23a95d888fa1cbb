"""A job as a client describes it: the fields of GraphQL ``WorkloadInput`` and of the REST
workload bodies, both generated from ``WorkloadRequest`` (``schema/derived.py``,
``gpubroker/api/v2/derived.py``). ``workloads.build_workload(**fields)`` turns the given fields
into a validated ``Workload`` (every limit is checked there, not by a facade)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model_catalogue import MAX_QUERY_LENGTH


def _about(text: str, **more: int) -> dict[str, object]:
    return {"description": text, **more}


@dataclass(frozen=True)
class WorkloadRequest:
    workload_type: str
    model: str | None = field(
        default=None,
        metadata=_about(
            "A catalogue model (any alias: HF repo id, Ollama tag, common spelling); its "
            "published architecture sizes the job, explicit shape fields still win.",
            max_length=MAX_QUERY_LENGTH,
        ),
    )
    params_billion: float | None = field(default=None, metadata=_about("Required without a model."))
    precision: str | None = field(
        default=None,
        metadata=_about("Default: the model's native dtype, else fp16 (listed in assumptions)."),
    )
    quantization: str | None = field(
        default=None,
        metadata=_about(
            "Weight format: fp32, fp16, bf16, fp8, int8, int4, awq, gptq or a GGUF type "
            "(q8_0, q6_k, q5_k_m, q4_k_m, q3_k_m, q2_k, ...).",
            max_length=20,
        ),
    )
    kv_cache_dtype: str | None = field(
        default=None, metadata=_about("fp16, bf16, fp8 or fp32.", max_length=10)
    )
    gpu_memory_utilization: float | None = field(
        default=None,
        metadata=_about("Share of GPU memory the serving engine may use (0.9)."),
    )
    runtime_overhead_gb: float | None = field(
        default=None,
        metadata=_about("Per-GPU runtime memory (CUDA context, graphs); default none."),
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
