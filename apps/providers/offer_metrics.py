"""Derived offer figures, twice: per row (through THE formula module, ``costs.py``: its
``offer_cost_per_million_tokens`` and ``offer_cost_per_gflop``, the same functions the math core's
calculators and recommenders use) and as SQL keys that order a whole result set the same way, so
cursor and page pagination stay correct.

* price per GPU-hour  = price_per_hour / gpu_count (``GPUOffer.price_per_gpu_hour``, 4 dp).
* cost per M tokens   = price / (offer tokens/s × 3600) × 10⁶, single-stream decode: the model is
  split over the fewest GPUs whose usable VRAM (90 %) holds its weights; the offer runs
  ``gpu_count // gpus_per_replica`` replicas (a split replica keeps 90 % per GPU). The 7-8B FP16
  rate is the benchmark's ``tokens_per_second_7b``; other sizes and precisions are bandwidth
  estimates (``throughput.decode_rate``), labelled ``isEstimate``. ``None`` when the GPU has no
  benchmark or the offer cannot hold the weights.
* cost per TFLOP-hour = price / (datasheet TFLOPS per GPU at a precision × gpu_count); ``None``
  when the GPU publishes no figure at that precision.

The SQL keys repeat the same IEEE double operations in the same order (``CAST(price AS double)``,
integer counts as doubles, ``CEIL`` for the GPUs per replica), so SQLite, PostgreSQL and Python
get the same numbers and hence the same order; tests compare them bit for bit. Ordering by cost
per million tokens uses the 7-8B FP16 model (the benchmark's measured size). A missing figure is
NULL and sorts last in both directions.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import TypeVar

from django.db.models import BigIntegerField, Case, F, FloatField, Func, OrderBy, Value, When
from django.db.models.expressions import Combinable, ExpressionWrapper
from django.db.models.functions import Cast, Ceil, Coalesce, Floor, Greatest, NullIf, Round
from django.db.models.lookups import GreaterThan

from apps.core.errors import ValidationFailed
from apps.math_core.algorithms import costs
from apps.math_core.algorithms.errors import InvalidInput
from apps.math_core.algorithms.gpu_spec import (
    BYTES_PER_PARAM,
    MULTI_GPU_SCALING,
    USABLE_VRAM_FRACTION,
    Precision,
)
from apps.math_core.algorithms.throughput import LLAMA3_8B_PARAMS_BILLION
from apps.math_core.calculators import TokenCostResult, gpu_spec
from apps.math_core.service_utils import money, rate

from .adapters.base import PRICE_COMPONENTS, PriceBreakdown
from .models import GPUOffer

UNITS_PER_DOLLAR = 10_000
#: Benchmark column of the peak rate at each precision FLOP costs accept (FP16 and BF16 share
#: the tensor figure; INT4 is a weight format with no rate of its own).
TFLOPS_COLUMN = {
    Precision.FP32: "tflops_fp32",
    Precision.FP16: "tflops_fp16",
    Precision.BF16: "tflops_fp16",
    Precision.FP8: "tflops_fp8",
    Precision.INT8: "tflops_int8",
}


class ModelSize(StrEnum):
    """Model-size classes buyers pick; ``params_billion`` is the size the figures use."""

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


def flop_precision(value: object) -> Precision:
    """A precision FLOP costs can use (every one with a datasheet rate; not INT4)."""
    precision = parse_enum(Precision, value, "precision")
    if precision not in TFLOPS_COLUMN:
        allowed = ", ".join(p.value for p in TFLOPS_COLUMN)
        raise ValidationFailed(
            f"precision for FLOP costs must be one of {allowed}", field="precision"
        )
    return precision


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
    """``costs.offer_cost_per_million_tokens`` for a 7-8B FP16 model, in SQL."""
    weight_gb = LLAMA3_8B_PARAMS_BILLION * BYTES_PER_PARAM[Precision.FP16]
    vram = _double(Coalesce(NullIf(F("gpu_memory_gb"), Value(0)), F("benchmark__vram_gb")))
    usable = NullIf(vram, Value(0.0)) * Value(USABLE_VRAM_FRACTION)
    per_replica = Greatest(Ceil(Value(weight_gb) / usable), Value(1.0))
    single = _double(NullIf(F("benchmark__tokens_per_second_7b"), Value(0)))
    replica_rate = Case(
        When(
            GreaterThan(per_replica, Value(1.0)),
            then=single * (per_replica * Value(MULTI_GPU_SCALING)),
        ),
        default=single,
        output_field=_FLOAT,
    )
    replicas = Floor(_double("gpu_count") / per_replica)
    total = NullIf(replica_rate * replicas, Value(0.0))
    per_hour = total * Value(costs.SECONDS_PER_HOUR)
    return ExpressionWrapper(_price() / per_hour * Value(1_000_000.0), output_field=_FLOAT)


def cost_per_tflop_hour_key(precision: Precision) -> ExpressionWrapper:
    """``costs.offer_cost_per_gflop(...).cost_per_tflop_hour`` at ``precision``, in SQL."""
    tflops = NullIf(F(f"benchmark__{TFLOPS_COLUMN[precision]}"), Value(0.0))
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
MAX_PARAMS_BILLION = 2000.0


def validate_params_billion(params_billion: float | None, size: ModelSize) -> float:
    """The size to price: ``params_billion`` when given (validated), else the class's."""
    if params_billion is None:
        return size.params_billion
    if not math.isfinite(params_billion) or not 0.1 <= params_billion <= MAX_PARAMS_BILLION:
        raise ValidationFailed(
            f"params_billion must be between 0.1 and {MAX_PARAMS_BILLION:g}",
            field="params_billion",
        )
    return float(params_billion)


