"""Request middleware for the API paths (``/api/v2/``, ``/graphql/``; never ``/health``).

``ApiRequestMiddleware`` authenticates the bearer token once per request (``request_principal``
then reads it without touching the database again, which keeps GraphQL permission checks free of
ORM calls in async resolvers) and counts the request against its rate-limit bucket: the tenant's
plan rate for signed-in users, the anonymous per-IP rate otherwise. Over the limit, REST gets
``429`` with ``Retry-After`` and the ``RATE_LIMITED`` envelope; GraphQL gets a ``RATE_LIMITED``
error through the schema's ``RateLimitExtension`` (``schema/permissions.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from apps.core.errors import RateLimited, Unauthenticated, envelope
from gpubroker.observability import current_trace_id

from . import ratelimit
from .services import Principal, authenticate_access_token

API_PREFIXES = ("/api/v2/", "/graphql")
_PRINCIPAL = "_gpubroker_principal"
RATE_LIMITED_ATTR = "gpubroker_rate_limited"


def client_ip(request: HttpRequest) -> str:
    """The caller's address: ``REMOTE_ADDR``, or the X-Forwarded-For entry the configured number
    of trusted proxies (``TRUSTED_PROXY_COUNT``) vouches for."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def request_principal(request: HttpRequest) -> Principal | None:
    """The authenticated caller of ``request`` (cached on it), or None when anonymous or the
    token is invalid. Runs the database lookup only the first time (sync code only)."""
    if hasattr(request, _PRINCIPAL):
        return getattr(request, _PRINCIPAL)
    principal = None
    token = bearer_token(request)
    if token:
        try:
            principal = authenticate_access_token(token)
        except Unauthenticated:
            principal = None
    setattr(request, _PRINCIPAL, principal)
    return principal


BAD_BEARER_MESSAGE = "The bearer token is invalid or expired."


def optional_principal(request: HttpRequest) -> Principal | None:
    """The caller where signing in is optional (both facades use this one rule): None when no
    bearer token was sent; a bearer token that does not verify is ``Unauthenticated`` (401 /
    request-level), never a silent fall-back to anonymous."""
    principal = request_principal(request)
    if principal is None and bearer_token(request):
        raise Unauthenticated(BAD_BEARER_MESSAGE)
    return principal


def _guard(request: HttpRequest) -> RateLimited | None:
    principal = request_principal(request)
    try:
        ratelimit.hit_request(principal.user if principal else None, client_ip(request))
    except RateLimited as exc:
        return exc
    return None


def _rate_limited_response(exc: RateLimited) -> HttpResponseBase:
    body = envelope(exc.code, exc.message, None, current_trace_id())
    response = JsonResponse(body, status=exc.http_status)
    response["Retry-After"] = str(exc.retry_after)
    return response


class ApiRequestMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[..., Any]) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    @staticmethod
    def _applies(request: HttpRequest) -> bool:
        return request.path.startswith(API_PREFIXES)

    def _decide(self, request: HttpRequest, limited: RateLimited | None) -> Any:
        if limited is None:
            return None
        if request.path.startswith("/graphql"):
            setattr(request, RATE_LIMITED_ATTR, limited)
            return None
        return _rate_limited_response(limited)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self._acall(request)
        if self._applies(request):
            early = self._decide(request, _guard(request))
            if early is not None:
                return early
        return self.get_response(request)

    async def _acall(self, request: HttpRequest) -> Any:
        if self._applies(request):
            early = self._decide(request, await sync_to_async(_guard)(request))
            if early is not None:
                return early
        return await self.get_response(request)
