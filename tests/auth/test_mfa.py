"""TOTP: enrol → confirm → two-step login → disable, on REST and GraphQL."""

from __future__ import annotations

import time

import pyotp
import pytest

from apps.auth_app.crypto import decrypt_str
from apps.auth_app.models import AuditLog, User
from tests.auth.helpers import post
from tests.auth_fixtures import DEFAULT_PASSWORD, bearer
from tests.graphql_client import run_operation


def _code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def _time_passes(user) -> None:
    """Codes are single-use and only move forward; pretend a minute went by."""
    User.objects.filter(pk=user.pk).update(mfa_last_used_step=int(time.time()) // 30 - 2)


def _enable_rest(client, user) -> str:
    headers = bearer(user)
    enrolment = post(client, "/api/v2/auth/mfa/enrol", {}, **headers).json()
    confirmed = post(
        client, "/api/v2/auth/mfa/confirm", {"code": _code(enrolment["secret"])}, **headers
    )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["mfa_enabled"] is True
    return enrolment["secret"]


@pytest.mark.django_db
def test_rest_mfa_flow(client, user):
    headers = bearer(user)
    enrolment = post(client, "/api/v2/auth/mfa/enrol", {}, **headers).json()
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/GPUBROKER:user%40acme.example?")
    secret = enrolment["secret"]
    user.refresh_from_db()
    assert user.mfa_secret and secret not in user.mfa_secret  # encrypted at rest
    assert decrypt_str(user.mfa_secret) == secret
    assert not user.mfa_enabled

    bad = post(client, "/api/v2/auth/mfa/confirm", {"code": "000000"}, **headers)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "code"
    post(client, "/api/v2/auth/mfa/confirm", {"code": _code(secret)}, **headers)

    step1 = post(client, "/api/v2/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert step1.status_code == 200
    challenge = step1.json()
    assert challenge["mfa_required"] is True and "access_token" not in challenge
    # The challenge is not an access token.
    me = client.get("/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {challenge['mfa_token']}")
    assert me.status_code == 401
    # The code used to confirm cannot be replayed; the next step's code works.
    replay = post(
        client,
        "/api/v2/auth/mfa/verify",
        {"mfa_token": challenge["mfa_token"], "code": _code(secret)},
    )
    assert replay.status_code == 422
    step2 = post(
        client,
        "/api/v2/auth/mfa/verify",
        {"mfa_token": challenge["mfa_token"], "code": _code(secret, 1)},
    )
    assert step2.status_code == 200, step2.content
    tokens = step2.json()
    assert (
        client.get(
            "/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
        ).status_code
        == 200
    )
    # A challenge is single use.
    _time_passes(user)
    again = post(
        client,
        "/api/v2/auth/mfa/verify",
        {"mfa_token": challenge["mfa_token"], "code": _code(secret)},
    )
    assert again.status_code == 401

    stale = post(
        client,
        "/api/v2/auth/mfa/disable",
        {"code": _code(secret, -1)},
        HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}",
    )
    assert stale.status_code == 422  # older than the last accepted code
    _time_passes(user)
    disabled = post(
        client,
        "/api/v2/auth/mfa/disable",
        {"code": _code(secret, -1)},
        HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}",
    )
    assert disabled.status_code == 200 and disabled.json()["mfa_enabled"] is False
    user.refresh_from_db()
    assert user.mfa_secret is None
    plain = post(client, "/api/v2/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert "access_token" in plain.json()
    actions = set(AuditLog.objects.filter(user=user).values_list("action", flat=True))
    assert {
        "mfa.enrolment_started",
        "mfa.enabled",
        "auth.mfa_challenge_issued",
        "auth.mfa_failed",
        "mfa.disabled",
    } <= actions


@pytest.mark.django_db
def test_graphql_mfa_flow(client, user):
    from apps.auth_app.services import issue_tokens

    token = issue_tokens(user)["access_token"]
    enrol = run_operation(client, "EnrolMfa", token=token)["data"]["enrolMfa"]
    assert enrol["errors"] == []
    secret = enrol["secret"]
    assert enrol["otpauthUri"].startswith("otpauth://totp/")
    confirm = run_operation(client, "ConfirmMfa", {"code": _code(secret)}, token=token)
    assert confirm["data"]["confirmMfa"]["user"]["mfaEnabled"] is True
    again = run_operation(client, "EnrolMfa", token=token)["data"]["enrolMfa"]
    assert again["errors"][0]["code"] == "MFA_ALREADY_ENABLED"

    login = run_operation(client, "Login", {"email": user.email, "password": DEFAULT_PASSWORD})
    payload = login["data"]["login"]
    assert payload["tokens"] is None and payload["errors"] == []
    mfa_token = payload["mfaChallenge"]["mfaToken"]
    wrong = run_operation(client, "VerifyMfaLogin", {"mfaToken": mfa_token, "code": "12345"})
    assert wrong["data"]["verifyMfaLogin"]["errors"][0]["field"] == "code"
    ok = run_operation(client, "VerifyMfaLogin", {"mfaToken": mfa_token, "code": _code(secret, 1)})
    tokens = ok["data"]["verifyMfaLogin"]["tokens"]
    assert tokens["tokenType"] == "bearer"
    forged = run_operation(
        client, "VerifyMfaLogin", {"mfaToken": tokens["accessToken"], "code": _code(secret, -1)}
    )
    assert forged["data"]["verifyMfaLogin"]["errors"][0]["code"] == "INVALID_TOKEN"

    _time_passes(user)
    disabled = run_operation(
        client, "DisableMfa", {"code": _code(secret, -1)}, token=tokens["accessToken"]
    )
    assert disabled["data"]["disableMfa"]["user"]["mfaEnabled"] is False


@pytest.mark.django_db
def test_mfa_mutations_need_authentication(client):
    for name, variables in (
        ("EnrolMfa", {}),
        ("ConfirmMfa", {"code": "123456"}),
        ("DisableMfa", {"code": "123456"}),
    ):
        result = run_operation(client, name, variables)
        assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert post(client, "/api/v2/auth/mfa/enrol", {}).status_code == 401


@pytest.mark.django_db
def test_mfa_code_attempts_are_rate_limited(client, user, settings):
    settings.RATE_LIMIT_MFA_PER_ACCOUNT = "3/15minutes"
    secret = _enable_rest(client, user)
    challenge = post(
        client, "/api/v2/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    ).json()
    statuses = [
        post(
            client,
            "/api/v2/auth/mfa/verify",
            {"mfa_token": challenge["mfa_token"], "code": "000000"},
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [422, 422, 429]
    # Even the right code is refused while limited.
    limited = post(
        client,
        "/api/v2/auth/mfa/verify",
        {"mfa_token": challenge["mfa_token"], "code": _code(secret, 1)},
    )
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
