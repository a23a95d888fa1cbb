"""Architecture-aware memory arithmetic for real models (pure: no Django import).

A model row of the catalogue (``apps/math_core/data/models.json``) becomes an
:class:`Architecture`; the functions here turn it into bytes:

* **KV cache** (Pope et al., "Efficiently Scaling Transformer Inference", MLSys 2023; Kwon et
  al., "PagedAttention", SOSP 2023). Standard attention (MHA / GQA / MQA) caches a key and a
  value vector per KV head per layer: ``2 × Σ_layers (n_kv × d_head) × b_kv`` bytes per token.
  A sliding-window layer (Mistral 7B v0.1, Gemma 2 / 3's local layers) never holds more than
  ``window`` tokens, so a sequence of ``s`` tokens caches ``min(s, window)`` there. Multi-head
  latent attention (DeepSeek-V2/V3, "DeepSeek-V2", arXiv:2405.04434 §2.1) caches one
  compressed latent of ``kv_lora_rank`` plus the decoupled RoPE key of ``qk_rope_head_dim``
  per layer: ``(kv_lora_rank + qk_rope_head_dim) × L × b_kv`` bytes per token (no factor 2).
* **Weights** = total parameters × bits per weight of the storage format / 8
  (:data:`WEIGHT_FORMATS`, each with its source). Mixture-of-experts models keep every expert
  resident, so memory uses the total; compute and decode traffic use the active parameters.
* **MoE decode traffic, batch-aware**: a decode step of ``B`` sequences reads the shared
  weights once and each routed expert that at least one sequence picked. With ``E`` routed
  experts of which ``k`` are chosen per token, uniformly, the expected share of experts touched
  is ``1 − (1 − k/E)^B`` — ``k/E`` at batch 1 (exactly the active parameters), approaching all
  experts at large batches. The expert pool is recovered from the published totals:
  ``pool = (total − active) · E / (E − k)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .errors import InvalidInput
from .gpu_spec import Precision


class AttentionKind(StrEnum):
    MHA = "mha"  # one KV head per query head
    GQA = "gqa"  # groups of query heads share a KV head
    MQA = "mqa"  # one KV head for all query heads
    MLA = "mla"  # multi-head latent attention: a compressed latent is cached
    NONE = "none"  # not an autoregressive transformer (diffusion UNet/DiT, encoders' no cache)


class ModelKind(StrEnum):
    LLM = "llm"
    EMBEDDING = "embedding"
    DIFFUSION = "diffusion"


#: How the catalogue names which layers use the sliding window.
SLIDING_RULES = ("all", "even", "odd", "5_of_6")


def sliding_layers(rule: str | None, num_layers: int) -> tuple[int, ...]:
    """0-based indices of the layers that attend within the sliding window.

    ``all``: every layer (Mistral 7B v0.1). ``even``: layers 0, 2, 4, … (Gemma 2 alternates
    local and global attention starting with a local layer). ``5_of_6``: every layer except each
    sixth (Gemma 3: ``sliding_window_pattern`` 6, five local layers then one global)."""
    if not rule:
        return ()
    if rule == "all":
        return tuple(range(num_layers))
    if rule == "even":
        return tuple(i for i in range(num_layers) if i % 2 == 0)
    if rule == "odd":
        return tuple(i for i in range(num_layers) if i % 2 == 1)
    if rule == "5_of_6":
        return tuple(i for i in range(num_layers) if (i + 1) % 6 != 0)
    raise InvalidInput(f"unknown sliding-window layer rule {rule!r}", field="sliding_window_layers")


@dataclass(frozen=True, slots=True)
class Architecture:
    """One catalogue row's published architecture (the fields the formulas read)."""

    name: str
    kind: ModelKind
    params_total: int
    params_active: int
    attention: AttentionKind = AttentionKind.NONE
    num_layers: int | None = None
    hidden_size: int | None = None
    num_heads: int | None = None
    num_kv_heads: int | None = None
    head_dim: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    sliding_window: int | None = None
    sliding_window_rule: str | None = None
    experts_total: int | None = None
    experts_active: int | None = None
    vocab_size: int | None = None
    max_context: int | None = None
    tied_embeddings: bool = False
    native_dtype: str = "bf16"
    source: str = field(default="", compare=False)  # the published config the row cites
    window_layers: tuple[int, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.params_total <= 0 or not 0 < self.params_active <= self.params_total:
            raise InvalidInput(f"{self.name}: parameter counts must be positive", field="model")
        if self.sliding_window_rule and self.num_layers:
            object.__setattr__(
                self, "window_layers", sliding_layers(self.sliding_window_rule, self.num_layers)
            )

    @property
    def is_moe(self) -> bool:
        return bool(self.experts_total and self.experts_active)

    @property
    def caches_kv(self) -> bool:
        return self.kind is ModelKind.LLM and self.attention is not AttentionKind.NONE

    @property
    def params_billion(self) -> float:
        return self.params_total / 1e9

    @property
    def active_params_billion(self) -> float:
        return self.params_active / 1e9


# --- KV cache ---------------------------------------------------------------------------------

#: Bytes per cached element of the KV-cache dtype.
KV_DTYPE_BYTES: dict[str, float] = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0}


