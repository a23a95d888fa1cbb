"""Accounts and tokens: registration, sign-in, refresh-token rotation, logout, token → user.

Both facades (``schema/auth.py``, ``gpubroker/api/v2/auth.py``) call these functions and nothing
else; every security-relevant outcome is appended to the audit log (``audit.record``).

Tokens: an access token (``JWT_ACCESS_TOKEN_LIFETIME``, 15 min) and a refresh token
(``JWT_REFRESH_TOKEN_LIFETIME``, 14 days) belong to one ``AuthSession`` (the token family, claim
``sid``). A refresh token is stored as its SHA-256 only and is spent on first use: refreshing
returns a new pair of the same family; presenting a spent refresh token again revokes the whole
family (a stolen token is useless once either party refreshes). Access tokens are checked against
their family on every request, so logout and revocation take effect at once.

Async code (WebSocket consumers) calls ``await sync_to_async(user_from_access_token)(token)``.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from django.contrib.auth.hashers import get_hasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import (
    Conflict,
    CredentialsRejected,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from apps.core.inputs import check_length
from apps.core.text import trimmed

from . import audit, ratelimit, tokens
from .errors import AuthErrorCode
from .invitations import claim_invitation
from .limits import (
    MAX_EMAIL,
    MAX_INVITATION_TOKEN,
    MAX_NAME,
    MAX_ORGANIZATION,
    MAX_PASSWORD,
    MAX_TOKEN,
)
from .models import PLAN_LIMITS, AuthSession, Plan, RefreshToken, Role, Tenant, User, UserManager

INVALID_CREDENTIALS = "Invalid email or password."

EMAIL_TAKEN = "An account with this email already exists."
TOKEN_REUSED = "This refresh token was already used; its session is revoked. Sign in again."


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user and the session (token family) its token belongs to."""

    user: User
    session_id: uuid.UUID


@dataclass(frozen=True)
class MfaChallenge:
    """Password accepted, a TOTP code is still needed: exchange ``token`` and a code for tokens."""

    token: str
    expires_in: int


def _invalid_token() -> CredentialsRejected:
    return CredentialsRejected(tokens.INVALID_TOKEN_MESSAGE, reason=AuthErrorCode.INVALID_TOKEN)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- tokens ---------------------------------------------------------------------------------


def _issue_pair(user: User, session: AuthSession) -> dict[str, Any]:
    from django.conf import settings

    access_lifetime = settings.JWT_ACCESS_TOKEN_LIFETIME
    refresh_lifetime = settings.JWT_REFRESH_TOKEN_LIFETIME
    session_claim = {"sid": str(session.pk)}
    access, _ = tokens.encode(str(user.pk), tokens.ACCESS, access_lifetime, session_claim)
    refresh, claims = tokens.encode(str(user.pk), tokens.REFRESH, refresh_lifetime, session_claim)
    RefreshToken.objects.create(
        id=uuid.UUID(claims["jti"]),
        family=session,
        token_hash=token_digest(refresh),
        expires_at=timezone.now() + timedelta(seconds=refresh_lifetime),
    )
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": access_lifetime,
    }


@transaction.atomic
def issue_tokens(user: User, *, ip: str | None = None, user_agent: str = "") -> dict[str, Any]:
    """Open a new session for ``user``: ``access_token, refresh_token, token_type, expires_in``."""
    session = AuthSession.objects.create(
        user=user, ip_address=audit._normalised_ip(ip), user_agent=(user_agent or "")[:255]
    )
    return _issue_pair(user, session)


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise _invalid_token() from None


def authenticate_access_token(token: str) -> Principal:
    claims = tokens.decode(token, tokens.ACCESS)
    user_id, session_id = _uuid(claims["sub"]), _uuid(claims.get("sid"))
    user = (
        User.objects.select_related("tenant")
        .filter(
            pk=user_id,
            is_active=True,
            auth_sessions__id=session_id,
            auth_sessions__revoked_at__isnull=True,
        )
        .first()
    )
    if user is None:
        raise _invalid_token()
    return Principal(user=user, session_id=session_id)


def user_from_access_token(token: str) -> User:
    """The active user an access token was issued to, or ``Unauthenticated``."""
    return authenticate_access_token(token).user


# --- registration ---------------------------------------------------------------------------


def _clean_registration(email: str, full_name: str) -> tuple[str, str]:
    email = UserManager.normalize_email_address(email)
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed("Enter a valid email address.", field="email") from None
    full_name = trimmed(full_name or "")
    if not full_name or len(full_name) > 255:
        raise ValidationFailed("Full name must be 1 to 255 characters.", field="full_name")
    return email, full_name


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            " ".join(exc.messages), field="password", reason=AuthErrorCode.PASSWORD_REJECTED
        ) from None


