"""KPI result cache: keyed by the catalogue's version (``apps.providers.offer_cache``), so the
version bump after a sync commits makes every KPI computed before unreachable, exactly as for
offer pages. Index updates and compactions bump it too (:func:`bump`). Entries expire after
``KPI_CACHE_SECONDS`` (default 60; 0 disables). Cache trouble is logged by the catalogue's
breaker and the request is computed from the database."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from apps.providers import offer_cache

from . import config

logger = logging.getLogger("gpubroker.kpi")
T = TypeVar("T")
KEY_PREFIX = "v2:kpi:"


def key(name: str, params: dict[str, Any], version: int) -> str:
    canonical = json.dumps(
        {"kpi": name, "params": params, "catalogue_version": version},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return KEY_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def cached(name: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
    """``compute()``'s result, from the cache when this catalogue version already has it."""
    seconds = config.cache_seconds()
    version = offer_cache.current_version() if seconds > 0 else None
    if version is None:
        return compute()
    entry = key(name, params, version)
    store = offer_cache._cache()
    try:
        hit = store.get(entry)
    except Exception:
        offer_cache._failed("reading a KPI")
        return compute()
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    value = compute()
    try:
        store.set(entry, value, timeout=seconds)
    except Exception:
        offer_cache._failed("storing a KPI")
    return value


def bump() -> None:
    """Make every cached KPI (and offer page) unreachable."""
    offer_cache.bump_version()
