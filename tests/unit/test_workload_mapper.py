"""Every workload formula against a hand calculation (sources in workload_mapper's docstring)."""

from typing import Any

import numpy as np
import pytest

from apps.math_core.algorithms.errors import InvalidInput
from apps.math_core.algorithms.gpu_spec import MULTI_GPU_SCALING, Precision
from apps.math_core.algorithms.model_shape import derive_shape
from apps.math_core.algorithms.workload_costing import Hardware, evaluate, min_gpus
from apps.math_core.algorithms.workload_mapper import (
    INFERENCE_MFU,
    TRAINING_MFU,
    Workload,
    WorkloadType,
    plan_workload,
)

# Llama-2-7B's published shape: 6.74B parameters, 32 layers, hidden 4096, 32 heads of 128,
# multi-head attention (32 KV heads).
LLAMA2_7B: dict[str, Any] = {
    "params_billion": 6.74,
    "num_layers": 32,
    "hidden_size": 4096,
    "num_kv_heads": 32,
}
H100 = {"vram": 80.0, "bandwidth": 3350.0, "peak": 989.5, "eta": 0.45}


def one_gpu_kind(count=(1,), price=(2.0,), **overrides):
    spec = {**H100, **overrides}
    m = len(count)
    return Hardware(
        gpu_count=np.array(count),
        vram_gb=np.full(m, spec["vram"]),
        bandwidth_gbps=np.full(m, spec["bandwidth"]),
        peak_tflops=np.full(m, spec["peak"]),
        bandwidth_efficiency=np.full(m, spec["eta"]),
        price_per_hour=np.array(price, dtype=float),
    )


def test_inference_memory_and_time_by_hand():
    w = Workload(
        WorkloadType.LLM_INFERENCE, requests=100, output_tokens_per_request=512, **LLAMA2_7B
    )
    plan = plan_workload(w)
    # weights 6.74e9 x 2 B; KV = 2 x 32 layers x 32 heads x 128 x 2 B x 4096 tokens x 1
    # = 2,147,483,648 B (0.5 MiB per token); working = 34 x 4096 tokens x 4096 hidden.
    assert plan.memory.weights_gb == pytest.approx(13.48)
    assert plan.memory.kv_cache_gb == pytest.approx(2.147483648)
    assert plan.memory.per_gpu_working_gb == pytest.approx(34 * 4096 * 4096 / 1e9)
    assert plan.memory.gradients_gb == plan.memory.optimizer_states_gb == 0
    # 51,200 generated tokens (2N FLOPs each) + 100 prompts of 3,584 tokens.
    assert plan.job.total_flops == pytest.approx(2 * 6.74e9 * (51_200 + 358_400))
    estimate = evaluate(plan, one_gpu_kind())
    assert estimate.min_gpus.tolist() == [1]
    step_bytes = 13.48e9 + 2.147483648e9
    memory_step = step_bytes / (0.45 * 3350e9)  # decode reads weights + KV every step
    compute_step = 2 * 6.74e9 / (INFERENCE_MFU * 989.5e12)
    assert memory_step > compute_step
    assert estimate.memory_bound.tolist() == [True]
    assert estimate.throughput[0] == pytest.approx(1 / memory_step)
    prefill = 2 * 6.74e9 * 358_400 / (INFERENCE_MFU * 989.5e12)
    hours = (51_200 * memory_step + prefill) / 3600
    assert estimate.duration_hours[0] == pytest.approx(hours)
    assert estimate.total_cost is not None
    assert estimate.total_cost[0] == pytest.approx(hours * 2.0)


def test_eight_gpus_run_eight_replicas():
    w = Workload(WorkloadType.LLM_INFERENCE, tokens=1e6, **LLAMA2_7B)
    one, eight = evaluate(
        plan_workload(w), one_gpu_kind(count=(1, 8), price=(2.0, 16.0))
    ).duration_hours
    assert eight == pytest.approx(one / 8)


