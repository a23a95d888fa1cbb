"""Sizes a workload's model: shape, parameters, weight and KV bytes (pure).

With a catalogue model (``Workload.model``) everything comes from its published architecture
(``architecture.py``); explicit shape inputs still win field by field. Without one the shape is
derived from the parameter count (``model_shape.derive_shape``) and the KV cache assumes full
multi-head attention — an upper bound, said so in the assumptions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .architecture import (
    Architecture,
    WeightFormat,
    decode_weight_params,
    embedding_params,
    kv_bytes_per_token,
    kv_cache_bytes,
    weight_bytes,
)
from .model_shape import ModelShape, derive_shape

if TYPE_CHECKING:
    from .workload_input import Workload

#: Parameter counts closer than this to the model row's are the row's own (not an override).
PARAMS_MATCH_TOLERANCE = 0.5e6
NF4_DOUBLE_QUANT_BITS_PER_PARAM = 4.0 + 0.127


@dataclass(frozen=True, slots=True)
class Sizing:
    shape: ModelShape
    arch: Architecture | None
    fmt: WeightFormat
    total_params: float
    active_params: float
    weight_bytes: float
    kv_per_token: float  # bytes a token adds while every layer holds it
    kv_per_sequence: float  # bytes one sequence holds at the workload's context
    assumptions: tuple[str, ...]

    def decode_weight_bytes(self, batch: float) -> float:
        """Weight bytes one decode step of ``batch`` sequences reads (MoE: the experts the
        batch is expected to touch; dense: all of them)."""
        if self.arch is None or not self.arch.is_moe:
            return self.weight_bytes
        return self.weight_bytes * decode_weight_params(self.arch, batch) / self.arch.params_total


def _with_overrides(arch: Architecture, w: Workload) -> tuple[Architecture, list[str]]:
    given = {
        "num_layers": w.num_layers,
        "hidden_size": w.hidden_size,
        "num_kv_heads": w.num_kv_heads,
        "head_dim": w.head_dim,
    }
    changes: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    notes = [
        f"{k} {v} given explicitly (the model row says {getattr(arch, k)})"
        for k, v in changes.items()
    ]
    total = w.params_billion * 1e9
    if abs(total - arch.params_total) > PARAMS_MATCH_TOLERANCE:
        ratio = arch.params_active / arch.params_total
        changes["params_total"] = int(total)
        changes["params_active"] = max(1, int(total * ratio))
        notes.append(
            f"params_billion {w.params_billion:g} given explicitly (the model row says "
            f"{arch.params_total / 1e9:.2f}B); active parameters scaled in proportion"
        )
    return (replace(arch, **changes) if changes else arch), notes  # type: ignore[arg-type]


def _describe(arch: Architecture, kv_per_token: float, kv_bytes: float) -> str:
    parts = [f"{arch.params_total / 1e9:.2f}B parameters"]
    if arch.is_moe:
        parts.append(
            f"{arch.params_active / 1e9:.2f}B active ({arch.experts_active} of "
            f"{arch.experts_total} experts per token)"
        )
    if arch.caches_kv:
        if arch.attention.value == "mla":
            parts.append(
                f"MLA caching a {arch.kv_lora_rank}-dim latent + {arch.qk_rope_head_dim}-dim "
                f"RoPE key over {arch.num_layers} layers"
            )
        else:
            parts.append(
                f"{arch.attention.value.upper()} with {arch.num_kv_heads} KV heads of "
                f"{arch.head_dim} over {arch.num_layers} layers"
            )
        if arch.sliding_window and arch.window_layers:
            parts.append(
                f"{len(arch.window_layers)} layers capped at a {arch.sliding_window}-token "
                "sliding window"
            )
        parts.append(f"KV {kv_per_token:,.0f} bytes per token at {kv_bytes:g}-byte elements")
    else:
        parts.append("no KV cache")
    return ", ".join(parts)


def size_model(w: Workload, *, qlora: bool) -> Sizing:
    fmt = w.weight_format()
    b_kv = w.kv_element_bytes()
    notes: list[str] = []
    arch = None
    if w.model is not None:
        arch, notes = _with_overrides(w.model, w)
    total = float(arch.params_total) if arch else w.params_billion * 1e9
    active = float(arch.params_active) if arch else total
    if arch and arch.num_layers and arch.hidden_size:
        heads = arch.num_heads or max(1, arch.hidden_size // (arch.head_dim or 128))
        shape = ModelShape(
            arch.num_layers,
            arch.hidden_size,
            heads,
            arch.num_kv_heads or heads,
            arch.head_dim or arch.hidden_size // heads,
            (),
        )
    else:
        shape = derive_shape(
            total / 1e9,
            num_layers=w.num_layers,
            hidden_size=w.hidden_size,
            num_kv_heads=w.num_kv_heads,
            head_dim=w.head_dim,
        )
    if qlora:
        weights = total * NF4_DOUBLE_QUANT_BITS_PER_PARAM / 8
    else:
        weights = weight_bytes(total, fmt, embeddings=embedding_params(arch) if arch else 0.0)
    if arch is not None:
        per_token = kv_bytes_per_token(arch, b_kv)
        per_sequence = kv_cache_bytes(arch, w.context_length, b_kv)
        notes.insert(0, f"model {arch.name}: {_describe(arch, per_token, b_kv)}")
    else:
        per_token = 2.0 * shape.layers * shape.kv_heads * shape.head_dim * b_kv
        per_sequence = per_token * w.context_length
        if shape.derived:
            notes.append(
                f"model shape derived from {w.params_billion:g}B parameters: {shape.layers} "
                f"layers, hidden {shape.hidden}, {shape.heads} heads of {shape.head_dim}, "
                f"{shape.kv_heads} KV heads (derived: {', '.join(shape.derived)})"
            )
        if "num_kv_heads" in shape.derived:
            notes.append(
                "KV heads = attention heads (full multi-head attention): an upper bound for "
                "grouped-query models; name the model or give num_kv_heads"
            )
    if not qlora:
        notes.append(f"weights stored as {fmt.name}: {fmt.bits_per_weight:g} bits ({fmt.source})")
    return Sizing(shape, arch, fmt, total, active, weights, per_token, per_sequence, tuple(notes))
