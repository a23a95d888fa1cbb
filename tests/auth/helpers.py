"""Shared helpers for the auth tests: JSON posting and hand-crafted (hostile) tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings

from apps.auth_app import tokens

PASSWORD = "a sturdy passphrase 2024"


def post(client, path: str, body: Any, **headers: Any):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims_for(user, session_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "sub": str(user.pk),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "sid": session_id,
    }
    for name, value in overrides.items():
        if value is ...:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


@lru_cache(maxsize=4)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def private_key() -> rsa.RSAPrivateKey:
    return _private_key(tokens.keyset().private_pem)


def sign(
    claims: dict[str, Any],
    *,
    alg: str = "RS256",
    key: rsa.RSAPrivateKey | None = None,
    kid: Any = None,
    extra_header: dict[str, Any] | None = None,
) -> str:
    """Sign like a real issuer would, with full control over header, algorithm and key."""
    header: dict[str, Any] = {"alg": alg, "typ": "JWT", **(extra_header or {})}
    if kid is not ...:
        header["kid"] = kid if kid is not None else tokens.keyset().signing_kid
    signing_input = (
        b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    ).encode()
    digests = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
    if alg == "none":
        signature = b""
    elif alg == "HS256":
        public_pem = tokens.keyset().public_pems[tokens.keyset().signing_kid].encode()
        signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    else:
        signer = key or private_key()
        signature = signer.sign(signing_input, padding.PKCS1v15(), digests[alg])
    return signing_input.decode() + "." + b64(signature)
