"""Price trend of a GPU model from the catalogue's stored price history (``PriceHistory``: one row
per real change of an offer's price or availability).

For every offer of the GPU (the catalogue's own ``gpu_model`` filter and its family rule: "H100"
covers SXM, PCIe and NVL, "H100 PCIe" only that variant) the first and the last per-GPU-hour
price recorded in the window are compared; the trend is the median relative change over the
offers with at least two recorded prices, with how many moved down, up or not at all. Nothing
is extrapolated: with fewer than two recorded prices for every offer the trend is "unknown" and
the answer says so."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.math_core.algorithms.costs import price_per_gpu_hour
from apps.providers.models import PriceHistory
from apps.providers.offer_filters import OfferFilters
from apps.providers.selectors import filter_offers

#: A median move smaller than this (relative) is "flat".
FLAT_THRESHOLD = 0.005
MAX_EXAMPLES = 5


@dataclass
class OfferMove:
    offer_id: str
    provider: str
    gpu_model: str
    first_price_per_gpu_hour: Decimal
    last_price_per_gpu_hour: Decimal
    first_recorded_at: datetime
    last_recorded_at: datetime

    @property
    def change(self) -> float:
        first = self.first_price_per_gpu_hour
        return float((self.last_price_per_gpu_hour - first) / first) if first else 0.0


@dataclass
class PriceTrend:
    gpu: str
    days: int
    offers_considered: int
    offers_with_history: int
    price_changes: int
    moves: list[OfferMove] = field(default_factory=list)

    @property
    def moving(self) -> list[OfferMove]:
        return [m for m in self.moves if m.first_recorded_at != m.last_recorded_at]

    @property
    def median_change(self) -> float | None:
        changes = [m.change for m in self.moving]
        return statistics.median(changes) if changes else None

    @property
    def direction(self) -> str:
        median = self.median_change
        if median is None:
            return "unknown"
        if median <= -FLAT_THRESHOLD:
            return "cheaper"
        if median >= FLAT_THRESHOLD:
            return "more expensive"
        return "flat"

    def counts(self) -> dict[str, int]:
        moving = self.moving
        return {
            "down": sum(m.change < 0 for m in moving),
            "up": sum(m.change > 0 for m in moving),
            "unchanged": sum(m.change == 0 for m in moving),
        }

    def span(self) -> tuple[datetime, datetime] | None:
        moving = self.moving
        if not moving:
            return None
        return min(m.first_recorded_at for m in moving), max(m.last_recorded_at for m in moving)

    def examples(self) -> list[OfferMove]:
        """The largest drops, one offer per distinct move (provider, GPU, from, to): a provider
        listing the same machine in several sizes moves them all alike."""
        distinct: dict[tuple[str, str, Decimal, Decimal], OfferMove] = {}
        for move in sorted(self.moving, key=lambda m: (m.change, m.offer_id)):
            key = (
                move.provider,
                move.gpu_model,
                move.first_price_per_gpu_hour,
                move.last_price_per_gpu_hour,
            )
            distinct.setdefault(key, move)
        return list(distinct.values())[:MAX_EXAMPLES]

    def offer_ids(self) -> list[str]:
        return [m.offer_id for m in self.examples()]

    def as_json(self) -> dict[str, Any]:
        span = self.span()
        median = self.median_change
        return {
            "gpu": self.gpu,
            "days": self.days,
            "direction": self.direction,
            "median_change_pct": None if median is None else round(median * 100, 2),
            "offers_considered": self.offers_considered,
            "offers_with_history": self.offers_with_history,
            "offers_with_a_price_move_window": len(self.moving),
            "price_changes_recorded": self.price_changes,
            **self.counts(),
            "history_from": span[0].isoformat() if span else None,
            "history_to": span[1].isoformat() if span else None,
            "examples": [
                {
                    "offer_id": m.offer_id,
                    "provider": m.provider,
                    "gpu_model": m.gpu_model,
                    "from_price_per_gpu_hour": str(m.first_price_per_gpu_hour),
                    "to_price_per_gpu_hour": str(m.last_price_per_gpu_hour),
                    "change_pct": round(m.change * 100, 2),
                }
                for m in self.examples()
            ],
        }


def gpu_price_trend(gpu: str, *, days: int = 30, now: datetime | None = None) -> PriceTrend:
    filters = OfferFilters(gpu_model=[gpu]).validated()
    offers = {
        o.pk: o
        for o in filter_offers(filters)
        .select_related("provider")
        .only("id", "gpu_type", "gpu_count", "provider__name")
    }
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (
        PriceHistory.objects.filter(offer_id__in=list(offers), recorded_at__gte=since)
        .order_by("offer_id", "recorded_at", "id")
        .values_list("offer_id", "price_per_hour", "recorded_at")
    )
    first: dict[Any, tuple[Decimal, datetime]] = {}
    last: dict[Any, tuple[Decimal, datetime]] = {}
    changes = 0
    for offer_id, price, recorded_at in rows:
        per_gpu = price_per_gpu_hour(price, offers[offer_id].gpu_count)
        if offer_id in last and last[offer_id][0] != per_gpu:
            changes += 1
        first.setdefault(offer_id, (per_gpu, recorded_at))
        last[offer_id] = (per_gpu, recorded_at)
    moves = [
        OfferMove(
            offer_id=str(offer_id),
            provider=offers[offer_id].provider.name,
            gpu_model=offers[offer_id].gpu_type,
            first_price_per_gpu_hour=first[offer_id][0],
            last_price_per_gpu_hour=last[offer_id][0],
            first_recorded_at=first[offer_id][1],
            last_recorded_at=last[offer_id][1],
        )
        for offer_id in first
    ]
    return PriceTrend(
        gpu=gpu,
        days=days,
        offers_considered=len(offers),
        offers_with_history=len(first),
        price_changes=changes,
        moves=moves,
    )
