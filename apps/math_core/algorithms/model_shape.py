"""Transformer shape (layers, hidden size, heads) from a parameter count, for memory formulas
that need it (KV cache, activations, LoRA adapters) when the caller does not give it."""

from __future__ import annotations

import math
from dataclasses import dataclass

ASPECT_RATIO = 128  # h / L of Llama-class models (4096/32, 5120/40)
DEFAULT_HEAD_DIM = 128


@dataclass(frozen=True, slots=True)
class ModelShape:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    derived: tuple[str, ...]  # which of these were derived rather than given


def derive_shape(
    params_billion: float,
    *,
    num_layers: int | None = None,
    hidden_size: int | None = None,
    num_kv_heads: int | None = None,
    head_dim: int | None = None,
) -> ModelShape:
    """Transformer shape from N ≈ 12·L·h² (Kaplan et al. 2020, non-embedding parameters) and
    Llama's aspect ratio h ≈ 128·L, unless given. KV heads default to the attention heads
    (multi-head attention: the upper bound; grouped-query models such as Llama-3 use 8)."""
    n = params_billion * 1e9
    derived: list[str] = []
    layers, hidden = num_layers, hidden_size
    if layers is None and hidden is None:
        layers = max(1, round((n / (12 * ASPECT_RATIO**2)) ** (1 / 3)))
        hidden = ASPECT_RATIO * layers
        derived += ["num_layers", "hidden_size"]
    elif layers is None:
        assert hidden is not None
        layers = max(1, round(n / (12 * hidden * hidden)))
        derived.append("num_layers")
    elif hidden is None:
        hidden = max(64, round(math.sqrt(n / (12 * layers)) / 64) * 64)
        derived.append("hidden_size")
    head_dim = head_dim or min(DEFAULT_HEAD_DIM, hidden)
    if head_dim is None:
        derived.append("head_dim")
    heads = max(1, hidden // head_dim)
    kv_heads = num_kv_heads or heads
    if num_kv_heads is None:
        derived.append("num_kv_heads")
    return ModelShape(int(layers), int(hidden), heads, int(kv_heads), int(head_dim), tuple(derived))
