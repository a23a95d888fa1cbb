"""Cost formulas: the one place GPUBROKER turns a price and a rate into a cost.

* price per GPU-hour      = price per hour ÷ GPU count (USD, 4 dp: a stored/displayed amount)
* cost per million tokens = price per hour ÷ (tokens/s × 3600) × 10⁶
* cost per TFLOP-hour     = price per hour ÷ (TFLOPS per GPU × GPU count)
* cost per GFLOP          = price per hour ÷ (TFLOPS × 10³ GFLOP/TFLOP × 3600 s)
  (i.e. the price of 10⁹ floating-point operations delivered at peak rate)

The plain calculators take explicit rates. The ``offer_*`` functions take an offer's price and GPU
count plus the GPU's benchmark figures (:class:`GpuSpec`) and pick the rate: the datasheet peak
at the chosen precision (FP32, FP16/BF16, FP8, INT8) for FLOP costs; for token costs the measured
single-stream decode rate where the benchmark has one for that model size, else an estimate from
memory bandwidth and model size (``throughput.decode_rate``), labelled ``is_estimate``.

Inputs are floats or Decimals; results are floats rounded by the API layer. Non-positive or
non-finite inputs raise :class:`InvalidInput` (a ``ValueError`` naming the field) — never NaN or
infinity in a response.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from .errors import InvalidInput
from .gpu_spec import (
    BYTES_PER_PARAM,
    USABLE_VRAM_FRACTION,
    GpuSpec,
    Precision,
    parallel_scaling,
    peak_tflops,
)
from .throughput import LLAMA3_8B_PARAMS_BILLION, decode_rate
from .workload_input import check_limit

Number = float | int | Decimal

SECONDS_PER_HOUR = 3600.0
#: Money's step: USD amounts are stored and shown with 4 decimal places.
MONEY_STEP = Decimal("0.0001")


def price_per_gpu_hour(price_per_hour: Decimal, gpu_count: int) -> Decimal:
    """An offer's hourly price per GPU, at 4 dp (a count below one counts as one GPU)."""
    return (price_per_hour / max(int(gpu_count), 1)).quantize(MONEY_STEP)


def _positive(name: str, value: Number) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a positive finite number", field=name) from None
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"{name} must be a positive finite number", field=name)
    return number


def _non_negative(name: str, value: Number) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a non-negative finite number", field=name) from None
    if not math.isfinite(number) or number < 0:
        raise InvalidInput(f"{name} must be a non-negative finite number", field=name)
    return number


#: The largest unit cost an answer may carry (USD). Far above any real price, and far below
#: what money's 4-decimal Decimal can hold (28 significant digits): a larger cost is a rate too
#: small for the price, not an amount.
MAX_UNIT_COST = 1e15


def _finite_cost(rate_name: str, value: float) -> float:
    """A rate so small that the cost overflows a float (5e-324 TFLOPS), or exceeds what an
    amount can be (1e-20 tokens/s at 400,000 USD/h), is the caller's error (both found by
    .ci/fuzz: they were 500s)."""
    if not math.isfinite(value) or value > MAX_UNIT_COST:
        raise InvalidInput(
            f"{rate_name} is too small for this price: the cost is not a finite number "
            f"of at most {MAX_UNIT_COST:.0e} USD",
            field=rate_name,
        )
    return value


def _gpu_count(value: int) -> int:
    count = _positive("gpu_count", value)
    if count != int(count):
        raise InvalidInput("gpu_count must be a whole number", field="gpu_count")
    return int(count)


def cost_per_million_tokens(*, price_per_hour: Number, tokens_per_second: Number) -> float:
    price = _non_negative("price_per_hour", price_per_hour)
    rate = _positive("tokens_per_second", tokens_per_second)
    return _finite_cost("tokens_per_second", price / (rate * SECONDS_PER_HOUR) * 1_000_000)


def total_tflops(*, tflops_per_gpu: Number, gpu_count: Number = 1) -> float:
    """The machine's peak: TFLOPS per GPU × GPU count. A product, or its GFLOP-per-hour form,
    that overflows a float is the caller's error (1.5e308 TFLOPS × 249 GPUs, found by
    .ci/fuzz: it answered ``total_tflops: Infinity`` and a cost of 0), never an infinite rate."""
    tflops = _positive("tflops_per_gpu", tflops_per_gpu)
    count = _positive("gpu_count", gpu_count)
    total = tflops * count
    if not math.isfinite(total * 1_000 * SECONDS_PER_HOUR):
        raise InvalidInput(
            "tflops_per_gpu × gpu_count is too large: the rate is not a finite number",
            field="tflops_per_gpu",
        )
    return total


def cost_per_tflop_hour(
    *, price_per_hour: Number, tflops_per_gpu: Number, gpu_count: int = 1
) -> float:
    price = _non_negative("price_per_hour", price_per_hour)
    total = total_tflops(tflops_per_gpu=tflops_per_gpu, gpu_count=gpu_count)
    return _finite_cost("tflops_per_gpu", price / total)


