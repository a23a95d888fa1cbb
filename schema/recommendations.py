"""GraphQL: workload estimation (query), TOPSIS, ensemble recommendations and offer
interactions (mutations) over ``apps.math_core`` — the same services REST calls.

Mutations return payloads with ``errors: [FieldError!]!``; request-level failures (a bearer token
that does not verify, ``recordInteraction`` without one, rate limits) are errors with
``extensions.code``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
import strawberry_django
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from apps.auth_app.middleware import bearer_token
from apps.auth_app.models import User
from apps.math_core import recommendations, workloads
from apps.math_core.algorithms.workload_mapper import Workload
from gpubroker.errors import DomainError, RateLimited, Unauthenticated

from .errors import FieldError
from .offer_links import register_offers
from .permissions import IsAuthenticated, current_user, require_user
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

T = TypeVar("T")


def attempt(call: Callable[[], T]) -> tuple[T | None, list[FieldError]]:
    """Domain errors become the payload's ``errors``; rate limits stay request-level."""
    try:
        return call(), []
    except RateLimited:
        raise
    except DomainError as exc:
        return None, [FieldError.from_domain(exc)]


def optional_user(info: Info) -> User | None:
    """The signed-in caller, None when anonymous; a token that does not verify is an error."""
    user = current_user(info)
    request = getattr(info.context, "request", None)
    if (
        user is None
        and request is not None
        and hasattr(request, "headers")
        and bearer_token(request)
    ):
        raise Unauthenticated("The bearer token is invalid or expired.")
    return user


def workload_from(value: WorkloadInput) -> Workload:
    return workloads.build_workload(**plain(value))


@strawberry.type
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


def _mutation(description: str, *permissions: type) -> Any:
    guards: list[FieldExtension] = (
        [PermissionExtension(permissions=[p() for p in permissions])] if permissions else []
    )
    return strawberry_django.mutation(
        description=description, handle_django_errors=False, extensions=guards
    )


@strawberry.type
class Mutation:
    @_mutation("TOPSIS: rank given alternatives, or catalogue offers selected by a filter.")
    def topsis(self, info: Info, input: TopsisInput) -> TopsisPayload:
        if input.alternatives:
            scores, errors = attempt(
                lambda: recommendations.topsis_calculator(**plain(input.alternatives))
            )
            return TopsisPayload(scores=scores, errors=errors)  # type: ignore[arg-type]
        user = optional_user(info)
        options = plain(input.offers) if input.offers else {}
        criteria = [(c["criterion"], c["weight"]) for c in options.pop("criteria", None) or []]
        ranking, errors = attempt(
            lambda: recommendations.topsis_offers(
                offer_filter=offer_filters(input.offers.filter if input.offers else None),
                criteria=criteria,
                normalization=options["normalization"],
                precision=options["precision"],
                limit=options["limit"],
                user=user,
            )
        )
        if ranking is not None:
            register_offers(info, (ranked.offer.offer_id for ranked in ranking.offers))
        return TopsisPayload(ranking=ranking, errors=errors)  # type: ignore[arg-type]

    @_mutation("Ranked offers for a workload and preferences, each with its explanation.")
    def ensemble_recommend(self, info: Info, input: EnsembleInput) -> EnsemblePayload:
        user = optional_user(info)
        result, errors = attempt(
            lambda: recommendations.ensemble_recommend(
                workload=workload_from(input.workload) if input.workload else None,
                preferences=recommendations.Preferences.from_fields(
                    **(plain(input.preferences) if input.preferences else {})
                ),
                weights={k: v for k, v in plain(input.weights).items() if v is not None}
                if input.weights
                else {},
                offer_filter=offer_filters(input.filter),
                user=user,
                limit=input.limit,
            )
        )
        if result is not None:
            register_offers(info, (r.offer.offer_id for r in result.recommendations))
        return EnsemblePayload(result=result, errors=errors)  # type: ignore[arg-type]

    @_mutation("Record that you viewed, selected or booked an offer.", IsAuthenticated)
    def record_interaction(
        self, info: Info, input: RecordInteractionInput
    ) -> RecordInteractionPayload:
        interaction, errors = attempt(
            lambda: recommendations.record_interaction(user=require_user(info), **plain(input))
        )
        return RecordInteractionPayload(interaction=interaction, errors=errors)  # type: ignore[arg-type]
