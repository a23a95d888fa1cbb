"""REST: GPU benchmarks, the cost calculators, TOPSIS, workload estimation, the ensemble
recommender and offer interactions (``/api/v2/math/``).

Thin: every endpoint parses its body (``math_schemas``) and calls one service of
``apps.math_core`` — the same functions the GraphQL resolvers call. A bearer token is optional
on the recommenders (the run is stored with the user when there is one; a token that does not
verify is a 401) and required to record an interaction."""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from apps.auth_app.middleware import optional_principal
from apps.auth_app.models import User
from apps.core.text import NOT_BLANK
from apps.math_core import (
    benchmarks,
    calculators,
    limits,
    model_catalogue,
    recommendations,
    workloads,
)
from apps.math_core.algorithms import gpu_names
from apps.math_core.algorithms.workload_mapper import Workload
from apps.providers.offer_filters import OfferFilters

from .math_schemas import (
    CostPerGflopIn,
    CostPerTokenIn,
    EnsembleIn,
    EnsembleOut,
    EstimateWorkloadIn,
    FlopCostOut,
    InteractionIn,
    InteractionOut,
    OfferFilterIn,
    OfferRankingOut,
    TokenCostOut,
    TopsisIn,
    TopsisOffersIn,
    TopsisOut,
    WorkloadEstimateOut,
    WorkloadIn,
)
from .security import auth_user, jwt_auth

router = Router()
ModelName = Annotated[
    str, Path(min_length=1, max_length=model_catalogue.MAX_QUERY_LENGTH, pattern=NOT_BLANK)
]
GpuName = Annotated[str, Path(min_length=1, max_length=benchmarks.MAX_GPU_NAME, pattern=NOT_BLANK)]

BenchmarkOrder = Literal[
    "gpu_model",
    "vram_gb",
    "tflops_fp32",
    "tflops_fp16",
    "memory_bandwidth_gbps",
    "tokens_per_second_7b",
]


class BenchmarkOut(Schema):
    id: str
    gpu_model: str
    vendor: str
    architecture: str
    form_factor: str
    vram_gb: int
    memory_bandwidth_gbps: float
    tflops_fp32: float
    tflops_fp16: float | None
    tflops_fp8: float | None
    tflops_int8: float | None
    tdp_w: int | None
    tokens_per_second_7b: int
    tokens_per_second_7b_is_estimate: bool
    tokens_per_second_13b: int | None
    tokens_per_second_70b: int | None
    server_tokens_per_second_8b: int | None
    image_gen_per_minute: int | None
    source: str
    perf_source: str
    notes: str
    gpu_family: str | None = Field(None, description="GPU family of gpu_model.")

    @staticmethod
    def resolve_id(obj: object) -> str:
        return str(obj.id)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_gpu_family(obj: object) -> str | None:
        return gpu_names.gpu_family(obj.gpu_model)  # type: ignore[attr-defined]


class BenchmarkFilters(Schema):
    vendor: Literal["NVIDIA", "AMD", "INTEL", "nvidia", "amd", "intel"] | None = None
    min_vram_gb: int | None = Field(None, ge=0, le=benchmarks.MAX_VRAM_FILTER_GB)
    order_by: BenchmarkOrder = "gpu_model"
    descending: bool = False


@router.get("/benchmarks", response=list[BenchmarkOut], summary="GPU benchmarks")
def list_benchmarks(request: HttpRequest, filters: Query[BenchmarkFilters]) -> object:
    return list(
        benchmarks.list_benchmarks(
            vendor=filters.vendor,
            min_vram_gb=filters.min_vram_gb,
            order_by=filters.order_by,
            descending=filters.descending,
        )
    )


@router.get(
    "/benchmarks/{gpu}",
    response=BenchmarkOut,
    summary="One GPU's benchmark (any spelling the normaliser knows)",
)
def get_benchmark(request: HttpRequest, gpu: GpuName) -> object:
    return benchmarks.get_benchmark(gpu)


# --- Model catalogue ------------------------------------------------------------------------


