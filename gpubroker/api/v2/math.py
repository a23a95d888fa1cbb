"""REST: GPU benchmarks (and, with the math core, the calculators)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from apps.math_core import services

router = Router()

BenchmarkOrder = Literal[
    "gpu_model",
    "vram_gb",
    "tflops_fp32",
    "tflops_fp16",
    "memory_bandwidth_gbps",
    "tokens_per_second_7b",
]


class BenchmarkOut(Schema):
    id: str
    gpu_model: str
    vendor: str
    architecture: str
    form_factor: str
    vram_gb: int
    memory_bandwidth_gbps: float
    tflops_fp32: float
    tflops_fp16: float | None
    tflops_fp8: float | None
    tflops_int8: float | None
    tdp_w: int | None
    tokens_per_second_7b: int
    tokens_per_second_7b_is_estimate: bool
    tokens_per_second_13b: int | None
    tokens_per_second_70b: int | None
    server_tokens_per_second_8b: int | None
    image_gen_per_minute: int | None
    source: str
    perf_source: str
    notes: str

    @staticmethod
    def resolve_id(obj: object) -> str:
        return str(obj.id)  # type: ignore[attr-defined]


class BenchmarkFilters(Schema):
    vendor: Literal["NVIDIA", "AMD", "nvidia", "amd"] | None = None
    min_vram_gb: int | None = Field(None, ge=0, le=services.MAX_VRAM_FILTER_GB)
    order_by: BenchmarkOrder = "gpu_model"
    descending: bool = False


@router.get("/benchmarks", response=list[BenchmarkOut], summary="GPU benchmarks")
def list_benchmarks(request: HttpRequest, filters: Query[BenchmarkFilters]) -> object:
    return list(
        services.list_benchmarks(
            vendor=filters.vendor,
            min_vram_gb=filters.min_vram_gb,
            order_by=filters.order_by,
            descending=filters.descending,
        )
    )


@router.get(
    "/benchmarks/{gpu}",
    response=BenchmarkOut,
    summary="One GPU's benchmark (any spelling the normaliser knows)",
)
def get_benchmark(request: HttpRequest, gpu: str) -> object:
    return services.get_benchmark(gpu)
