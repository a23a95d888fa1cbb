"""GraphQL types of the math core's calculators, workload estimation and recommenders.

Types whose fields the services' result dataclasses declare (``schema/derived.py``; resolvers
return those dataclasses as they are). Offers appear as ``offerId`` plus the few fields a
recommendation needs, and ``offer`` links the catalogue's ``GPUOffer`` (``schema/providers.py``),
bulk-loaded through ``schema/offer_links.py`` (the resolvers register the result's offer ids)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from apps.math_core import (
    calculators,
    explanations,
    gpu_estimates,
    limits,
    offer_criteria,
    offer_summaries,
    rankings,
    recommendations,
    workloads,
)
from apps.math_core.algorithms.costs import TokenCostResult
from apps.math_core.errors import RecommendationErrorCode

from . import cost, offer_links
from .derived import mirrors
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
# Fields and types come from the services' dataclasses (schema/derived.py); the bodies say only
# what GraphQL adds: enums and ids, query-cost list sizes, links and typed forms of dicts.


@strawberry.type(directives=[PUBLIC])
@mirrors(TokenCostResult)
class TokenCost:
    precision: Precision | None
    offer_id: strawberry.ID | None


@strawberry.type(directives=[PUBLIC])
@mirrors(calculators.FlopCostResult)
class FlopCost:
    precision: Precision | None
    offer_id: strawberry.ID | None


@strawberry.type(directives=[PUBLIC])
@mirrors(workloads.MemorySummary)
class MemoryBreakdown:
    pass


@strawberry.type(directives=[PUBLIC])
@mirrors(gpu_estimates.GpuModelEstimate)
class GpuModelEstimate:
    pass


@strawberry.type(directives=[PUBLIC])
@mirrors(workloads.OfferEstimate)
class OfferEstimate:
    offer_id: strawberry.ID
    reasons = strawberry.field(metadata=cost.list_size(5))
    offer: LinkedOffer | None = catalogue_offer_field()


@strawberry.type(directives=[PUBLIC])
@mirrors(workloads.WorkloadEstimate, omit=("workload",))
class WorkloadEstimate:
    assumptions = strawberry.field(metadata=cost.list_size(25))
    gpu_models = strawberry.field(metadata=cost.list_size(30))
    offers = strawberry.field(
        metadata=cost.list_size(20, argument="limit", maximum=limits.MAX_ESTIMATED_OFFERS)
    )


@strawberry.type(directives=[PUBLIC])
@mirrors(rankings.TopsisOutput)
class TopsisScores:
    scores = strawberry.field(metadata=cost.list_size(1000))
    ranking = strawberry.field(metadata=cost.list_size(1000))
    ranks = strawberry.field(metadata=cost.list_size(1000))


@strawberry.type(directives=[PRIVATE])
@mirrors(offer_criteria.AppliedCriterion)
class AppliedCriterion:
    pass


@strawberry.type(
    description="An offer as the recommenders show it (offerId links the catalogue).",
    directives=[PUBLIC],
)
@mirrors(offer_summaries.OfferSummary)
class OfferSummary:
    offer_id: strawberry.ID
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


def exclusions_field() -> Any:
    return strawberry.field(
        resolver=_exclusions,
        description="Candidates left out, by reason.",
        metadata=cost.list_size(len(ExclusionReason)),
    )


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
@mirrors(rankings.RankedOffer)
class RankedOffer:
    criteria_values: list[CriterionValue] = strawberry.field(
        resolver=_criteria_values,
        description="The offer's value on each ranking criterion.",
        metadata=cost.list_size(len(OfferCriterion)),
    )


@strawberry.type(directives=[PRIVATE])
@mirrors(rankings.OfferRanking)
class OfferRanking:
    run_id: strawberry.ID
    criteria = strawberry.field(metadata=cost.list_size(10))
    normalization: Normalization
    offers = strawberry.field(
        metadata=cost.list_size(20, argument="input.offers.limit", maximum=limits.MAX_RANKED_OFFERS)
    )
    excluded: list[Exclusion] = exclusions_field()


@strawberry.type(directives=[PRIVATE])
class TopsisPayload:
    scores: TopsisScores | None = None
    ranking: OfferRanking | None = None
    errors: list[RecommendationError] = strawberry.field(
        default_factory=list, metadata=cost.list_size(10)
    )


@strawberry.type(directives=[PRIVATE])
@mirrors(explanations.ComponentScore)
class ComponentScore:
    pass


@strawberry.type(directives=[PRIVATE])
@mirrors(explanations.DecidingCriterion)
class DecidingCriterion:
    pass


@strawberry.type(directives=[PRIVATE])
@mirrors(explanations.Explanation)
class Explanation:
    components = strawberry.field(metadata=cost.list_size(3))
    deciding_criteria = strawberry.field(metadata=cost.list_size(10))


@strawberry.type(directives=[PRIVATE])
@mirrors(recommendations.Recommendation)
class RecommendedOffer:
    @strawberry.field(description="The catalogue offer's id.")
    def offer_id(self) -> strawberry.ID:
        return strawberry.ID(self.offer.offer_id)  # type: ignore[attr-defined]


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
@mirrors(recommendations.EnsembleResult)
class Recommendations:
    run_id: strawberry.ID
    recommendations = strawberry.field(
        metadata=cost.list_size(10, argument="input.limit", maximum=limits.MAX_RANKED_OFFERS)
    )
    excluded: list[Exclusion] = exclusions_field()
    requested_weights: ComponentWeights = strawberry.field(
        resolver=_requested_weights, description="The request's weights, normalised."
    )
    effective_weights: ComponentWeights = strawberry.field(
        resolver=_effective_weights,
        description="The weights applied: a component without signal gives its weight away.",
    )
    criteria = strawberry.field(metadata=cost.list_size(10))
    assumptions = strawberry.field(metadata=cost.list_size(25))


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
