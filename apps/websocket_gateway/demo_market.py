"""Price changes through the real change path, for the development demo, tests and the bench.

:func:`change_offer_prices` updates offers, writes their price history and calls
``apps.providers.events.publish_offer_changes`` inside one transaction, exactly as a provider
sync does, so subscribers receive them after commit through the one publisher.
:func:`simulate_price_moves` is the development demo ticker's default tick: it nudges a few prices
of **sample-data providers only** (``Provider.is_sample_data``); live provider data is never
touched. Once the ingestion work's replay source exists, ``DEMO_TICKER_FUNCTION`` points the
ticker at it instead.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from apps.core.errors import NotFound, ValidationFailed
from apps.math_core.algorithms.costs import MONEY_STEP
from apps.providers.events import OfferChange, publish_offer_changes
from apps.providers.models import Availability, GPUOffer, PriceHistory

_MIN_PRICE = Decimal("0.0100")


@dataclass(frozen=True, slots=True)
class PriceMove:
    offer_id: str
    new_price_per_hour: Decimal
    new_availability: str | None = None  # None: unchanged


def _validated(move: PriceMove) -> PriceMove:
    price = move.new_price_per_hour
    if not price.is_finite() or price <= 0:
        raise ValidationFailed("Price must be a positive number.", field="price")
    if move.new_availability is not None and move.new_availability not in Availability.values:
        raise ValidationFailed(
            f"Availability must be one of {', '.join(Availability.values)}.", field="availability"
        )
    return PriceMove(move.offer_id, price.quantize(MONEY_STEP), move.new_availability)


@transaction.atomic
def change_offer_prices(*, moves: Sequence[PriceMove], source: str) -> list[OfferChange]:
    """Apply price/availability moves in one transaction; publish one event per provider after
    commit. Moves that change nothing are skipped (no history row, no event)."""
    checked = [_validated(move) for move in moves]
    offers = {
        str(offer.pk): offer
        for offer in GPUOffer.objects.select_for_update()
        .select_related("provider")
        .filter(pk__in=[move.offer_id for move in checked])
    }
    now = timezone.now()
    by_provider: dict[str, list[OfferChange]] = defaultdict(list)
    for move in checked:
        offer = offers.get(move.offer_id)
        if offer is None:
            raise NotFound(f"Offer {move.offer_id} does not exist.", field="offer")
        availability = move.new_availability or offer.availability_status
        if offer.price_per_hour == move.new_price_per_hour and (
            offer.availability_status == availability
        ):
            continue
        change = OfferChange(
            kind="changed",
            offer_id=str(offer.pk),
            provider=offer.provider.name,
            gpu_model=offer.gpu_type,
            gpu_count=offer.gpu_count,
            region=offer.region,
            country=offer.country,
            is_spot=offer.is_spot,
            old_price_per_hour=offer.price_per_hour,
            new_price_per_hour=move.new_price_per_hour,
            old_availability=offer.availability_status,
            new_availability=availability,
            changed_at=now,
            extra={"source": source},
        )
        offer.price_per_hour = move.new_price_per_hour
        offer.availability_status = availability
        offer.save(update_fields=["price_per_hour", "availability_status", "updated_at"])
        PriceHistory.objects.create(
            offer=offer, price_per_hour=offer.price_per_hour, availability_status=availability
        )
        by_provider[offer.provider.name].append(change)
    for provider, changes in by_provider.items():
        publish_offer_changes(provider, changes)
    return [change for changes in by_provider.values() for change in changes]


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
        moves.append(
            PriceMove(str(pk), max(_MIN_PRICE, (price + drift).quantize(MONEY_STEP)), availability)
        )
    return change_offer_prices(moves=moves, source="demo-ticker")
