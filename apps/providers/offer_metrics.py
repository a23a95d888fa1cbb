"""Derived offer figures, twice: per row (calling THE formula module, ``costs.py``) and as SQL
annotations that order a whole result set the same way, so cursor and page pagination stay correct.

Per offer:

* price per GPU-hour   = price_per_hour / gpu_count (Decimal, 4 dp; ``GPUOffer.price_per_gpu_hour``)
* cost per M tokens    = ``costs.cost_per_million_tokens(price_per_hour, tokens/s)`` where the
  offer's tokens/s = the GPU's single-stream decode rate × ``gpu_count`` (one model replica per
  GPU). The 7-8B rate is the benchmark's ``tokens_per_second_7b``; other model sizes scale it by
  the bandwidth-bound estimate of ``throughput.py`` (so they are always labelled estimates).
* cost per TFLOP-hour  = ``costs.cost_per_tflop_hour(price_per_hour, tflops per GPU, gpu_count)``
  for a chosen precision (FP32, FP16, FP8, INT8).

The SQL keys repeat exactly those IEEE double operations in the same order (``CAST(price AS
double)``, products of integers cast to double) so SQLite, PostgreSQL and Python produce the same
numbers and hence the same order; a test compares them. A missing rate (no benchmark, or a
precision the GPU does not publish) is NULL in SQL and ``None`` per row, and sorts last in both
directions. Ordering by cost per million tokens does not depend on the model size: the bandwidth
scaling is one factor for every GPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import TypeVar

from django.db.models import BigIntegerField, F, FloatField, Func, OrderBy, Value
from django.db.models.expressions import Combinable, ExpressionWrapper
from django.db.models.functions import Cast, Greatest, NullIf, Round

from apps.math_core.algorithms import costs
from apps.math_core.algorithms.throughput import (
    LLAMA3_8B_PARAMS_BILLION,
    estimate_decode_tokens_per_second,
)
from apps.math_core.models import GPUBenchmark
from gpubroker.errors import ValidationFailed

from .models import GPUOffer

MONEY_STEP = Decimal("0.0001")
#: Unit rates per TFLOP-hour are fractions of a cent: 6 dp keeps 2-4 significant digits.
RATE_STEP = Decimal("0.000001")
FP16_BYTES_PER_PARAM = 2.0
UNITS_PER_DOLLAR = 10_000


class Precision(StrEnum):
    FP32 = "fp32"
    FP16 = "fp16"
    FP8 = "fp8"
    INT8 = "int8"

    @property
    def benchmark_field(self) -> str:
        return f"tflops_{self.value}"


class ModelSize(StrEnum):
    """Model-size classes buyers pick; ``params_billion`` is the size the estimate uses."""

    B7 = "7b"
    B13 = "13b"
    B34 = "34b"
    B70 = "70b"

    @property
    def params_billion(self) -> float:
        return {"7b": LLAMA3_8B_PARAMS_BILLION, "13b": 13.0, "34b": 34.0, "70b": 70.6}[self.value]


class OrderField(StrEnum):
    PRICE = "price"
    PRICE_PER_GPU_HOUR = "price_per_gpu_hour"
    COST_PER_MILLION_TOKENS = "cost_per_million_tokens"
    COST_PER_TFLOP_HOUR = "cost_per_tflop_hour"
    VRAM = "vram_gb"
    TOTAL_VRAM = "total_vram_gb"
    GPU_COUNT = "gpu_count"
    RELIABILITY = "reliability"
    LAST_SEEN = "last_seen"


E = TypeVar("E", bound=Enum)


def parse_enum(kind: type[E], value: object, field: str) -> E:
    """``value`` as a member of ``kind`` (accepting members, values and names), else a 422."""
    if isinstance(value, kind):
        return value
    text = str(getattr(value, "value", value)).strip().lower()
    for member in kind:
        if text in (str(member.value).lower(), member.name.lower()):
            return member
    allowed = ", ".join(str(member.value) for member in kind)
    raise ValidationFailed(f"{field} must be one of {allowed}; got {value!r}", field=field)


# --- SQL keys ---------------------------------------------------------------------------------
_FLOAT: FloatField = FloatField()


def _double(expression: str | Combinable) -> Cast:
    return Cast(F(expression) if isinstance(expression, str) else expression, _FLOAT)


def _price() -> Cast:
    return _double("price_per_hour")


def price_per_gpu_hour_key() -> ExpressionWrapper:
    count = Cast(Greatest(F("gpu_count"), Value(1)), _FLOAT)
    return ExpressionWrapper(_price() / count, output_field=_FLOAT)


def cost_per_million_tokens_key() -> ExpressionWrapper:
    rate = _double("benchmark__tokens_per_second_7b") * _double("gpu_count")
    per_hour = NullIf(rate, Value(0.0)) * Value(costs.SECONDS_PER_HOUR)
    return ExpressionWrapper(_price() / per_hour * Value(1_000_000.0), output_field=_FLOAT)


def cost_per_tflop_hour_key(precision: Precision) -> ExpressionWrapper:
    tflops = NullIf(F(f"benchmark__{precision.benchmark_field}"), Value(0.0))
    total = tflops * NullIf(_double("gpu_count"), Value(0.0))
    return ExpressionWrapper(_price() / total, output_field=_FLOAT)


def total_vram_key() -> ExpressionWrapper:
    product = Cast(F("gpu_memory_gb"), BigIntegerField()) * F("gpu_count")
    return ExpressionWrapper(product, output_field=BigIntegerField())


def price_units_key() -> ExpressionWrapper:
    """The hourly price in whole ten-thousandths of a dollar (an exact integer on both DBs)."""
    units = Round(F("price_per_hour") * Value(UNITS_PER_DOLLAR))
    return ExpressionWrapper(Cast(units, BigIntegerField()), output_field=BigIntegerField())


def money_units(amount: Decimal) -> int:
    """A 4-dp amount in whole ten-thousandths of a dollar."""
    return int(amount * UNITS_PER_DOLLAR)


#: Alias of the ordering key on the queryset (a column, or a derived expression).
ORDER_ALIAS = "order_key"


def order_key(order: OrderField, precision: Precision) -> Func | F | ExpressionWrapper:
    """The SQL expression an order field sorts by."""
    if order is OrderField.PRICE:
        return F("price_per_hour")
    if order is OrderField.PRICE_PER_GPU_HOUR:
        return price_per_gpu_hour_key()
    if order is OrderField.COST_PER_MILLION_TOKENS:
        return cost_per_million_tokens_key()
    if order is OrderField.COST_PER_TFLOP_HOUR:
        return cost_per_tflop_hour_key(precision)
    if order is OrderField.VRAM:
        return F("gpu_memory_gb")
    if order is OrderField.TOTAL_VRAM:
        return total_vram_key()
    if order is OrderField.GPU_COUNT:
        return F("gpu_count")
    if order is OrderField.RELIABILITY:
        return F("provider__reliability_score")
    return F("last_seen_at")


#: Keys that are NULL for some offers (no benchmark, or no figure at the precision).
NULLABLE_KEYS = frozenset({OrderField.COST_PER_MILLION_TOKENS, OrderField.COST_PER_TFLOP_HOUR})


def order_by_clause(order: OrderField, descending: bool) -> tuple[OrderBy, OrderBy]:
    """ORDER BY the annotated key, then id as the tie-break. Nullable keys put NULLs last in
    both directions (on both databases); the others keep a plain ASC/DESC an index can serve."""
    key = F(ORDER_ALIAS)
    nulls_last = True if order in NULLABLE_KEYS else None
    primary = key.desc(nulls_last=nulls_last) if descending else key.asc(nulls_last=nulls_last)
    return primary, F("id").asc()


# --- per row (costs.py) ----------------------------------------------------------------------
@dataclass(frozen=True)
class TokenCost:
    usd_per_million_tokens: Decimal
    tokens_per_second: float
    tokens_per_second_per_gpu: float
    model_params_billion: float
    is_estimate: bool
    fits_in_vram: bool
    basis: str


MAX_PARAMS_BILLION = 2000.0


def validate_params_billion(params_billion: float | None, size: ModelSize) -> float:
    """The size to estimate for: ``params_billion`` when given (validated), else the class's."""
    if params_billion is None:
        return size.params_billion
    if not math.isfinite(params_billion) or not 0.1 <= params_billion <= MAX_PARAMS_BILLION:
        raise ValidationFailed(
            f"params_billion must be between 0.1 and {MAX_PARAMS_BILLION:g}",
            field="params_billion",
        )
    return float(params_billion)


