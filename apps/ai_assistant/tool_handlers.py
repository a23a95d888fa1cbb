"""Tool inputs and handlers. Each input model is built from the service's own input types, so the
JSON schema an agent sees and the validation its arguments get are the services' own; each
handler calls one existing service and shapes a compact, JSON-safe answer for the agent plus the
ids of the offers it mentions (cited from the catalogue by ``tools.execute``)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, create_model

from apps.core.errors import DomainError, NotFound
from apps.math_core import benchmarks, limits, model_catalogue, recommendations, workloads
from apps.math_core.algorithms.gpu_spec import Precision
from apps.math_core.algorithms.workload_costing import min_gpus
from apps.math_core.algorithms.workload_mapper import Workload, WorkloadType, plan_workload
from apps.math_core.errors import invalid_input_as_validation_error
from apps.math_core.recommendations import Preferences
from apps.providers import selectors
from apps.providers.offer_filters import OfferFilters
from apps.providers.offer_pages import NumberedPage

from . import price_trends
from .citations import OfferCitation

if TYPE_CHECKING:
    from .tools import ToolContext

MAX_RESULTS = settings.AI_TOOL_MAX_RESULTS
OPEN_AVAILABILITY = ["available", "limited"]
OrderName = Literal["price", "price_per_gpu_hour", "cost_per_million_tokens", "vram_gb"]


@dataclass
class ToolOutput:
    data: dict[str, Any]
    offer_ids: list[str] = field(default_factory=list)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: ``Workload`` fields the service computes itself (never an input).
COMPUTED_WORKLOAD_FIELDS = frozenset({"defaults"})
MODEL_FIELD_DOC = (
    "A model of the catalogue by any alias (Hugging Face id, Ollama tag, common spelling); its "
    "published architecture sizes the job. Give params_billion instead for other models."
)


def workload_arguments() -> type[BaseModel]:
    """The workload input, derived field by field from the math core's ``Workload``: the same
    names and types, each optional (``build_workload`` applies and lists the defaults) except
    ``workload_type``; ``model`` is a catalogue name (``build_workload`` looks it up)."""
    hints = typing.get_type_hints(Workload)
    spec: dict[str, Any] = {}
    for item in dataclasses.fields(Workload):
        if item.name in COMPUTED_WORKLOAD_FIELDS:
            continue
        if item.name == "workload_type":
            spec[item.name] = (hints[item.name], ...)
        elif item.name == "model":
            spec[item.name] = (str | None, Field(None, max_length=200, description=MODEL_FIELD_DOC))
        else:
            spec[item.name] = (hints[item.name] | None, None)
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "WorkloadArguments", __config__=ConfigDict(extra="forbid"), **spec
    )
    return model


WorkloadArguments = workload_arguments()


def built(arguments: BaseModel) -> Workload:
    """The validated ``Workload`` (``build_workload``: catalogue lookup, limits, defaults)."""
    return workloads.build_workload(**arguments.model_dump(mode="json", exclude_none=True))


def built_or_none(arguments: BaseModel | None) -> Workload | None:
    return None if arguments is None else built(arguments)


class SearchOffersArgs(_Args):
    filter: OfferFilters | None = None
    order_by: OrderName = "price_per_gpu_hour"
    limit: int = Field(5, ge=1, le=MAX_RESULTS)


class EstimateWorkloadArgs(_Args):
    workload: WorkloadArguments  # type: ignore[valid-type]
    filter: OfferFilters | None = None
    limit: int = Field(5, ge=1, le=MAX_RESULTS)


class RecommendOffersArgs(_Args):
    workload: WorkloadArguments | None = None  # type: ignore[valid-type]
    preferences: Preferences | None = None
    filter: OfferFilters | None = None
    limit: int = Field(5, ge=1, le=MAX_RESULTS)


class CompareGpusArgs(_Args):
    gpu_models: list[str] = Field(..., min_length=2, max_length=4)
    workload: WorkloadArguments | None = None  # type: ignore[valid-type]


class FitsInVramArgs(_Args):
    vram_gb: int = Field(..., ge=1, le=4096)
    workload_type: WorkloadType = WorkloadType.LLM_INFERENCE
    context_length: int = Field(4096, ge=1, le=1_000_000)
    batch_size: int = Field(1, ge=1, le=4096)
    limit: int = Field(3, ge=1, le=MAX_RESULTS)


class LookupModelArgs(_Args):
    name: str = Field(..., min_length=1, max_length=200, description=MODEL_FIELD_DOC)


class PriceTrendArgs(_Args):
    gpu: str = Field(..., min_length=1, max_length=200)
    days: int = Field(30, ge=1, le=365)


def _limit(requested: int, context: ToolContext) -> int:
    return max(1, min(requested, context.max_results))


def _open(filters: OfferFilters | None) -> OfferFilters:
    chosen = filters or OfferFilters()
    return chosen if chosen.availability else replace(chosen, availability=OPEN_AVAILABILITY)


def _search(filters: OfferFilters, order: str, limit: int) -> selectors.OfferPage:
    return selectors.search_offers(
        filters=filters,
        ordering=selectors.OfferOrdering.parse(order),
        page=NumberedPage(page=1, per_page=limit),
    )


def search_offers(args: SearchOffersArgs, context: ToolContext) -> ToolOutput:
    page = _search(_open(args.filter), args.order_by, _limit(args.limit, context))
    offers = [OfferCitation.of(row).as_json() for row in page.rows]
    return ToolOutput({"total": page.total, "offers": offers}, [o["offer_id"] for o in offers])


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _offer_estimate(o: workloads.OfferEstimate) -> dict[str, Any]:
    return {
        "offer_id": o.offer_id,
        "provider": o.provider,
        "gpu_model": o.gpu_type,
        "gpu_count": o.gpu_count,
        "price_per_hour": str(o.price_per_hour),
        "feasible": o.feasible,
        "reasons": o.reasons,
        "min_gpus": o.min_gpus,
        "replicas": o.replicas,
        "duration_hours": o.duration_hours,
        "total_cost": _money(o.total_cost),
    }


def estimate_workload(args: EstimateWorkloadArgs, context: ToolContext) -> ToolOutput:
    estimate = workloads.estimate_workload(
        workload=built(args.workload),
        offer_filter=_open(args.filter),
        limit=_limit(args.limit, context),
    )
    fitting = [g for g in estimate.gpu_models if g.min_gpus is not None]
    fitting.sort(key=lambda g: (g.min_gpus or 0, g.duration_hours or float("inf")))
    data = {
        "feasible": estimate.feasible,
        "reason": estimate.reason,
        "workload": estimate.workload,
        "memory_total_gb": round(estimate.memory.total_gb, 2),
        "memory": {k: round(v, 2) for k, v in vars(estimate.memory).items()},
        "candidate_count": estimate.candidate_count,
        "feasible_count": estimate.feasible_count,
        "assumptions": estimate.assumptions,
        "gpu_models": [vars(g) for g in fitting[:8]],
        "offers": [_offer_estimate(o) for o in estimate.offers],
    }
    return ToolOutput(data, [o.offer_id for o in estimate.offers])


def recommend_offers(args: RecommendOffersArgs, context: ToolContext) -> ToolOutput:
    result = recommendations.ensemble_recommend(
        workload=built_or_none(args.workload),
        preferences=args.preferences or Preferences(),
        weights={},
        offer_filter=_open(args.filter),
        user=context.user,
        limit=_limit(args.limit, context),
    )
    recs: list[dict[str, Any]] = [
        {
            "rank": r.rank,
            "score": round(r.score, 4),
            "offer_id": r.offer.offer_id,
            "provider": r.offer.provider,
            "gpu_model": r.offer.gpu_type,
            "gpu_count": r.offer.gpu_count,
            "price_per_hour": str(r.offer.price_per_hour),
            "total_cost": _money(r.total_cost),
            "duration_hours": r.duration_hours,
            "why": r.explanation.summary,
        }
        for r in result.recommendations
    ]
    data = {
        "feasible": result.feasible,
        "reason": result.reason,
        "candidate_count": result.candidate_count,
        "recommendations": recs,
    }
    return ToolOutput(data, [r["offer_id"] for r in recs])


def _gpu_facts(name: str) -> dict[str, Any]:
    bench = benchmarks.get_benchmark(name)
    return {
        "gpu_model": bench.gpu_model,
        "vram_gb": bench.vram_gb,
        "memory_bandwidth_gbps": bench.memory_bandwidth_gbps,
        "tflops_fp16": bench.tflops_fp16,
        "tflops_fp8": bench.tflops_fp8,
        "tokens_per_second_7b": bench.tokens_per_second_7b,
        "tokens_per_second_7b_is_estimate": bench.tokens_per_second_7b_is_estimate,
    }


def compare_gpus(args: CompareGpusArgs, context: ToolContext) -> ToolOutput:
    gpus: list[dict[str, Any]] = []
    cited: list[str] = []
    for name in dict.fromkeys(args.gpu_models):
        try:
            facts = _gpu_facts(name)
        except NotFound as exc:
            gpus.append({"gpu": name, "error": exc.message})
            continue
        page = _search(_open(OfferFilters(gpu_model=[facts["gpu_model"]])), "price_per_gpu_hour", 1)
        facts["cheapest_offer"] = OfferCitation.of(page.rows[0]).as_json() if page.rows else None
        facts["available_offers"] = page.total
        cited.extend(str(o.pk) for o in page.rows)
        gpus.append(facts)
    known = [g["gpu_model"] for g in gpus if "gpu_model" in g]
    if args.workload is not None and known:
        estimate = workloads.estimate_workload(
            workload=built(args.workload),
            offer_filter=_open(OfferFilters(gpu_model=known)),
            limit=limits.MAX_ESTIMATED_OFFERS,
        )
        per_model = {g.gpu_model: g for g in estimate.gpu_models}
        for entry in gpus:
            model = entry.get("gpu_model")
            if model is None:
                continue
            fit = per_model.get(model)
            best = next((o for o in estimate.offers if o.gpu_type == model and o.feasible), None)
            entry["workload_fit"] = {
                "min_gpus": fit.min_gpus if fit else None,
                "duration_hours_at_min_gpus": fit.duration_hours if fit else None,
                "cheapest_feasible_offer": _offer_estimate(best) if best else None,
            }
            if best:
                cited.append(best.offer_id)
        gpus_memory = round(estimate.memory.total_gb, 2)
        return ToolOutput({"gpus": gpus, "workload_memory_gb": gpus_memory}, cited)
    return ToolOutput({"gpus": gpus}, cited)


#: Model sizes (billions of parameters) the VRAM check tries when the model catalogue is empty.
COMMON_SIZES = (0.5, 1, 1.5, 3, 7, 8, 13, 14, 27, 32, 34, 70, 72, 110, 405)
FIT_PRECISIONS = ("fp16", "int8", "int4")
MAX_FITTING_MODELS = 5


def _fits_on_one(workload: Workload, vram: np.ndarray) -> float | None:
    """The job's memory in GB when it fits on one GPU of ``vram`` GB, else None."""
    with invalid_input_as_validation_error():
        plan = plan_workload(workload)
    return round(plan.memory.total_gb, 2) if int(min_gpus(plan.memory, vram)[0]) == 1 else None


