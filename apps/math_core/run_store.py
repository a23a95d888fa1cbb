"""Storing a recommender's run: every ranking over offers is kept as a ``RecommendationRun``
(its inputs, outputs and the user when signed in), which interactions may point at."""

from __future__ import annotations

from typing import Any

from .algorithms.workload_mapper import Workload
from .models import RecommendationRun


def store_run(
    *,
    kind: str,
    user: Any,
    workload: Workload | None,
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    candidates: int,
    feasible: bool,
) -> RecommendationRun:
    signed_in = user if user is not None and getattr(user, "is_authenticated", False) else None
    return RecommendationRun.objects.create(
        kind=kind,
        user=signed_in,
        workload_type=workload.workload_type.value if workload else "",
        inputs=inputs,
        outputs=outputs,
        candidate_count=candidates,
        feasible=feasible,
    )
