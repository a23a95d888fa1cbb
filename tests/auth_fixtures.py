"""Auth fixtures for every test module (registered in ``tests/conftest.py``).

``make_user(email=..., tenant=..., role=...)`` creates a user (``tenant`` a ``Tenant``, a name, or
omitted for a fresh tenant of its own); ``user`` and ``tenant_admin`` share the tenant "Acme";
``other_tenant_user`` is in "Globex"; ``user_token`` is a real RS256 access token for ``user`` and
``auth_header`` the Django test-client kwargs that send it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

DEFAULT_PASSWORD = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _reset_rate_limits():
    from apps.auth_app import ratelimit

    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.fixture
def make_user(db) -> Callable[..., Any]:
    from apps.auth_app.models import PLAN_LIMITS, Plan, Role, Tenant, User

    def factory(
        email: str | None = None,
        *,
        tenant: Tenant | str | None = None,
        role: str = Role.MEMBER,
        password: str = DEFAULT_PASSWORD,
        full_name: str = "Test User",
        is_staff: bool = False,
        plan: str = Plan.FREE,
    ) -> User:
        if not isinstance(tenant, Tenant):
            name = tenant or f"tenant-{uuid.uuid4().hex[:10]}"
            rps, ws = PLAN_LIMITS[plan]
            tenant, _ = Tenant.objects.get_or_create(
                name=name, defaults={"plan": plan, "rate_limit_rps": rps, "ws_limit": ws}
            )
        return User.objects.create_user(
            email=email or f"user-{uuid.uuid4().hex[:10]}@example.com",
            password=password,
            full_name=full_name,
            organization=tenant.name,
            tenant=tenant,
            role=role,
            is_staff=is_staff,
        )

    return factory


@pytest.fixture
def user(make_user):
    return make_user("user@acme.example", tenant="Acme", full_name="Ada User")


@pytest.fixture
def tenant_admin(make_user, user):
    from apps.auth_app.models import Role

    return make_user("admin@acme.example", tenant=user.tenant, role=Role.TENANT_ADMIN)


@pytest.fixture
def other_tenant_user(make_user):
    from apps.auth_app.models import Role

    return make_user("boss@globex.example", tenant="Globex", role=Role.TENANT_ADMIN)


@pytest.fixture
def user_token(user) -> str:
    from apps.auth_app.services import issue_tokens

    return issue_tokens(user)["access_token"]


@pytest.fixture
def auth_header(user_token) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {user_token}"}


def bearer(user) -> dict[str, str]:
    """Test-client kwargs authenticating as ``user`` (a fresh session)."""
    from apps.auth_app.services import issue_tokens

    return {"HTTP_AUTHORIZATION": f"Bearer {issue_tokens(user)['access_token']}"}