def _catalogue_fits(args: FitsInVramArgs, vram: np.ndarray, precision: str) -> list[dict[str, Any]]:
    """Catalogue LLMs that fit on one GPU at ``precision``, largest first (their published
    architecture: GQA, MoE … as the estimator models them)."""
    fitting: list[dict[str, Any]] = []
    for row in model_catalogue.search_models(kind="llm"):
        arch = model_catalogue.architecture(row)
        context = min(args.context_length, arch.max_context or args.context_length)
        try:  # the architecture in hand: no catalogue look-up per model and precision
            with invalid_input_as_validation_error():
                workload = Workload(
                    workload_type=args.workload_type,
                    params_billion=arch.params_total / 1e9,
                    precision=Precision.parse(precision),
                    context_length=context,
                    batch_size=args.batch_size,
                    tokens=1e6,
                    model=arch,
                )
                memory = _fits_on_one(workload, vram)
        except DomainError:
            continue
        if memory is not None:
            fitting.append(
                {"model": row.name, "params_billion": arch.params_total / 1e9, "memory_gb": memory}
            )
    fitting.sort(key=lambda f: -float(f["params_billion"]))
    return fitting[:MAX_FITTING_MODELS]


def _largest_common_size(args: FitsInVramArgs, vram: np.ndarray, precision: str) -> Any:
    largest = None
    for size in COMMON_SIZES:
        workload = workloads.build_workload(
            workload_type=args.workload_type.value,
            params_billion=size,
            precision=precision,
            context_length=args.context_length,
            batch_size=args.batch_size,
            tokens=1e6,
            requests=1000 if args.workload_type is WorkloadType.IMAGE_GENERATION else None,
        )
        memory = _fits_on_one(workload, vram)
        if memory is not None:
            largest = {"params_billion": size, "memory_gb": memory}
    return largest


