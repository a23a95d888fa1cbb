"""REST authentication: bearer guards that apply the declared permission rules.

``jwt_auth`` (any signed-in user), ``tenant_admin_auth`` and ``staff_auth`` are django-ninja
``HttpBearer`` instances: use ``auth=jwt_auth`` on a router or operation; ``request.auth`` is then
the ``User``. A missing or invalid token gives the 401 envelope, a missing right the 403 one. The
token was already verified once by ``ApiRequestMiddleware``; this reads that result. No header
value is ever logged (ninja's own ``HttpBearer`` logs unexpected schemes verbatim in DEBUG).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from apps.auth_app.middleware import bearer_token, request_principal
from apps.auth_app.models import User
from apps.auth_app.permissions import AUTHENTICATED, STAFF, TENANT_ADMIN, Rule


class JWTAuth(HttpBearer):
    def __init__(self, rule: Rule = AUTHENTICATED) -> None:
        super().__init__()
        self.rule = rule

    def __call__(self, request: HttpRequest) -> Any:
        # ninja's HttpBearer logs a non-Bearer Authorization header verbatim when DEBUG is on
        # (a password in a log line): the middleware parsed the header already, read that.
        token = bearer_token(request)
        return self.authenticate(request, token) if token else None

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        principal = request_principal(request)
        if principal is None:
            return None
        return self.rule.check(principal.user)


def auth_user(request: HttpRequest) -> User:
    """``request.auth`` of an operation guarded by one of these, typed."""
    user = getattr(request, "auth", None)
    assert isinstance(user, User)
    return user


jwt_auth = JWTAuth()
tenant_admin_auth = JWTAuth(TENANT_ADMIN)
staff_auth = JWTAuth(STAFF)
