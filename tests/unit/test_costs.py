"""Every cost formula against a hand calculation."""

from decimal import Decimal

import pytest

from apps.math_core.algorithms import costs
from apps.math_core.algorithms.costs import (
    cost_per_gflop,
    cost_per_million_tokens,
    cost_per_tflop_hour,
    gpus_to_hold_weights,
    offer_cost_per_gflop,
    offer_cost_per_million_tokens,
)
from apps.math_core.algorithms.errors import InvalidInput
from apps.math_core.algorithms.gpu_spec import GpuSpec, Precision


def test_cost_per_million_tokens_hand_calculation():
    # $2.00/h at 1000 tok/s: 3.6M tokens per hour, so $0.5556 per million
    assert cost_per_million_tokens(price_per_hour=2, tokens_per_second=1000) == pytest.approx(
        2 / 3.6
    )
    assert cost_per_million_tokens(
        price_per_hour=Decimal("0.3400"), tokens_per_second=54
    ) == pytest.approx(0.34 / (54 * 3600) * 1e6)


def test_cost_per_tflop_hour_counts_every_gpu():
    # 8x H100 SXM (989.5 dense BF16 TFLOPS each) at $24/h: 24 / 7916 = $0.003032 per TFLOP-hour
    assert cost_per_tflop_hour(price_per_hour=24, tflops_per_gpu=989.5, gpu_count=8) == (
        pytest.approx(24 / 7916)
    )


def test_cost_per_gflop_hand_calculation():
    # RTX 4090, 82.6 FP32 TFLOPS at $0.36/h: 82.6e3 GFLOP/s x 3600 s = 297.36e6 GFLOP per hour
    assert cost_per_gflop(price_per_hour=0.36, tflops_per_gpu=82.6) == pytest.approx(
        0.36 / 297_360_000
    )


def test_free_offer_costs_zero():
    assert cost_per_million_tokens(price_per_hour=0, tokens_per_second=10) == 0


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_rates_must_be_positive_and_finite(bad):
    with pytest.raises(ValueError, match="tokens_per_second"):
        cost_per_million_tokens(price_per_hour=1, tokens_per_second=bad)
    with pytest.raises(ValueError, match="tflops_per_gpu"):
        cost_per_tflop_hour(price_per_hour=1, tflops_per_gpu=bad)


@pytest.mark.parametrize("bad", [-0.01, float("nan"), float("inf")])
def test_price_must_be_non_negative_and_finite(bad):
    with pytest.raises(ValueError, match="price_per_hour"):
        cost_per_gflop(price_per_hour=bad, tflops_per_gpu=10)


# --- From an offer and its GPU's benchmark ---------------------------------------------------

# Figures of the shipped dataset: H100 PCIe (measured llama.cpp rates) and L4 (no measurement).
H100_PCIE = GpuSpec(
    gpu_model="H100 PCIe 80GB",
    vram_gb=80,
    memory_bandwidth_gbps=2000,
    tflops_fp32=51,
    tflops_fp16=756,
    tflops_fp8=1513,
    tflops_int8=1513,
    tokens_per_second_7b=68,
    tokens_per_second_7b_is_estimate=False,
    tokens_per_second_70b=25,
)
A100 = GpuSpec(
    gpu_model="A100 SXM 80GB",
    vram_gb=80,
    memory_bandwidth_gbps=2039,
    tflops_fp32=19.5,
    tflops_fp16=312,
    tflops_int8=624,
    tokens_per_second_7b=53,
    tokens_per_second_7b_is_estimate=False,
)
RTX_4090 = GpuSpec(
    gpu_model="RTX 4090",
    vram_gb=24,
    memory_bandwidth_gbps=1008,
    tflops_fp32=82.6,
    tflops_fp16=165.2,
    tokens_per_second_7b=54,
    tokens_per_second_7b_is_estimate=False,
)


@pytest.mark.parametrize(
    ("precision", "tflops"),
    [
        (Precision.FP32, 51),
        (Precision.FP16, 756),
        (Precision.BF16, 756),
        (Precision.FP8, 1513),
        (Precision.INT8, 1513),
    ],
)
def test_offer_flop_cost_uses_the_precisions_peak(precision, tflops):
    # 2 x H100 PCIe at $5/h: 5 / (tflops x 2 x 1e3 x 3600) per GFLOP; 5 / (2 x tflops) per TFLOP-h
    cost = offer_cost_per_gflop(price_per_hour=5, gpu_count=2, spec=H100_PCIE, precision=precision)
    assert cost.cost_per_gflop == pytest.approx(5 / (tflops * 2 * 1e3 * 3600))
    assert cost.cost_per_tflop_hour == pytest.approx(5 / (2 * tflops))
    assert cost.total_tflops == 2 * tflops


