"""The development demo's random price moves.

:func:`simulate_price_moves` nudges a few prices of **sample-data providers only**
(``Provider.is_sample_data``; live provider data is never touched) through the catalogue's one
write path for price moves, ``apps.providers.services.change_offer_prices``.
"""

from __future__ import annotations

import random
from decimal import Decimal

from django.db.models import OuterRef, Subquery

from apps.math_core.algorithms.costs import MONEY_STEP
from apps.providers.events import OfferChange
from apps.providers.models import Availability, GPUOffer, PriceHistory
from apps.providers.services import PriceMove, change_offer_prices

_MIN_PRICE = Decimal("0.0100")


def simulate_price_moves(*, count: int = 3, rng: random.Random | None = None) -> list[OfferChange]:
    """Nudge ``count`` random sample-data offers by a few per cent (mean-reverting towards each
    offer's first recorded price) and now and then flip availability."""
    rng = rng or random.Random()  # noqa: S311 - demo randomness, not security
    candidates = list(
        GPUOffer.objects.filter(provider__is_sample_data=True).values_list("pk", "price_per_hour")
    )
    if not candidates:
        return []
    chosen = [pk for pk, _ in rng.sample(candidates, min(count, len(candidates)))]
    first_price = (
        PriceHistory.objects.filter(offer=OuterRef("pk"))
        .order_by("recorded_at", "id")
        .values("price_per_hour")[:1]
    )
    rows = (
        GPUOffer.objects.filter(pk__in=chosen)
        .annotate(anchor=Subquery(first_price))
        .values_list("pk", "price_per_hour", "anchor")
    )
    moves = []
    for pk, price, anchor_price in rows:
        anchor = anchor_price if anchor_price is not None else price
        drift = Decimal(str(rng.uniform(-0.04, 0.04))) * price + (anchor - price) / 10
        availability = None
        if rng.random() < 0.1:
            availability = rng.choice(Availability.values)
        new_price = max(_MIN_PRICE, (price + drift).quantize(MONEY_STEP))
        if new_price == price:
            # a drift under half a step rounds to no move at all: every chosen offer moves
            new_price = price + MONEY_STEP
        moves.append(PriceMove(str(pk), new_price, availability))
    return change_offer_prices(moves=moves, source="demo-ticker")
