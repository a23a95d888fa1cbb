"""Prices a planned workload (``workload_mapper.plan_workload``) on many GPUs or offers at once.

For every candidate (vectorised over numpy arrays):

* minimum GPU count ``k = ⌈shardable memory / (usable VRAM − per-GPU working memory)⌉`` —
  weights, KV cache, gradients, optimizer state and stored activations split across GPUs
  (tensor/pipeline parallel or ZeRO-3 sharding), each GPU also holding its live working
  activations; usable VRAM is ``memory.usable_vram_fraction`` of the datasheet figure (the
  serving engine's reservation, ``USABLE_VRAM_FRACTION`` = vLLM's 0.9 unless given). ``k = 0`` means
  no number of these GPUs can run it (the working set alone does not fit one GPU);
* inference-like jobs run ``⌊gpu_count / k⌋`` independent replicas of k GPUs. One pass (a decode
  step, a denoising step, a forward over a batch) takes the roofline time
  ``max(bytes / (η · k · bandwidth), flops / (MFU · k · peak))`` with the multi-GPU scaling
  factor for k > 1; prompts add compute-bound prefill;
* training runs on every GPU of the offer: ``total FLOPs / (MFU · n · peak · scaling)``;
* duration, total cost (duration × the offer's hourly price), and whether the offer meets the
  deadline and budget. Feasible = fits in memory ∧ meets deadline ∧ within budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gpu_spec import MULTI_GPU_SCALING
from .workload_mapper import GB, MemoryEstimate, WorkloadPlan

MAX_GPUS_PER_JOB = 4096
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Hardware:
    """Candidate machines, one entry per offer (or per GPU model): all arrays of length m."""

    gpu_count: np.ndarray
    vram_gb: np.ndarray  # per GPU
    bandwidth_gbps: np.ndarray  # per GPU
    peak_tflops: np.ndarray  # per GPU, at the job's compute precision
    bandwidth_efficiency: np.ndarray
    price_per_hour: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Estimates:
    min_gpus: np.ndarray  # int; 0 = does not fit at any GPU count
    fits: np.ndarray  # bool: min_gpus ≥ 1 and ≤ gpu_count
    replicas: np.ndarray  # int
    throughput: np.ndarray  # units per second (0 where it does not fit)
    duration_hours: np.ndarray  # inf where it does not fit
    total_cost: np.ndarray | None  # inf where it does not fit; None without prices
    memory_bound: np.ndarray  # bool: a pass is limited by bandwidth rather than compute
    meets_deadline: np.ndarray
    within_budget: np.ndarray
    feasible: np.ndarray


def min_gpus(memory: MemoryEstimate, vram_gb: np.ndarray) -> np.ndarray:
    vram = np.asarray(vram_gb, dtype=np.float64)
    room = vram * memory.usable_vram_fraction - memory.per_gpu_working_gb
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.ceil(memory.shardable_gb / np.where(room > 0, room, np.nan))
    needed = np.where(np.isfinite(needed), np.maximum(needed, 1), 0)
    needed = np.where(needed > MAX_GPUS_PER_JOB, 0, needed)
    return needed.astype(np.int64)


def _scaling(gpus: np.ndarray) -> np.ndarray:
    return np.where(gpus > 1, MULTI_GPU_SCALING, 1.0)


def evaluate(plan: WorkloadPlan, hardware: Hardware) -> Estimates:
    job = plan.job
    count = np.asarray(hardware.gpu_count, dtype=np.int64)
    k = min_gpus(plan.memory, hardware.vram_gb)
    fits = (k >= 1) & (k <= count)
    peak = np.asarray(hardware.peak_tflops, dtype=np.float64) * 1e12
    bandwidth = np.asarray(hardware.bandwidth_gbps, dtype=np.float64) * 1e9
    eta = np.asarray(hardware.bandwidth_efficiency, dtype=np.float64)
    safe_k = np.maximum(k, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if job.replicated:
            replicas = np.where(fits, count // safe_k, 0)
            scale = _scaling(safe_k)
            compute = job.mfu * safe_k * peak * scale
            stream = eta * safe_k * bandwidth * scale
            memory_time = job.pass_bytes / stream
            compute_time = job.pass_flops / compute
            pass_time = np.maximum(memory_time, compute_time)
            seconds = (job.passes * pass_time + job.extra_flops / compute) / replicas
            throughput = job.items_per_pass / pass_time * replicas
            memory_bound = memory_time > compute_time
        else:
            replicas = np.where(fits, 1, 0)
            compute = job.mfu * count * peak * _scaling(count)
            seconds = job.total_flops / compute
            throughput = job.units / seconds
            memory_bound = np.zeros(count.shape, dtype=bool)
    ok = fits & np.isfinite(seconds) & (seconds > 0)
    duration = np.where(ok, seconds / SECONDS_PER_HOUR, np.inf)
    throughput = np.where(ok, throughput, 0.0)
    total_cost = None
    if hardware.price_per_hour is not None:
        price = np.asarray(hardware.price_per_hour, dtype=np.float64)
        total_cost = np.where(ok, duration * price, np.inf)
    deadline = plan.workload.deadline_hours
    budget = plan.workload.budget_usd
    meets_deadline = ok if deadline is None else ok & (duration <= deadline)
    within_budget = ok if budget is None or total_cost is None else ok & (total_cost <= budget)
    return Estimates(
        min_gpus=k,
        fits=ok,
        replicas=replicas.astype(np.int64),
        throughput=throughput,
        duration_hours=duration,
        total_cost=total_cost,
        memory_bound=memory_bound & ok,
        meets_deadline=meets_deadline,
        within_budget=within_budget,
        feasible=ok & meets_deadline & within_budget,
    )


def largest_need_gb(plan: WorkloadPlan) -> float:
    """Total memory of the job on one GPU (for the "no feasible offer" message)."""
    return plan.memory.total_gb


__all__ = ["GB", "Estimates", "Hardware", "evaluate", "largest_need_gb", "min_gpus"]
