"""Workload mapper: from a job description to memory, compute and the shape of the work.

Inputs: workload type, model size N (parameters), precision/quantisation, context length s,
batch size B, tokens or requests to process, optional deadline and budget (and optional model
shape overrides). Outputs (``plan_workload``): the memory the job needs, split into weights, KV
cache, activations, gradients and optimizer state; the FLOPs; and the work as a roofline job
(bytes moved and FLOPs per pass) that ``workload_costing`` prices on GPUs and offers.

Formulas (b = bytes per parameter of the chosen precision; L layers, h hidden size,
n_kv KV heads, d_head head dimension, derived from N when not given — ``model_shape.py``):

* Weights: ``N · b``. QLoRA stores the frozen base in 4-bit NormalFloat with double-quantised
  constants: ``N · (4 + 0.127) / 8`` bytes (Dettmers et al., "QLoRA: Efficient Finetuning of
  Quantized LLMs", NeurIPS 2023, §3: DQ cuts the constants from 0.5 to 0.127 bits/parameter).
* KV cache (inference): ``2 · L · n_kv · d_head · b_kv · s · B`` — keys and values of every
  layer for every token in flight (Pope et al., "Efficiently Scaling Transformer Inference",
  MLSys 2023; Kwon et al., "PagedAttention", SOSP 2023). ``b_kv`` = 2 (FP16), 1 with FP8.
* Activations (Korthikanti et al., "Reducing Activation Recomputation in Large Transformer
  Models", MLSys 2023, §4): one layer holds ``s·B·h·(34 + 5·a·s/h)`` bytes at 16-bit; with
  FlashAttention (Dao et al., NeurIPS 2022) the ``5·a·s/h`` attention-score term is never
  materialised, leaving ``34·s·B·h``. Training with full activation checkpointing stores each
  layer's input, ``2·s·B·h·L`` bytes, and recomputes one layer at a time (``34·s·B·h`` live);
  without checkpointing all ``L`` layers' ``34·s·B·h`` are kept. Inference processes the prompt
  in chunks of at most ``PREFILL_CHUNK_TOKENS`` (chunked prefill, as vLLM does), so its live
  activations are ``34 · min(s·B, chunk) · h``.
* Training state, mixed-precision Adam: 16 bytes/parameter — FP16 weights 2 + FP16 gradients
  2 + FP32 master weights, momentum and variance 4 + 4 + 4 (Rajbhandari et al., "ZeRO: Memory
  Optimizations Toward Training Trillion Parameter Models", SC 2020, §3.1). Pure FP32 is also
  16 (weights 4 + gradients 4 + Adam 8). LoRA/QLoRA train only the adapters (Hu et al., "LoRA",
  ICLR 2022): rank r on the four attention projections and the three SwiGLU MLP projections
  (f = 8h/3) is ``19 · r · h · L`` parameters at 16 bytes each.
* FLOPs: training ``6 · N · D`` for D tokens (Kaplan et al., "Scaling Laws for Neural Language
  Models", 2020, §2.1; Hoffmann et al., "Training Compute-Optimal Large Language Models"
  (Chinchilla), 2022); LoRA/QLoRA ``4 · N · D`` (no weight gradients for the frozen base: the
  backward pass w.r.t. activations only, ≈ the forward's 2·N·D); inference and encoders
  ``2 · N`` per token (Kaplan et al. 2020). Diffusion: ``2 · N · T`` per denoising step over
  ``T = (resolution / 16)²`` latent patches (8× VAE downsampling, 2 × 2 patches as in DiT —
  Peebles & Xie, ICCV 2023), doubled by classifier-free guidance (Ho & Salimans, 2022).
* Real models (``model``, a catalogue :class:`~.architecture.Architecture`): the published
  shape replaces the derived one field by field (an explicit num_layers / hidden_size /
  num_kv_heads / head_dim still wins); KV from ``architecture.kv_cache_bytes`` (GQA, sliding
  windows capped, MLA latents); weights from the storage format's bits per weight
  (``quantization``: fp8/int8/int4, AWQ/GPTQ, GGUF, cited in ``architecture.WEIGHT_FORMATS``);
  mixture-of-experts memory from total parameters, FLOPs and decode traffic from the active ones
  (batch-aware expert coverage, ``architecture.decode_weight_params``).
* Every default the caller did not choose is listed in ``assumptions`` (``Workload.defaults``
  names them), as are the serving reservation (``gpu_memory_utilization``, vLLM's default
  0.9) and the per-GPU runtime overhead.
* Utilisation: compute-bound phases run at a model-FLOPs utilisation (MFU, Chowdhery et al.,
  "PaLM", 2022, §4.1) of ``TRAINING_MFU`` / ``INFERENCE_MFU``; memory-bound decoding at the
  GPU's calibrated bandwidth efficiency (``throughput.bandwidth_efficiency``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .gpu_spec import MULTI_GPU_SCALING, USABLE_VRAM_FRACTION, Precision
from .model_shape import ModelShape
from .model_sizing import size_model
from .workload_input import (
    ADAPTER_TYPES,
    DEFAULT_CONTEXT_LENGTH,
    DEFAULT_OUTPUT_TOKENS,
    LIMITS,
    MODEL_KIND_WORKLOADS,
    TRAINING_TYPES,
    Workload,
    WorkloadType,
)

__all__ = [
    "ADAPTER_TYPES",
    "DEFAULT_CONTEXT_LENGTH",
    "DEFAULT_OUTPUT_TOKENS",
    "GB",
    "INFERENCE_MFU",
    "LIMITS",
    "MODEL_KIND_WORKLOADS",
    "TRAINING_MFU",
    "TRAINING_TYPES",
    "JobShape",
    "MemoryEstimate",
    "Workload",
    "WorkloadPlan",
    "WorkloadType",
    "plan_workload",
]

GB = 1e9


TRAINING_MFU = 0.40  # PaLM reports 46.2% MFU; Megatron-LM ~52% of A100 peak at scale
INFERENCE_MFU = 0.50
PREFILL_CHUNK_TOKENS = 8192
#: (gradient, optimizer-state) bytes per parameter for full training with Adam, by weight
#: precision: 16-bit weights 2 + gradients 2 + FP32 master, momentum, variance 12 = 16;
#: FP32 weights 4 + gradients 4 + Adam 8 = 16; FP8 weights 1 + BF16 gradients 2 + 12 = 15.
TRAINING_STATE_BYTES: dict[Precision, tuple[float, float]] = {
    Precision.FP32: (4.0, 8.0),
    Precision.FP16: (2.0, 12.0),
    Precision.BF16: (2.0, 12.0),
    Precision.FP8: (2.0, 12.0),
}
ACTIVATION_BYTES_PER_TOKEN_HIDDEN = 34.0
CHECKPOINT_BYTES_PER_TOKEN_HIDDEN = 2.0
LORA_PARAMS_PER_RANK_HIDDEN_LAYER = 19.0
CFG_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class MemoryEstimate:
    weights_gb: float
    kv_cache_gb: float
    activations_gb: float  # stored across the job (checkpoints / all layers when training)
    gradients_gb: float
    optimizer_states_gb: float
    #: Live working activations every GPU needs on top of its share of the rest.
    per_gpu_working_gb: float
    #: Share of each GPU's memory the job may plan on (the serving engine's reservation).
    usable_vram_fraction: float = USABLE_VRAM_FRACTION
    #: KV bytes one token adds with every layer holding it (0 when nothing is cached).
    kv_bytes_per_token: float = 0.0

    @property
    def shardable_gb(self) -> float:
        return (
            self.weights_gb
            + self.kv_cache_gb
            + self.activations_gb
            + self.gradients_gb
            + self.optimizer_states_gb
        )

    @property
    def total_gb(self) -> float:
        return self.shardable_gb + self.per_gpu_working_gb


@dataclass(frozen=True, slots=True)
class JobShape:
    """The work as a roofline job.

    ``replicated``: independent replicas each run ``passes`` passes that move ``pass_bytes``
    and compute ``pass_flops`` and yield ``items_per_pass`` units, plus ``extra_flops`` of
    compute-bound work (prefill). Otherwise every GPU of the offer trains together on
    ``total_flops`` at ``mfu``.
    """

    replicated: bool
    total_flops: float
    units: float  # tokens or images the job produces or consumes
    unit: str
    pass_bytes: float = 0.0
    pass_flops: float = 0.0
    items_per_pass: float = 0.0
    passes: float = 0.0
    extra_flops: float = 0.0
    mfu: float = INFERENCE_MFU
    compute_precision: Precision = Precision.FP16
    #: One decode step of a single sequence (the single-stream figure), when decoding.
    single_pass_bytes: float = 0.0
    single_pass_flops: float = 0.0
    #: Parameters each token's forward pass multiplies (active parameters of an MoE model).
    active_params: float = 0.0


@dataclass(frozen=True, slots=True)
class WorkloadPlan:
    workload: Workload
    shape: ModelShape
    memory: MemoryEstimate
    job: JobShape
    assumptions: tuple[str, ...] = field(default_factory=tuple)


def _working_tokens(w: Workload) -> float:
    if w.workload_type is WorkloadType.IMAGE_GENERATION:
        return CFG_FACTOR * w.batch_size * (w.image_resolution / 16) ** 2
    tokens = float(w.context_length) * w.batch_size
    if w.workload_type in TRAINING_TYPES:
        return tokens
    return min(tokens, PREFILL_CHUNK_TOKENS)


def _serving_notes(w: Workload, usable: float) -> list[str]:
    notes = []
    for name in w.defaults:
        value = getattr(w, name, None)
        shown = getattr(value, "value", value)
        if name == "precision" and w.model is not None:
            notes.append(f"precision not given: {shown} (the model's native dtype)")
        elif name == "context_length" and w.model is not None:
            notes.append(f"context_length not given: {shown} tokens")
        else:
            notes.append(f"{name} not given: {shown}")
    source = "given" if w.gpu_memory_utilization is not None else "vLLM's default, not given"
    notes.append(f"serving engine may use {usable:.0%} of each GPU's memory ({source})")
    if w.runtime_overhead_gb:
        notes.append(f"{w.runtime_overhead_gb:g} GB per-GPU runtime overhead added (given)")
    else:
        notes.append(
            "no per-GPU runtime overhead beyond that reservation (runtime_overhead_gb not "
            "given): CUDA context and graphs must fit in the remaining share"
        )
    return notes


def plan_workload(w: Workload) -> WorkloadPlan:
    w.validate()
    t = w.workload_type
    sizing = size_model(w, qlora=t is WorkloadType.FINE_TUNE_QLORA)
    shape = sizing.shape
    n, n_act = sizing.total_params, sizing.active_params
    h, layers = shape.hidden, shape.layers
    usable = w.gpu_memory_utilization or USABLE_VRAM_FRACTION
    assumptions: list[str] = [*sizing.assumptions, *_serving_notes(w, usable)]
    weights = sizing.weight_bytes
    kv = gradients = optimizer = stored_activations = 0.0
    working = ACTIVATION_BYTES_PER_TOKEN_HIDDEN * _working_tokens(w) * h
    compute_precision = sizing.fmt.compute
    if sizing.arch is not None and sizing.arch.is_moe:
        assumptions.append(
            "mixture of experts: memory holds every expert; FLOPs use the active parameters; "
            "a decode step reads the experts the batch is expected to touch"
        )

    if t in TRAINING_TYPES:
        tokens_per_sequence = float(w.context_length) * w.batch_size
        if w.activation_checkpointing:
            stored_activations = (
                CHECKPOINT_BYTES_PER_TOKEN_HIDDEN * tokens_per_sequence * h * layers
            )
            assumptions.append("full activation checkpointing (one layer recomputed at a time)")
        else:
            stored_activations = working * layers
            working = 0.0
        if t in ADAPTER_TYPES:
            adapter = LORA_PARAMS_PER_RANK_HIDDEN_LAYER * w.lora_rank * h * layers
            weights += 2.0 * adapter  # BF16 adapter weights beside the frozen base
            gradients = 2.0 * adapter
            optimizer = 12.0 * adapter  # FP32 master copy, Adam momentum and variance
            flops_per_token = 4.0 * n_act
            assumptions.append(
                f"LoRA rank {w.lora_rank} on attention and MLP projections: "
                f"{adapter / 1e6:.1f}M trainable parameters"
            )
            if t is WorkloadType.FINE_TUNE_QLORA:
                compute_precision = Precision.BF16
                assumptions.append("QLoRA: NF4 base weights with double quantisation, BF16 compute")
        else:
            gradient_bytes, optimizer_bytes = TRAINING_STATE_BYTES[w.precision]
            gradients = gradient_bytes * n
            optimizer = optimizer_bytes * n
            flops_per_token = 6.0 * n_act
            assumptions.append(
                f"Adam at {w.precision.value}: "
                f"{(weights + gradients + optimizer) / n:g} bytes per parameter (ZeRO, 2020)"
            )
        tokens = w.tokens if w.tokens is not None else float(w.requests or 0) * w.context_length
        job = JobShape(
            replicated=False,
            total_flops=flops_per_token * tokens,
            units=tokens,
            unit="tokens",
            mfu=TRAINING_MFU,
            compute_precision=compute_precision,
            active_params=n_act,
        )
    elif t is WorkloadType.LLM_INFERENCE:
        kv_per_sequence = sizing.kv_per_sequence
        kv = kv_per_sequence * w.batch_size
        out_per_request = float(w.output_tokens_per_request)
        if w.requests is not None:
            requests = float(w.requests)
            generated = requests * out_per_request
        else:
            generated = float(w.tokens or 0)
            requests = generated / out_per_request
        prompt_tokens = requests * max(w.context_length - out_per_request, 0)
        job = JobShape(
            replicated=True,
            total_flops=2.0 * n_act * (generated + prompt_tokens),
            units=generated,
            unit="tokens",
            # one decode step reads the (touched) weights and the whole batch's KV
            pass_bytes=sizing.decode_weight_bytes(w.batch_size) + kv,
            pass_flops=2.0 * n_act * w.batch_size,
            items_per_pass=float(w.batch_size),
            passes=generated / w.batch_size,
            extra_flops=2.0 * n_act * prompt_tokens,
            compute_precision=compute_precision,
            single_pass_bytes=sizing.decode_weight_bytes(1) + kv_per_sequence,
            single_pass_flops=2.0 * n_act,
            active_params=n_act,
        )
        assumptions.append(
            f"batch of {w.batch_size} sequences decoding with a full {w.context_length}-token "
            f"KV cache read every step (an upper bound); prompts of "
            f"{max(w.context_length - w.output_tokens_per_request, 0)} tokens prefilled "
            "compute-bound"
        )
        kv_dtype = w.kv_cache_dtype or ("fp8" if w.kv_element_bytes() == 1 else "fp16")
        given = "given" if w.kv_cache_dtype else "kv_cache_dtype not given"
        assumptions.append(f"KV cache stored as {kv_dtype} ({given})")
    elif t is WorkloadType.IMAGE_GENERATION:
        latent = (w.image_resolution / 16) ** 2
        images = float(w.requests or 0)
        per_step_flops = 2.0 * n_act * latent * CFG_FACTOR * w.batch_size
        job = JobShape(
            replicated=True,
            total_flops=per_step_flops * w.diffusion_steps * images / w.batch_size,
            units=images,
            unit="images",
            pass_bytes=weights,
            pass_flops=per_step_flops,
            items_per_pass=w.batch_size / w.diffusion_steps,
            passes=images / w.batch_size * w.diffusion_steps,
            compute_precision=compute_precision,
            active_params=n_act,
        )
        assumptions.append(
            f"{w.diffusion_steps} denoising steps at {w.image_resolution}px "
            f"({latent:.0f} latent patches), classifier-free guidance doubling the batch"
        )
    else:  # embeddings, generic: forward passes over batches of full contexts
        tokens = w.tokens if w.tokens is not None else float(w.requests or 0) * w.context_length
        per_batch = float(w.context_length) * w.batch_size
        job = JobShape(
            replicated=True,
            total_flops=2.0 * n_act * tokens,
            units=tokens,
            unit="tokens",
            pass_bytes=weights,
            pass_flops=2.0 * n_act * per_batch,
            items_per_pass=per_batch,
            passes=tokens / per_batch,
            compute_precision=compute_precision,
            active_params=n_act,
        )
    if job.replicated:
        assumptions.append(
            f"compute-bound phases at {job.mfu:.0%} model-FLOPs utilisation; memory-bound "
            "steps at each GPU's bandwidth efficiency calibrated on llama.cpp batch-1 decode; "
            f"{MULTI_GPU_SCALING:.0%} per-GPU scaling when a replica spans several GPUs"
        )
    else:
        assumptions.append(
            f"training at {job.mfu:.0%} model-FLOPs utilisation, {MULTI_GPU_SCALING:.0%} "
            "per-GPU scaling across several GPUs"
        )
    working += (w.runtime_overhead_gb or 0.0) * GB
    memory = MemoryEstimate(
        weights_gb=weights / GB,
        kv_cache_gb=kv / GB,
        activations_gb=stored_activations / GB,
        gradients_gb=gradients / GB,
        optimizer_states_gb=optimizer / GB,
        per_gpu_working_gb=working / GB,
        usable_vram_fraction=usable,
        kv_bytes_per_token=sizing.kv_per_token if t is WorkloadType.LLM_INFERENCE else 0.0,
    )
    return WorkloadPlan(w, shape, memory, job, tuple(assumptions))
