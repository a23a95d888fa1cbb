"""Offer interactions (implicit feedback) — recording them, and turning them into the
collaborative-filtering signal over a set of candidate offers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone
from scipy import sparse

from apps.core.errors import NotFound, Unauthenticated, ValidationFailed
from apps.providers.models import GPUOffer

from .algorithms import collaborative
from .candidates import OfferTable, naive_utc, raw_rows, uuid_key
from .errors import RecommendationErrorCode
from .models import InteractionKind, OfferInteraction, RecommendationRun

#: Interactions older than this are ignored (their weight has halved six times anyway).
WINDOW_DAYS = 180
#: The newest interactions read per recommendation, bounding its cost.
MAX_INTERACTIONS = 50_000


def _uuid(value: str, field_name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(f"{field_name} must be a UUID", field=field_name) from None


@transaction.atomic
def record_interaction(
    *, user: Any, offer_id: str, kind: str, run_id: str | None = None
) -> OfferInteraction:
    """Store that ``user`` viewed / selected / booked an offer, optionally after a run."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise Unauthenticated("Recording an interaction needs a signed-in user.")
    if kind not in InteractionKind.values:
        raise ValidationFailed(
            f"kind must be one of {', '.join(InteractionKind.values)}; got {kind!r}", field="kind"
        )
    offer = GPUOffer.objects.filter(pk=_uuid(offer_id, "offer_id")).first()
    if offer is None:
        raise NotFound(
            f"No offer {offer_id}.",
            field="offer_id",
            reason=RecommendationErrorCode.OFFER_NOT_FOUND,
        )
    run = None
    if run_id is not None:
        run = RecommendationRun.objects.filter(pk=_uuid(run_id, "run_id")).first()
        # Another user's run is reported as missing: run ids are not shared across users.
        if run is None or (run.user_id is not None and run.user_id != user.pk):
            raise NotFound(
                f"No recommendation run {run_id}.",
                field="run_id",
                reason=RecommendationErrorCode.RUN_NOT_FOUND,
            )
    return OfferInteraction.objects.create(user=user, offer=offer, kind=kind, run=run)


@dataclass
class CollaborativeSignal:
    scores: np.ndarray  # one per candidate
    source: str  # item_item | popularity_for_workload | popularity | none
    interactions: int
    _matrix: sparse.csr_matrix | None = None
    _normalised: sparse.csr_matrix | None = None
    _user_items: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _item_ids: list[str] = field(default_factory=list)

    def neighbours(self, candidate: int, *, k: int = 2) -> list[tuple[str, float]]:
        """Offers this user interacted with that are most similar to candidate ``candidate``."""
        if self.source != "item_item" or self._matrix is None or self._user_items.size == 0:
            return []
        found = collaborative.nearest_neighbours(
            self._matrix, candidate, self._user_items, k=k, normalised=self._normalised
        )
        return [(self._item_ids[item], similarity) for item, similarity in found]


def collaborative_signal(
    user: Any, table: OfferTable, *, workload_type: str = ""
) -> CollaborativeSignal:
    """Item-item scores for ``user`` over the candidates of ``table``, from the newest
    ``MAX_INTERACTIONS`` interactions of the last ``WINDOW_DAYS``.

    Cold start falls back to popularity — first among interactions that followed a
    recommendation run for the same ``workload_type`` (what people running this kind of job
    went on to select and book: the stored runs as context), then among all interactions."""
    m = len(table)
    now = timezone.now()
    recent = OfferInteraction.objects.filter(created_at__gte=now - timedelta(days=WINDOW_DAYS))
    rows = raw_rows(
        recent.order_by("-created_at", "-id")[:MAX_INTERACTIONS],
        ("user_id", "offer_id", "kind", "created_at", "run__workload_type"),
    )
    if not rows or m == 0:
        return CollaborativeSignal(np.zeros(m), "none", len(rows))
    item_index = {key: i for i, key in enumerate(table.keys)}
    item_keys = list(table.keys)
    user_index: dict[str, int] = {}
    users = np.empty(len(rows), dtype=np.int64)
    items = np.empty(len(rows), dtype=np.int64)
    ages = np.empty(len(rows))
    reference = naive_utc(now)
    for n, (user_id, offer_id, _kind, created_at, _context) in enumerate(rows):
        users[n] = user_index.setdefault(uuid_key(user_id), len(user_index))
        key = uuid_key(offer_id)
        position = item_index.get(key)
        if position is None:
            position = item_index[key] = len(item_keys)
            item_keys.append(key)
        items[n] = position
        ages[n] = (reference - naive_utc(created_at)).total_seconds() / 86400.0
    weights = collaborative.interaction_weights([r[2] for r in rows], ages)
    matrix = collaborative.interaction_matrix(
        users, items, weights, n_users=len(user_index), n_items=len(item_keys)
    )
    me = user_index.get(uuid_key(user.pk)) if getattr(user, "pk", None) is not None else None
    result = collaborative.recommend(matrix, me)
    scores = result.scores[:m]
    source: str = result.source
    if source == "item_item" and not scores.any():
        scores, source = collaborative.popularity(matrix)[:m], "popularity"
    if source == "popularity" and workload_type:
        same_kind = np.array([r[4] == workload_type for r in rows])
        if same_kind.any():
            context = collaborative.interaction_matrix(
                users[same_kind],
                items[same_kind],
                weights[same_kind],
                n_users=len(user_index),
                n_items=len(item_keys),
            )
            context_scores = collaborative.popularity(context)[:m]
            if context_scores.any():
                scores, source = context_scores, "popularity_for_workload"
    if source.startswith("popularity") and not scores.any():
        source = "none"
    signal = CollaborativeSignal(scores, source, len(rows))
    if source == "item_item" and me is not None:
        signal._matrix = matrix
        signal._normalised, _ = collaborative.column_normalised(matrix)
        signal._user_items = matrix.getrow(me).indices.astype(np.int64)
        signal._item_ids = item_keys
    return signal