def is_benchmarked_size(params_billion: float) -> bool:
    """True for the 7-8B class the benchmark's ``tokens_per_second_7b`` was measured on."""
    return 6.5 <= params_billion <= 8.5


def per_gpu_tokens_per_second(
    benchmark: GPUBenchmark, params_billion: float
) -> tuple[float, bool, str]:
    """The GPU's single-stream decode tokens/s for a dense FP16 model of ``params_billion``,
    whether it is an estimate, and what it is based on."""
    base = float(benchmark.tokens_per_second_7b)
    if is_benchmarked_size(params_billion):
        basis = "benchmark tokens_per_second_7b (Llama-3-8B FP16, batch 1)"
        return base, benchmark.tokens_per_second_7b_is_estimate, basis
    # Bandwidth-bound decoding: tokens/s is proportional to bandwidth / weight bytes, so the
    # ratio of the two estimates (efficiency cancels) rescales the 7-8B rate to the given size.
    estimates = [
        estimate_decode_tokens_per_second(
            memory_bandwidth_gbps=benchmark.memory_bandwidth_gbps,
            params_billion=size,
            bytes_per_param=FP16_BYTES_PER_PARAM,
            efficiency=1.0,
        )
        for size in (params_billion, LLAMA3_8B_PARAMS_BILLION)
    ]
    basis = (
        f"estimate: tokens_per_second_7b scaled to {params_billion:g}B parameters at FP16 "
        "by the bandwidth-bound decode model (apps/math_core/algorithms/throughput.py)"
    )
    return base * estimates[0] / estimates[1], True, basis