def cost_per_gflop(*, price_per_hour: Number, tflops_per_gpu: Number, gpu_count: int = 1) -> float:
    price = _non_negative("price_per_hour", price_per_hour)
    total = total_tflops(tflops_per_gpu=tflops_per_gpu, gpu_count=gpu_count)
    gflop_per_hour = total * 1_000 * SECONDS_PER_HOUR
    return _finite_cost("tflops_per_gpu", price / gflop_per_hour)


# --- From an offer (price, GPU count) and its GPU's benchmark --------------------------------


@dataclass(frozen=True, slots=True)
class FlopCost:
    cost_per_gflop: float
    cost_per_tflop_hour: float
    tflops_per_gpu: float
    total_tflops: float
    precision: Precision


def offer_cost_per_gflop(
    *, price_per_hour: Number, gpu_count: int, spec: GpuSpec, precision: Precision
) -> FlopCost:
    """FLOP costs of a whole offer at the datasheet peak for ``precision``. A precision the GPU
    has no published figure for is an error naming ``precision`` (never a guessed rate)."""
    count = _gpu_count(gpu_count)
    tflops = peak_tflops(spec, precision)
    if tflops is None or tflops <= 0:
        raise InvalidInput(
            f"{spec.gpu_model} has no published {precision.value.upper()} figure",
            field="precision",
        )
    return FlopCost(
        cost_per_gflop=cost_per_gflop(
            price_per_hour=price_per_hour, tflops_per_gpu=tflops, gpu_count=count
        ),
        cost_per_tflop_hour=cost_per_tflop_hour(
            price_per_hour=price_per_hour, tflops_per_gpu=tflops, gpu_count=count
        ),
        tflops_per_gpu=tflops,
        total_tflops=total_tflops(tflops_per_gpu=tflops, gpu_count=count),
        precision=precision,
    )


@dataclass(frozen=True, slots=True)
class TokenCost:
    cost_per_million_tokens: float
    #: Aggregate decode tokens/s of the whole offer (all replicas).
    tokens_per_second: float
    tokens_per_second_per_replica: float
    gpus_per_replica: int
    replicas: int
    is_estimate: bool
    basis: str


def gpus_to_hold_weights(*, params_billion: float, precision: Precision, vram_gb: float) -> int:
    """Fewest GPUs whose usable VRAM holds the model's weights (tensor-parallel split)."""
    weight_gb = params_billion * BYTES_PER_PARAM[precision]
    usable = _positive("vram_gb", vram_gb) * USABLE_VRAM_FRACTION
    return max(1, math.ceil(weight_gb / usable))


def offer_cost_per_million_tokens(
    *,
    price_per_hour: Number,
    gpu_count: int,
    spec: GpuSpec,
    params_billion: float = LLAMA3_8B_PARAMS_BILLION,
    precision: Precision = Precision.FP16,
    vram_gb: float | None = None,
) -> TokenCost:
    """Single-stream decode cost per million tokens on a whole offer.

    The model is split over the fewest GPUs that hold its weights (``gpus_per_replica``); the
    offer runs ``gpu_count // gpus_per_replica`` independent replicas, one stream each, so its
    token rate is replicas × the replica's rate (a replica of k > 1 GPUs gets k × bandwidth at
    ``MULTI_GPU_SCALING``). The price covers the whole offer."""
    count = _gpu_count(gpu_count)
    params = _positive("model_params_billion", params_billion)
    # the workload estimator's model sizes: a 1e300B model is not a model (its GPU count
    # filled the message with 300 digits)
    check_limit("params_billion", params, field="model_params_billion")
    per_gpu = gpus_to_hold_weights(
        params_billion=params, precision=precision, vram_gb=vram_gb or spec.vram_gb
    )
    if per_gpu > count:
        raise InvalidInput(
            f"a {params:g}B model at {precision.value.upper()} needs {per_gpu} x "
            f"{spec.gpu_model} to hold its weights; the offer has {count}",
            field="model_params_billion",
        )
    single = decode_rate(spec, params_billion=params, precision=precision)
    replica_rate = single.tokens_per_second
    basis = single.basis
    if per_gpu > 1:
        replica_rate *= per_gpu * parallel_scaling(per_gpu)
        basis += f"; split over {per_gpu} GPUs at {parallel_scaling(per_gpu):.0%} scaling"
    replicas = count // per_gpu
    total_rate = replica_rate * replicas
    return TokenCost(
        cost_per_million_tokens=cost_per_million_tokens(
            price_per_hour=price_per_hour, tokens_per_second=total_rate
        ),
        tokens_per_second=total_rate,
        tokens_per_second_per_replica=replica_rate,
        gpus_per_replica=per_gpu,
        replicas=replicas,
        is_estimate=single.is_estimate or per_gpu > 1,
        basis=basis,
    )


@dataclass(frozen=True)
class TokenCostResult:
    """What a million tokens cost on one machine (``calculators.cost_per_token``, the
    catalogue's per-offer metrics)."""

    cost_per_million_tokens: Decimal
    price_per_hour: Decimal
    tokens_per_second: float
    is_estimate: bool = field(metadata={"description": "True when the rate is not measured."})
    basis: str
    gpu_model: str | None
    gpu_count: int
    gpus_per_replica: int
    replicas: int
    model_params_billion: float | None
    precision: str | None
    offer_id: str | None
