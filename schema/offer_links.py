"""``offer: GPUOffer`` links from the math core's result types to the catalogue, loaded in bulk.

GraphQL over HTTP runs synchronously (see ``gpubroker/urls.py``), so there is no DataLoader
tick to batch on. Instead a resolver that returns offers by id *registers* those ids for the
request (``register_offers``: no query), and the first ``offer`` field resolved loads every
registered offer in ONE query shaped by the optimizer for that field's selection (provider and
benchmark joined when selected). A result of N offers costs one query, not N.
Offers that no longer exist resolve to null.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info
from strawberry_django.optimizer import optimizer

from apps.providers import selectors
from apps.providers.models import GPUOffer

_ATTRIBUTE = "_gpubroker_offer_links"


@dataclass
class _Links:
    pending: set[uuid.UUID] = field(default_factory=set)
    # One cache per selection (field path without list indices): another selection of the same
    # offers may need other columns.
    loaded: dict[str, dict[uuid.UUID, GPUOffer | None]] = field(default_factory=dict)


def _links(info: Info) -> _Links:
    context: Any = info.context
    if isinstance(context, dict):
        return context.setdefault(_ATTRIBUTE, _Links())  # type: ignore[no-any-return]
    links = getattr(context, _ATTRIBUTE, None)
    if links is None:
        links = _Links()
        setattr(context, _ATTRIBUTE, links)
    return links  # type: ignore[no-any-return]


def _key(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def register_offers(info: Info, offer_ids: Iterable[object]) -> None:
    """Offers this request's result refers to: loaded together when an ``offer`` is selected."""
    links = _links(info)
    links.pending.update(key for value in offer_ids if (key := _key(value)) is not None)


def _selection(info: Info) -> str:
    path: Any = info.path
    parts: list[str] = []
    while path is not None:
        if isinstance(path.key, str):
            parts.append(path.key)
        path = path.prev
    return "/".join(reversed(parts))


def linked_offer(info: Info, offer_id: object) -> GPUOffer | None:
    """The catalogue offer ``offer_id`` names (None when it is gone), bulk-loaded on first use."""
    key = _key(offer_id)
    if key is None:
        return None
    links = _links(info)
    cache = links.loaded.setdefault(_selection(info), {})
    if key not in cache:
        wanted = (links.pending | {key}) - cache.keys()
        queryset = GPUOffer.objects.filter(pk__in=wanted)
        extension = optimizer.get()
        queryset = (
            extension.optimize(queryset, info) if extension else selectors.rest_shape(queryset)
        )
        found = {offer.pk: offer for offer in queryset}
        cache.update({pk: found.get(pk) for pk in wanted})
    return cache[key]
