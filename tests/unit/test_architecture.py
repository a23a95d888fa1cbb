"""Known answers for the architecture-aware memory formulas (``algorithms/architecture.py``).

Each number is a hand calculation from the model's published config.json (fields quoted in the
test); the catalogue row must reproduce it exactly."""

from __future__ import annotations

import pytest

from apps.math_core.algorithms.architecture import (
    WEIGHT_FORMATS,
    Architecture,
    AttentionKind,
    ModelKind,
    decode_weight_params,
    expert_touch_fraction,
    kv_bytes_per_token,
    kv_cache_bytes,
    kv_dtype_bytes,
    sliding_layers,
    weight_bytes,
    weight_format,
)
from apps.math_core.algorithms.errors import InvalidInput


def gqa(name: str, layers: int, kv: int, d: int, **kw) -> Architecture:
    return Architecture(
        name=name,
        kind=ModelKind.LLM,
        params_total=1_000_000_000,
        params_active=1_000_000_000,
        attention=AttentionKind.GQA,
        num_layers=layers,
        num_kv_heads=kv,
        head_dim=d,
        **kw,
    )


def test_llama31_70b_caches_327680_bytes_per_token():
    # config.json: num_hidden_layers 80, num_key_value_heads 8, hidden 8192 / 64 heads = 128
    arch = gqa("Llama 3.1 70B", 80, 8, 128)
    assert kv_bytes_per_token(arch, 2) == 2 * 80 * 8 * 128 * 2 == 327_680
    assert kv_bytes_per_token(arch, kv_dtype_bytes("fp8")) == 163_840
    # 8 sequences x 8192 tokens: 21.47 GB (the 21.5 GB)
    assert kv_cache_bytes(arch, 8192, 2) * 8 == 327_680 * 8192 * 8 == 21_474_836_480


def test_mistral_7b_v01_sliding_window_caps_every_layer():
    # 32 layers, 8 KV heads of 128, sliding_window 4096 on all layers
    arch = gqa("Mistral 7B v0.1", 32, 8, 128, sliding_window=4096, sliding_window_rule="all")
    per_token = 2 * 32 * 8 * 128 * 2
    assert kv_bytes_per_token(arch) == per_token == 131_072
    assert kv_cache_bytes(arch, 2048) == per_token * 2048
    assert kv_cache_bytes(arch, 32768) == per_token * 4096


def test_gemma2_9b_alternating_window():
    # 42 layers, 8 KV heads of head_dim 256, window 4096 on the 21 even layers
    arch = gqa("Gemma 2 9B", 42, 8, 256, sliding_window=4096, sliding_window_rule="even")
    per_layer = 2 * 8 * 256 * 2
    assert kv_cache_bytes(arch, 8192) == per_layer * (21 * 8192 + 21 * 4096)


def test_gemma3_five_local_layers_per_global():
    layers = sliding_layers("5_of_6", 62)
    assert len(layers) == 52 and 5 not in layers and 11 not in layers and 0 in layers
    arch = gqa("Gemma 3 27B", 62, 16, 128, sliding_window=1024, sliding_window_rule="5_of_6")
    per_layer = 2 * 16 * 128 * 2
    assert kv_cache_bytes(arch, 32768) == per_layer * (10 * 32768 + 52 * 1024)


def test_deepseek_v3_mla_caches_latent_plus_rope_key():
    # 61 layers, kv_lora_rank 512, qk_rope_head_dim 64: (512 + 64) x 61 x 2 = 70,272 bytes
    arch = Architecture(
        name="DeepSeek V3",
        kind=ModelKind.LLM,
        params_total=671_000_000_000,
        params_active=37_000_000_000,
        attention=AttentionKind.MLA,
        num_layers=61,
        num_kv_heads=128,
        head_dim=192,
        kv_lora_rank=512,
        qk_rope_head_dim=64,
    )
    assert kv_bytes_per_token(arch) == (512 + 64) * 61 * 2 == 70_272
    # the full-MHA derivation (128 heads of 192 + 128) would be 2 x 61 x 128 x 160 x 2
    assert kv_bytes_per_token(arch) < 2 * 61 * 128 * (128 + 64) * 2 / 30


def test_gguf_bits_per_weight_from_llama_cpp_table():
    # quantize.cpp sizes for Llama-3-8B: Q4_K_M 4.58G, Q8_0 7.96G (GiB)
    assert WEIGHT_FORMATS["q4_k_m"].bits_per_weight == pytest.approx(4.899, abs=1e-3)
    assert WEIGHT_FORMATS["q8_0"].bits_per_weight == pytest.approx(8.515, abs=1e-3)
    assert (
        WEIGHT_FORMATS["q2_k"].bits_per_weight
        < WEIGHT_FORMATS["q3_k_m"].bits_per_weight
        < WEIGHT_FORMATS["q5_k_m"].bits_per_weight
        < WEIGHT_FORMATS["q6_k"].bits_per_weight
    )
    assert "quantize.cpp" in WEIGHT_FORMATS["q6_k"].source
    # the table's own row reproduces: 8,030,261,248 params x 4.899 bits = 4.58 GiB
    size_gib = weight_bytes(8_030_261_248, weight_format("Q4_K_M")) / 2**30
    assert size_gib == pytest.approx(4.58, abs=0.005)


def test_awq_keeps_embeddings_at_16_bit():
    fmt = weight_format("awq")
    assert fmt.bits_per_weight == 4 + 20 / 128
    plain = weight_bytes(8e9, fmt)
    with_embeddings = weight_bytes(8e9, fmt, embeddings=1e9)
    assert with_embeddings == pytest.approx(7e9 * 4.15625 / 8 + 2e9)
    assert with_embeddings > plain


def test_unknown_formats_are_typed_errors():
    with pytest.raises(InvalidInput) as caught:
        weight_format("q9_k_xl")
    assert caught.value.field == "quantization"
    with pytest.raises(InvalidInput):
        kv_dtype_bytes("int3")


def test_moe_decode_reads_active_params_at_batch_1_and_more_with_batch():
    # Mixtral 8x7B: 46,702,792,704 total, 12,879,925,248 active (2 of 8 experts)
    arch = Architecture(
        name="Mixtral 8x7B",
        kind=ModelKind.LLM,
        params_total=46_702_792_704,
        params_active=12_879_925_248,
        attention=AttentionKind.GQA,
        num_layers=32,
        num_kv_heads=8,
        head_dim=128,
        experts_total=8,
        experts_active=2,
    )
    assert decode_weight_params(arch, 1) == pytest.approx(12_879_925_248)
    assert expert_touch_fraction(8, 2, 2) == pytest.approx(1 - 0.75**2)
    at_64 = decode_weight_params(arch, 64)
    assert 0.999 * 46_702_792_704 < at_64 <= 46_702_792_704


def test_bad_rows_are_rejected():
    with pytest.raises(InvalidInput):
        Architecture(name="x", kind=ModelKind.LLM, params_total=0, params_active=0)
    with pytest.raises(InvalidInput):
        sliding_layers("every_third", 10)