def _token_cost(
    offer: GPUOffer, params_billion: float, precision: Precision
) -> costs.TokenCost | None:
    benchmark = offer.benchmark
    if benchmark is None or benchmark.tokens_per_second_7b <= 0:
        return None
    try:
        return costs.offer_cost_per_million_tokens(
            price_per_hour=offer.price_per_hour,
            gpu_count=offer.gpu_count,
            spec=gpu_spec(benchmark),
            params_billion=params_billion,
            precision=precision,
            vram_gb=float(offer.gpu_memory_gb) or None,
        )
    except InvalidInput:  # no GPU count, or the offer cannot hold the model's weights
        return None


def token_cost(
    offer: GPUOffer,
    params_billion: float = LLAMA3_8B_PARAMS_BILLION,
    precision: Precision = Precision.FP16,
) -> TokenCostResult | None:
    """The math core's token-cost result for this offer (``None`` when it has no figure)."""
    result = _token_cost(offer, params_billion, precision)
    if result is None:
        return None
    return TokenCostResult(
        cost_per_million_tokens=money(result.cost_per_million_tokens),
        price_per_hour=offer.price_per_hour,
        tokens_per_second=result.tokens_per_second,
        is_estimate=result.is_estimate,
        basis=result.basis,
        gpu_model=offer.benchmark.gpu_model if offer.benchmark else None,
        gpu_count=offer.gpu_count,
        gpus_per_replica=result.gpus_per_replica,
        replicas=result.replicas,
        model_params_billion=params_billion,
        precision=precision.value,
        offer_id=str(offer.pk),
    )


def cost_per_million_tokens_value(offer: GPUOffer) -> float | None:
    """Unrounded 7-8B FP16 cost per million tokens (what ``cost_per_million_tokens_key`` sorts
    by)."""
    result = _token_cost(offer, LLAMA3_8B_PARAMS_BILLION, Precision.FP16)
    return None if result is None else result.cost_per_million_tokens


def cost_per_tflop_hour_value(offer: GPUOffer, precision: Precision) -> float | None:
    """Unrounded cost per TFLOP-hour: what ``cost_per_tflop_hour_key`` sorts by."""
    if offer.benchmark is None:
        return None
    try:
        return costs.offer_cost_per_gflop(
            price_per_hour=offer.price_per_hour,
            gpu_count=offer.gpu_count,
            spec=gpu_spec(offer.benchmark),
            precision=precision,
        ).cost_per_tflop_hour
    except InvalidInput:  # no figure at this precision, or no GPU count
        return None


def cost_per_tflop_hour(offer: GPUOffer, precision: Precision) -> Decimal | None:
    """USD per TFLOP-hour, 6 significant digits (the math core's unit-rate format)."""
    value = cost_per_tflop_hour_value(offer, precision)
    return None if value is None else rate(value)


def price_breakdown(value: object) -> PriceBreakdown | None:
    """An offer's stored ``price_breakdown`` JSON as a :class:`PriceBreakdown` (None when the
    adapter stated nothing, or when the stored value is not the documented shape)."""
    if not isinstance(value, dict) or not value:
        return None
    includes, excludes = value.get("includes"), value.get("excludes", [])
    components = value.get("components", {})
    if not isinstance(includes, list) or not isinstance(excludes, list):
        return None
    if not isinstance(components, dict):
        return None
    try:
        parts = [(str(name), Decimal(str(amount))) for name, amount in components.items()]
    except (InvalidOperation, ValueError):
        return None
    # JSON objects keep no order on PostgreSQL (jsonb): list components in the canonical order.
    rank = {name: index for index, name in enumerate(PRICE_COMPONENTS)}
    parts.sort(key=lambda part: (rank.get(part[0], len(rank)), part[0]))
    return PriceBreakdown(
        includes=tuple(str(item) for item in includes),
        excludes=tuple(str(item) for item in excludes),
        components=tuple(parts),
    )
