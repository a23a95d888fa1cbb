"""TOTP multi-factor authentication (RFC 6238 via pyotp: SHA-1, 6 digits, 30 s steps).

Enrol stores a new secret (encrypted with ``crypto.encrypt_str``) and returns it with its
``otpauth://`` URI; confirming with a valid code turns MFA on; from then on ``services.login``
answers with a short-lived challenge token that ``verify_login_challenge`` exchanges, with a code,
for tokens. Codes are accepted one step either side of now and only once (the last accepted step
is remembered); challenge tokens are single-use; code attempts are rate limited per account.
"""

from __future__ import annotations

import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pyotp
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from apps.core.errors import Conflict, CredentialsRejected, ValidationFailed

from . import audit, ratelimit, tokens
from .crypto import decrypt_str, encrypt_str
from .errors import AuthErrorCode
from .models import User
from .services import complete_login

ISSUER_NAME = "GPUBROKER"
INVALID_CODE = "The code is not valid."
_VALID_WINDOW = 1


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str


def _clean_code(code: str) -> str:
    code = (code or "").replace(" ", "").strip()
    if not (code.isdigit() and len(code) == 6):
        raise ValidationFailed("Enter the 6-digit code from your authenticator app.", field="code")
    return code


def _accept_code(user: User, code: str) -> bool:
    """True (and remembers the step, so the code cannot be replayed) if ``code`` is valid now."""
    if not user.mfa_secret:
        return False
    totp = pyotp.TOTP(decrypt_str(user.mfa_secret))
    current = int(time.time()) // totp.interval
    last = user.mfa_last_used_step if user.mfa_last_used_step is not None else -1
    for step in range(current - _VALID_WINDOW, current + _VALID_WINDOW + 1):
        if step > last and hmac.compare_digest(totp.generate_otp(step), code):
            user.mfa_last_used_step = step
            user.save(update_fields=["mfa_last_used_step", "updated_at"])
            return True
    return False


def _invalid_challenge() -> CredentialsRejected:
    return CredentialsRejected(tokens.INVALID_TOKEN_MESSAGE, reason=AuthErrorCode.INVALID_TOKEN)


def _locked(user: User) -> User:
    return User.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=user.pk)


@transaction.atomic
def enrol(*, user: User, ip: str | None = None) -> Enrolment:
    user = _locked(user)
    if user.mfa_enabled:
        raise Conflict(
            "MFA is already on; disable it first to enrol a new device.",
            reason=AuthErrorCode.MFA_ALREADY_ENABLED,
        )
    secret = pyotp.random_base32()
    user.mfa_secret = encrypt_str(secret)
    user.mfa_last_used_step = None
    user.save(update_fields=["mfa_secret", "mfa_last_used_step", "updated_at"])
    audit.record(
        action="mfa.enrolment_started",
        resource_type="user",
        resource_id=user.pk,
        tenant=user.tenant,
        user=user,
        ip=ip,
    )
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER_NAME)
    return Enrolment(secret=secret, otpauth_uri=uri)


def _checked_code(user: User, code: str) -> None:
    ratelimit.hit_mfa_attempt(str(user.pk))
    if not _accept_code(user, _clean_code(code)):
        raise ValidationFailed(INVALID_CODE, field="code", reason=AuthErrorCode.MFA_CODE_INVALID)


@transaction.atomic
def confirm(*, user: User, code: str, ip: str | None = None) -> User:
    user = _locked(user)
    if user.mfa_enabled:
        raise Conflict("MFA is already on.", reason=AuthErrorCode.MFA_ALREADY_ENABLED)
    if not user.mfa_secret:
        raise ValidationFailed(
            "Start the enrolment first.",
            field="code",
            reason=AuthErrorCode.MFA_ENROLMENT_NOT_STARTED,
        )
    _checked_code(user, code)
    user.mfa_enabled = True
    user.save(update_fields=["mfa_enabled", "updated_at"])
    audit.record(
        action="mfa.enabled",
        resource_type="user",
        resource_id=user.pk,
        tenant=user.tenant,
        user=user,
        ip=ip,
    )
    return user


@transaction.atomic
def disable(*, user: User, code: str, ip: str | None = None) -> User:
    user = _locked(user)
    if not user.mfa_enabled:
        raise Conflict("MFA is not on.", reason=AuthErrorCode.MFA_NOT_ENABLED)
    _checked_code(user, code)
    user.mfa_enabled = False
    user.mfa_secret = None
    user.mfa_last_used_step = None
    user.save(update_fields=["mfa_enabled", "mfa_secret", "mfa_last_used_step", "updated_at"])
    audit.record(
        action="mfa.disabled",
        resource_type="user",
        resource_id=user.pk,
        tenant=user.tenant,
        user=user,
        ip=ip,
    )
    return user


def verify_login_challenge(
    *, mfa_token: str, code: str, ip: str | None = None, user_agent: str = ""
) -> dict[str, Any]:
    """Exchange a challenge token from ``login`` and a current code for tokens."""
    claims = tokens.decode(mfa_token, tokens.MFA_CHALLENGE)
    try:
        user_id = uuid.UUID(claims["sub"])
    except ValueError:
        raise _invalid_challenge() from None
    code = _clean_code(code)
    with transaction.atomic():
        user = (
            User.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(pk=user_id)
            .first()
        )
        if user is None or not user.is_active or not user.mfa_enabled:
            raise _invalid_challenge()
        ratelimit.hit_mfa_attempt(str(user.pk))
        accepted = _accept_code(user, code)
    if not accepted:
        audit.record(
            action="auth.mfa_failed",
            resource_type="user",
            resource_id=user.pk,
            tenant=user.tenant,
            user=user,
            ip=ip,
        )
        raise ValidationFailed(INVALID_CODE, field="code", reason=AuthErrorCode.MFA_CODE_INVALID)
    # Single use: the challenge's jti is burnt until the token would have expired anyway.
    ttl = max(1, int(claims["exp"] - time.time()) + settings.JWT_LEEWAY_SECONDS)
    if not cache.add(f"auth:mfa-challenge:{claims['jti']}", 1, timeout=ttl):
        raise _invalid_challenge()
    return complete_login(user, ip=ip, user_agent=user_agent, mfa=True)
