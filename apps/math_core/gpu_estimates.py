"""The job on each benchmarked GPU model: the fewest GPUs that hold it, its duration there and,
for inference, single-stream / batched decode and prefill rates (``algorithms.serving_rates``),
or why a rate is unknown (no published peak for the job's compute precision)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .algorithms.amounts import finite
from .algorithms.gpu_spec import Precision, compute_tflops, peak_tflops
from .algorithms.serving_rates import serving_rates
from .algorithms.throughput import bandwidth_efficiency
from .algorithms.workload_costing import Hardware, evaluate, min_gpus
from .algorithms.workload_mapper import WorkloadPlan
from .benchmarks import gpu_spec
from .errors import invalid_input_as_validation_error
from .models import GPUBenchmark


@dataclass(frozen=True)
class GpuModelEstimate:
    """The job on the fewest GPUs of one model that hold it. ``throughput``/``duration_hours``
    are for that one replica running the workload as given (its batch); for inference the
    decode rates are split into ``single_stream_tokens_per_second`` (one sequence) and
    ``batched_tokens_per_second`` (the workload's batch), plus the compute-bound prefill rate.
    Rates are None, with ``throughput_note`` saying why, when the GPU has no published peak
    for the job's compute precision."""

    gpu_model: str
    vram_gb: int
    min_gpus: int | None = field(metadata={"description": "Null: no number of these GPUs fits."})
    throughput: float | None
    duration_hours: float | None
    memory_bound: bool
    single_stream_tokens_per_second: float | None = field(
        default=None,
        metadata={"description": "Decode tokens/s of one sequence on minGpus GPUs (estimate)."},
    )
    batched_tokens_per_second: float | None = field(
        default=None,
        metadata={
            "description": "Decode tokens/s of the workload's whole batch on minGpus GPUs "
            "(estimate)."
        },
    )
    prefill_tokens_per_second: float | None = field(
        default=None,
        metadata={"description": "Compute-bound prompt tokens/s on minGpus GPUs (estimate)."},
    )
    throughput_note: str = field(
        default="",
        metadata={
            "description": "What the rates are, or why they are unknown (no published figure)."
        },
    )


def _rate_note(plan: WorkloadPlan, gpu: str, known: bool, fits: bool) -> str:
    precision = plan.job.compute_precision.value
    if not fits:
        return "does not fit on any number of these GPUs" if not known else "does not fit"
    if not known:
        return f"unknown: {gpu} has no published {precision} tensor figure in the GPU dataset"
    if plan.job.single_pass_bytes > 0:
        return (
            f"estimated roofline at {precision}: decode memory-bound at this GPU's calibrated "
            f"bandwidth efficiency, batch {plan.workload.batch_size}; prefill compute-bound"
        )
    return f"estimated roofline at {precision}"


def gpu_model_estimates(plan: WorkloadPlan) -> list[GpuModelEstimate]:
    """Minimum GPU count, throughput and duration of the job on each benchmarked GPU model
    (at that minimum count)."""
    benchmarks = list(GPUBenchmark.objects.order_by("gpu_model"))
    if not benchmarks:
        return []
    specs = [gpu_spec(b) for b in benchmarks]
    vram = np.array([s.vram_gb for s in specs])
    counts = min_gpus(plan.memory, vram)
    precision = plan.job.compute_precision
    strict = Precision.FP16 if precision is Precision.INT4 else precision
    known = np.array([bool(peak_tflops(s, strict)) for s in specs])
    peaks = []
    for spec in specs:
        with invalid_input_as_validation_error():
            peaks.append(compute_tflops(spec, precision)[0])
    hardware = Hardware(
        gpu_count=np.maximum(counts, 1),
        vram_gb=vram,
        bandwidth_gbps=np.array([s.memory_bandwidth_gbps for s in specs]),
        peak_tflops=np.array(peaks),
        bandwidth_efficiency=np.array([bandwidth_efficiency(s) for s in specs]),
    )
    est = evaluate(plan, hardware)
    rates = serving_rates(
        plan,
        gpus=counts,
        bandwidth_gbps=hardware.bandwidth_gbps,
        peak_tflops=hardware.peak_tflops,
        bandwidth_efficiency=hardware.bandwidth_efficiency,
    )
    out = []
    for i, bench in enumerate(benchmarks):
        fits = bool(est.fits[i])
        ok = fits and bool(known[i])
        out.append(
            GpuModelEstimate(
                gpu_model=bench.gpu_model,
                vram_gb=bench.vram_gb,
                min_gpus=int(counts[i]) if counts[i] > 0 else None,
                throughput=finite(est.throughput[i]) if ok else None,
                duration_hours=finite(est.duration_hours[i]) if ok else None,
                memory_bound=bool(est.memory_bound[i]) and ok,
                single_stream_tokens_per_second=finite(rates.single_stream[i])
                if rates is not None and ok
                else None,
                batched_tokens_per_second=finite(rates.batched[i])
                if rates is not None and ok
                else None,
                prefill_tokens_per_second=finite(rates.prefill[i])
                if rates is not None and ok
                else None,
                throughput_note=_rate_note(plan, bench.gpu_model, bool(known[i]), fits),
            )
        )
    return out
