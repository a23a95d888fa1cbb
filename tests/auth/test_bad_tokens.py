"""Every hostile or broken bearer token is rejected the same way on REST (401 envelope) and
GraphQL (UNAUTHENTICATED), with the same message — nothing tells the caller which check failed."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from apps.auth_app import services, tokens
from apps.auth_app.keys import key_id
from tests.auth.helpers import b64, claims_for, sign
from tests.graphql_client import run_operation

STRANGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _tamper_payload(token: str) -> str:
    header, _payload, signature = token.split(".")
    forged = b64(b'{"sub":"00000000-0000-0000-0000-000000000000","typ":"access"}')
    return ".".join([header, forged, signature])


def _tamper_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[10] != "A" else "B").join([signature[:10], signature[11:]])
    return ".".join([header, payload, flipped])


def _cases(user) -> dict[str, str]:
    pair = services.issue_tokens(user)
    sid = tokens.decode(pair["access_token"], tokens.ACCESS)["sid"]
    now = int(time.time())
    challenge, _ = tokens.encode(str(user.pk), tokens.MFA_CHALLENGE, 300)
    return {
        "alg none": sign(claims_for(user, sid), alg="none"),
        "HS256 with the RSA public key": sign(claims_for(user, sid), alg="HS256"),
        "RS512 (outside the allow-list)": sign(claims_for(user, sid), alg="RS512"),
        "tampered payload": _tamper_payload(pair["access_token"]),
        "tampered signature": _tamper_signature(pair["access_token"]),
        "expired": sign(claims_for(user, sid, iat=now - 3600, nbf=now - 3600, exp=now - 600)),
        "missing exp": sign(claims_for(user, sid, exp=...)),
        "missing iat": sign(claims_for(user, sid, iat=...)),
        "missing jti": sign(claims_for(user, sid, jti=...)),
        "missing typ": sign(claims_for(user, sid, typ=...)),
        "future nbf": sign(claims_for(user, sid, nbf=now + 3600)),
        "future iat": sign(claims_for(user, sid, iat=now + 3600)),
        "wrong aud": sign(claims_for(user, sid, aud="someone-else")),
        "wrong iss": sign(claims_for(user, sid, iss="https://evil.example")),
        "refresh token used as access": pair["refresh_token"],
        "MFA challenge used as access": challenge,
        "unknown kid": sign(
            claims_for(user, sid), key=STRANGER_KEY, kid=key_id(STRANGER_KEY.public_key())
        ),
        "stranger key under our kid": sign(claims_for(user, sid), key=STRANGER_KEY),
        "no kid": sign(claims_for(user, sid), kid=...),
        "oversized header": sign(claims_for(user, sid), extra_header={"pad": "x" * 5000}),
        "not a JWT": "definitely-not-a-token",
        "unknown session": sign(claims_for(user, "6f1c1d3e-0000-4000-8000-000000000000")),
        "string exp": sign(claims_for(user, sid, exp=str(now + 600))),
    }


CASES = [
    "alg none",
    "HS256 with the RSA public key",
    "RS512 (outside the allow-list)",
    "tampered payload",
    "tampered signature",
    "expired",
    "missing exp",
    "missing iat",
    "missing jti",
    "missing typ",
    "future nbf",
    "future iat",
    "wrong aud",
    "wrong iss",
    "refresh token used as access",
    "MFA challenge used as access",
    "unknown kid",
    "stranger key under our kid",
    "no kid",
    "oversized header",
    "not a JWT",
    "unknown session",
    "string exp",
]


@pytest.mark.django_db
def test_control_a_correctly_crafted_token_is_accepted(client, user):
    pair = services.issue_tokens(user)
    sid = tokens.decode(pair["access_token"], tokens.ACCESS)["sid"]
    token = sign(claims_for(user, sid))
    response = client.get("/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert run_operation(client, "Me", token=token)["data"]["me"]["email"] == user.email


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_rest_rejects(client, user, case):
    token = _cases(user)[case]
    response = client.get("/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "UNAUTHENTICATED"
    assert error["message"] == "Authentication required."
    assert error["details"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_graphql_rejects(client, user, case):
    token = _cases(user)[case]
    result = run_operation(client, "Me", token=token)
    assert result["data"] is None
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == "Authentication required."


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_service_rejects_with_one_message(user, case):
    with pytest.raises(services.Unauthenticated) as excinfo:
        services.user_from_access_token(_cases(user)[case])
    assert excinfo.value.message == tokens.INVALID_TOKEN_MESSAGE


@pytest.mark.django_db
def test_leeway_accepts_small_clock_skew(user):
    pair = services.issue_tokens(user)
    sid = tokens.decode(pair["access_token"], tokens.ACCESS)["sid"]
    now = int(time.time())
    skewed = sign(claims_for(user, sid, iat=now + 5, nbf=now + 5))
    assert services.user_from_access_token(skewed) == user
