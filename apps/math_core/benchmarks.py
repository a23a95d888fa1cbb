"""GPU benchmarks: reads, the ``GpuSpec`` of a row, and the shipped dataset's rows
(``benchmark_loader`` loads them). A leaf of the dependency graph: the catalogue
(``apps.providers``) imports it, it imports no other app (``.importlinter``)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from apps.core.errors import NotFound, ValidationFailed
from apps.core.text import trimmed

from .algorithms.gpu_names import VENDORS, canonical_gpu_name
from .algorithms.gpu_spec import GpuSpec
from .algorithms.throughput import (
    LLAMA3_8B_PARAMS_BILLION,
    decode_efficiency,
    estimate_decode_tokens_per_second,
)
from .models import GPUBenchmark

DATASET = Path(__file__).resolve().parent / "data" / "gpu_benchmarks.csv"
MAX_VRAM_FILTER_GB = 4096

#: Public ordering keys → model fields (a leading "-" in the request means descending).
BENCHMARK_ORDERING = {
    "gpu_model": "gpu_model",
    "vram_gb": "vram_gb",
    "tflops_fp32": "tflops_fp32",
    "tflops_fp16": "tflops_fp16",
    "memory_bandwidth_gbps": "memory_bandwidth_gbps",
    "tokens_per_second_7b": "tokens_per_second_7b",
}


#: The longest GPU model name a look-up takes.
MAX_GPU_NAME = 200


def list_benchmarks(
    *,
    vendor: str | None = None,
    min_vram_gb: int | None = None,
    order_by: str = "gpu_model",
    descending: bool = False,
) -> QuerySet[GPUBenchmark]:
    """Benchmarks filtered by vendor and minimum VRAM, ordered with a stable tie-break."""
    qs = GPUBenchmark.objects.all()
    if vendor is not None:
        normalized = vendor.strip().upper()
        if normalized not in VENDORS:
            raise ValidationFailed(
                f"vendor must be one of {', '.join(VENDORS)}; got {vendor!r}", field="vendor"
            )
        qs = qs.filter(vendor=normalized)
    if min_vram_gb is not None:
        if not 0 <= min_vram_gb <= MAX_VRAM_FILTER_GB:
            raise ValidationFailed(
                f"min_vram_gb must be between 0 and {MAX_VRAM_FILTER_GB}", field="min_vram_gb"
            )
        qs = qs.filter(vram_gb__gte=min_vram_gb)
    field = BENCHMARK_ORDERING.get(order_by)
    if field is None:
        raise ValidationFailed(
            f"order_by must be one of {', '.join(BENCHMARK_ORDERING)}; got {order_by!r}",
            field="order_by",
        )
    prefix = "-" if descending else ""
    return qs.order_by(f"{prefix}{field}", "gpu_model")


def get_benchmark(gpu: str) -> GPUBenchmark:
    """The benchmark for any spelling the normaliser knows ("H100_SXM5", "GeForce RTX 4090")."""
    name = trimmed(gpu or "")
    if not name or len(name) > MAX_GPU_NAME:
        raise ValidationFailed(
            f"gpu must be a GPU model name of 1-{MAX_GPU_NAME} characters", field="gpu"
        )
    canonical = canonical_gpu_name(name) or name
    found = GPUBenchmark.objects.filter(gpu_model__iexact=canonical).first()
    if found is None:
        raise NotFound(f"No benchmark for GPU {name!r}.", field="gpu")
    return found


def _number(value: str, cast: Any = float) -> Any:
    return cast(float(value)) if value not in ("", None) else None


def _row_to_fields(row: dict[str, str]) -> dict[str, Any]:
    measured_7b = _number(row["llamacpp_8b_f16_tok_s"])
    bandwidth = float(row["memory_bandwidth_gbps"])
    if measured_7b is None:
        tokens_7b = estimate_decode_tokens_per_second(
            memory_bandwidth_gbps=bandwidth,
            params_billion=LLAMA3_8B_PARAMS_BILLION,
            bytes_per_param=2.0,
            efficiency=decode_efficiency(row["memory_type"]),
        )
    else:
        tokens_7b = measured_7b
    perf_source = row["perf_source"] or ""
    if measured_7b is None:
        perf_source = (perf_source + "; " if perf_source else "") + (
            "tokens_per_second_7b estimated from memory bandwidth "
            "(apps/math_core/algorithms/throughput.py)"
        )
    return {
        "vendor": row["vendor"].upper(),
        "architecture": row["architecture"],
        "form_factor": row["form_factor"],
        "vram_gb": int(row["vram_gb"]),
        "memory_bandwidth_gbps": bandwidth,
        "tflops_fp32": float(row["tflops_fp32"]),
        "tflops_fp16": _number(row["tflops_fp16"]),
        "tflops_fp8": _number(row["tflops_fp8"]),
        "tflops_int8": _number(row["tflops_int8"]),
        "tdp_w": _number(row["tdp_w"], int),
        "tokens_per_second_7b": round(tokens_7b),
        "tokens_per_second_7b_is_estimate": measured_7b is None,
        "tokens_per_second_70b": _number(row["llamacpp_70b_q4km_tok_s"], round),
        "server_tokens_per_second_8b": _number(row["trtllm_8b_fp8_tok_s"], round),
        "source": row["source"][:255],
        "perf_source": perf_source[:255],
        "notes": f"spec confidence: {row['spec_confidence']}. {row['notes']}".strip(),
    }


def read_dataset(path: Path = DATASET) -> list[tuple[str, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    result = []
    for row in rows:
        model = row["gpu_model"]
        if canonical_gpu_name(model) != model:
            raise ValueError(f"dataset row {model!r} is not a canonical GPU name")
        if not row["source"]:
            raise ValueError(f"dataset row {model!r} has no source")
        result.append((model, _row_to_fields(row)))
    return result


def gpu_spec(benchmark: GPUBenchmark) -> GpuSpec:
    return GpuSpec(
        gpu_model=benchmark.gpu_model,
        vram_gb=float(benchmark.vram_gb),
        memory_bandwidth_gbps=benchmark.memory_bandwidth_gbps,
        tflops_fp32=benchmark.tflops_fp32,
        tflops_fp16=benchmark.tflops_fp16,
        tflops_fp8=benchmark.tflops_fp8,
        tflops_int8=benchmark.tflops_int8,
        tokens_per_second_7b=benchmark.tokens_per_second_7b,
        tokens_per_second_7b_is_estimate=benchmark.tokens_per_second_7b_is_estimate,
        tokens_per_second_70b=benchmark.tokens_per_second_70b,
    )