def token_cost(offer: GPUOffer, params_billion: float) -> TokenCost | None:
    """Cost per million generated tokens of the offer, or ``None`` without a usable benchmark."""
    benchmark = offer.benchmark
    if benchmark is None or offer.gpu_count < 1 or benchmark.tokens_per_second_7b <= 0:
        return None
    per_gpu, is_estimate, basis = per_gpu_tokens_per_second(benchmark, params_billion)
    if is_benchmarked_size(params_billion):
        # Integer product, exactly what cost_per_million_tokens_key computes in SQL.
        rate = float(benchmark.tokens_per_second_7b * offer.gpu_count)
    else:
        rate = per_gpu * offer.gpu_count
    value = costs.cost_per_million_tokens(
        price_per_hour=offer.price_per_hour, tokens_per_second=rate
    )
    return TokenCost(
        usd_per_million_tokens=Decimal(repr(value)).quantize(MONEY_STEP),
        tokens_per_second=rate,
        tokens_per_second_per_gpu=per_gpu,
        model_params_billion=params_billion,
        is_estimate=is_estimate,
        fits_in_vram=params_billion * FP16_BYTES_PER_PARAM <= offer.total_vram_gb,
        basis=basis,
    )


def cost_per_million_tokens_value(offer: GPUOffer) -> float | None:
    """Unrounded 7-8B cost per million tokens: what ``cost_per_million_tokens_key`` sorts by."""
    benchmark = offer.benchmark
    if benchmark is None or offer.gpu_count < 1 or benchmark.tokens_per_second_7b <= 0:
        return None
    return costs.cost_per_million_tokens(
        price_per_hour=offer.price_per_hour,
        tokens_per_second=benchmark.tokens_per_second_7b * offer.gpu_count,
    )


def cost_per_tflop_hour_value(offer: GPUOffer, precision: Precision) -> float | None:
    """Unrounded cost per TFLOP-hour: the value ``cost_per_tflop_hour_key`` sorts by."""
    benchmark = offer.benchmark
    tflops = getattr(benchmark, precision.benchmark_field) if benchmark is not None else None
    if tflops is None or tflops <= 0 or offer.gpu_count < 1:
        return None
    return costs.cost_per_tflop_hour(
        price_per_hour=offer.price_per_hour, tflops_per_gpu=tflops, gpu_count=offer.gpu_count
    )


def cost_per_tflop_hour(offer: GPUOffer, precision: Precision) -> Decimal | None:
    value = cost_per_tflop_hour_value(offer, precision)
    return None if value is None else Decimal(repr(value)).quantize(RATE_STEP)