class ModelOut(Schema):
    name: str
    family: str
    kind: str
    aliases: list[str]
    hf_repo: str
    ollama_tag: str
    params_total: int
    params_active: int
    params_source: str
    attention: str
    num_layers: int | None
    hidden_size: int | None
    num_heads: int | None
    num_kv_heads: int | None
    head_dim: int | None
    kv_lora_rank: int | None
    qk_rope_head_dim: int | None
    sliding_window: int | None
    sliding_window_layers: list[int]
    experts_total: int | None
    experts_active: int | None
    shared_experts: int | None
    vocab_size: int | None
    max_context: int | None
    tied_embeddings: bool
    native_dtype: str
    kv_bytes_per_token_fp16: float
    licence: str
    source: str
    verified_via: str
    notes: str

    @staticmethod
    def resolve_sliding_window_layers(obj: object) -> list[int]:
        return model_catalogue.sliding_window_layer_indices(obj)  # type: ignore[arg-type]

    @staticmethod
    def resolve_kv_bytes_per_token_fp16(obj: object) -> float:
        return model_catalogue.kv_bytes_per_token_fp16(obj)  # type: ignore[arg-type]


class ModelFilters(Schema):
    search: str | None = Field(None, max_length=model_catalogue.MAX_QUERY_LENGTH)
    kind: Literal["llm", "embedding", "diffusion"] | None = None
    limit: int | None = Field(None, ge=1, le=limits.MAX_LISTED_MODELS)


@router.get("/models", response=list[ModelOut], summary="The model catalogue")
def list_models(request: HttpRequest, filters: Query[ModelFilters]) -> object:
    return model_catalogue.search_models(filters.search, kind=filters.kind, limit=filters.limit)


@router.get(
    "/models/{path:name}",
    response=ModelOut,
    summary="One catalogue model by any alias (404 suggests the closest names)",
)
def get_model(request: HttpRequest, name: ModelName) -> object:
    return model_catalogue.find_model(name)


# --- Calculators, TOPSIS, workloads, recommendations ------------------------------------------


def _optional_user(request: HttpRequest) -> User | None:
    principal = optional_principal(request)
    return principal.user if principal else None


def _filter(body: OfferFilterIn | None) -> OfferFilters:
    return body.offer_filters() if body else OfferFilters()


def _workload(body: WorkloadIn) -> Workload:
    fields = body.model_dump(include=set(WorkloadIn.model_fields))
    return workloads.build_workload(**fields)


@router.post("/cost-per-token", response=TokenCostOut, summary="Cost per million tokens")
def cost_per_token(request: HttpRequest, body: CostPerTokenIn) -> object:
    return calculators.cost_per_token(**body.model_dump())


@router.post("/cost-per-gflop", response=FlopCostOut, summary="Cost per GFLOP and TFLOP-hour")
def cost_per_gflop(request: HttpRequest, body: CostPerGflopIn) -> object:
    return calculators.cost_per_gflop(**body.model_dump())


@router.post("/topsis", response=TopsisOut, summary="TOPSIS ranking of a decision matrix")
def topsis(request: HttpRequest, body: TopsisIn) -> object:
    return recommendations.topsis_calculator(**body.model_dump())


@router.post("/topsis-offers", response=OfferRankingOut, summary="TOPSIS ranking of offers")
def topsis_offers(request: HttpRequest, body: TopsisOffersIn) -> object:
    return recommendations.topsis_offers(
        offer_filter=_filter(body.filter),
        criteria=[(c.criterion, c.weight) for c in body.criteria],
        normalization=body.normalization,
        precision=body.precision,
        user=_optional_user(request),
        limit=body.limit,
    )


@router.post("/estimate-workload", response=WorkloadEstimateOut, summary="Workload estimation")
def estimate_workload(request: HttpRequest, body: EstimateWorkloadIn) -> object:
    return workloads.estimate_workload(
        workload=_workload(body), offer_filter=_filter(body.filter), limit=body.limit
    )


@router.post("/ensemble-recommend", response=EnsembleOut, summary="Ensemble recommendations")
def ensemble_recommend(request: HttpRequest, body: EnsembleIn) -> object:
    prefs = body.preferences.model_dump() if body.preferences else {}
    weights = body.weights.model_dump(exclude_none=True) if body.weights else {}
    return recommendations.ensemble_recommend(
        workload=_workload(body.workload) if body.workload else None,
        preferences=recommendations.Preferences.from_fields(**prefs),
        weights=weights,
        offer_filter=_filter(body.filter),
        user=_optional_user(request),
        limit=body.limit,
    )


@router.post(
    "/interactions",
    response={201: InteractionOut},
    auth=jwt_auth,
    summary="Record that you viewed, selected or booked an offer",
)
def record_interaction(request: HttpRequest, body: InteractionIn) -> object:
    interaction = recommendations.record_interaction(user=auth_user(request), **body.model_dump())
    return Status(201, interaction)