def _new_tenant(name: str) -> Tenant:
    if Tenant.objects.filter(name__iexact=name).exists():
        raise Conflict(
            "This organisation already exists; ask its admin for an invitation.",
            field="organization",
            reason=AuthErrorCode.ORGANIZATION_TAKEN,
        )
    rps, ws = PLAN_LIMITS[Plan.FREE]
    try:
        with transaction.atomic():
            return Tenant.objects.create(name=name, plan=Plan.FREE, rate_limit_rps=rps, ws_limit=ws)
    except IntegrityError:
        raise Conflict(
            "This organisation already exists.",
            field="organization",
            reason=AuthErrorCode.ORGANIZATION_TAKEN,
        ) from None


@transaction.atomic
def register(
    *,
    email: str,
    password: str,
    full_name: str,
    organization: str | None = None,
    invitation_token: str | None = None,
    ip: str | None = None,
) -> User:
    """Create an account. With an invitation it joins the inviting tenant with the invited role;
    otherwise it founds a tenant (named ``organization``, or a personal one named after the email)
    and becomes its admin."""
    check_length(email, field="email", maximum=MAX_EMAIL)
    check_length(password, field="password", maximum=MAX_PASSWORD)
    check_length(full_name, field="full_name", maximum=MAX_NAME)
    check_length(organization, field="organization", maximum=MAX_ORGANIZATION)
    check_length(invitation_token, field="invitation_token", maximum=MAX_INVITATION_TOKEN)
    email, full_name = _clean_registration(email, full_name)
    organization = (organization or "").strip() or None
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(EMAIL_TAKEN, field="email", reason=AuthErrorCode.EMAIL_TAKEN)
    user = User(email=email, full_name=full_name, organization=organization)
    _check_password(password, user)
    if invitation_token:
        invitation = claim_invitation(token=invitation_token, email=email)
        tenant, role = invitation.tenant, invitation.role
        user.organization = organization or tenant.name
    else:
        tenant, role = _new_tenant(organization or email), Role.TENANT_ADMIN
    user.tenant, user.role = tenant, role
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        raise Conflict(EMAIL_TAKEN, field="email", reason=AuthErrorCode.EMAIL_TAKEN) from None
    if invitation_token:
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_by"])
    audit.record(
        action="user.registered",
        resource_type="user",
        resource_id=user.pk,
        tenant=tenant,
        user=user,
        details={"role": role, "via_invitation": bool(invitation_token)},
        ip=ip,
    )
    return user


# --- sign-in --------------------------------------------------------------------------------


@cache
def _dummy_hash() -> str:
    return get_hasher().encode("not-a-real-password", get_hasher().salt())


def _password_ok(user: User | None, password: str) -> bool:
    if user is None:
        get_hasher().verify(password or "", _dummy_hash())  # same cost as a real check
        return False
    return user.check_password(password) and user.is_active


def login(
    *, email: str, password: str, ip: str | None = None, user_agent: str = ""
) -> dict[str, Any] | MfaChallenge:
    """Tokens, or an ``MfaChallenge`` when the account has MFA on. Wrong password, unknown email
    and inactive account all fail the same way (same message, one argon2 verification each)."""
    from django.conf import settings

    check_length(email, field="email", maximum=MAX_EMAIL)
    check_length(password, field="password", maximum=MAX_PASSWORD)
    email = UserManager.normalize_email_address(email)
    ratelimit.check_login(email, ip)
    user = User.objects.select_related("tenant").filter(email=email).first()
    if not _password_ok(user, password):
        ratelimit.record_login_failure(email, ip)
        audit.record(
            action="auth.login_failed",
            resource_type="user",
            resource_id=user.pk if user else None,
            tenant=user.tenant if user else None,
            user=user,
            details={"email": email},
            ip=ip,
        )
        raise CredentialsRejected(INVALID_CREDENTIALS, reason=AuthErrorCode.INVALID_CREDENTIALS)
    assert user is not None
    ratelimit.forget_login_failures(email, ip)
    if user.mfa_enabled:
        lifetime = settings.JWT_MFA_CHALLENGE_LIFETIME
        token, _ = tokens.encode(str(user.pk), tokens.MFA_CHALLENGE, lifetime)
        audit.record(
            action="auth.mfa_challenge_issued",
            resource_type="user",
            resource_id=user.pk,
            tenant=user.tenant,
            user=user,
            ip=ip,
        )
        return MfaChallenge(token=token, expires_in=lifetime)
    return complete_login(user, ip=ip, user_agent=user_agent, mfa=False)


