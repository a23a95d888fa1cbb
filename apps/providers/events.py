"""Catalogue change events: the one hand-off between the sync engine and its consumers.

The sync engine (``apps.providers.services``) calls :func:`publish_offer_changes` inside its
per-provider transaction; the event is sent only **after commit** (never for rolled-back work) as
the ``catalogue_changed`` signal. Consumers connect receivers in their ``AppConfig.ready``:
the offer cache bumps its version (so no stale page is served after a sync) and the live-price
gateway forwards price changes to WebSocket subscribers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.db import transaction
from django.dispatch import Signal

from apps.math_core.algorithms import costs

ChangeKind = Literal["new", "changed", "vanished"]

#: Sent after commit with ``provider`` (registry name) and ``changes`` (list of OfferChange).
catalogue_changed = Signal()

#: Sent when a provider sync finished (not when it was skipped as locked) with ``provider``,
#: ``ok``, ``error_code`` and ``finished_at``; ``apps.kpi`` records it for sync success rates.
sync_finished = Signal()


@dataclass(frozen=True, slots=True)
class OfferChange:
    """One offer whose price or availability changed (or that appeared / vanished)."""

    kind: ChangeKind
    offer_id: str
    provider: str
    gpu_model: str
    gpu_count: int
    region: str
    country: str
    is_spot: bool
    old_price_per_hour: Decimal | None
    new_price_per_hour: Decimal
    old_availability: str | None
    new_availability: str
    changed_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def new_price_per_gpu_hour(self) -> Decimal:
        return costs.price_per_gpu_hour(self.new_price_per_hour, self.gpu_count)

    def as_message(self) -> dict[str, Any]:
        """JSON-safe form (Decimals as strings, times ISO-8601) for channel layers and clients."""
        data = asdict(self)
        for key, value in list(data.items()):
            if isinstance(value, Decimal):
                data[key] = str(value)
            elif isinstance(value, datetime):
                data[key] = value.isoformat()
        data["new_price_per_gpu_hour"] = str(self.new_price_per_gpu_hour)
        return data


def publish_offer_changes(provider: str, changes: Sequence[OfferChange]) -> None:
    """Hand a sync's changes to every consumer once the surrounding transaction commits.
    Called with an empty sequence it still signals (the catalogue was re-synced)."""
    frozen = list(changes)

    def send() -> None:
        catalogue_changed.send(sender=OfferChange, provider=provider, changes=frozen)

    transaction.on_commit(send, robust=True)
