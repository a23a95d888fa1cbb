"""Numeric precisions and the GPU figures the formulas read (a pure mirror of ``GPUBenchmark``).

Peak rates are vendor-datasheet dense tensor figures (see ``apps/math_core/data/gpu_benchmarks.csv``
and its sources). A precision without a published figure on a GPU (FP8 on Ampere, tensor figures
of the RTX 5090) is reported as missing, never guessed, by :func:`peak_tflops`;
:func:`compute_tflops` is the fallback used for workload estimates and says which figure it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import InvalidInput


class Precision(StrEnum):
    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"
    INT8 = "int8"
    INT4 = "int4"

    @classmethod
    def parse(cls, value: str | Precision, *, field: str = "precision") -> Precision:
        if isinstance(value, Precision):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(p.value for p in cls)
            raise InvalidInput(
                f"{field} must be one of {allowed}; got {value!r}", field=field
            ) from None


#: Bytes per stored parameter. INT4 is a plain 4-bit weight format (GPTQ/AWQ/llama.cpp Q4);
#: QLoRA's NF4 adds its quantisation constants on top (see workload_mapper).
BYTES_PER_PARAM: dict[Precision, float] = {
    Precision.FP32: 4.0,
    Precision.FP16: 2.0,
    Precision.BF16: 2.0,
    Precision.FP8: 1.0,
    Precision.INT8: 1.0,
    Precision.INT4: 0.5,
}


#: Share of a GPU's VRAM a workload can plan on: the rest goes to the CUDA context, the
#: framework's workspace and allocator fragmentation (a common planning margin; vLLM's default
#: ``gpu_memory_utilization`` is 0.9).
USABLE_VRAM_FRACTION = 0.9
#: Throughput kept per GPU when a model is split across k > 1 GPUs (tensor/pipeline parallel or
#: sharded data parallel): communication and imperfect overlap cost ~10% on NVLink-class links.
#: An assumption, labelled as such in every estimate that uses it.
MULTI_GPU_SCALING = 0.9


def parallel_scaling(gpus: int) -> float:
    return 1.0 if gpus <= 1 else MULTI_GPU_SCALING


@dataclass(frozen=True, slots=True)
class GpuSpec:
    """Per-GPU datasheet and benchmark figures (one ``GPUBenchmark`` row)."""

    gpu_model: str
    vram_gb: float
    memory_bandwidth_gbps: float
    tflops_fp32: float
    tflops_fp16: float | None = None
    tflops_fp8: float | None = None
    tflops_int8: float | None = None
    #: Single-stream decode tokens/s, Llama-3-8B at FP16 (llama.cpp, batch 1).
    tokens_per_second_7b: float | None = None
    tokens_per_second_7b_is_estimate: bool = True
    #: Measured single-stream decode tokens/s, Llama-3-70B at Q4_K_M (llama.cpp, batch 1).
    tokens_per_second_70b: float | None = None


def peak_tflops(spec: GpuSpec, precision: Precision) -> float | None:
    """The datasheet peak (dense) TFLOPS/TOPS at ``precision``; None when unpublished.
    FP16 and BF16 share one tensor figure; INT4 has no figure of its own here."""
    if precision is Precision.FP32:
        return spec.tflops_fp32
    if precision in (Precision.FP16, Precision.BF16):
        return spec.tflops_fp16
    if precision is Precision.FP8:
        return spec.tflops_fp8
    if precision is Precision.INT8:
        return spec.tflops_int8
    return None


def compute_tflops(spec: GpuSpec, precision: Precision) -> tuple[float, Precision]:
    """The peak rate a kernel running at ``precision`` can use, and the precision whose figure
    that is. Weight-only formats (INT4) compute in FP16; a precision the GPU has no published
    figure for falls back to FP16, then FP32 (the conservative choice)."""
    wanted = Precision.FP16 if precision is Precision.INT4 else precision
    for candidate in (wanted, Precision.FP16, Precision.FP32):
        value = peak_tflops(spec, candidate)
        if value is not None and value > 0:
            return value, candidate
    raise InvalidInput(f"{spec.gpu_model} has no usable TFLOPS figure", field="gpu")
