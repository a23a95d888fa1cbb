"""The market snapshot of the landing page: the GPU models with the most offers on sale, each with
its cheapest offer per GPU-hour. Read-only; one query for the models and one per model shown."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count

from .models import Availability, GPUOffer
from .offer_metrics import price_per_gpu_hour_key


@dataclass(frozen=True)
class ModelSnapshot:
    gpu_model: str
    offers_on_sale: int
    cheapest: GPUOffer

    @property
    def cheapest_per_gpu_hour(self) -> Decimal:
        return self.cheapest.price_per_gpu_hour


def most_offered_models(limit: int = 6) -> list[ModelSnapshot]:
    """The ``limit`` GPU models with most offers not marked unavailable (ties by name), each
    with its cheapest such offer per GPU-hour (ties by id, so the answer is stable)."""
    on_sale = GPUOffer.objects.exclude(availability_status=Availability.UNAVAILABLE)
    counts = (
        on_sale.values("gpu_type")
        .annotate(offers=Count("id"))
        .order_by("-offers", "gpu_type")[: max(limit, 0)]
    )
    snapshots: list[ModelSnapshot] = []
    for row in counts:
        cheapest = (
            on_sale.filter(gpu_type=row["gpu_type"])
            .select_related("provider")
            .annotate(_per_gpu=price_per_gpu_hour_key())
            .order_by("_per_gpu", "id")
            .first()
        )
        if cheapest is not None:
            snapshots.append(ModelSnapshot(row["gpu_type"], row["offers"], cheapest))
    return snapshots