def kv_dtype_bytes(name: str) -> float:
    key = str(name).strip().lower()
    if key not in KV_DTYPE_BYTES:
        allowed = ", ".join(KV_DTYPE_BYTES)
        raise InvalidInput(
            f"kv_cache_dtype must be one of {allowed}; got {name!r}", field="kv_cache_dtype"
        )
    return KV_DTYPE_BYTES[key]


def _per_layer_token_elements(arch: Architecture) -> int:
    """Cached elements per token per layer (keys and values together)."""
    if arch.attention is AttentionKind.MLA:
        if not arch.kv_lora_rank or arch.qk_rope_head_dim is None:
            raise InvalidInput(f"{arch.name}: MLA needs kv_lora_rank and qk_rope_head_dim")
        return arch.kv_lora_rank + arch.qk_rope_head_dim
    if not (arch.num_kv_heads and arch.head_dim):
        raise InvalidInput(f"{arch.name}: the catalogue has no KV heads / head dim", field="model")
    return 2 * arch.num_kv_heads * arch.head_dim


def kv_bytes_per_token(arch: Architecture, bytes_per_element: float = 2.0) -> float:
    """KV bytes one token adds while every layer still holds it (no window cap): the figure
    vLLM prints per token. Llama 3.1 70B at FP16: 2 × 80 × 8 × 128 × 2 = 327,680."""
    if not arch.caches_kv or not arch.num_layers:
        return 0.0
    return float(arch.num_layers * _per_layer_token_elements(arch) * bytes_per_element)


def kv_cache_bytes(arch: Architecture, context: int, bytes_per_element: float = 2.0) -> float:
    """KV bytes one sequence of ``context`` tokens holds, sliding-window layers capped."""
    if not arch.caches_kv or not arch.num_layers:
        return 0.0
    per_layer = _per_layer_token_elements(arch) * bytes_per_element
    windowed = len(arch.window_layers) if arch.sliding_window else 0
    full = arch.num_layers - windowed
    capped = min(context, arch.sliding_window) if arch.sliding_window else context
    return float(per_layer * (full * context + windowed * capped))


# --- Weights ----------------------------------------------------------------------------------

_LLAMA_CPP_QUANTIZE = (
    "llama.cpp tools/quantize/quantize.cpp QUANT_OPTIONS: file size of Llama-3-8B "
    "(8,030,261,248 parameters) at this type, {gib} GiB x 2^30 x 8 / 8,030,261,248 = {bpw} bpw "
    "(the whole-file effective rate, mixed tensor types included)"
)
_LLAMA3_8B_PARAMS = 8_030_261_248


def _gguf_bpw(gib: float) -> float:
    return round(gib * 2**30 * 8 / _LLAMA3_8B_PARAMS, 3)


@dataclass(frozen=True, slots=True)
class WeightFormat:
    name: str
    bits_per_weight: float
    compute: Precision  # the precision the matmuls run at (weight-only formats dequantise)
    source: str
    #: Embedding / output matrices kept at 16 bits (AWQ and GPTQ quantise linear layers only).
    embeddings_at_16_bit: bool = False


def _gguf(name: str, gib: float) -> WeightFormat:
    bpw = _gguf_bpw(gib)
    return WeightFormat(name, bpw, Precision.FP16, _LLAMA_CPP_QUANTIZE.format(gib=gib, bpw=bpw))


