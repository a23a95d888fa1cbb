"""Every cost formula against a hand calculation."""

from decimal import Decimal

import pytest

from apps.math_core.algorithms.costs import (
    cost_per_gflop,
    cost_per_million_tokens,
    cost_per_tflop_hour,
)


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
