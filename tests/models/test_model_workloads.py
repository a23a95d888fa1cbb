"""Workload estimates sized from the catalogue (services): the issue's known answers.

"Serve Llama 3 70B at fp16, 8 sequences of 8k context": Llama 3 70B's config (80 layers, 8 KV
heads of 128, 70,553,706,496 parameters) gives 141.1 GB of weights and 2 x 80 x 8 x 128 x 2 x
8192 x 8 = 21.47 GB of KV cache; with one 8k-token prefill chunk of activations (34 x 8192 x
8192 bytes = 2.28 GB) that is about 164-165 GB. The old derivation (full multi-head attention
from the parameter count) said 169 GB of KV and 312 GB in all."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.errors import NotFound, ValidationFailed
from apps.math_core.algorithms.workload_mapper import plan_workload
from apps.math_core.models import GPUBenchmark
from apps.math_core.recommendations import ensemble_recommend
from apps.math_core.workloads import build_workload, estimate_workload
from tests.math_catalogue import make_offer

LLAMA3_70B_CASE: dict[str, Any] = {
    "workload_type": "llm_inference",
    "precision": "fp16",
    "context_length": 8192,
    "batch_size": 8,
    "requests": 1000,
}


@pytest.fixture
def everything(catalogue, benchmarks):
    return catalogue


def test_llama3_70b_8x8k_needs_about_164_gb(everything):
    plan = plan_workload(build_workload(model="Llama 3 70B", **LLAMA3_70B_CASE))
    m = plan.memory
    assert m.weights_gb == pytest.approx(70_553_706_496 * 2 / 1e9)
    assert m.kv_bytes_per_token == 327_680
    assert m.kv_cache_gb == pytest.approx(327_680 * 8192 * 8 / 1e9)  # 21.47 GB
    assert 163.0 < m.total_gb < 166.0
    old = plan_workload(build_workload(params_billion=70.55, **LLAMA3_70B_CASE))
    assert old.memory.kv_cache_gb > 160 and old.memory.total_gb > 300
    assert any("upper bound" in a for a in old.assumptions)


def test_gqa_model_is_placed_on_fewer_gpus_than_the_mha_derivation(everything):
    make_offer(gpu_type="H100 SXM 80GB", gpu_count=8, price="24.0000", external_id="h100x8")
    with_model = estimate_workload(workload=build_workload(model="Llama 3 70B", **LLAMA3_70B_CASE))
    derived = estimate_workload(workload=build_workload(params_billion=70.55, **LLAMA3_70B_CASE))
    new: dict[str, Any] = {g.gpu_model: g.min_gpus for g in with_model.gpu_models}
    old: dict[str, Any] = {g.gpu_model: g.min_gpus for g in derived.gpu_models}
    assert new["H100 SXM 80GB"] == 3 and old["H100 SXM 80GB"] == 5
    assert all(new[gpu] <= old[gpu] for gpu in new if new[gpu] and old[gpu])
    assert sum(new.values()) < sum(v for k, v in old.items() if new[k])
    offer_new = with_model.offers[0]
    offer_old = derived.offers[0]
    assert (offer_new.min_gpus, offer_old.min_gpus) == (3, 5)
    # two replicas of 3 on the 8-GPU machine instead of one of 5: twice the throughput
    assert (offer_new.replicas, offer_old.replicas) == (2, 1)
    assert with_model.model == "Llama 3 70B"
    assert str(with_model.model_source).endswith("Meta-Llama-3-70B-Instruct/blob/main/config.json")


def test_recommendations_follow_the_model(everything):
    """Ensemble: a 2 x H100 machine can serve Llama 3 70B 8x8k with the real architecture (and
    is ranked); with the MHA derivation it cannot hold the 312 GB."""
    make_offer(gpu_type="H100 SXM 80GB", gpu_count=4, price="12.0000", external_id="h100x4")
    real = ensemble_recommend(workload=build_workload(model="llama3:70b", **LLAMA3_70B_CASE))
    old = ensemble_recommend(workload=build_workload(params_billion=70.55, **LLAMA3_70B_CASE))
    assert real.feasible and real.recommendations
    assert not old.feasible and "GPU memory" in str(old.reason)
    assert real.excluded["insufficient_memory"] < old.excluded["insufficient_memory"]


def test_every_default_is_listed(everything):
    w = build_workload(workload_type="llm_inference", model="Mistral 7B", requests=10)
    assumptions = " | ".join(plan_workload(w).assumptions)
    for expected in (
        "model Mistral 7B",
        "precision not given: bf16 (the model's native dtype)",
        "context_length not given: 4096 tokens",
        "batch_size not given: 1",
        "output_tokens_per_request not given: 512",
        "vLLM's default",
        "runtime_overhead_gb not given",
        "kv_cache_dtype not given",
        "weights stored as bf16",
    ):
        assert expected in assumptions, expected


def test_default_context_is_capped_at_the_model_maximum(everything):
    w = build_workload(workload_type="embeddings", model="bge-large-en-v1.5", requests=100)
    assert w.context_length == 512
    assert "context_length not given: 512 tokens" in plan_workload(w).assumptions
    with pytest.raises(ValidationFailed) as caught:
        build_workload(
            workload_type="embeddings", model="bge-large-en-v1.5", requests=1, context_length=2048
        )
    assert caught.value.field == "context_length"


def test_explicit_shape_wins_field_by_field(everything):
    w = build_workload(model="Llama 3 70B", num_kv_heads=64, **LLAMA3_70B_CASE)
    plan = plan_workload(w)
    assert plan.memory.kv_bytes_per_token == 2 * 80 * 64 * 128 * 2
    assert any("num_kv_heads 64 given explicitly" in a for a in plan.assumptions)


def test_quantised_and_fp8_kv(everything):
    base = {**LLAMA3_70B_CASE, "precision": None}
    q4 = plan_workload(build_workload(model="Llama 3 70B", quantization="q4_k_m", **base))
    assert q4.memory.weights_gb == pytest.approx(70_553_706_496 * 4.899 / 8 / 1e9, rel=1e-3)
    fp8_kv = plan_workload(build_workload(model="Llama 3 70B", kv_cache_dtype="fp8", **base))
    assert fp8_kv.memory.kv_bytes_per_token == 163_840
    awq = plan_workload(build_workload(model="Llama 3.1 8B", quantization="awq", **base))
    embeddings = 2 * 128_256 * 4096
    expected = ((8_030_261_248 - embeddings) * 4.15625 / 8 + embeddings * 2) / 1e9
    assert awq.memory.weights_gb == pytest.approx(expected)


def test_moe_memory_from_total_compute_from_active(everything):
    w = build_workload(model="Mixtral 8x7B", **{**LLAMA3_70B_CASE, "batch_size": 1})
    plan = plan_workload(w)
    assert plan.memory.weights_gb == pytest.approx(46_702_792_704 * 2 / 1e9)
    assert plan.job.pass_flops == pytest.approx(2 * 12_879_925_248)
    # batch 1 reads the active weights; the single-stream step equals it
    assert plan.job.single_pass_bytes == pytest.approx(
        12_879_925_248 * 2 + plan.memory.kv_cache_gb * 1e9
    )


def test_deepseek_v3_native_fp8_and_mla(everything):
    w = build_workload(
        workload_type="llm_inference", model="DeepSeek V3", context_length=32768, requests=10
    )
    plan = plan_workload(w)
    assert w.precision.value == "fp8"
    assert plan.memory.weights_gb == pytest.approx(671.026419200)
    # MLA latent (512 + 64) x 61 layers x 1 byte (fp8 KV by default with fp8 weights)
    assert plan.memory.kv_bytes_per_token == (512 + 64) * 61


def test_single_stream_and_batched_rates_are_labelled(everything):
    estimate = estimate_workload(workload=build_workload(model="Llama 3.1 8B", **LLAMA3_70B_CASE))
    h100: Any = next(g for g in estimate.gpu_models if g.gpu_model == "H100 SXM 80GB")
    assert h100.min_gpus == 1
    assert h100.batched_tokens_per_second > 4 * h100.single_stream_tokens_per_second
    assert h100.prefill_tokens_per_second > h100.batched_tokens_per_second
    assert "batch 8" in h100.throughput_note


def test_gpu_without_a_published_figure_is_unknown_not_slower(everything):
    assert GPUBenchmark.objects.get(gpu_model="RTX 5090").tflops_fp16 is None
    make_offer(gpu_type="RTX 5090", price="0.6000", external_id="rtx5090")
    estimate = estimate_workload(
        workload=build_workload(
            workload_type="llm_inference", model="Llama 3.1 8B", precision="fp16", requests=10
        )
    )
    rtx = next(g for g in estimate.gpu_models if g.gpu_model == "RTX 5090")
    assert (
        rtx.min_gpus == 1 and rtx.throughput is None and rtx.single_stream_tokens_per_second is None
    )
    assert "no published fp16" in rtx.throughput_note
    offer = next(o for o in estimate.offers if o.gpu_type == "RTX 5090")
    assert offer.reasons == ["unknown_throughput"] and not offer.feasible
    assert offer.throughput is None and offer.total_cost is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"model": "Llama 3 70B", "context_length": 16384}, "context_length"),
        ({"model": "Llama 3 70B", "quantization": "q9_k"}, "quantization"),
        ({"model": "Llama 3 70B", "kv_cache_dtype": "int2"}, "kv_cache_dtype"),
        ({"model": "Llama 3 70B", "gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
        ({"model": "Llama 3 70B", "runtime_overhead_gb": -1}, "runtime_overhead_gb"),
        ({"params_billion": 0}, "params_billion"),
        ({"params_billion": 1e6}, "params_billion"),
        ({}, "params_billion"),
        ({"model": "SDXL"}, "workload_type"),
    ],
)
def test_bad_input_is_a_validation_error(everything, fields, field):
    with pytest.raises(ValidationFailed) as caught:
        build_workload(workload_type="llm_inference", requests=10, **fields)
    assert caught.value.field == field


def test_unknown_model_is_not_found_with_suggestions(everything):
    with pytest.raises(NotFound) as caught:
        build_workload(workload_type="llm_inference", model="lama 3 70", requests=1)
    assert "Llama 3 70B" in caught.value.details["suggestions"]


def test_a_model_too_big_for_every_offer_is_an_answer(everything):
    make_offer(gpu_type="H100 SXM 80GB", gpu_count=8, price="24.0000", external_id="h100x8")
    estimate = estimate_workload(
        workload=build_workload(
            workload_type="llm_inference", model="Llama 3.1 405B", precision="fp16", requests=1
        )
    )
    reason = str(estimate.reason)
    assert not estimate.feasible and "GPU memory" in reason
    assert "weights 811.7 GB" in reason and "would need 12" in reason
