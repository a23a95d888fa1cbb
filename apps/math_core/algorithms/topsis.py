"""TOPSIS — Technique for Order of Preference by Similarity to Ideal Solution
(Hwang & Yoon, *Multiple Attribute Decision Making: Methods and Applications*, Springer 1981,
ch. III.1.5; worked example pp. 133-134, reproduced in ``tests/unit/test_topsis.py``).

For m alternatives × n criteria, with weights w (positive, normalised to sum 1):

1. normalise each column: vector ``r_ij = x_ij / sqrt(Σ_i x_ij²)`` (default, the original
   method) or min-max ``r_ij = (x_ij - min_j) / (max_j - min_j)``;
2. weight: ``v_ij = w_j · r_ij``;
3. ideal ``A⁺`` = column max for benefit criteria, min for cost criteria; anti-ideal ``A⁻`` the
   opposite;
4. Euclidean distances ``S⁺_i = ‖v_i - A⁺‖``, ``S⁻_i = ‖v_i - A⁻‖``;
5. closeness ``C_i = S⁻_i / (S⁺_i + S⁻_i)`` ∈ [0, 1]; higher is better.

Defined behaviour for degenerate input:

* a column whose values are all equal cannot tell alternatives apart: its ideal and anti-ideal
  coincide and it adds nothing to either distance (an all-zero column normalises to 0 rather
  than dividing by zero);
* an alternative at distance 0 from both (every column constant — all alternatives identical,
  or a single alternative) gets ``C = 0.5``: neither better nor worse than anything;
* ties: closeness values within ``TIE_TOLERANCE`` of their neighbour in sorted order form one
  tie group; a group shares the best (competition) rank of its members — ranks 1, 2, 2, 4 — and
  its members are listed in input order in ``ranking``.

Input is rejected (``InvalidInput`` naming the field) when it is empty, ragged, negative, NaN or
infinite, when weights are not positive or do not match the criteria, or when a criterion type
is neither ``benefit`` nor ``cost``. Everything is vectorised: 100,000 × 8 is routine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .errors import InvalidInput

Normalization = Literal["vector", "minmax"]
NORMALIZATIONS: tuple[str, ...] = ("vector", "minmax")
BENEFIT = "benefit"
COST = "cost"
TIE_TOLERANCE = 1e-9
#: Closeness of an alternative that equals both the ideal and the anti-ideal.
NEUTRAL_CLOSENESS = 0.5
#: Above this many near-tie groups one global lexsort is cheaper than sorting each group.
_SEGMENT_SORT_LIMIT = 256


@dataclass(frozen=True, slots=True)
class TopsisResult:
    closeness: np.ndarray  # (m,) in [0, 1], input order
    ranking: np.ndarray  # (m,) row indices, best first
    ranks: np.ndarray  # (m,) 1-based competition rank per row, input order
    distance_to_ideal: np.ndarray  # S⁺
    distance_to_anti_ideal: np.ndarray  # S⁻
    weighted: np.ndarray  # (m, n) weighted normalised matrix v
    ideal: np.ndarray  # A⁺ (n,)
    anti_ideal: np.ndarray  # A⁻ (n,)
    weights: np.ndarray  # normalised weights (n,)
    benefit: np.ndarray  # (n,) bool


def _as_matrix(matrix: Any) -> np.ndarray:
    try:
        array = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(
            "matrix must be a rectangular list of rows of numbers", field="matrix"
        ) from None
    if array.ndim != 2:
        raise InvalidInput("matrix must be a rectangular list of rows of numbers", field="matrix")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InvalidInput("matrix must have at least one row and one column", field="matrix")
    if not np.isfinite(array).all():
        raise InvalidInput(
            "matrix values must be finite numbers (no NaN or infinity)", field="matrix"
        )
    if (array < 0).any():
        raise InvalidInput("matrix values must not be negative", field="matrix")
    return array


def _as_weights(weights: Any, columns: int) -> np.ndarray:
    try:
        array = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput("weights must be a list of numbers", field="weights") from None
    if array.ndim != 1 or array.shape[0] != columns:
        raise InvalidInput(
            f"weights must have one value per criterion ({columns}); got "
            f"{array.shape[0] if array.ndim == 1 else 'a non-list'}",
            field="weights",
        )
    if not np.isfinite(array).all() or (array <= 0).any():
        raise InvalidInput("weights must be positive finite numbers", field="weights")
    return normalised_weights(array)


def normalised_weights(weights: np.ndarray) -> np.ndarray:
    """Non-negative weights (at least one positive) scaled to sum 1. Scaled by the largest
    first: weights are relative, and 1e308 twice is 1:1, not an overflowed sum."""
    scaled = weights / weights.max()
    return scaled / scaled.sum()


def _as_benefit(
    criteria_types: Sequence[str] | Sequence[bool] | np.ndarray, columns: int
) -> np.ndarray:
    if isinstance(criteria_types, np.ndarray) and criteria_types.dtype == bool:
        benefit = criteria_types
    else:
        values = list(criteria_types)
        benefit = np.empty(len(values), dtype=bool)
        for index, value in enumerate(values):
            if isinstance(value, bool):
                benefit[index] = value
                continue
            text = str(value).strip().lower()
            if text not in (BENEFIT, COST):
                raise InvalidInput(
                    f"criteria_types[{index}] must be 'benefit' or 'cost'; got {value!r}",
                    field="criteria_types",
                )
            benefit[index] = text == BENEFIT
    if benefit.shape != (columns,):
        raise InvalidInput(
            f"criteria_types must have one entry per criterion ({columns}); got {benefit.shape[0]}",
            field="criteria_types",
        )
    return benefit


def _normalise_columns(xt: np.ndarray, method: str) -> np.ndarray:
    """Normalise each row of ``xt`` (one criterion per row, alternatives along the row)."""
    if method == "vector":
        # Scaled by the column maximum first so squaring cannot overflow (values near 1e300).
        top = xt.max(axis=1)
        scaled = xt / np.where(top > 0, top, 1.0)[:, None]
        norms = np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
        scaled /= np.where(norms > 0, norms, 1.0)[:, None]
        return scaled  # an all-zero column stays 0
    low = xt.min(axis=1)
    span = xt.max(axis=1) - low
    safe = np.where(span > 0, span, 1.0)
    return (xt - low[:, None]) / safe[:, None]  # a constant column becomes 0


def rank_scores(
    scores: np.ndarray, *, tolerance: float = TIE_TOLERANCE
) -> tuple[np.ndarray, np.ndarray]:
    """(ranking, ranks) for ``scores`` where higher is better, with the module's tie rule."""
    # An unstable sort is several times faster than a stable one on large arrays; the input
    # order inside every tie group (exact or within the tolerance) is restored afterwards.
    order = np.argsort(-scores)
    ordered = scores[order]
    gaps = ordered[:-1] - ordered[1:]
    breaks = gaps > tolerance
    group = np.concatenate(([0], np.cumsum(breaks)))
    tied = np.flatnonzero(~breaks)
    if tied.size == 0:
        ranking = order
    else:
        tied_groups = np.unique(group[tied])
        if tied_groups.size > _SEGMENT_SORT_LIMIT:
            ranking = order[np.lexsort((order, group))]
        else:
            ranking = order.copy()
            starts = np.flatnonzero(np.concatenate(([True], breaks)))
            ends = np.concatenate((starts[1:], [scores.shape[0]]))
            for tied_group in tied_groups:
                start, end = starts[tied_group], ends[tied_group]
                ranking[start:end] = np.sort(order[start:end])
    first_position = np.flatnonzero(np.concatenate(([True], breaks)))
    ranks = np.empty(scores.shape[0], dtype=np.int64)
    ranks[ranking] = first_position[group] + 1
    return ranking, ranks