def test_full_fine_tuning_is_sixteen_bytes_per_parameter_and_six_n_d():
    w = Workload(WorkloadType.FINE_TUNE_FULL, tokens=1e9, batch_size=8, **LLAMA2_7B)
    plan = plan_workload(w)
    n = 6.74e9
    # Adam mixed precision (ZeRO): weights 2 + gradients 2 + FP32 master/m/v 12 bytes.
    states = plan.memory.weights_gb + plan.memory.gradients_gb + plan.memory.optimizer_states_gb
    assert states == pytest.approx(16 * n / 1e9)
    # Checkpointing stores 2 x s x B x h x L bytes; one layer (34 s B h) is live per GPU.
    assert plan.memory.activations_gb == pytest.approx(2 * 4096 * 8 * 4096 * 32 / 1e9)
    assert plan.memory.per_gpu_working_gb == pytest.approx(34 * 4096 * 8 * 4096 / 1e9)
    assert plan.job.total_flops == pytest.approx(6 * n * 1e9)
    # 116.43 GB shardable over GPUs with 72 - 4.56 GB of room each -> 2 x 80 GB.
    estimate = evaluate(plan, one_gpu_kind(count=(1, 2, 8), price=(2, 4, 16)))
    assert estimate.min_gpus.tolist() == [2, 2, 2]
    assert estimate.fits.tolist() == [False, True, True]
    seconds = 6 * n * 1e9 / (TRAINING_MFU * 8 * 989.5e12 * MULTI_GPU_SCALING)
    assert estimate.duration_hours[2] == pytest.approx(seconds / 3600)
    assert estimate.total_cost is not None
    assert np.isinf(estimate.duration_hours[0]) and np.isinf(estimate.total_cost[0])


def test_without_checkpointing_every_layer_keeps_its_activations():
    w = Workload(
        WorkloadType.FINE_TUNE_FULL,
        tokens=1e6,
        batch_size=8,
        activation_checkpointing=False,
        **LLAMA2_7B,
    )
    plan = plan_workload(w)
    assert plan.memory.activations_gb == pytest.approx(32 * 34 * 4096 * 8 * 4096 / 1e9)
    assert plan.memory.per_gpu_working_gb == 0


def test_qlora_memory_is_nf4_base_plus_adapters():
    w = Workload(WorkloadType.FINE_TUNE_QLORA, tokens=1e7, lora_rank=16, **LLAMA2_7B)
    plan = plan_workload(w)
    adapter = 19 * 16 * 4096 * 32  # 39,845,888 trainable parameters (0.59%)
    # NF4 with double quantisation: 4 + 0.127 bits per parameter (Dettmers et al. 2023).
    assert plan.memory.weights_gb == pytest.approx((6.74e9 * 4.127 / 8 + 2 * adapter) / 1e9)
    assert plan.memory.gradients_gb == pytest.approx(2 * adapter / 1e9)
    assert plan.memory.optimizer_states_gb == pytest.approx(12 * adapter / 1e9)
    assert plan.job.total_flops == pytest.approx(4 * 6.74e9 * 1e7)
    assert plan.job.compute_precision is Precision.BF16
    lora = plan_workload(Workload(WorkloadType.FINE_TUNE_LORA, tokens=1e7, **LLAMA2_7B))
    assert lora.memory.weights_gb == pytest.approx((6.74e9 * 2 + 2 * adapter) / 1e9)


def test_pretraining_flops_are_six_n_d():
    plan = plan_workload(Workload(WorkloadType.LLM_TRAINING, params_billion=1.0, tokens=2e10))
    assert plan.job.total_flops == pytest.approx(6 * 1e9 * 2e10)
    assert plan.job.unit == "tokens"


def test_image_generation_is_compute_bound_by_hand():
    w = Workload(WorkloadType.IMAGE_GENERATION, params_billion=2.6, requests=10)
    plan = plan_workload(w)
    # 1024 px -> (1024/16)² = 4096 latent patches; CFG doubles the batch.
    step_flops = 2 * 2.6e9 * 4096 * 2
    assert plan.job.pass_flops == pytest.approx(step_flops)
    estimate = evaluate(plan, one_gpu_kind())
    step = step_flops / (INFERENCE_MFU * 989.5e12)
    assert estimate.memory_bound.tolist() == [False]
    assert estimate.throughput[0] == pytest.approx(1 / (30 * step))
    assert estimate.duration_hours[0] == pytest.approx(10 * 30 * step / 3600)


def test_embeddings_forward_only():
    w = Workload(
        WorkloadType.EMBEDDINGS,
        params_billion=0.335,
        requests=1000,
        context_length=512,
        batch_size=64,
    )
    plan = plan_workload(w)
    assert plan.job.units == 512_000
    assert plan.job.total_flops == pytest.approx(2 * 0.335e9 * 512_000)
    assert plan.memory.kv_cache_gb == 0


