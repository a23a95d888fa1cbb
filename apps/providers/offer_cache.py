"""The offer-search cache (seed decision D6, with a ``v2:`` prefix and versioned invalidation).

What is cached: for one search (validated filter set + ordering + requested page) the *ordered
ids of the page* and the *total count* — the two expensive parts (the filtered, sorted scan and the
COUNT). Rows are always fetched fresh by primary key, shaped by the caller (the GraphQL optimizer
selects exactly the fields and relations the query asks for; REST selects its fixed shape), so one
cache entry serves every field selection correctly.

Key: ``"v2:offers:" + sha256(canonical JSON of {search, catalogue version})``. The JSON has sorted
keys and the filter set is normalised first (sorted, deduplicated lists), so equal searches share
an entry whatever order the client wrote them in.

Invalidation: the catalogue version is a counter in the cache. A receiver of
``apps.providers.events.catalogue_changed`` (sent after the sync's transaction commits) bumps it,
so every key written before is unreachable from the next request on; old entries just expire
(short TTL, ``OFFER_CACHE_SECONDS``, default 30 s; 0 disables the cache). A request that read the
old version while a sync committed stores its page under the old version, never under the new one.

Failure: any cache error (Redis down, timeout) is logged and the request is served from the
database. After an error the cache is left alone for ``OFFER_CACHE_RETRY_SECONDS`` (default 5 s),
so an unreachable Redis costs one timeout per process per interval, not one per request. If a
version bump itself fails, entries written before can be served until they expire (at most the
TTL): the short TTL bounds that window.

Production uses django-redis (``REDIS_URL``), so every process shares the entries and the version;
the local-memory default is per process (fine for one development server).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches

from gpubroker import metrics

logger = logging.getLogger("gpubroker.offer_cache")

KEY_PREFIX = "v2:offers:"
VERSION_KEY = "v2:offers:catalogue-version"
DEFAULT_TTL_SECONDS = 30
DEFAULT_RETRY_SECONDS = 5.0

_breaker_lock = threading.Lock()
_unavailable_until = 0.0


@dataclass(frozen=True)
class CachedPage:
    ids: list[uuid.UUID]
    total: int
    start: int


def ttl_seconds() -> int:
    return int(getattr(settings, "OFFER_CACHE_SECONDS", DEFAULT_TTL_SECONDS))


def enabled() -> bool:
    return ttl_seconds() > 0


def _cache() -> Any:
    return caches[getattr(settings, "OFFER_CACHE_ALIAS", "default")]


def _available() -> bool:
    return time.monotonic() >= _unavailable_until


def _failed(action: str) -> None:
    global _unavailable_until
    retry = float(getattr(settings, "OFFER_CACHE_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
    with _breaker_lock:
        _unavailable_until = time.monotonic() + retry
    logger.warning(
        "offer cache unavailable (%s); serving from the database for %.0f s",
        action,
        retry,
        exc_info=True,
    )


def reset_breaker() -> None:
    """Forget a past cache failure (tests; an operator after fixing Redis need not call it)."""
    global _unavailable_until
    with _breaker_lock:
        _unavailable_until = 0.0


def current_version() -> int | None:
    """The catalogue version for offer pages, or ``None`` when this cache is off or unusable."""
    return catalogue_version() if enabled() else None


def catalogue_version() -> int | None:
    """The catalogue version (created on first use), or ``None`` when the cache is unusable.
    Shared by every cache of catalogue data (this one and ``schema/response_cache.py``)."""
    if not _available():
        return None
    try:
        cache = _cache()
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, time.time_ns(), timeout=None)
            version = cache.get(VERSION_KEY)
        return int(version) if version is not None else None
    except Exception:
        _failed("reading the catalogue version")
        return None


def bump_version() -> None:
    """Make every cached page unreachable. Called after a sync commits a change.

    A missing counter is recreated from the clock (nanoseconds), so a counter that was evicted can
    never come back to a value whose pages are still stored."""
    try:
        cache = _cache()
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no counter yet (or evicted)
            cache.set(VERSION_KEY, time.time_ns(), timeout=None)
    except Exception:
        _failed("bumping the catalogue version")


def page_key(search: dict[str, Any], version: int) -> str:
    canonical = json.dumps(
        {"search": search, "catalogue_version": version},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return KEY_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def get_page(search: dict[str, Any]) -> tuple[str | None, CachedPage | None]:
    """The key to store this search under (``None``: do not cache) and the cached page, if any."""
    version = current_version()
    if version is None:
        if enabled():  # the cache is down (or its breaker open): served from the database
            metrics.OFFER_CACHE_REQUESTS.labels("bypass").inc()
        return None, None
    key = page_key(search, version)
    try:
        raw = _cache().get(key)
    except Exception:
        _failed("reading a page")
        metrics.OFFER_CACHE_REQUESTS.labels("error").inc()
        return None, None
    metrics.OFFER_CACHE_REQUESTS.labels("hit" if raw else "miss").inc()
    if not raw:
        return key, None
    return key, CachedPage(
        ids=[uuid.UUID(i) for i in raw["ids"]], total=raw["total"], start=raw["start"]
    )


def set_page(key: str | None, ids: Sequence[uuid.UUID], total: int, start: int) -> None:
    if key is None or not _available():
        return
    try:
        _cache().set(
            key,
            {"ids": [str(i) for i in ids], "total": total, "start": start},
            timeout=ttl_seconds(),
        )
    except Exception:
        _failed("storing a page")


def on_catalogue_changed(sender: Any, **kwargs: Any) -> None:
    """Receiver of ``events.catalogue_changed`` (connected in ``ProvidersConfig.ready``)."""
    bump_version()
