"""Hand calculations from a published ``config.json`` (independent of the catalogue code).

Used by ``bench/model_accuracy.py`` to check the catalogue's parameter counts and KV bytes per
token against the arithmetic a reader would do with the model's config in hand. Written from the
model definitions in Hugging Face transformers (LlamaForCausalLM, Qwen2/Qwen3, Gemma2/Gemma3,
Mixtral, Qwen3-MoE): embeddings, per-layer attention and MLP projections, norms.
"""

from __future__ import annotations

from typing import Any


def dense_decoder_params(c: dict[str, Any]) -> int:
    """Parameters of a Llama-style decoder: q/k/v/o, SwiGLU MLP (or routed experts), norms.

    Keys (config.json names): hidden_size, num_hidden_layers, num_attention_heads,
    num_key_value_heads, head_dim, intermediate_size, vocab_size, tie_word_embeddings, plus
    ``qkv_bias`` (Qwen2), ``qk_norm`` (Qwen3, Gemma 3), ``norms_per_layer`` (2; Gemma 2/3: 4),
    and for MoE ``num_experts``/``moe_intermediate_size`` (router hidden × experts per layer).
    """
    h = c["hidden_size"]
    layers = c["num_hidden_layers"]
    heads = c["num_attention_heads"]
    kv = c["num_key_value_heads"]
    d = c.get("head_dim") or h // heads
    q_out, kv_out = heads * d, kv * d
    attn = h * q_out + 2 * h * kv_out + q_out * h
    if c.get("qkv_bias"):
        attn += q_out + 2 * kv_out
    if c.get("qk_norm"):
        attn += 2 * d
    experts = c.get("num_experts")
    if experts:
        mlp = experts * 3 * h * c["moe_intermediate_size"] + h * experts
    else:
        mlp = 3 * h * c["intermediate_size"]
    norms = c.get("norms_per_layer", 2) * h
    per_layer = attn + mlp + norms
    embeddings = c["vocab_size"] * h * (1 if c.get("tie_word_embeddings") else 2)
    return layers * per_layer + embeddings + h


def moe_active_params(c: dict[str, Any]) -> int:
    """Active parameters per token of an MoE decoder: the model with only the chosen experts."""
    active = dict(c)
    active["num_experts"] = c["num_experts_per_tok"]
    router = c["hidden_size"] * (c["num_experts"] - c["num_experts_per_tok"])
    return dense_decoder_params(active) + c["num_hidden_layers"] * router


def kv_bytes_per_token(c: dict[str, Any], bytes_per_element: int = 2) -> int:
    """2 × layers × KV heads × head dim × bytes (standard attention, every layer caching)."""
    if c.get("kv_lora_rank"):
        return (
            c["num_hidden_layers"] * (c["kv_lora_rank"] + c["qk_rope_head_dim"]) * bytes_per_element
        )
    d = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    return 2 * c["num_hidden_layers"] * c["num_key_value_heads"] * d * bytes_per_element


def deepseek_v3_params(c: dict[str, Any]) -> tuple[int, int]:
    """(total, active) parameters of a DeepSeek-V3-style decoder (transformers DeepseekV3):
    MLA attention (q_a/q_b low-rank query, kv_a with the shared RoPE key, kv_b, o), the first
    ``first_k_dense_replace`` layers dense, the rest ``n_routed_experts`` routed experts (top
    ``num_experts_per_tok``) plus ``n_shared_experts`` shared ones and a router with a score
    correction bias. The multi-token-prediction module is not counted (not used for serving)."""
    h, layers, heads = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"]
    nope, rope, v = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
    q_rank, kv_rank = c["q_lora_rank"], c["kv_lora_rank"]
    attn = (
        h * q_rank
        + q_rank
        + q_rank * heads * (nope + rope)
        + h * (kv_rank + rope)
        + kv_rank
        + kv_rank * heads * (nope + v)
        + heads * v * h
    )
    expert = 3 * h * c["moe_intermediate_size"]
    routed, shared, top = c["n_routed_experts"], c["n_shared_experts"], c["num_experts_per_tok"]
    router = h * routed + routed
    dense_layers = c["first_k_dense_replace"]
    moe_layers = layers - dense_layers
    common = layers * (attn + 2 * h) + dense_layers * 3 * h * c["intermediate_size"]
    embeddings = c["vocab_size"] * h * (1 if c.get("tie_word_embeddings") else 2) + h
    total = common + moe_layers * ((routed + shared) * expert + router) + embeddings
    active = common + moe_layers * ((top + shared) * expert + router) + embeddings
    return total, active