#: 4-bit weights in groups of 128 with a 16-bit scale and a 4-bit zero point per group:
#: 4 + (16 + 4) / 128 = 4.15625 bits (AutoAWQ's default ``q_group_size`` 128, ``zero_point``
#: True, ``w_bit`` 4; GPTQ's common ``group_size`` 128 with packed 4-bit zeros).
GROUPED_INT4_BPW = 4 + (16 + 4) / 128

WEIGHT_FORMATS: dict[str, WeightFormat] = {
    f.name: f
    for f in (
        WeightFormat("fp32", 32.0, Precision.FP32, "IEEE 754 single precision"),
        WeightFormat("fp16", 16.0, Precision.FP16, "IEEE 754 half precision"),
        WeightFormat("bf16", 16.0, Precision.BF16, "bfloat16"),
        WeightFormat("fp8", 8.0, Precision.FP8, "FP8 E4M3 weights (per-tensor scale)"),
        WeightFormat("int8", 8.0, Precision.INT8, "8-bit integer weights (W8A8)"),
        WeightFormat("int4", 4.0, Precision.FP16, "plain 4-bit weights, no group overhead"),
        WeightFormat(
            "awq",
            GROUPED_INT4_BPW,
            Precision.FP16,
            "AWQ 4-bit, group 128, fp16 scale + 4-bit zero per group (AutoAWQ defaults); "
            "embeddings and output layer stay 16-bit",
            embeddings_at_16_bit=True,
        ),
        WeightFormat(
            "gptq",
            GROUPED_INT4_BPW,
            Precision.FP16,
            "GPTQ 4-bit, group_size 128, fp16 scale + 4-bit zero per group; embeddings and "
            "output layer stay 16-bit",
            embeddings_at_16_bit=True,
        ),
        _gguf("q8_0", 7.96),
        _gguf("q6_k", 6.14),
        _gguf("q5_k_m", 5.33),
        _gguf("q5_k_s", 5.21),
        _gguf("q4_k_m", 4.58),
        _gguf("q4_k_s", 4.37),
        _gguf("q4_0", 4.34),
        _gguf("q3_k_l", 4.03),
        _gguf("q3_k_m", 3.74),
        _gguf("q3_k_s", 3.41),
        _gguf("q2_k", 2.96),
    )
}


def weight_format(name: str) -> WeightFormat:
    key = str(name).strip().lower().replace("-", "_")
    if key not in WEIGHT_FORMATS:
        allowed = ", ".join(WEIGHT_FORMATS)
        raise InvalidInput(
            f"quantization must be one of {allowed}; got {name!r}", field="quantization"
        )
    return WEIGHT_FORMATS[key]


def embedding_params(arch: Architecture) -> int:
    """Input embedding plus (untied) output projection parameters, when the row has them."""
    if not (arch.vocab_size and arch.hidden_size):
        return 0
    return arch.vocab_size * arch.hidden_size * (1 if arch.tied_embeddings else 2)


def weight_bytes(params: float, fmt: WeightFormat, *, embeddings: float = 0.0) -> float:
    """Bytes of ``params`` weights stored as ``fmt``; ``embeddings`` of them at 16 bits when
    the format keeps embeddings unquantised."""
    if fmt.embeddings_at_16_bit and embeddings > 0:
        kept = min(embeddings, params)
        return (params - kept) * fmt.bits_per_weight / 8 + kept * 2.0
    return params * fmt.bits_per_weight / 8


def expert_touch_fraction(experts_total: int, experts_active: int, batch: float) -> float:
    """Expected share of routed experts a decode step of ``batch`` sequences reads."""
    if experts_total <= 0 or not 0 < experts_active <= experts_total:
        raise InvalidInput("experts must satisfy 0 < active <= total", field="model")
    return 1.0 - (1.0 - experts_active / experts_total) ** max(batch, 1.0)


def decode_weight_params(arch: Architecture, batch: float) -> float:
    """Parameters one decode step of ``batch`` sequences reads: dense models all of them; MoE
    models the shared weights plus the expected share of the routed experts (module doc)."""
    if not arch.is_moe:
        return float(arch.params_total)
    assert arch.experts_total and arch.experts_active
    e, k = arch.experts_total, arch.experts_active
    if e == k:
        return float(arch.params_total)
    pool = (arch.params_total - arch.params_active) * e / (e - k)
    shared = arch.params_total - pool
    return shared + pool * expert_touch_fraction(e, k, batch)
