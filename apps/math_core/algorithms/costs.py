"""Cost formulas: the one place GPUBROKER turns a price and a rate into a cost.

* cost per million tokens = price per hour ÷ (tokens/s × 3600) × 10⁶
* cost per TFLOP-hour     = price per hour ÷ (TFLOPS per GPU × GPU count)
* cost per GFLOP          = price per hour ÷ (TFLOPS × 10³ GFLOP/TFLOP × 3600 s)
  (i.e. the price of 10⁹ floating-point operations delivered at peak rate)

Inputs are floats or Decimals; results are floats rounded by the API layer. Non-positive or
non-finite inputs raise ``ValueError`` (a clear error, never NaN or infinity in a response).
"""

from __future__ import annotations

import math
from decimal import Decimal

Number = float | int | Decimal

SECONDS_PER_HOUR = 3600.0


def _positive(name: str, value: Number) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number")
    return number


def _non_negative(name: str, value: Number) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a non-negative finite number")
    return number


def cost_per_million_tokens(*, price_per_hour: Number, tokens_per_second: Number) -> float:
    price = _non_negative("price_per_hour", price_per_hour)
    rate = _positive("tokens_per_second", tokens_per_second)
    return price / (rate * SECONDS_PER_HOUR) * 1_000_000


def cost_per_tflop_hour(
    *, price_per_hour: Number, tflops_per_gpu: Number, gpu_count: int = 1
) -> float:
    price = _non_negative("price_per_hour", price_per_hour)
    tflops = _positive("tflops_per_gpu", tflops_per_gpu)
    count = _positive("gpu_count", gpu_count)
    return price / (tflops * count)


def cost_per_gflop(*, price_per_hour: Number, tflops_per_gpu: Number, gpu_count: int = 1) -> float:
    price = _non_negative("price_per_hour", price_per_hour)
    tflops = _positive("tflops_per_gpu", tflops_per_gpu)
    count = _positive("gpu_count", gpu_count)
    gflop_per_hour = tflops * count * 1_000 * SECONDS_PER_HOUR
    return price / gflop_per_hour