def test_a_precision_without_a_published_figure_is_an_error_not_a_guess():
    with pytest.raises(InvalidInput) as excinfo:
        offer_cost_per_gflop(price_per_hour=1, gpu_count=1, spec=A100, precision=Precision.FP8)
    assert excinfo.value.field == "precision"
    assert "A100 SXM 80GB has no published FP8 figure" in str(excinfo.value)


def test_token_cost_uses_the_measured_rate_for_the_benchmarked_model():
    # $2.40/h, 68 tok/s measured (Llama-3-8B F16): 2.4 / (68 x 3600) x 1e6 = $9.8039 per M
    cost = offer_cost_per_million_tokens(price_per_hour=2.4, gpu_count=1, spec=H100_PCIE)
    assert cost.is_estimate is False
    assert cost.tokens_per_second == 68
    assert cost.cost_per_million_tokens == pytest.approx(2.4 / (68 * 3600) * 1e6)
    seventy = offer_cost_per_million_tokens(
        price_per_hour=2.4, gpu_count=1, spec=H100_PCIE, params_billion=70, precision=Precision.INT4
    )
    assert seventy.is_estimate is False and seventy.tokens_per_second == 25


def test_token_cost_for_another_model_size_is_a_labelled_bandwidth_estimate():
    # 13B at FP16 on an H100 PCIe: its calibrated η = 68 x 16.06 / 2000 = 0.54604;
    # tokens/s = 0.54604 x 2000 / (13 x 2) = 42.003.
    cost = offer_cost_per_million_tokens(
        price_per_hour=2.4, gpu_count=1, spec=H100_PCIE, params_billion=13
    )
    assert cost.is_estimate is True
    assert cost.tokens_per_second == pytest.approx(68 * 16.06 / 26)
    assert "estimated from memory bandwidth" in cost.basis


def test_multi_gpu_offers_run_replicas_or_split_a_large_model():
    # 8B at FP16 (16 GB) fits one 4090: 4 GPUs = 4 replicas of 54 tok/s.
    four = offer_cost_per_million_tokens(price_per_hour=1.6, gpu_count=4, spec=RTX_4090)
    assert (four.gpus_per_replica, four.replicas) == (1, 4)
    assert four.tokens_per_second == 4 * 54
    # 34B at FP16 (68 GB) needs ceil(68 / 21.6) = 4 x 24 GB: one replica at 4 x bandwidth x 0.9.
    big = offer_cost_per_million_tokens(
        price_per_hour=1.6, gpu_count=4, spec=RTX_4090, params_billion=34
    )
    assert gpus_to_hold_weights(params_billion=34, precision=Precision.FP16, vram_gb=24) == 4
    single = (54 * 16.06 / 1008) * 1008 / 68
    assert big.tokens_per_second == pytest.approx(single * 4 * 0.9)
    assert big.is_estimate is True
    with pytest.raises(InvalidInput) as excinfo:
        offer_cost_per_million_tokens(
            price_per_hour=1.6, gpu_count=2, spec=RTX_4090, params_billion=34
        )
    assert excinfo.value.field == "model_params_billion"


@pytest.mark.parametrize("count", [0, -1, 1.5, float("nan")])
def test_offer_gpu_count_must_be_a_positive_whole_number(count):
    with pytest.raises(InvalidInput) as excinfo:
        offer_cost_per_gflop(price_per_hour=1, gpu_count=count, spec=A100, precision=Precision.FP16)
    assert excinfo.value.field == "gpu_count"


@pytest.mark.parametrize(
    ("price", "count", "expected"),
    [
        ("23.9200", 8, "2.9900"),
        ("2.4900", 1, "2.4900"),
        ("1.0000", 3, "0.3333"),
        ("0.0002", 4, "0.0000"),  # below a hundredth of a cent rounds to zero (half even)
        ("5.0000", 0, "5.0000"),  # a malformed count never divides by zero
    ],
)
def test_price_per_gpu_hour_is_four_places(price, count, expected):
    result = costs.price_per_gpu_hour(Decimal(price), count)
    assert result == Decimal(expected) and result.as_tuple().exponent == -4


def test_a_total_rate_that_overflows_is_an_error_not_infinity():
    from apps.math_core.algorithms.costs import total_tflops

    assert total_tflops(tflops_per_gpu=989.4, gpu_count=8) == pytest.approx(7915.2)
    with pytest.raises(ValueError, match="too large"):
        total_tflops(tflops_per_gpu=1.5e308, gpu_count=249)
    with pytest.raises(ValueError, match="too large"):
        # finite as TFLOPS, but not as GFLOP per hour (× 3.6e6)
        cost_per_gflop(price_per_hour=1, tflops_per_gpu=1e303, gpu_count=1)