def fits_in_vram(args: FitsInVramArgs, context: ToolContext) -> ToolOutput:
    vram = np.array([float(args.vram_gb)])
    catalogue = args.workload_type is not WorkloadType.IMAGE_GENERATION and bool(
        model_catalogue.search_models(kind="llm", limit=1)
    )
    fits: list[dict[str, Any]] = []
    for precision in FIT_PRECISIONS:
        entry: dict[str, Any] = {
            "precision": precision,
            "largest_common_size_on_one_gpu": _largest_common_size(args, vram, precision),
        }
        if catalogue:
            entry["catalogue_models_on_one_gpu"] = _catalogue_fits(args, vram, precision)
        fits.append(entry)
    filters = _open(OfferFilters(vram_gb_min=args.vram_gb))
    page = _search(filters, "price_per_gpu_hour", _limit(args.limit, context))
    offers = [OfferCitation.of(row).as_json() for row in page.rows]
    data = {
        "vram_gb": args.vram_gb,
        "workload_type": args.workload_type.value,
        "context_length": args.context_length,
        "batch_size": args.batch_size,
        "fits": fits,
        "cheapest_offers_with_at_least_this_vram": offers,
    }
    return ToolOutput(data, [o["offer_id"] for o in offers])


def price_trend(args: PriceTrendArgs, context: ToolContext) -> ToolOutput:
    trend = price_trends.gpu_price_trend(args.gpu, days=args.days)
    return ToolOutput(trend.as_json(), trend.offer_ids())


def lookup_model(args: LookupModelArgs, context: ToolContext) -> ToolOutput:
    """A catalogue model's published architecture (``model_catalogue.find_model``); an unknown
    name is the service's ``NotFound`` naming the closest catalogue models."""
    row = model_catalogue.find_model(args.name)
    arch = model_catalogue.architecture(row)
    data = {
        "name": row.name,
        "family": row.family,
        "kind": row.kind,
        "aliases": list(row.aliases)[:8],
        "params_billion": round(arch.params_total / 1e9, 3),
        "active_params_billion": round(arch.params_active / 1e9, 3),
        "attention": arch.attention.value,
        "layers": arch.num_layers,
        "hidden_size": arch.hidden_size,
        "heads": arch.num_heads,
        "kv_heads": arch.num_kv_heads,
        "head_dim": arch.head_dim,
        "sliding_window": arch.sliding_window,
        "experts_total": arch.experts_total,
        "experts_active": arch.experts_active,
        "kv_bytes_per_token_fp16": model_catalogue.kv_bytes_per_token_fp16(row),
        "max_context": arch.max_context,
        "native_dtype": arch.native_dtype,
        "source": arch.source,
    }
    return ToolOutput(data, [])