@transaction.atomic
def complete_login(user: User, *, ip: str | None, user_agent: str, mfa: bool) -> dict[str, Any]:
    pair = issue_tokens(user, ip=ip, user_agent=user_agent)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    audit.record(
        action="auth.login",
        resource_type="user",
        resource_id=user.pk,
        tenant=user.tenant,
        user=user,
        details={"mfa": mfa},
        ip=ip,
    )
    return pair


# --- refresh and logout ---------------------------------------------------------------------


def _revoke(session: AuthSession, reason: str) -> None:
    if session.revoked_at is None:
        session.revoked_at = timezone.now()
        session.revoked_reason = reason
        session.save(update_fields=["revoked_at", "revoked_reason"])


@transaction.atomic
def _rotate(refresh_token: str, claims: dict[str, Any], ip: str | None) -> dict[str, Any] | None:
    """The new pair, or None after revoking a family whose spent token was presented again."""
    row = (
        RefreshToken.objects.select_for_update(of=("self",))
        .select_related("family__user__tenant")
        .filter(token_hash=token_digest(refresh_token))
        .first()
    )
    now = timezone.now()
    if row is None or str(row.family_id) != claims.get("sid") or str(row.pk.hex) != claims["jti"]:
        raise _invalid_token()
    session, user = row.family, row.family.user
    if session.revoked_at is not None or row.expires_at <= now or not user.is_active:
        raise _invalid_token()
    if row.used_at is not None:
        _revoke(session, AuthSession.RevokedReason.REUSE)
        audit.record(
            action="auth.refresh_reuse_detected",
            resource_type="session",
            resource_id=session.pk,
            tenant=user.tenant,
            user=user,
            ip=ip,
        )
        return None
    row.used_at = now
    row.save(update_fields=["used_at"])
    session.last_used_at = now
    session.save(update_fields=["last_used_at"])
    pair = _issue_pair(user, session)
    audit.record(
        action="auth.token_refreshed",
        resource_type="session",
        resource_id=session.pk,
        tenant=user.tenant,
        user=user,
        ip=ip,
    )
    return pair


def refresh(*, refresh_token: str, ip: str | None = None) -> dict[str, Any]:
    """Spend ``refresh_token`` for a new pair of the same family (rotation)."""
    check_length(refresh_token, field="refresh_token", maximum=MAX_TOKEN)
    claims = tokens.decode(refresh_token, tokens.REFRESH)
    pair = _rotate(refresh_token, claims, ip)
    if pair is None:  # the family's revocation is committed
        raise CredentialsRejected(TOKEN_REUSED, reason=AuthErrorCode.TOKEN_REUSED)
    return pair


@transaction.atomic
def revoke_session(
    *, user: User, session_id: uuid.UUID, reason: str, ip: str | None = None
) -> AuthSession:
    """Revoke one of ``user``'s own sessions (owner-of-object: another user's is not found)."""
    session = AuthSession.objects.select_for_update().filter(pk=session_id, user=user).first()
    if session is None:
        raise NotFound("Session not found.")
    _revoke(session, reason)
    audit.record(
        action="auth.logout"
        if reason == AuthSession.RevokedReason.LOGOUT
        else "auth.session_revoked",
        resource_type="session",
        resource_id=session.pk,
        tenant=user.tenant,
        user=user,
        ip=ip,
    )
    return session


def logout(
    *,
    principal: Principal | None = None,
    refresh_token: str | None = None,
    ip: str | None = None,
) -> None:
    """Revoke the caller's session (from its access token) and/or a refresh token's family."""
    check_length(refresh_token, field="refresh_token", maximum=MAX_TOKEN)
    if principal is None and not refresh_token:
        raise Unauthenticated()
    if refresh_token:
        claims = tokens.decode(refresh_token, tokens.REFRESH)
        row = (
            RefreshToken.objects.select_related("family__user__tenant")
            .filter(token_hash=token_digest(refresh_token))
            .first()
        )
        if row is None or str(row.family_id) != claims.get("sid"):
            raise _invalid_token()
        if principal is not None and row.family.user_id != principal.user.pk:
            raise _invalid_token()
        revoke_session(
            user=row.family.user,
            session_id=row.family_id,
            reason=AuthSession.RevokedReason.LOGOUT,
            ip=ip,
        )
        if principal is not None and principal.session_id == row.family_id:
            return
    if principal is not None:
        revoke_session(
            user=principal.user,
            session_id=principal.session_id,
            reason=AuthSession.RevokedReason.LOGOUT,
            ip=ip,
        )
