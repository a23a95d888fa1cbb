"""Item-item collaborative filtering over implicit feedback (views, selections, bookings).

Users never rate offers; they look at them, pick them and book them. Each interaction is a
*confidence* weight (Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback
Datasets", ICDM 2008): ``view`` 1, ``select`` 3, ``book`` 5, decayed with a half-life so old
behaviour fades. Weights of repeated interactions add up in a ``scipy.sparse`` user × offer
matrix ``X``.

Item-item cosine similarity (Sarwar et al., "Item-based collaborative filtering recommendation
algorithms", WWW 2001; Deshpande & Karypis, "Item-based top-N recommendation", TOIS 2004):
``sim(i, j) = x_i · x_j / (‖x_i‖ ‖x_j‖)`` over the offers' user columns. A user's score for
offer j is ``Σ_{i ≠ j} r_ui · sim(i, j)`` — the similarity of j to everything the user
interacted with, weighted by confidence. It is computed as ``X̂ᵀ (X̂ r_u)`` minus the self term
(``X̂`` = column-normalised ``X``): two sparse matrix-vector products, O(non-zeros), so the
offer × offer similarity matrix is never materialised.

Cold start: a user with no interactions, an anonymous caller, or a user whose history has no
neighbours among the candidates gets offer *popularity* (decayed interaction weight per offer,
scaled to [0, 1]) instead; with no interactions at all every score is 0 (source ``none``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse

from .errors import InvalidInput

INTERACTION_WEIGHTS: dict[str, float] = {"view": 1.0, "select": 3.0, "book": 5.0}
DEFAULT_HALF_LIFE_DAYS = 30.0
#: One user's summed confidence in one offer is capped, so nobody can inflate an offer's
#: popularity or similarity by repeating an interaction.
MAX_CONFIDENCE = 10.0

Source = Literal["item_item", "popularity", "none"]


def interaction_weights(
    kinds: Iterable[str],
    age_days: ArrayLike,
    *,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> np.ndarray:
    """Confidence per interaction: the kind's weight × 2^(−age / half-life)."""
    if half_life_days <= 0:
        raise InvalidInput("half_life_days must be positive", field="half_life_days")
    try:
        base = np.array([INTERACTION_WEIGHTS[str(kind)] for kind in kinds], dtype=np.float64)
    except KeyError as exc:
        raise InvalidInput(f"unknown interaction kind {exc.args[0]!r}", field="kind") from None
    ages = np.clip(np.asarray(age_days, dtype=np.float64), 0.0, None)
    return base * np.exp2(-ages / half_life_days)


def interaction_matrix(
    user_index: ArrayLike,
    item_index: ArrayLike,
    weights: ArrayLike,
    *,
    n_users: int,
    n_items: int,
) -> sparse.csr_matrix:
    """User × item CSR matrix; weights of repeated (user, item) pairs are summed (capped at
    ``MAX_CONFIDENCE``)."""
    users = np.asarray(user_index, dtype=np.int64)
    items = np.asarray(item_index, dtype=np.int64)
    values = np.asarray(weights, dtype=np.float64)
    if not (users.shape == items.shape == values.shape):
        raise InvalidInput("user, item and weight arrays must have the same length")
    if values.size and (not np.isfinite(values).all() or (values < 0).any()):
        raise InvalidInput("interaction weights must be finite and non-negative", field="weights")
    matrix = sparse.coo_matrix((values, (users, items)), shape=(n_users, n_items)).tocsr()
    matrix.sum_duplicates()
    np.minimum(matrix.data, MAX_CONFIDENCE, out=matrix.data)
    return matrix


def column_normalised(matrix: sparse.csr_matrix) -> tuple[sparse.csr_matrix, np.ndarray]:
    """``X̂`` (each item column scaled to unit length) and the columns' norms."""
    squared = matrix.multiply(matrix).sum(axis=0)
    norms = np.sqrt(np.asarray(squared).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sparse.csr_matrix(matrix @ sparse.diags(scale)), norms


def item_similarity(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """The full item × item cosine similarity (for inspection and small catalogues)."""
    normalised, _ = column_normalised(matrix)
    return sparse.csr_matrix(normalised.T @ normalised)


def item_item_scores(matrix: sparse.csr_matrix, user_row: np.ndarray) -> np.ndarray:
    """``Σ_{i≠j} r_i · sim(i, j)`` for every item j, given the user's confidence row ``r``."""
    normalised, norms = column_normalised(matrix)
    r = np.asarray(user_row, dtype=np.float64).ravel()
    scores = normalised.T @ (normalised @ r)
    self_similarity = (norms > 0).astype(np.float64)
    scores = np.asarray(scores).ravel() - r * self_similarity
    return np.clip(scores, 0.0, None)  # clip float noise below zero


def popularity(matrix: sparse.csr_matrix) -> np.ndarray:
    """Total confidence per item, scaled so the most popular item scores 1."""
    totals = np.asarray(matrix.sum(axis=0)).ravel()
    top = totals.max() if totals.size else 0.0
    return totals / top if top > 0 else np.zeros_like(totals)


@dataclass(frozen=True, slots=True)
class CollaborativeScores:
    scores: np.ndarray  # (n_items,), ≥ 0
    source: Source


def recommend(matrix: sparse.csr_matrix, user: int | None) -> CollaborativeScores:
    """Scores over all items for ``user`` (a row of ``matrix``), with the cold-start rule."""
    n_items = matrix.shape[1]
    if matrix.nnz == 0:
        return CollaborativeScores(np.zeros(n_items), "none")
    if user is not None:
        row = matrix.getrow(user).toarray().ravel()
        if row.any():
            scores = item_item_scores(matrix, row)
            if scores.any():
                return CollaborativeScores(scores, "item_item")
    return CollaborativeScores(popularity(matrix), "popularity")


def nearest_neighbours(
    matrix: sparse.csr_matrix,
    item: int,
    candidates: ArrayLike,
    *,
    k: int = 3,
    normalised: sparse.csr_matrix | None = None,
) -> list[tuple[int, float]]:
    """The ``k`` items among ``candidates`` most similar to ``item`` (similarity > 0),
    most similar first — the "because you used …" part of an explanation. Pass ``normalised``
    (from :func:`column_normalised`) when asking for many items of one matrix."""
    if normalised is None:
        normalised, _ = column_normalised(matrix)
    column = normalised.getcol(item)
    pool = np.asarray(candidates, dtype=np.int64)
    pool = pool[pool != item]
    if pool.size == 0:
        return []
    similarity = np.asarray((normalised[:, pool].T @ column).todense()).ravel()
    order = np.argsort(-similarity, kind="stable")[:k]
    return [(int(pool[i]), float(similarity[i])) for i in order if similarity[i] > 0]
