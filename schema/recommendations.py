"""GraphQL: workload estimation (query), TOPSIS, ensemble recommendations and offer
interactions (mutations) over ``apps.math_core`` — the same services REST calls.

Mutations go through ``schema/mutations.py``: payloads with ``errors: [RecommendationError!]!``
(``RecommendationErrorCode``); request-level failures (a bearer token
that does not verify, ``recordInteraction`` without one, rate limits) are errors with
``extensions.code``."""

from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django
from strawberry.types import Info

from apps.math_core import recommendations, workloads
from apps.math_core.algorithms.workload_mapper import Workload

from .mutations import mutation
from .offer_links import register_offers
from .permissions import IsAuthenticated, optional_user, require_user
from .privacy import PUBLIC
from .providers import OfferFilterInput, offer_filters
from .recommendation_inputs import (
    FILTER_DOC,
    EnsembleInput,
    RecordInteractionInput,
    TopsisInput,
    WorkloadInput,
    plain,
)
from .recommendation_types import (
    EnsemblePayload,
    RecordInteractionPayload,
    TopsisPayload,
    WorkloadEstimate,
)


def workload_from(value: WorkloadInput) -> Workload:
    return workloads.build_workload(**plain(value))


@strawberry.type(directives=[PUBLIC])
class Query:
    @strawberry_django.field(
        description="Memory, compute, duration and cost of a job on every candidate offer "
        "(feasible first); `feasible: false` with a `reason` when no offer can run it."
    )
    def estimate_workload(
        self,
        info: Info,
        workload: WorkloadInput,
        filter: Annotated[
            OfferFilterInput | None, strawberry.argument(description=FILTER_DOC)
        ] = None,
        limit: int = 20,
    ) -> WorkloadEstimate:
        estimate = workloads.estimate_workload(
            workload=workload_from(workload), offer_filter=offer_filters(filter), limit=limit
        )
        register_offers(info, (offer.offer_id for offer in estimate.offers))
        return estimate  # type: ignore[return-value]


@strawberry.type
class Mutation:
    @mutation("TOPSIS: rank given alternatives, or catalogue offers selected by a filter.")
    def topsis(self, info: Info, input: TopsisInput) -> TopsisPayload:
        if input.alternatives:
            scores = recommendations.topsis_calculator(**plain(input.alternatives))
            return TopsisPayload(scores=scores)  # type: ignore[arg-type]
        user = optional_user(info)
        options = plain(input.offers) if input.offers else {}
        criteria = [(c["criterion"], c["weight"]) for c in options.pop("criteria", None) or []]
        ranking = recommendations.topsis_offers(
            offer_filter=offer_filters(input.offers.filter if input.offers else None),
            criteria=criteria,
            normalization=options["normalization"],
            precision=options["precision"],
            limit=options["limit"],
            user=user,
        )
        register_offers(info, (ranked.offer.offer_id for ranked in ranking.offers))
        return TopsisPayload(ranking=ranking)  # type: ignore[arg-type]

    @mutation("Ranked offers for a workload and preferences, each with its explanation.")
    def ensemble_recommend(self, info: Info, input: EnsembleInput) -> EnsemblePayload:
        result = recommendations.ensemble_recommend(
            workload=workload_from(input.workload) if input.workload else None,
            preferences=recommendations.Preferences.from_fields(
                **(plain(input.preferences) if input.preferences else {})
            ),
            weights={k: v for k, v in plain(input.weights).items() if v is not None}
            if input.weights
            else {},
            offer_filter=offer_filters(input.filter),
            user=optional_user(info),
            limit=input.limit,
        )
        register_offers(info, (r.offer.offer_id for r in result.recommendations))
        return EnsemblePayload(result=result)  # type: ignore[arg-type]

    @mutation("Record that you viewed, selected or booked an offer.", IsAuthenticated)
    def record_interaction(
        self, info: Info, input: RecordInteractionInput
    ) -> RecordInteractionPayload:
        interaction = recommendations.record_interaction(user=require_user(info), **plain(input))
        return RecordInteractionPayload(interaction=interaction)  # type: ignore[arg-type]
