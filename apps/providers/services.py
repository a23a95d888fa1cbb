"""Provider services: the public entry points that write the catalogue.

* :func:`sync_provider` / :func:`sync_providers` — the sync engine (``apps.providers.sync``).
* :func:`load_demo_data` — offline demo catalogue: replays shipped snapshot 1, then the last
  snapshot, through the real adapters, so price history exists; providers are marked sample data.
* :func:`replay_tick` — one step of a never-ending, deterministic demo feed (for live-update
  demos: call it every few seconds with an increasing ``step``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .models import Provider
from .replay import available_snapshots
from .sync import SyncReport, sync_provider, sync_providers
from .sync_sources import LIVE, SyncSource, replay_providers

__all__ = [
    "LIVE",
    "DemoLoad",
    "SyncReport",
    "SyncSource",
    "load_demo_data",
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
