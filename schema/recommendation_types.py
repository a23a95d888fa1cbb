"""GraphQL types of the math core's calculators, workload estimation and recommenders.

Plain ``strawberry.type``s mirroring the services' result dataclasses (resolvers return those
dataclasses as they are). Offers appear as ``offerId`` plus the few fields a recommendation
needs, and ``offer`` links the catalogue's ``GPUOffer`` (``schema/providers.py``), bulk-loaded
through ``schema/offer_links.py`` (the resolvers register the result's offer ids)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from apps.math_core import limits, offer_criteria
from apps.math_core.errors import RecommendationErrorCode

from . import cost, offer_links
from .mutations import payload_error
from .privacy import PRIVATE, PUBLIC
from .recommendation_inputs import Normalization, OfferCriterion, Precision

if TYPE_CHECKING:
    from .providers import GPUOfferType

#: The catalogue's ``GPUOffer`` type (``schema/providers.py`` imports this module: lazy).
LinkedOffer = Annotated["GPUOfferType", strawberry.lazy("schema.providers")]


@payload_error(RecommendationErrorCode)
@strawberry.type(
    description="A problem with a TOPSIS, recommendation or interaction request.",
    directives=[PRIVATE],
)
class RecommendationError:
    field: str | None
    message: str
    code: RecommendationErrorCode


def _catalogue_offer(root: Any, info: Info) -> LinkedOffer | None:
    return offer_links.linked_offer(info, root.offer_id)  # type: ignore[return-value]


def catalogue_offer_field() -> Any:
    return strawberry.field(
        resolver=_catalogue_offer,
        description="The catalogue offer (null when it is no longer listed).",
    )


# --- Results ----------------------------------------------------------------------------------


@strawberry.type(directives=[PUBLIC])
class TokenCost:
    cost_per_million_tokens: Decimal
    price_per_hour: Decimal
    tokens_per_second: float
    is_estimate: bool = strawberry.field(description="True when the rate is not measured.")
    basis: str
    gpu_model: str | None
    gpu_count: int
    gpus_per_replica: int
    replicas: int
    model_params_billion: float | None
    precision: Precision | None
    offer_id: strawberry.ID | None


@strawberry.type(directives=[PUBLIC])
class FlopCost:
    cost_per_gflop: Decimal
    cost_per_tflop_hour: Decimal
    price_per_hour: Decimal
    tflops_per_gpu: float
    total_tflops: float
    precision: Precision | None
    gpu_model: str | None
    gpu_count: int
    offer_id: strawberry.ID | None


@strawberry.type(directives=[PUBLIC])
class MemoryBreakdown:
    weights_gb: float
    kv_cache_gb: float
    activations_gb: float
    gradients_gb: float
    optimizer_states_gb: float
    per_gpu_working_gb: float
    total_gb: float
    kv_bytes_per_token: float = strawberry.field(
        description="KV bytes one token adds with every layer holding it (0: no KV cache)."
    )
    usable_vram_fraction: float = strawberry.field(
        description="Share of each GPU's memory the job may plan on (serving reservation)."
    )


@strawberry.type(directives=[PUBLIC])
class GpuModelEstimate:
    gpu_model: str
    vram_gb: int
    min_gpus: int | None = strawberry.field(description="Null: no number of these GPUs fits.")
    throughput: float | None
    duration_hours: float | None
    memory_bound: bool
    single_stream_tokens_per_second: float | None = strawberry.field(
        description="Decode tokens/s of one sequence on minGpus GPUs (estimate)."
    )
    batched_tokens_per_second: float | None = strawberry.field(
        description="Decode tokens/s of the workload's whole batch on minGpus GPUs (estimate)."
    )
    prefill_tokens_per_second: float | None = strawberry.field(
        description="Compute-bound prompt tokens/s on minGpus GPUs (estimate)."
    )
    throughput_note: str = strawberry.field(
        description="What the rates are, or why they are unknown (no published figure)."
    )


@strawberry.type(directives=[PUBLIC])
class OfferEstimate:
    offer_id: strawberry.ID
    provider: str
    gpu_type: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    region: str
    is_spot: bool
    feasible: bool
    reasons: list[str] = strawberry.field(
        description="no_benchmark, insufficient_memory, unknown_throughput, deadline, budget.",
        metadata=cost.list_size(5),
    )
    min_gpus: int | None
    replicas: int
    throughput: float | None
    duration_hours: float | None
    total_cost: Decimal | None
    offer: LinkedOffer | None = catalogue_offer_field()


@strawberry.type(directives=[PUBLIC])
class WorkloadEstimate:
    feasible: bool
    reason: str | None = strawberry.field(description="Why no offer can run it, when none can.")
    memory: MemoryBreakdown
    total_flops: float
    units: float
    unit: str
    assumptions: list[str] = strawberry.field(metadata=cost.list_size(25))
    gpu_models: list[GpuModelEstimate] = strawberry.field(metadata=cost.list_size(30))
    offers: list[OfferEstimate] = strawberry.field(
        metadata=cost.list_size(20, argument="limit", maximum=limits.MAX_ESTIMATED_OFFERS)
    )
    candidate_count: int
    feasible_count: int
    truncated: bool
    model: str | None = strawberry.field(
        default=None, description="The catalogue model row the estimate used."
    )
    model_source: str | None = strawberry.field(
        default=None, description="The published config that row cites."
    )


@strawberry.type(directives=[PUBLIC])
class TopsisScores:
    scores: list[float] = strawberry.field(
        description="Closeness per row, in input order.", metadata=cost.list_size(1000)
    )
    ranking: list[int] = strawberry.field(
        description="Row indices, best first.", metadata=cost.list_size(1000)
    )
    ranks: list[int] = strawberry.field(
        description="1-based rank per row; ties share a rank.", metadata=cost.list_size(1000)
    )


@strawberry.type(directives=[PRIVATE])
class AppliedCriterion:
    criterion: str
    weight: float
    type: str


@strawberry.type(
    description="An offer as the recommenders show it (offerId links the catalogue).",
    directives=[PUBLIC],
)
class OfferSummary:
    offer_id: strawberry.ID
    provider: str
    gpu_type: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    region: str
    country: str
    is_spot: bool
    reliability: float
    offer: LinkedOffer | None = catalogue_offer_field()


ExclusionReason = offer_criteria.ExclusionReason
strawberry.enum(
    ExclusionReason, name="ExclusionReason", description="Why candidates were left out."
)


@strawberry.type(description="How many candidate offers one reason left out.", directives=[PRIVATE])
class Exclusion:
    reason: ExclusionReason
    count: int


def _exclusions(root: Any) -> list[Exclusion]:
    return [
        Exclusion(reason=ExclusionReason(reason), count=count)
        for reason, count in root.excluded.items()
    ]


@strawberry.type(description="An offer's value on one ranking criterion.", directives=[PRIVATE])
class CriterionValue:
    criterion: OfferCriterion
    value: float


def _criteria_values(root: Any) -> list[CriterionValue]:
    return [
        CriterionValue(criterion=OfferCriterion(name), value=value)
        for name, value in root.criteria_values.items()
    ]


@strawberry.type(directives=[PRIVATE])
class RankedOffer:
    offer: OfferSummary
    rank: int
    score: float
    criteria_values: list[CriterionValue] = strawberry.field(
        resolver=_criteria_values,
        description="The offer's value on each ranking criterion.",
        metadata=cost.list_size(len(OfferCriterion)),
    )


@strawberry.type(directives=[PRIVATE])
class OfferRanking:
    run_id: strawberry.ID
    criteria: list[AppliedCriterion] = strawberry.field(metadata=cost.list_size(10))
    normalization: Normalization
    offers: list[RankedOffer] = strawberry.field(
        metadata=cost.list_size(20, argument="input.offers.limit", maximum=limits.MAX_RANKED_OFFERS)
    )
    candidate_count: int
    ranked_count: int
    excluded: list[Exclusion] = strawberry.field(
        resolver=_exclusions,
        description="Candidates left out, by reason.",
        metadata=cost.list_size(len(ExclusionReason)),
    )
    truncated: bool


@strawberry.type(directives=[PRIVATE])
class TopsisPayload:
    scores: TopsisScores | None = None
    ranking: OfferRanking | None = None
    errors: list[RecommendationError] = strawberry.field(
        default_factory=list, metadata=cost.list_size(10)
    )


@strawberry.type(directives=[PRIVATE])
class ComponentScore:
    name: str
    raw_score: float
    normalized_score: float
    weight: float
    contribution: float
    note: str


@strawberry.type(directives=[PRIVATE])
class DecidingCriterion:
    source: str
    criterion: str
    effect: str
    value: float | None
    detail: str


@strawberry.type(directives=[PRIVATE])
class Explanation:
    components: list[ComponentScore] = strawberry.field(metadata=cost.list_size(3))
    deciding_criteria: list[DecidingCriterion] = strawberry.field(metadata=cost.list_size(10))
    summary: str


@strawberry.type(directives=[PRIVATE])
class RecommendedOffer:
    offer: OfferSummary
    rank: int
    score: float
    total_cost: Decimal | None
    duration_hours: float | None
    throughput: float | None
    throughput_unit: str | None
    explanation: Explanation

    @strawberry.field(description="The catalogue offer's id.")
    def offer_id(self) -> strawberry.ID:
        return strawberry.ID(self.offer.offer_id)


@strawberry.type(directives=[PRIVATE])
class ComponentWeights:
    topsis: float
    collaborative: float
    content: float


def _requested_weights(root: Any) -> ComponentWeights:
    return ComponentWeights(**root.requested_weights)


def _effective_weights(root: Any) -> ComponentWeights:
    return ComponentWeights(**root.effective_weights)


@strawberry.type(directives=[PRIVATE])
class Recommendations:
    run_id: strawberry.ID
    feasible: bool
    reason: str | None
    recommendations: list[RecommendedOffer] = strawberry.field(
        metadata=cost.list_size(10, argument="input.limit", maximum=limits.MAX_RANKED_OFFERS)
    )
    candidate_count: int
    ranked_count: int
    excluded: list[Exclusion] = strawberry.field(
        resolver=_exclusions,
        description="Candidates left out, by reason.",
        metadata=cost.list_size(len(ExclusionReason)),
    )
    collaborative_source: str
    criteria: list[AppliedCriterion] = strawberry.field(metadata=cost.list_size(10))
    truncated: bool
    model: str | None = strawberry.field(
        default=None, description="The catalogue model row the workload was sized with."
    )
    assumptions: list[str] = strawberry.field(
        default_factory=list,
        description="Every assumption and default of the workload plan.",
        metadata=cost.list_size(25),
    )
    requested_weights: ComponentWeights = strawberry.field(
        resolver=_requested_weights, description="The request's weights, normalised."
    )
    effective_weights: ComponentWeights = strawberry.field(
        resolver=_effective_weights,
        description="The weights applied: a component without signal gives its weight away.",
    )


@strawberry.type(directives=[PRIVATE])
class EnsemblePayload:
    result: Recommendations | None = None
    errors: list[RecommendationError] = strawberry.field(
        default_factory=list, metadata=cost.list_size(10)
    )


@strawberry.type(directives=[PRIVATE])
class OfferInteraction:
    id: strawberry.ID
    offer_id: strawberry.ID
    kind: str
    run_id: strawberry.ID | None
    created_at: datetime


@strawberry.type(directives=[PRIVATE])
class RecordInteractionPayload:
    interaction: OfferInteraction | None = None
    errors: list[RecommendationError] = strawberry.field(
        default_factory=list, metadata=cost.list_size(10)
    )
