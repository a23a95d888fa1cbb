"""TOPSIS services: the plain calculator legacy clients call, and TOPSIS over catalogue
offers selected by a filter (stored as a ``RecommendationRun``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.core.errors import ValidationFailed
from apps.core.inputs import check_limit
from apps.providers.offer_filters import OfferFilters

from .algorithms.gpu_spec import Precision
from .algorithms.topsis import topsis
from .candidates import candidate_filters, candidate_offers, offer_table
from .errors import RecommendationErrorCode, invalid_input_as_validation_error
from .limits import MAX_RANKED_OFFERS
from .models import RecommendationKind
from .offer_criteria import (
    AppliedCriterion,
    ExclusionReason,
    applied_criteria,
    choose_criteria,
    criteria_matrix,
    rankable,
)
from .offer_summaries import OfferSummary, offer_summary
from .run_store import store_run

MAX_ALTERNATIVES = 10_000
MAX_CRITERIA = 64


# --- The plain calculator --------------------------------------------------------------------


@dataclass(frozen=True)
class TopsisOutput:
    scores: list[float] = field(metadata={"description": "Closeness per row, in input order."})
    ranking: list[int] = field(metadata={"description": "Row indices, best first."})
    ranks: list[int] = field(metadata={"description": "1-based rank per row; ties share a rank."})


def topsis_calculator(
    *, matrix: Any, weights: Any, criteria_types: Any, normalization: str = "vector"
) -> TopsisOutput:
    """Closeness per row (input order) and row indices best first, for a given matrix."""
    first = matrix[0] if isinstance(matrix, list) and matrix else None
    if isinstance(first, list) and len(first) > MAX_CRITERIA:
        raise ValidationFailed(f"at most {MAX_CRITERIA} criteria", field="matrix")
    with invalid_input_as_validation_error():
        result = topsis(
            matrix,
            weights,
            criteria_types,
            normalization=normalization,
            max_alternatives=MAX_ALTERNATIVES,
        )
    return TopsisOutput(result.closeness.tolist(), result.ranking.tolist(), result.ranks.tolist())


@dataclass(frozen=True)
class RankedOffer:
    offer: OfferSummary
    rank: int
    score: float
    criteria_values: dict[str, float]


@dataclass(frozen=True)
class OfferRanking:
    run_id: str
    criteria: list[AppliedCriterion]
    normalization: str
    offers: list[RankedOffer]
    candidate_count: int
    ranked_count: int
    excluded: dict[str, int]
    truncated: bool


def topsis_offers(
    *,
    offer_filter: OfferFilters | None = None,
    criteria: Sequence[tuple[str, float]] | None = None,
    normalization: str = "vector",
    precision: str = "fp16",
    user: Any = None,
    limit: int = 20,
) -> OfferRanking:
    """Rank the offers a filter selects on the chosen criteria (TOPSIS)."""
    check_limit(limit, maximum=MAX_RANKED_OFFERS, reason=RecommendationErrorCode.LIMIT_OUT_OF_RANGE)
    choice = choose_criteria(criteria, with_workload=False)
    with invalid_input_as_validation_error():
        chosen_precision = Precision.parse(precision)
    offer_filter = candidate_filters(offer_filter)
    table = offer_table(candidate_offers(offer_filter))
    values = criteria_matrix(table, choice, precision=chosen_precision)
    keep = np.flatnonzero(rankable(values, np.ones(len(table), dtype=bool)))
    ranked: list[RankedOffer] = []
    if keep.size:
        with invalid_input_as_validation_error():
            result = topsis(values[keep], choice.weights, choice.types, normalization=normalization)
        for position in result.ranking[:limit]:
            row = int(keep[position])
            ranked.append(
                RankedOffer(
                    offer_summary(table, row),
                    int(result.ranks[position]),
                    float(result.closeness[position]),
                    {c.value: float(values[row, j]) for j, c in enumerate(choice.criteria)},
                )
            )
    elif normalization not in ("vector", "minmax"):
        raise ValidationFailed("normalization must be 'vector' or 'minmax'", field="normalization")
    excluded: dict[str, int] = {ExclusionReason.MISSING_DATA: int(len(table) - keep.size)}
    criteria_out = applied_criteria(choice.criteria, choice.weights, choice.types)
    run = store_run(
        kind=RecommendationKind.TOPSIS_OFFERS,
        user=user,
        workload=None,
        inputs={
            "filter": offer_filter.cache_parts(),
            "criteria": [[c.criterion, c.weight] for c in criteria_out],
            "normalization": normalization,
            "precision": chosen_precision.value,
            "limit": limit,
        },
        outputs={
            "offers": [
                {"offer_id": r.offer.offer_id, "rank": r.rank, "score": r.score} for r in ranked
            ],
            "excluded": excluded,
        },
        candidates=len(table),
        feasible=bool(ranked),
    )
    return OfferRanking(
        str(run.id),
        criteria_out,
        normalization,
        ranked,
        len(table),
        int(keep.size),
        excluded,
        table.truncated,
    )