def test_fp8_inference_halves_weights_and_kv_cache():
    w16 = plan_workload(Workload(WorkloadType.LLM_INFERENCE, tokens=1e4, **LLAMA2_7B))
    w8 = plan_workload(
        Workload(WorkloadType.LLM_INFERENCE, tokens=1e4, precision=Precision.FP8, **LLAMA2_7B)
    )
    assert w8.memory.weights_gb == pytest.approx(w16.memory.weights_gb / 2)
    assert w8.memory.kv_cache_gb == pytest.approx(w16.memory.kv_cache_gb / 2)


def test_shape_is_derived_from_the_parameter_count():
    shape = derive_shape(7.0)
    # N ≈ 12 L h² with h = 128 L: L = (7e9 / (12 x 128²))^(1/3) = 32.9 -> 33, h = 4224.
    assert (shape.layers, shape.hidden, shape.head_dim, shape.heads) == (33, 4224, 128, 33)
    assert shape.kv_heads == shape.heads  # MHA unless told otherwise
    assert "num_kv_heads" in shape.derived
    gqa = derive_shape(70, num_kv_heads=8)
    assert gqa.kv_heads == 8


def test_deadline_and_budget_decide_feasibility():
    base: dict[str, Any] = {"tokens": 1e9, "batch_size": 8, **LLAMA2_7B}
    hardware = one_gpu_kind(count=(2, 8), price=(4.0, 16.0))
    hours = evaluate(plan_workload(Workload(WorkloadType.FINE_TUNE_FULL, **base)), hardware)
    d2, d8 = hours.duration_hours
    tight = Workload(WorkloadType.FINE_TUNE_FULL, deadline_hours=(d2 + d8) / 2, **base)
    assert evaluate(plan_workload(tight), hardware).feasible.tolist() == [False, True]
    assert hours.total_cost is not None
    c2, c8 = hours.total_cost
    poor = Workload(WorkloadType.FINE_TUNE_FULL, budget_usd=min(c2, c8) * 0.99, **base)
    result = evaluate(plan_workload(poor), hardware)
    assert result.fits.tolist() == [True, True]
    assert result.within_budget.tolist() == [False, False]


def test_a_model_that_fits_on_no_gpu():
    huge = plan_workload(
        Workload(
            WorkloadType.LLM_TRAINING,
            params_billion=1.0,
            tokens=1e6,
            context_length=1_000_000,
            batch_size=64,
        )
    )
    # One micro-batch's live activations alone exceed any GPU: no count of GPUs helps.
    assert huge.memory.per_gpu_working_gb > 1000
    assert min_gpus(huge.memory, np.array([80.0, 192.0])).tolist() == [0, 0]
    result = evaluate(huge, one_gpu_kind(count=(8,)))
    assert result.feasible.tolist() == [False]
    assert np.isinf(result.duration_hours).all()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"workload_type": WorkloadType.LLM_INFERENCE, "params_billion": 7}, "tokens"),
        (
            {"workload_type": WorkloadType.IMAGE_GENERATION, "params_billion": 2, "tokens": 5},
            "requests",
        ),
        (
            {"workload_type": WorkloadType.LLM_INFERENCE, "params_billion": -7, "tokens": 5},
            "params_billion",
        ),
        (
            {
                "workload_type": WorkloadType.LLM_INFERENCE,
                "params_billion": float("nan"),
                "tokens": 5,
            },
            "params_billion",
        ),
        (
            {
                "workload_type": WorkloadType.LLM_INFERENCE,
                "params_billion": 7,
                "tokens": 5,
                "context_length": 0,
            },
            "context_length",
        ),
        (
            {
                "workload_type": WorkloadType.LLM_INFERENCE,
                "params_billion": 7,
                "tokens": 5,
                "context_length": 100,
            },
            "output_tokens_per_request",
        ),
        (
            {
                "workload_type": WorkloadType.FINE_TUNE_FULL,
                "params_billion": 7,
                "tokens": 5,
                "precision": Precision.INT4,
            },
            "precision",
        ),
        (
            {
                "workload_type": WorkloadType.LLM_INFERENCE,
                "params_billion": 7,
                "tokens": float("inf"),
            },
            "tokens",
        ),
        (
            {
                "workload_type": WorkloadType.LLM_INFERENCE,
                "params_billion": 7,
                "tokens": 5,
                "deadline_hours": 0,
            },
            "deadline_hours",
        ),
    ],
)
def test_bad_workloads_name_the_field(kwargs, field):
    with pytest.raises(InvalidInput) as excinfo:
        plan_workload(Workload(**kwargs))
    assert excinfo.value.field == field
