"""Provider services: the public entry points that write the catalogue.

* :func:`sync_provider` / :func:`sync_providers` — the sync engine (``apps.providers.sync``).
* :func:`load_demo_data` — offline demo catalogue: replays shipped snapshot 1, then the last
  snapshot, through the real adapters, so price history exists; providers are marked sample data.
* :func:`replay_tick` — one step of a never-ending, deterministic demo feed (for live-update
  demos: call it every few seconds with an increasing ``step``).
* :func:`replay_demo_tick` — the development demo ticker's tick (``DEMO_TICKER_FUNCTION``):
  :func:`replay_tick` with this process's next step.
* :func:`change_offer_prices` — explicit price/availability moves (the ``publish_price_change``
  command, the random demo ticker): offers, price history and ``publish_offer_changes`` in one
  transaction, exactly as a sync writes them.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.core.errors import NotFound, ValidationFailed
from apps.math_core.algorithms.costs import MONEY_STEP

from .events import OfferChange, publish_offer_changes
from .models import Availability, GPUOffer, PriceHistory, Provider
from .replay import available_snapshots
from .sync import SyncReport, sync_provider, sync_providers
from .sync_sources import LIVE, SyncSource, replay_providers

__all__ = [
    "LIVE",
    "DemoLoad",
    "PriceMove",
    "SyncReport",
    "SyncSource",
    "change_offer_prices",
    "load_demo_data",
    "replay_demo_tick",
    "replay_tick",
    "sync_provider",
    "sync_providers",
]


@dataclass(frozen=True, slots=True)
class DemoLoad:
    provider: str
    action: str  # "loaded" | "refreshed" | "kept live data"
    reports: tuple[SyncReport, ...]


def load_demo_data(
    *, reset: bool = False, providers: Sequence[str] | None = None
) -> list[DemoLoad]:
    """Fill the catalogue from the shipped recordings (idempotent).

    A provider without offers gets snapshot 1 then the last snapshot (so it has price history);
    a provider already holding sample data gets only the last snapshot (a re-run changes nothing)
    unless ``reset``; a provider holding **live** data is left alone."""
    snapshots = available_snapshots()
    loads = []
    for name in providers or replay_providers(snapshots[0]):
        provider = Provider.objects.filter(name=name).first()
        has_offers = provider is not None and provider.offers.exists()
        if has_offers and provider is not None and not provider.is_sample_data:
            loads.append(DemoLoad(name, "kept live data", ()))
            continue
        if has_offers and not reset:
            order = snapshots[-1:]
            action = "refreshed"
        else:
            order = snapshots
            action = "loaded"
        reports = tuple(sync_provider(name, source=SyncSource("replay", snapshot=n)) for n in order)
        loads.append(DemoLoad(name, action, reports))
    return loads


def replay_tick(step: int, *, providers: Sequence[str] | None = None) -> list[SyncReport]:
    """Sync every replayed provider from a deterministic variant of the recordings.

    ``step`` 0 replays snapshot 1, step 1 the last snapshot, and every later step the last
    snapshot with ~15 % of prices moved by 1–6 % and ~5 % of availability flags flipped
    (``replay.perturbed_cassette``; relative to the recording, so prices stay realistic). Each
    step differs from the previous one, so each call produces price changes, price history and
    ``catalogue_changed`` events — exactly as a live sync would. Providers holding live data are
    never touched."""
    if step < 0:
        raise ValueError("step must be >= 0")
    snapshots = available_snapshots()
    if step < len(snapshots):
        source = SyncSource("replay", snapshot=snapshots[step])
    else:
        source = SyncSource("replay", snapshot=snapshots[-1], step=step)
    names = list(providers or replay_providers(source.snapshot))
    live = set(
        Provider.objects.filter(name__in=names, is_sample_data=False, offers__isnull=False)
        .values_list("name", flat=True)
        .distinct()
    )
    return sync_providers([name for name in names if name not in live], source=source)


_demo_steps: itertools.count[int] | None = None
_demo_steps_lock = threading.Lock()


def replay_demo_tick() -> list[SyncReport]:
    """One tick of the live demo: the next perturbed replay step, through the real adapters and
    sync engine (so price history and ``catalogue_changed`` events are exactly a live sync's).
    Steps start after the shipped snapshots that ``load_demo_data`` already applied."""
    global _demo_steps
    with _demo_steps_lock:
        if _demo_steps is None:
            _demo_steps = itertools.count(len(available_snapshots()))
        step = next(_demo_steps)
    return replay_tick(step)


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
