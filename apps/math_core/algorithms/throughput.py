"""Decode-throughput estimate for GPUs without a measured LLM benchmark.

Single-stream (batch 1) autoregressive decoding reads every weight once per generated token, so it
is bound by memory bandwidth: ``tokens/s ≈ η · bandwidth / weight_bytes``. The efficiency η is
calibrated on the measured llama.cpp figures that ship with the benchmark dataset
(XiongjieDai/GPU-Benchmarks-on-LLM-Inference, Llama-3-8B F16, tg1024): measured / (bandwidth /
16.06 GB) gives η between 0.42 and 0.54 on HBM parts (H100 PCIe, A100 SXM/PCIe; median 0.453) and
between 0.78 and 0.87 on GDDR parts (L40S, A40, RTX A6000, RTX 6000 Ada, RTX 4090, RTX 3090;
median 0.807). Figures produced here are always labelled as estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import InvalidInput
from .gpu_spec import BYTES_PER_PARAM, GpuSpec, Precision

#: Llama-3-8B has 8.03 B parameters: 16.06 GB of weights at FP16.
LLAMA3_8B_PARAMS_BILLION = 8.03
HBM_DECODE_EFFICIENCY = 0.453
GDDR_DECODE_EFFICIENCY = 0.807


def decode_efficiency(memory_type: str) -> float:
    return HBM_DECODE_EFFICIENCY if "HBM" in memory_type.upper() else GDDR_DECODE_EFFICIENCY


def estimate_decode_tokens_per_second(
    *,
    memory_bandwidth_gbps: float,
    params_billion: float,
    bytes_per_param: float,
    efficiency: float,
) -> float:
    """Estimated batch-1 decode tokens/s of a dense model whose weights are
    ``params_billion × bytes_per_param`` GB, on a GPU with the given memory bandwidth (GB/s)."""
    if memory_bandwidth_gbps <= 0 or params_billion <= 0 or bytes_per_param <= 0:
        raise ValueError("bandwidth, parameter count and bytes per parameter must be positive")
    if not 0 < efficiency <= 1:
        raise ValueError("efficiency must be in (0, 1]")
    weight_gb = params_billion * bytes_per_param
    return efficiency * memory_bandwidth_gbps / weight_gb


# --- Per-GPU decode rate for any model size and precision -----------------------------------

#: The benchmarked models behind ``GPUBenchmark.tokens_per_second_7b`` / ``_70b``.
LLAMA3_70B_PARAMS_BILLION = 70.6
#: A measured figure is used as is only for a model within this relative distance of the
#: benchmarked size (and at the benchmarked precision); anything else is scaled and labelled.
MEASURED_SIZE_TOLERANCE = 0.10


@dataclass(frozen=True, slots=True)
class TokenRate:
    """Single-stream decode tokens/s on one GPU, whether it is an estimate, and its basis."""

    tokens_per_second: float
    is_estimate: bool
    basis: str


def bandwidth_efficiency(spec: GpuSpec) -> float:
    """η of ``tokens/s ≈ η · bandwidth / weight_bytes`` for this GPU, calibrated on its own
    Llama-3-8B F16 figure (measured, or the memory-type default when that figure is itself an
    estimate); the HBM default when the GPU has no figure at all."""
    if spec.tokens_per_second_7b and spec.memory_bandwidth_gbps > 0:
        weight_gb = LLAMA3_8B_PARAMS_BILLION * BYTES_PER_PARAM[Precision.FP16]
        eta = spec.tokens_per_second_7b * weight_gb / spec.memory_bandwidth_gbps
        return min(max(eta, 0.05), 1.0)
    return HBM_DECODE_EFFICIENCY


def _near(value: float, reference: float) -> bool:
    return abs(value - reference) / reference <= MEASURED_SIZE_TOLERANCE


def decode_rate(spec: GpuSpec, *, params_billion: float, precision: Precision) -> TokenRate:
    """Batch-1 decode tokens/s of a dense ``params_billion`` model stored at ``precision``.

    Measured figures are used where the benchmark has one for this model size and precision
    (Llama-3-8B at FP16/BF16; Llama-3-70B at 4-bit); otherwise the memory-bandwidth bound
    ``η · bandwidth / (params × bytes per param)`` with this GPU's calibrated η, labelled as an
    estimate."""
    if not (params_billion > 0 and math.isfinite(params_billion)):
        raise InvalidInput(
            "model_params_billion must be a positive number", field="model_params_billion"
        )
    half = precision in (Precision.FP16, Precision.BF16)
    if half and spec.tokens_per_second_7b and _near(params_billion, LLAMA3_8B_PARAMS_BILLION):
        return TokenRate(
            float(spec.tokens_per_second_7b),
            spec.tokens_per_second_7b_is_estimate,
            "Llama-3-8B F16 single-stream decode (llama.cpp, batch 1)"
            + (
                ", estimated from memory bandwidth"
                if spec.tokens_per_second_7b_is_estimate
                else ", measured"
            ),
        )
    if (
        precision is Precision.INT4
        and spec.tokens_per_second_70b
        and _near(params_billion, LLAMA3_70B_PARAMS_BILLION)
    ):
        return TokenRate(
            float(spec.tokens_per_second_70b),
            False,
            "Llama-3-70B Q4_K_M single-stream decode (llama.cpp, batch 1), measured",
        )
    eta = bandwidth_efficiency(spec)
    rate = estimate_decode_tokens_per_second(
        memory_bandwidth_gbps=spec.memory_bandwidth_gbps,
        params_billion=params_billion,
        bytes_per_param=BYTES_PER_PARAM[precision],
        efficiency=eta,
    )
    return TokenRate(
        rate,
        True,
        f"estimated from memory bandwidth: {eta:.3f} x {spec.memory_bandwidth_gbps:g} GB/s / "
        f"({params_billion:g}B params x {BYTES_PER_PARAM[precision]:g} B)",
    )
