"""The cost calculators behind ``cost-per-token`` and ``cost-per-gflop`` (both facades).

Three ways to give the rate, exactly one per request:

* explicitly — ``price_per_hour`` plus ``tokens_per_second`` (or ``tflops``);
* from a GPU model — ``price_per_hour`` and ``gpu_model`` (any spelling the normaliser knows;
  optional ``gpu_count``): the benchmark supplies the rate;
* from an offer — ``offer_id``: the offer supplies price, GPU count and benchmark.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from apps.core.errors import NotFound, ValidationFailed
from apps.providers.models import GPUOffer

from .algorithms import costs
from .algorithms.amounts import money, rate
from .algorithms.costs import TokenCostResult
from .algorithms.gpu_spec import GpuSpec, Precision
from .algorithms.throughput import LLAMA3_8B_PARAMS_BILLION
from .benchmarks import get_benchmark, gpu_spec
from .errors import invalid_input_as_validation_error

MAX_GPU_COUNT = 4096
MAX_PRICE_PER_HOUR = Decimal("1000000")
#: An explicit per-GPU peak above this is not a GPU (the fastest datasheet figure, B200 FP4
#: with sparsity, is 18,000 TFLOPS); with MAX_GPU_COUNT it keeps every FLOP rate finite.
MAX_TFLOPS_PER_GPU = 1_000_000.0


def get_offer(offer_id: str) -> GPUOffer:
    try:
        key = uuid.UUID(str(offer_id))
    except ValueError:
        raise ValidationFailed("offer_id must be an offer's UUID", field="offer_id") from None
    offer = GPUOffer.objects.select_related("provider", "benchmark").filter(pk=key).first()
    if offer is None:
        raise NotFound(f"No offer {offer_id}.", field="offer_id")
    return offer


@dataclass(frozen=True)
class _Source:
    price_per_hour: Decimal
    gpu_count: int
    spec: GpuSpec | None
    gpu_model: str | None
    offer_id: str | None
    vram_gb: float | None = None


def _source(
    *,
    price_per_hour: Decimal | float | None,
    explicit_rate: float | None,
    rate_field: str,
    gpu_model: str | None,
    offer_id: str | None,
    gpu_count: int | None,
) -> _Source:
    given = [
        name
        for name, value in (
            (rate_field, explicit_rate),
            ("gpu_model", gpu_model),
            ("offer_id", offer_id),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise ValidationFailed(
            f"give exactly one of {rate_field}, gpu_model or offer_id"
            + (f" (got {', '.join(given)})" if given else ""),
            field=given[1] if len(given) > 1 else rate_field,
        )
    if offer_id is not None:
        for name, value in (("price_per_hour", price_per_hour), ("gpu_count", gpu_count)):
            if value is not None:
                raise ValidationFailed(f"{name} comes from the offer; do not give it", field=name)
        offer = get_offer(offer_id)
        if offer.benchmark is None:
            raise ValidationFailed(
                f"offer {offer.id} ({offer.gpu_type}) has no benchmark to take a rate from",
                field="offer_id",
            )
        return _Source(
            offer.price_per_hour,
            offer.gpu_count,
            gpu_spec(offer.benchmark),
            offer.benchmark.gpu_model,
            str(offer.id),
            float(offer.gpu_memory_gb) or None,
        )
    if price_per_hour is None:
        raise ValidationFailed("price_per_hour is required", field="price_per_hour")
    count = 1 if gpu_count is None else gpu_count
    if not 1 <= count <= MAX_GPU_COUNT:
        raise ValidationFailed(
            f"gpu_count must be between 1 and {MAX_GPU_COUNT}", field="gpu_count"
        )
    price = Decimal(str(price_per_hour))
    if not price.is_finite() or price < 0 or price > MAX_PRICE_PER_HOUR:
        raise ValidationFailed(
            f"price_per_hour must be between 0 and {MAX_PRICE_PER_HOUR}", field="price_per_hour"
        )
    price = money(price)
    if gpu_model is not None:
        benchmark = get_benchmark(gpu_model)
        return _Source(price, count, gpu_spec(benchmark), benchmark.gpu_model, None)
    return _Source(price, count, None, None, None)


def cost_per_token(
    *,
    price_per_hour: Decimal | float | None = None,
    tokens_per_second: float | None = None,
    gpu_model: str | None = None,
    offer_id: str | None = None,
    gpu_count: int | None = None,
    model_params_billion: float | None = None,
    precision: str = "fp16",
) -> TokenCostResult:
    source = _source(
        price_per_hour=price_per_hour,
        explicit_rate=tokens_per_second,
        rate_field="tokens_per_second",
        gpu_model=gpu_model,
        offer_id=offer_id,
        gpu_count=gpu_count,
    )
    with invalid_input_as_validation_error():
        if source.spec is None:
            assert tokens_per_second is not None
            value = costs.cost_per_million_tokens(
                price_per_hour=source.price_per_hour, tokens_per_second=tokens_per_second
            )
            # An explicit rate is the whole machine's: one "replica" of all its GPUs.
            return TokenCostResult(
                cost_per_million_tokens=money(value),
                price_per_hour=source.price_per_hour,
                tokens_per_second=float(tokens_per_second),
                is_estimate=False,
                basis="given rate",
                gpu_model=None,
                gpu_count=source.gpu_count,
                gpus_per_replica=source.gpu_count,
                replicas=1,
                model_params_billion=None,
                precision=None,
                offer_id=None,
            )
        chosen = Precision.parse(precision)
        params = LLAMA3_8B_PARAMS_BILLION if model_params_billion is None else model_params_billion
        result = costs.offer_cost_per_million_tokens(
            price_per_hour=source.price_per_hour,
            gpu_count=source.gpu_count,
            spec=source.spec,
            params_billion=params,
            precision=chosen,
            vram_gb=source.vram_gb,
        )
    return TokenCostResult(
        money(result.cost_per_million_tokens),
        source.price_per_hour,
        result.tokens_per_second,
        result.is_estimate,
        result.basis,
        source.gpu_model,
        source.gpu_count,
        result.gpus_per_replica,
        result.replicas,
        params,
        chosen.value,
        source.offer_id,
    )


@dataclass(frozen=True)
class FlopCostResult:
    cost_per_gflop: Decimal
    cost_per_tflop_hour: Decimal
    price_per_hour: Decimal
    tflops_per_gpu: float
    total_tflops: float
    precision: str | None
    gpu_model: str | None
    gpu_count: int
    offer_id: str | None


def cost_per_gflop(
    *,
    price_per_hour: Decimal | float | None = None,
    tflops: float | None = None,
    gpu_model: str | None = None,
    offer_id: str | None = None,
    gpu_count: int | None = None,
    precision: str = "fp16",
) -> FlopCostResult:
    source = _source(
        price_per_hour=price_per_hour,
        explicit_rate=tflops,
        rate_field="tflops",
        gpu_model=gpu_model,
        offer_id=offer_id,
        gpu_count=gpu_count,
    )
    with invalid_input_as_validation_error(fields={"tflops_per_gpu": "tflops"}):
        if source.spec is None:
            assert tflops is not None
            if not tflops <= MAX_TFLOPS_PER_GPU:
                raise ValidationFailed(
                    f"tflops must be at most {MAX_TFLOPS_PER_GPU:,.0f} per GPU", field="tflops"
                )
            per_gflop = costs.cost_per_gflop(
                price_per_hour=source.price_per_hour,
                tflops_per_gpu=tflops,
                gpu_count=source.gpu_count,
            )
            per_tflop_hour = costs.cost_per_tflop_hour(
                price_per_hour=source.price_per_hour,
                tflops_per_gpu=tflops,
                gpu_count=source.gpu_count,
            )
            return FlopCostResult(
                rate(per_gflop),
                rate(per_tflop_hour),
                source.price_per_hour,
                float(tflops),
                costs.total_tflops(tflops_per_gpu=tflops, gpu_count=source.gpu_count),
                None,
                None,
                source.gpu_count,
                None,
            )
        chosen = Precision.parse(precision)
        if chosen is Precision.INT4:
            raise ValidationFailed(
                "precision for FLOP costs must be fp32, fp16, bf16, fp8 or int8", field="precision"
            )
        result = costs.offer_cost_per_gflop(
            price_per_hour=source.price_per_hour,
            gpu_count=source.gpu_count,
            spec=source.spec,
            precision=chosen,
        )
    return FlopCostResult(
        rate(result.cost_per_gflop),
        rate(result.cost_per_tflop_hour),
        source.price_per_hour,
        result.tflops_per_gpu,
        result.total_tflops,
        chosen.value,
        source.gpu_model,
        source.gpu_count,
        source.offer_id,
    )
