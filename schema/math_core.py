"""GraphQL: GPU benchmarks and the cost calculators (queries) over ``apps.math_core``
(``services`` for benchmarks, ``calculators`` for costs — the functions REST calls too)."""

from __future__ import annotations

from dataclasses import asdict
from enum import Enum
from typing import Annotated

import strawberry
import strawberry_django
from strawberry import auto

from apps.core.errors import NotFound
from apps.math_core import calculators, models, services
from apps.math_core.algorithms import gpu_names

from . import cost
from .django_fields import ColumnField
from .errors import NotFoundError
from .privacy import PUBLIC
from .recommendation_inputs import CostPerGflopInput, CostPerTokenInput, plain
from .recommendation_types import FlopCost, TokenCost


@strawberry.enum(description="GPU vendor.")
class Vendor(Enum):
    NVIDIA = "NVIDIA"
    AMD = "AMD"
    INTEL = "INTEL"


@strawberry.enum(description="Fields benchmarks can be ordered by.")
class BenchmarkOrderField(Enum):
    GPU_MODEL = "gpu_model"
    VRAM_GB = "vram_gb"
    TFLOPS_FP32 = "tflops_fp32"
    TFLOPS_FP16 = "tflops_fp16"
    MEMORY_BANDWIDTH_GBPS = "memory_bandwidth_gbps"
    TOKENS_PER_SECOND_7B = "tokens_per_second_7b"


@strawberry.enum
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry_django.type(
    models.GPUBenchmark, name="GPUBenchmark", field_cls=ColumnField, directives=[PUBLIC]
)
class GPUBenchmarkType:
    id: auto
    gpu_model: auto
    vendor: auto
    architecture: auto
    form_factor: auto
    vram_gb: auto
    memory_bandwidth_gbps: auto
    tflops_fp32: auto
    tflops_fp16: auto
    tflops_fp8: auto
    tflops_int8: auto
    tdp_w: auto
    tokens_per_second_7b: auto
    tokens_per_second_7b_is_estimate: auto
    tokens_per_second_13b: auto
    tokens_per_second_70b: auto
    server_tokens_per_second_8b: auto
    image_gen_per_minute: auto
    source: auto
    perf_source: auto
    notes: auto

    @strawberry_django.field(only=["gpu_model"], description="The GPU family of gpuModel.")
    def gpu_family(self, root: models.GPUBenchmark) -> str | None:
        return gpu_names.gpu_family(root.gpu_model)


@strawberry.type(
    name="GPUFamily",
    description=(
        "A GPU family and its variants. In any GPU filter a family name matches every variant; "
        "a variant matches only itself. Catalogue data, the same for every caller."
    ),
    directives=[PUBLIC],
)
class GPUFamilyType:
    name: str
    vendor: Vendor
    variants: list[str] = strawberry.field(
        description="Canonical model names, sorted.", metadata=cost.list_size(10)
    )


BenchmarkResult = Annotated[GPUBenchmarkType | NotFoundError, strawberry.union("BenchmarkResult")]
TokenCostResult = Annotated[TokenCost | NotFoundError, strawberry.union("TokenCostResult")]
FlopCostResult = Annotated[FlopCost | NotFoundError, strawberry.union("FlopCostResult")]


@strawberry.type(directives=[PUBLIC])
class Query:
    @strawberry_django.field(
        description="GPU benchmarks, optionally filtered and ordered.",
        metadata=cost.list_size(100),
    )
    def benchmarks(
        self,
        vendor: Vendor | None = None,
        min_vram_gb: int | None = None,
        order_by: BenchmarkOrderField = BenchmarkOrderField.GPU_MODEL,
        direction: SortDirection = SortDirection.ASC,
    ) -> list[GPUBenchmarkType]:
        return services.list_benchmarks(  # type: ignore[return-value]
            vendor=vendor.value if vendor else None,
            min_vram_gb=min_vram_gb,
            order_by=order_by.value,
            descending=direction is SortDirection.DESC,
        )

    @strawberry.field(
        description="Every GPU family with its variants (catalogue data).",
        metadata=cost.list_size(30),
    )
    def gpu_families(self) -> list[GPUFamilyType]:
        return [
            GPUFamilyType(name=name, vendor=Vendor(vendor), variants=list(variants))
            for name, vendor, variants in gpu_names.gpu_family_list()
        ]

    @strawberry_django.field(
        description="One GPU's benchmark; accepts any spelling the normaliser knows."
    )
    def benchmark(self, gpu_model: str) -> BenchmarkResult:
        try:
            return services.get_benchmark(gpu_model)  # type: ignore[return-value]
        except NotFound as exc:
            return NotFoundError.from_domain(exc)

    @strawberry_django.field(
        description="Cost per million tokens: from an explicit rate, a GPU model's benchmark "
        "or an offer (isEstimate tells measured from estimated rates)."
    )
    def cost_per_token(self, input: CostPerTokenInput) -> TokenCostResult:
        try:
            return TokenCost(**asdict(calculators.cost_per_token(**plain(input))))
        except NotFound as exc:
            return NotFoundError.from_domain(exc)

    @strawberry_django.field(
        description="Cost per GFLOP and per TFLOP-hour at a precision's datasheet peak."
    )
    def cost_per_gflop(self, input: CostPerGflopInput) -> FlopCostResult:
        try:
            return FlopCost(**asdict(calculators.cost_per_gflop(**plain(input))))
        except NotFound as exc:
            return NotFoundError.from_domain(exc)