def _distances(vt: np.ndarray, point: np.ndarray) -> np.ndarray:
    diff = vt - point[:, None]
    diff *= diff
    return np.sqrt(diff.sum(axis=0))


def topsis(
    matrix: Any,
    weights: Any,
    criteria_types: Sequence[str] | Sequence[bool] | np.ndarray,
    *,
    normalization: str = "vector",
    max_alternatives: int | None = None,
) -> TopsisResult:
    """Rank the rows of ``matrix`` (alternatives) on its columns (criteria)."""
    if normalization not in NORMALIZATIONS:
        raise InvalidInput(
            f"normalization must be 'vector' or 'minmax'; got {normalization!r}",
            field="normalization",
        )
    x = _as_matrix(matrix)
    if max_alternatives is not None and x.shape[0] > max_alternatives:
        raise InvalidInput(
            f"at most {max_alternatives} alternatives per request; got {x.shape[0]}",
            field="matrix",
        )
    w = _as_weights(weights, x.shape[1])
    benefit = _as_benefit(criteria_types, x.shape[1])

    # Criteria-major layout: every reduction below runs along contiguous memory.
    vt = _normalise_columns(np.ascontiguousarray(x.T), normalization)
    vt *= w[:, None]
    column_max = vt.max(axis=1)
    column_min = vt.min(axis=1)
    ideal = np.where(benefit, column_max, column_min)
    anti_ideal = np.where(benefit, column_min, column_max)
    d_ideal = _distances(vt, ideal)
    d_anti = _distances(vt, anti_ideal)
    total = d_ideal + d_anti
    positive = total > 0
    closeness = np.full(x.shape[0], NEUTRAL_CLOSENESS)
    np.divide(d_anti, total, out=closeness, where=positive)
    np.clip(closeness, 0.0, 1.0, out=closeness)
    ranking, ranks = rank_scores(closeness)
    return TopsisResult(
        closeness=closeness,
        ranking=ranking,
        ranks=ranks,
        distance_to_ideal=d_ideal,
        distance_to_anti_ideal=d_anti,
        weighted=vt.T,
        ideal=ideal,
        anti_ideal=anti_ideal,
        weights=w,
        benefit=benefit,
    )


def relative_position(result: TopsisResult) -> np.ndarray:
    """(m, n) where each alternative stands on each criterion between the anti-ideal (0) and the
    ideal (1); 1 on a criterion that does not discriminate. Used to name deciding criteria."""
    span = result.ideal - result.anti_ideal
    safe = np.where(span != 0, span, 1.0)
    position = (result.weighted - result.anti_ideal) / safe
    return np.where(span != 0, position, 1.0)
