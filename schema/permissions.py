"""GraphQL side of authentication and permissions.

* ``current_user(info)``: the user of a WebSocket connection (``scope["gpubroker_user"]``, set by
  the consumer from ``connection_init``), else the bearer token of the HTTP request (verified once
  per request by ``ApiRequestMiddleware`` and cached on it), else ``None``.
* ``require_user(info)``: the same, or ``Unauthenticated``.
* Permission classes ``IsAuthenticated``, ``IsTenantAdmin``, ``IsStaff`` apply the rules of
  ``apps.auth_app.permissions`` (the REST guards apply the same rules): an anonymous caller gets
  ``UNAUTHENTICATED``, a caller without the right ``FORBIDDEN``.
* ``RateLimitExtension`` turns the middleware's verdict into a ``RATE_LIMITED`` error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types import Info

from apps.auth_app import middleware
from apps.auth_app.middleware import RATE_LIMITED_ATTR, client_ip, request_principal
from apps.auth_app.models import User
from apps.auth_app.permissions import AUTHENTICATED, STAFF, TENANT_ADMIN, Rule
from apps.auth_app.services import Principal
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError

from .privacy import mark_viewer_read

WS_USER_SCOPE_KEY = "gpubroker_user"


def _request(context: Any) -> Any:
    if isinstance(context, dict):
        return context.get("request")
    return getattr(context, "request", None)


def context_client(context: Any) -> tuple[User | None, str]:
    """The caller of an operation from its context, HTTP or WebSocket: (user, client IP)."""
    request = _request(context)
    if isinstance(request, HttpRequest):
        principal = request_principal(request)
        return (principal.user if principal else None), client_ip(request)
    scope = getattr(request, "scope", None)
    scope = scope if isinstance(scope, dict) else {}
    client = scope.get("client")
    return scope.get(WS_USER_SCOPE_KEY), (str(client[0]) if client else "unknown")


def current_principal(info: Info) -> Principal | None:
    request = _request(info.context)
    mark_viewer_read(request)  # the response is about the viewer: never cached (privacy.py)
    return request_principal(request) if isinstance(request, HttpRequest) else None


def current_user(info: Info) -> User | None:
    request = _request(info.context)
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and scope.get(WS_USER_SCOPE_KEY) is not None:
        return scope[WS_USER_SCOPE_KEY]
    principal = current_principal(info)
    return principal.user if principal else None


def optional_principal(info: Info) -> Principal | None:
    """The HTTP caller where signing in is optional, by the middleware's one rule (a bearer token
    that does not verify is ``UNAUTHENTICATED``, never anonymous); None over WebSocket."""
    request = _request(info.context)
    mark_viewer_read(request)
    return middleware.optional_principal(request) if isinstance(request, HttpRequest) else None


def optional_user(info: Info) -> User | None:
    """The WebSocket user, else the ``optional_principal``'s user."""
    request = _request(info.context)
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and scope.get(WS_USER_SCOPE_KEY) is not None:
        return scope[WS_USER_SCOPE_KEY]
    principal = optional_principal(info)
    return principal.user if principal else None


def require_user(info: Info) -> User:
    return AUTHENTICATED.check(current_user(info))


def request_ip(info: Info) -> str | None:
    request = _request(info.context)
    if isinstance(request, HttpRequest):
        return client_ip(request)
    scope = getattr(request, "scope", None)
    client = scope.get("client") if isinstance(scope, dict) else None
    return str(client[0]) if client else None


def request_user_agent(info: Info) -> str:
    request = _request(info.context)
    return request.headers.get("User-Agent", "") if isinstance(request, HttpRequest) else ""


class _RulePermission(BasePermission):
    rule: Rule = AUTHENTICATED

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        self.rule.check(current_user(info))
        return True


class IsAuthenticated(_RulePermission):
    rule = AUTHENTICATED


class IsTenantAdmin(_RulePermission):
    rule = TENANT_ADMIN


class IsStaff(_RulePermission):
    rule = STAFF


class RateLimitExtension(SchemaExtension):
    """Answers ``RATE_LIMITED`` (with ``retryAfter``) when the middleware counted the request
    over its limit; execution is skipped."""

    def on_execute(self) -> Iterator[None]:
        request = _request(self.execution_context.context)
        limited = getattr(request, RATE_LIMITED_ATTR, None)
        if limited is not None:
            error = GraphQLError(limited.message, original_error=limited)
            self.execution_context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
