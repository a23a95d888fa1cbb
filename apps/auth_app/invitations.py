"""Invitations: a tenant admin invites an email address; registering with the token joins the
tenant with the invited role. Tokens are random (256 bits), returned once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.errors import Conflict, ValidationFailed

from . import audit
from .errors import AuthErrorCode
from .models import Invitation, Role, User, UserManager
from .permissions import TENANT_ADMIN

INVALID_INVITATION = "This invitation is invalid, expired or meant for another email address."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def create_invitation(
    *, admin: User, email: str, role: str = Role.MEMBER, ip: str | None = None
) -> tuple[Invitation, str]:
    """A new invitation to ``admin``'s tenant and its token (shown only now)."""
    TENANT_ADMIN.check(admin)
    tenant = admin.tenant
    assert tenant is not None  # a tenant admin always has one
    email = UserManager.normalize_email_address(email)
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed("Enter a valid email address.", field="email") from None
    if role not in Role.values:
        raise ValidationFailed("Unknown role.", field="role")
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            "An account with this email already exists.",
            field="email",
            reason=AuthErrorCode.EMAIL_TAKEN,
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        role=role,
        token_hash=_digest(token),
        created_by=admin,
        expires_at=timezone.now() + timedelta(seconds=settings.INVITATION_LIFETIME),
    )
    audit.record(
        action="invitation.created",
        resource_type="invitation",
        resource_id=invitation.pk,
        tenant=admin.tenant,
        user=admin,
        details={"email": email, "role": role},
        ip=ip,
    )
    return invitation, token


def invitations_for(user: User) -> QuerySet[Invitation]:
    """The invitations of ``user``'s tenant (tenant admins only)."""
    TENANT_ADMIN.check(user)
    return Invitation.objects.filter(tenant=user.tenant).select_related("created_by")


def claim_invitation(*, token: str, email: str) -> Invitation:
    """Lock and mark the invitation accepted (inside the registering transaction)."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(token_hash=_digest(token or ""))
        .first()
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.expires_at <= timezone.now()
        or not secrets.compare_digest(invitation.email, email)
    ):
        raise ValidationFailed(
            INVALID_INVITATION, field="invitation_token", reason=AuthErrorCode.INVITATION_INVALID
        )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return invitation
