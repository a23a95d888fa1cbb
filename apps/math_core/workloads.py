"""Workload estimation (``estimate-workload`` / ``estimateWorkload``): what a job needs and what
it costs on every candidate offer, feasible offers first, with a clear answer when none is."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np

from apps.core.errors import ValidationFailed
from apps.core.inputs import check_limit
from apps.providers.offer_filters import OfferFilters

from .algorithms.amounts import finite, money
from .algorithms.gpu_spec import Precision
from .algorithms.workload_costing import Estimates, Hardware, evaluate
from .algorithms.workload_mapper import (
    DEFAULT_CONTEXT_LENGTH,
    DEFAULT_OUTPUT_TOKENS,
    Workload,
    WorkloadPlan,
    WorkloadType,
    plan_workload,
)
from .candidates import OfferTable, candidate_offers, offer_table
from .errors import invalid_input_as_validation_error
from .gpu_estimates import GpuModelEstimate, gpu_model_estimates
from .limits import MAX_ESTIMATED_OFFERS
from .model_catalogue import architecture, find_model

DEFAULT_RESULTS = 20

REASON_NO_BENCHMARK = "no_benchmark"
REASON_MEMORY = "insufficient_memory"
REASON_DEADLINE = "deadline"
REASON_BUDGET = "budget"
REASON_UNKNOWN_RATE = "unknown_throughput"

#: Inputs with a default, and the workload types each default matters for (None = all).
DEFAULTED_INPUTS: dict[str, frozenset[WorkloadType] | None] = {
    "precision": None,
    "context_length": None,
    "batch_size": None,
    "output_tokens_per_request": frozenset({WorkloadType.LLM_INFERENCE}),
    "lora_rank": frozenset({WorkloadType.FINE_TUNE_LORA, WorkloadType.FINE_TUNE_QLORA}),
    "image_resolution": frozenset({WorkloadType.IMAGE_GENERATION}),
    "diffusion_steps": frozenset({WorkloadType.IMAGE_GENERATION}),
    "activation_checkpointing": frozenset(
        {
            WorkloadType.LLM_TRAINING,
            WorkloadType.FINE_TUNE_FULL,
            WorkloadType.FINE_TUNE_LORA,
            WorkloadType.FINE_TUNE_QLORA,
        }
    ),
}


def build_workload(
    *,
    workload_type: str,
    params_billion: float | None = None,
    precision: str | None = None,
    model: str | None = None,
    **fields: Any,
) -> Workload:
    """A validated ``Workload`` from a facade's input. ``model`` (any catalogue alias) sizes
    the job from the model's published architecture; explicit shape fields still win. An
    unknown model is ``NotFound`` with suggestions (``model_catalogue.find_model``)."""
    try:
        kind = WorkloadType(str(workload_type).strip().lower())
    except ValueError:
        allowed = ", ".join(t.value for t in WorkloadType)
        raise ValidationFailed(
            f"workload_type must be one of {allowed}; got {workload_type!r}", field="workload_type"
        ) from None
    supplied = {name: value for name, value in fields.items() if value is not None}
    arch = architecture(find_model(model)) if model is not None else None
    if params_billion is None:
        if arch is None:
            raise ValidationFailed(
                "give params_billion or a catalogue model", field="params_billion"
            )
        params_billion = arch.params_billion
    given = {*supplied, *(["precision"] if precision is not None else [])}
    if arch is not None and "context_length" not in supplied and arch.max_context:
        # the default context, capped at what the model supports (listed as a default)
        supplied["context_length"] = min(DEFAULT_CONTEXT_LENGTH, arch.max_context)
        if kind is WorkloadType.LLM_INFERENCE:
            out = supplied.get("output_tokens_per_request", DEFAULT_OUTPUT_TOKENS)
            supplied["output_tokens_per_request"] = min(out, supplied["context_length"])
    if precision is None:
        native = arch.native_dtype if arch is not None else "fp16"
        precision = native if native in {p.value for p in Precision} else "fp16"
    defaults = tuple(
        name
        for name, kinds in DEFAULTED_INPUTS.items()
        if name not in given and (kinds is None or kind in kinds)
    )
    with invalid_input_as_validation_error():
        workload = Workload(
            workload_type=kind,
            params_billion=params_billion,
            precision=Precision.parse(precision),
            model=arch,
            defaults=defaults,
            **supplied,
        )
        workload.validate()
    return workload


def workload_as_dict(workload: Workload) -> dict[str, Any]:
    data = asdict(workload)
    data["workload_type"] = workload.workload_type.value
    data["precision"] = workload.precision.value
    data["model"] = workload.model.name if workload.model is not None else None
    data["defaults"] = list(workload.defaults)
    return data


@dataclass(frozen=True)
class OfferAssessment:
    """A plan priced on every row of an ``OfferTable``, with why rows fail."""

    estimates: Estimates
    no_benchmark: np.ndarray
    insufficient_memory: np.ndarray
    misses_deadline: np.ndarray
    over_budget: np.ndarray
    #: Fits, but the GPU has no published peak for the job's compute precision.
    unknown_rate: np.ndarray

    def reasons(self, index: int) -> list[str]:
        flags = (
            (REASON_NO_BENCHMARK, self.no_benchmark),
            (REASON_MEMORY, self.insufficient_memory),
            (REASON_UNKNOWN_RATE, self.unknown_rate),
            (REASON_DEADLINE, self.misses_deadline),
            (REASON_BUDGET, self.over_budget),
        )
        return [code for code, flag in flags if flag[index]]


def published_tflops(table: OfferTable, precision: Precision) -> np.ndarray:
    """Each offer's datasheet peak at exactly ``precision`` (BF16 shares FP16's figure; 4-bit
    weight formats compute in FP16), NaN where none is published — no fallback."""
    key = Precision.FP16 if precision in (Precision.BF16, Precision.INT4) else precision
    return table.tflops[key]


def assess_offers(plan: WorkloadPlan, table: OfferTable) -> OfferAssessment:
    hardware = Hardware(
        gpu_count=table.gpu_count,
        vram_gb=table.vram_gb,
        bandwidth_gbps=table.bandwidth_gbps,
        peak_tflops=table.compute_tflops(plan.job.compute_precision),
        bandwidth_efficiency=table.bandwidth_efficiency(),
        price_per_hour=table.price_per_hour,
    )
    estimates = evaluate(plan, hardware)
    benchmarked = table.has_benchmark
    unknown = estimates.fits & ~(published_tflops(table, plan.job.compute_precision) > 0)
    if unknown.any():  # never rank a GPU on a fallback figure: its rate is unknown
        estimates = replace(
            estimates,
            throughput=np.where(unknown, 0.0, estimates.throughput),
            duration_hours=np.where(unknown, np.inf, estimates.duration_hours),
            total_cost=None
            if estimates.total_cost is None
            else np.where(unknown, np.inf, estimates.total_cost),
            meets_deadline=estimates.meets_deadline & ~unknown,
            within_budget=estimates.within_budget & ~unknown,
            feasible=estimates.feasible & ~unknown,
        )
    return OfferAssessment(
        estimates=estimates,
        no_benchmark=~benchmarked,
        insufficient_memory=benchmarked & ~estimates.fits,
        misses_deadline=estimates.fits & ~unknown & ~estimates.meets_deadline,
        over_budget=estimates.fits & ~unknown & ~estimates.within_budget,
        unknown_rate=unknown,
    )


def _gb(value: float) -> str:
    return f"{value:,.1f} GB"


def no_feasible_reason(plan: WorkloadPlan, table: OfferTable, assessment: OfferAssessment) -> str:
    """Why no candidate offer can run the job, naming the binding constraint."""
    if len(table) == 0:
        return "No offers match the filter."
    est = assessment.estimates
    benchmarked = ~assessment.no_benchmark
    if not benchmarked.any():
        return f"None of the {len(table)} candidate offers has benchmark data to estimate on."
    memory = plan.memory
    if not est.fits.any():
        largest_gpu = float(np.nanmax(table.vram_gb[benchmarked]))
        if memory.per_gpu_working_gb >= largest_gpu * memory.usable_vram_fraction:
            overhead = plan.workload.runtime_overhead_gb
            extra = f" (with {overhead:g} GB runtime overhead)" if overhead else ""
            return (
                f"One batch's working activations{extra} need "
                f"{_gb(memory.per_gpu_working_gb)} on every GPU, more than any candidate GPU can "
                f"hold (largest {largest_gpu:g} GB at {memory.usable_vram_fraction:.0%} usable): "
                "lower batch_size or context_length."
            )
        totals = table.vram_gb * table.gpu_count
        best = int(np.nanargmax(np.where(benchmarked, totals, -1)))
        return (
            f"The job needs {_gb(memory.total_gb)} of GPU memory (weights "
            f"{_gb(memory.weights_gb)}, KV cache {_gb(memory.kv_cache_gb)}, activations "
            f"{_gb(memory.activations_gb + memory.per_gpu_working_gb)}, gradients and optimizer "
            f"state {_gb(memory.gradients_gb + memory.optimizer_states_gb)}); the largest "
            f"candidate offer has {totals[best]:g} GB ({table.gpu_count[best]} x "
            f"{table.vram_gb[best]:g} GB {table.gpu_type[best]}) and would need "
            f"{est.min_gpus[best] or 'more than 4096'} of those GPUs."
        )
    workload = plan.workload
    fitting = est.fits & ~assessment.unknown_rate
    if not fitting.any():
        gpus = sorted({table.gpu_type[i] for i in np.flatnonzero(assessment.unknown_rate)})
        return (
            f"The offers that fit ({', '.join(gpus)}) have no published "
            f"{plan.job.compute_precision.value} throughput figure, so their speed and cost "
            "are unknown: choose another precision or GPU."
        )
    if workload.deadline_hours is not None and not est.meets_deadline.any():
        fastest = float(est.duration_hours[fitting].min())
        return (
            f"No offer finishes within the deadline of {workload.deadline_hours:g} h: the fastest "
            f"offer that fits needs {fastest:,.2f} h."
        )
    if workload.budget_usd is not None and not est.within_budget.any():
        assert est.total_cost is not None
        cheapest = float(est.total_cost[fitting].min())
        return (
            f"No offer stays within the budget of ${workload.budget_usd:,.2f}: the cheapest offer "
            f"that fits costs ${cheapest:,.2f}."
        )
    return "No offer meets both the deadline and the budget; relax one of them."


@dataclass(frozen=True)
class OfferEstimate:
    offer_id: str
    provider: str
    gpu_type: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    region: str
    is_spot: bool
    feasible: bool
    reasons: list[str] = field(
        metadata={
            "description": "no_benchmark, insufficient_memory, unknown_throughput, deadline, "
            "budget."
        }
    )
    min_gpus: int | None
    replicas: int
    throughput: float | None
    duration_hours: float | None
    total_cost: Decimal | None


def offer_estimate(table: OfferTable, assessment: OfferAssessment, i: int) -> OfferEstimate:
    est = assessment.estimates
    fits = bool(est.fits[i]) and not bool(assessment.unknown_rate[i])
    cost = est.total_cost[i] if est.total_cost is not None else np.inf
    return OfferEstimate(
        offer_id=table.offer_id(i),
        provider=table.provider[i],
        gpu_type=table.gpu_type[i],
        gpu_count=int(table.gpu_count[i]),
        vram_gb=int(table.vram_gb[i]),
        price_per_hour=money(table.price[i]),
        region=table.region[i],
        is_spot=bool(table.is_spot[i]),
        feasible=bool(est.feasible[i]),
        reasons=assessment.reasons(i),
        min_gpus=int(est.min_gpus[i]) if est.min_gpus[i] > 0 and table.has_benchmark[i] else None,
        replicas=int(est.replicas[i]),
        throughput=finite(est.throughput[i]) if fits else None,
        duration_hours=finite(est.duration_hours[i]) if fits else None,
        total_cost=money(cost) if fits and np.isfinite(cost) else None,
    )


@dataclass(frozen=True)
class MemorySummary:
    weights_gb: float
    kv_cache_gb: float
    activations_gb: float
    gradients_gb: float
    optimizer_states_gb: float
    per_gpu_working_gb: float
    total_gb: float
    kv_bytes_per_token: float = field(
        default=0.0,
        metadata={
            "description": "KV bytes one token adds with every layer holding it (0: no KV cache)."
        },
    )
    usable_vram_fraction: float = field(
        default=0.9,
        metadata={
            "description": "Share of each GPU's memory the job may plan on (serving reservation)."
        },
    )


@dataclass(frozen=True)
class WorkloadEstimate:
    workload: dict[str, Any]
    feasible: bool
    reason: str | None = field(metadata={"description": "Why no offer can run it, when none can."})
    memory: MemorySummary
    total_flops: float
    units: float
    unit: str
    assumptions: list[str]
    gpu_models: list[GpuModelEstimate]
    offers: list[OfferEstimate]
    candidate_count: int
    feasible_count: int
    truncated: bool
    #: The catalogue row the estimate used (None: sized from params_billion alone).
    model: str | None = field(
        default=None, metadata={"description": "The catalogue model row the estimate used."}
    )
    model_source: str | None = field(
        default=None, metadata={"description": "The published config that row cites."}
    )


def memory_summary(plan: WorkloadPlan) -> MemorySummary:
    m = plan.memory
    return MemorySummary(
        m.weights_gb,
        m.kv_cache_gb,
        m.activations_gb,
        m.gradients_gb,
        m.optimizer_states_gb,
        m.per_gpu_working_gb,
        m.total_gb,
        m.kv_bytes_per_token,
        m.usable_vram_fraction,
    )


def offer_order(assessment: OfferAssessment) -> np.ndarray:
    """Feasible first (cheapest, then fastest), then offers that fit but miss the deadline or
    budget, then those that do not fit, then those without a benchmark."""
    est = assessment.estimates
    tier = np.select([est.feasible, est.fits, ~assessment.no_benchmark], [0, 1, 2], default=3)
    cost = est.total_cost if est.total_cost is not None else np.zeros(tier.shape)
    return np.lexsort((est.duration_hours, cost, tier))


def estimate_workload(
    *, workload: Workload, offer_filter: OfferFilters | None = None, limit: int = DEFAULT_RESULTS
) -> WorkloadEstimate:
    check_limit(limit, maximum=MAX_ESTIMATED_OFFERS)
    with invalid_input_as_validation_error():
        plan = plan_workload(workload)
    table = offer_table(candidate_offers(offer_filter))
    assessment = assess_offers(plan, table)
    order = offer_order(assessment)[:limit]
    feasible_count = int(assessment.estimates.feasible.sum())
    return WorkloadEstimate(
        workload=workload_as_dict(workload),
        memory=memory_summary(plan),
        total_flops=plan.job.total_flops,
        units=plan.job.units,
        unit=plan.job.unit,
        assumptions=list(plan.assumptions),
        gpu_models=gpu_model_estimates(plan),
        offers=[offer_estimate(table, assessment, int(i)) for i in order],
        candidate_count=len(table),
        feasible_count=feasible_count,
        feasible=feasible_count > 0,
        reason=None if feasible_count else no_feasible_reason(plan, table, assessment),
        truncated=table.truncated,
        model=workload.model.name if workload.model is not None else None,
        model_source=workload.model.source if workload.model is not None else None,
    )
