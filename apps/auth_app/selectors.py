"""Reads of private objects, always scoped to the caller (tenant isolation lives here)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from apps.core.errors import ValidationFailed

from .audit import chain_for
from .models import AuditLog, AuthSession, User
from .permissions import AUTHENTICATED, TENANT_ADMIN

MAX_PAGE = 100


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditLog]
    next_cursor: str | None
    has_next_page: bool


def audit_log_page(*, user: User, first: int = 50, after: str | None = None) -> AuditPage:
    """The caller's tenant chain, newest first; ``after`` is the ``next_cursor`` of a page."""
    TENANT_ADMIN.check(user)
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(f"first must be between 1 and {MAX_PAGE}.", field="first")
    entries = AuditLog.objects.filter(chain=chain_for(user.tenant_id), tenant=user.tenant).order_by(
        "-sequence"
    )
    if after:
        if not after.isdigit() or len(after) > 18:
            raise ValidationFailed("Invalid cursor.", field="after")
        entries = entries.filter(sequence__lt=int(after))
    rows = list(entries.select_related("user")[: first + 1])
    has_next = len(rows) > first
    rows = rows[:first]
    return AuditPage(
        entries=rows,
        next_cursor=str(rows[-1].sequence) if has_next and rows else None,
        has_next_page=has_next,
    )


def sessions_for(user: User) -> QuerySet[AuthSession]:
    """The caller's own sessions (owner-of-object), newest first."""
    AUTHENTICATED.check(user)
    return AuthSession.objects.filter(user_id=user.pk).order_by("-created_at")


def parse_uuid(value: object, *, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed("Not a valid id.", field=field) from None
