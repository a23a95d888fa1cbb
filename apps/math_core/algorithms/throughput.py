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
