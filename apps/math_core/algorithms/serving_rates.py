"""Single-stream and batched decode rates, and the prefill rate, of a planned inference job on
``k`` GPUs of each kind (pure, vectorised).

* Decode is a roofline per step: ``max(bytes / (η · k · bandwidth), flops / (MFU · k · peak))``
  with the multi-GPU scaling factor for ``k > 1``. **Single-stream** is one sequence: the step
  reads the weights (an MoE model's active experts) and that sequence's KV cache and yields one
  token. **Batched** is the workload's batch: one step reads the weights the batch touches and
  every sequence's KV and yields ``batch`` tokens. η is the GPU's calibrated bandwidth efficiency
  (``throughput.bandwidth_efficiency``, fitted on llama.cpp batch-1 measurements).
* Prefill is compute-bound: ``MFU · k · peak / (2 · active parameters)`` prompt tokens per
  second (attention's quadratic FLOPs are not counted: small against ``2N`` below ~10k tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gpu_spec import MULTI_GPU_SCALING
from .workload_mapper import WorkloadPlan


@dataclass(frozen=True, slots=True)
class ServingRates:
    single_stream: np.ndarray  # tokens/s of one sequence (one replica of k GPUs)
    batched: np.ndarray  # tokens/s of the whole batch (one replica)
    prefill: np.ndarray  # prompt tokens/s (one replica)


def serving_rates(
    plan: WorkloadPlan,
    *,
    gpus: np.ndarray,
    bandwidth_gbps: np.ndarray,
    peak_tflops: np.ndarray,
    bandwidth_efficiency: np.ndarray,
) -> ServingRates | None:
    """Rates per entry (NaN where ``gpus`` < 1 or a figure is missing); None for jobs that do
    not decode (training, diffusion, embeddings)."""
    job = plan.job
    if job.single_pass_bytes <= 0 or job.active_params <= 0:
        return None
    k = np.asarray(gpus, dtype=np.float64)
    k = np.where(k >= 1, k, np.nan)
    scale = np.where(k > 1, MULTI_GPU_SCALING, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        stream = np.asarray(bandwidth_efficiency) * k * np.asarray(bandwidth_gbps) * 1e9 * scale
        compute = job.mfu * k * np.asarray(peak_tflops, dtype=np.float64) * 1e12 * scale
        compute = np.where(compute > 0, compute, np.nan)
        single = 1.0 / np.maximum(job.single_pass_bytes / stream, job.single_pass_flops / compute)
        batched = job.items_per_pass / np.maximum(job.pass_bytes / stream, job.pass_flops / compute)
        prefill = compute / (2.0 * job.active_params)
    return ServingRates(single, batched, prefill)
