"""Permission rules, declared once; the GraphQL permission classes (``schema/permissions.py``) and
the REST bearer guards (``gpubroker/api/v2/security.py``) both apply these, and services call them
before acting. A rule raises ``Unauthenticated`` for an anonymous caller and ``PermissionDenied``
for a signed-in caller who lacks the right.

Tenant isolation is a rule too: every private object (audit entries, invitations, sessions) is read
through a selector scoped to the caller's tenant or to the caller, so another tenant's object is
simply not found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apps.core.errors import PermissionDenied, Unauthenticated

from .models import Role, User


@dataclass(frozen=True)
class Rule:
    name: str
    allows: Callable[[User], bool]
    denied_message: str

    def check(self, user: User | None) -> User:
        if user is None or not user.is_authenticated or not user.is_active:
            raise Unauthenticated()
        if not self.allows(user):
            raise PermissionDenied(self.denied_message)
        return user


AUTHENTICATED = Rule("authenticated", lambda user: True, "")
TENANT_ADMIN = Rule(
    "tenant_admin",
    lambda user: user.tenant_id is not None and user.role == Role.TENANT_ADMIN,
    "Only an admin of your organisation can do this.",
)
STAFF = Rule("staff", lambda user: bool(user.is_staff), "Only staff can do this.")


def owns(user: User, obj: Any, *, owner_field: str = "user_id") -> bool:
    """Owner-of-object: ``obj`` belongs to ``user``."""
    return getattr(obj, owner_field, None) == user.pk


def same_tenant(user: User, obj: Any, *, tenant_field: str = "tenant_id") -> bool:
    tenant_id = getattr(obj, tenant_field, None)
    return tenant_id is not None and tenant_id == user.tenant_id
