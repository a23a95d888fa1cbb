"""The response cache for public GraphQL operations, and the HTTP caching of public GETs.

**What is cached**: the serialised response of an operation whose *whole* selection is public
(``schema/privacy.py``: every field it can select — through fragments, on every possible type —
is marked ``PUBLIC``), executed without errors, that never asked who the viewer is. Private
selections are never cached, so no response of one user can reach another.

**Key**: ``"v2:gql:" + sha256`` of the document's hash, the variables, the operation name, the
catalogue version and the schema's fingerprint (canonical JSON: sorted keys). The catalogue
version is the counter the offer cache uses (``apps.providers.offer_cache.catalogue_version``),
bumped after every committed sync (``catalogue_changed``), so the next request after a sync
misses and executes against the new data; old entries expire (``GRAPHQL_RESPONSE_CACHE_SECONDS``,
default 30 s, which also bounds staleness after writes that are not syncs, e.g. an admin edit).
The schema fingerprint keeps a deploy that changes the schema from serving the old shape.

**HTTP** (``GET /graphql/?query=…`` or ``?documentId=sha256:…``): a public operation's response
carries ``Cache-Control: public, max-age=GRAPHQL_HTTP_MAX_AGE, must-revalidate`` (default 0: a CDN
or browser stores it and revalidates every time) and ``ETag`` (derived from the same key, so it
changes with the catalogue version); ``If-None-Match`` with that tag is answered ``304 Not
Modified`` without executing or reading the cache. Everything else — private operations,
mutations, errors, every POST — carries ``Cache-Control: private, no-store``. Responses say
``X-GraphQL-Cache: hit | miss`` for public operations.

**Guards**: a request the rate limiter refused is never answered from the cache (the limiter's
error must reach it); a response is stored only when execution had no errors and no resolver
read the viewer (``schema.permissions`` flags the request when one does: a field wrongly marked
public is then logged, not cached). Redis failures are logged and the request is executed
(the offer cache's breaker: one timeout per process per retry interval).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

from apps.auth_app.middleware import RATE_LIMITED_ATTR
from apps.providers import offer_cache
from graphql import parse

from .privacy import VIEWER_READ_ATTR, operation_is_public

logger = logging.getLogger("gpubroker.response_cache")

KEY_PREFIX = "v2:gql:"
DEFAULT_TTL_SECONDS = 30
HIT, MISS = "hit", "miss"


def ttl_seconds() -> int:
    return int(getattr(settings, "GRAPHQL_RESPONSE_CACHE_SECONDS", DEFAULT_TTL_SECONDS))


def http_max_age() -> int:
    return int(getattr(settings, "GRAPHQL_HTTP_MAX_AGE", 0))


def _cache() -> Any:
    return caches[getattr(settings, "OFFER_CACHE_ALIAS", "default")]


@lru_cache(maxsize=4)
def _fingerprint(schema: Any) -> str:
    from graphql import print_schema

    return hashlib.sha256(print_schema(schema).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Plan:
    """A public operation's cache key and entity tag for the current catalogue version."""

    key: str
    etag: str

    @property
    def cache_control(self) -> str:
        return f"public, max-age={http_max_age()}, must-revalidate"


PRIVATE_CACHE_CONTROL = "private, no-store"


def plan(
    graphql_schema: Any,
    request: HttpRequest,
    query: str | None,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> Plan | None:
    """The plan for a cacheable request, or ``None``: execute it normally and never store it."""
    if ttl_seconds() <= 0 or not query or getattr(request, RATE_LIMITED_ATTR, None) is not None:
        return None
    if not operation_is_public(graphql_schema, query, operation_name, parse):
        return None
    version = offer_cache.catalogue_version()
    if version is None:  # the cache is unusable: execute (the breaker logged why)
        return None
    try:
        canonical = json.dumps(
            {
                "document": hashlib.sha256(query.encode()).hexdigest(),
                "variables": variables or {},
                "operation": operation_name,
                "catalogue_version": version,
                "schema": _fingerprint(graphql_schema),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
    except (TypeError, ValueError):
        return None
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return Plan(key=KEY_PREFIX + digest, etag=f'"{digest[:32]}"')


def get(entry: Plan) -> bytes | None:
    if not offer_cache._available():
        return None
    try:
        body = _cache().get(entry.key)
    except Exception:
        offer_cache._failed("reading a GraphQL response")
        return None
    return body if isinstance(body, bytes) else None


def put(entry: Plan, request: HttpRequest, body: bytes) -> bool:
    """Store a response that was executed for ``request``; refuse one that read the viewer."""
    if getattr(request, VIEWER_READ_ATTR, False):
        logger.warning(
            "a public operation read the viewer; not cached (a field is wrongly marked PUBLIC)"
        )
        return False
    if not offer_cache._available():
        return False
    try:
        _cache().set(entry.key, body, timeout=ttl_seconds())
    except Exception:
        offer_cache._failed("storing a GraphQL response")
        return False
    return True


#: Parts of a public response that are about the caller, not the operation: stored as null.
PER_CALLER_EXTENSIONS = {"cost": ("budget",)}


def shareable(response: dict[str, Any]) -> dict[str, Any]:
    """The response without its per-caller extension values (what every caller may be sent)."""
    extensions = response.get("extensions")
    if not isinstance(extensions, dict):
        return response
    cleaned = dict(extensions)
    for name, keys in PER_CALLER_EXTENSIONS.items():
        part = cleaned.get(name)
        if isinstance(part, dict):
            cleaned[name] = {**part, **dict.fromkeys(keys)}
    return {**response, "extensions": cleaned}


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against a list of tags, or ``*``."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    bare = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == bare for tag in tags)
