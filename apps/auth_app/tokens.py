"""RS256 JSON Web Tokens (python-jose): the only place tokens are signed or verified.

Every token carries ``iss``, ``aud``, ``sub``, ``iat``, ``nbf``, ``exp``, ``jti`` and ``typ``
(``access``, ``refresh`` or ``mfa_challenge``) and a ``kid`` header naming the signing key.
Verification always passes ``algorithms=["RS256"]``, requires every claim, checks the type, allows
``JWT_LEEWAY_SECONDS`` of clock skew and rejects tokens issued (or valid only) in the future, tokens
longer than ``JWT_MAX_TOKEN_BYTES`` and unknown ``kid``s. Every failure raises the same
``Unauthenticated`` with the same message: nothing tells a caller which check failed.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from jose import jwk, jwt
from jose.backends.base import Key

from apps.core.errors import CredentialsRejected

from .errors import AuthErrorCode
from .keys import KeySet, load_keyset

logger = logging.getLogger("gpubroker.auth")

ALGORITHM = "RS256"
ACCESS = "access"
REFRESH = "refresh"
MFA_CHALLENGE = "mfa_challenge"
INVALID_TOKEN_MESSAGE = "Invalid or expired token."
_REQUIRED = ("iss", "aud", "sub", "iat", "exp", "jti", "typ")


@dataclass(frozen=True)
class _Keys:
    kid: str
    signing: Key
    verifying: dict[str, Key]


@cache
def keyset() -> KeySet:
    """The configured key set (loaded, checked and, in development, generated once)."""
    configured = getattr(settings, "JWT_KEYSET", None)
    if configured is not None:
        return configured
    return load_keyset(
        os.environ,
        var_dir=settings.GPUBROKER_VAR_DIR,
        allow_generate=settings.GPUBROKER_GENERATE_DEV_KEYS,
    )


@cache
def _keys() -> _Keys:
    keys = keyset()
    return _Keys(
        kid=keys.signing_kid,
        signing=jwk.construct(keys.private_pem, ALGORITHM),
        verifying={kid: jwk.construct(pem, ALGORITHM) for kid, pem in keys.public_pems.items()},
    )


@receiver(setting_changed)
def _reset_keys(setting: str, **kwargs: object) -> None:
    if setting in {"JWT_KEYSET", "GPUBROKER_VAR_DIR"}:
        keyset.cache_clear()
        _keys.cache_clear()


def encode(
    subject: str, token_type: str, lifetime: int, extra: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """Sign a token of ``token_type`` for ``subject``; returns the token and its claims."""
    now = int(time.time())
    claims: dict[str, Any] = {
        **(extra or {}),
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "typ": token_type,
    }
    keys = _keys()
    token = jwt.encode(claims, keys.signing, algorithm=ALGORITHM, headers={"kid": keys.kid})
    return token, claims


def _invalid(reason: str) -> CredentialsRejected:
    logger.info("token rejected", extra={"reason": reason})
    return CredentialsRejected(INVALID_TOKEN_MESSAGE, reason=AuthErrorCode.INVALID_TOKEN)


def decode(token: object, expected_type: str) -> dict[str, Any]:
    """The verified claims of ``token``, or ``CredentialsRejected`` (an ``Unauthenticated``)."""
    if not isinstance(token, str) or not token:
        raise _invalid("missing")
    if len(token) > settings.JWT_MAX_TOKEN_BYTES or token.count(".") != 2:
        raise _invalid("size or shape")
    try:
        header = jwt.get_unverified_header(token)
    except Exception:
        raise _invalid("header") from None
    if header.get("alg") != ALGORITHM:
        raise _invalid("algorithm")
    kid = header.get("kid")
    key = _keys().verifying.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise _invalid("unknown kid")
    leeway = settings.JWT_LEEWAY_SECONDS
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            options={
                "leeway": leeway,
                **{f"require_{name}": True for name in _REQUIRED if name != "typ"},
            },
        )
    except Exception:
        raise _invalid("signature or claims") from None
    return _check_claims(claims, expected_type, leeway)


def _check_claims(claims: dict[str, Any], expected_type: str, leeway: int) -> dict[str, Any]:
    if any(name not in claims for name in _REQUIRED):
        raise _invalid("missing claim")
    now = time.time()
    for name in ("iat", "exp", "nbf"):
        value = claims.get(name)
        if name in claims and (not isinstance(value, int) or isinstance(value, bool)):
            raise _invalid(f"{name} not an integer")
    if claims["iat"] > now + leeway or claims.get("nbf", 0) > now + leeway:
        raise _invalid("issued in the future")
    if claims["exp"] <= now - leeway:
        raise _invalid("expired")
    if claims["typ"] != expected_type:
        raise _invalid("wrong type")
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        raise _invalid("sub/jti type")
    return claims
