"""Refresh rotation, theft detection, logout, session revocation and signing-key rotation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.auth_app import services, tokens
from apps.auth_app.keys import KeySet, generate_private_pem, load_keyset
from apps.auth_app.models import AuthSession, RefreshToken
from tests.auth.helpers import post
from tests.graphql_client import run_operation


def _me(client, access: str) -> int:
    return client.get("/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {access}").status_code


@pytest.mark.django_db
def test_refresh_tokens_are_stored_hashed_and_spent_on_use(client, user):
    pair = services.issue_tokens(user)
    row = RefreshToken.objects.get()
    assert row.token_hash == services.token_digest(pair["refresh_token"])
    assert pair["refresh_token"] not in row.token_hash
    new = post(client, "/api/v2/auth/refresh", {"refresh_token": pair["refresh_token"]}).json()
    row.refresh_from_db()
    assert row.used_at is not None
    assert RefreshToken.objects.filter(family=row.family, used_at__isnull=True).count() == 1
    assert _me(client, new["access_token"]) == 200
    assert _me(client, pair["access_token"]) == 200  # same family, still live


@pytest.mark.django_db
def test_reusing_a_spent_refresh_token_revokes_the_whole_family_rest(client, user):
    first = services.issue_tokens(user)
    second = post(client, "/api/v2/auth/refresh", {"refresh_token": first["refresh_token"]}).json()
    # The attacker replays the stolen (spent) token:
    replay = post(client, "/api/v2/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "UNAUTHENTICATED"
    session = AuthSession.objects.get()
    assert session.revoked_reason == AuthSession.RevokedReason.REUSE
    # ... and the legitimate holder's newer tokens die with the family.
    legit = post(client, "/api/v2/auth/refresh", {"refresh_token": second["refresh_token"]})
    assert legit.status_code == 401
    assert _me(client, second["access_token"]) == 401
    assert _me(client, first["access_token"]) == 401


@pytest.mark.django_db
def test_reusing_a_spent_refresh_token_revokes_the_whole_family_graphql(client, user):
    first = services.issue_tokens(user)
    second = run_operation(client, "RefreshToken", {"refreshToken": first["refresh_token"]})
    new = second["data"]["refreshToken"]["tokens"]
    replay = run_operation(client, "RefreshToken", {"refreshToken": first["refresh_token"]})
    assert replay["data"]["refreshToken"]["tokens"] is None
    assert replay["data"]["refreshToken"]["errors"][0]["code"] == "TOKEN_REUSED"
    again = run_operation(client, "RefreshToken", {"refreshToken": new["refreshToken"]})
    assert again["data"]["refreshToken"]["errors"][0]["code"] == "INVALID_TOKEN"
    me = run_operation(client, "Me", token=new["accessToken"])
    assert me["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.django_db
def test_sessions_are_independent(client, user):
    laptop = services.issue_tokens(user)
    phone = services.issue_tokens(user)
    post(client, "/api/v2/auth/refresh", {"refresh_token": laptop["refresh_token"]})
    post(client, "/api/v2/auth/refresh", {"refresh_token": laptop["refresh_token"]})  # reuse
    assert _me(client, laptop["access_token"]) == 401
    assert _me(client, phone["access_token"]) == 200


@pytest.mark.django_db
def test_expired_refresh_row_and_inactive_user_are_refused(client, user):
    pair = services.issue_tokens(user)
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert (
        post(client, "/api/v2/auth/refresh", {"refresh_token": pair["refresh_token"]}).status_code
        == 401
    )
    pair = services.issue_tokens(user)
    user.is_active = False
    user.save()
    assert (
        post(client, "/api/v2/auth/refresh", {"refresh_token": pair["refresh_token"]}).status_code
        == 401
    )
    assert _me(client, pair["access_token"]) == 401


@pytest.mark.django_db
def test_access_token_is_not_a_refresh_token(client, user):
    pair = services.issue_tokens(user)
    response = post(client, "/api/v2/auth/refresh", {"refresh_token": pair["access_token"]})
    assert response.status_code == 401


@pytest.mark.django_db
def test_logout_with_refresh_token_only_graphql(client, user):
    pair = services.issue_tokens(user)
    out = run_operation(client, "Logout", {"refreshToken": pair["refresh_token"]})
    assert out["data"]["logout"] == {"ok": True, "errors": []}
    assert _me(client, pair["access_token"]) == 401
    anonymous = run_operation(client, "Logout")  # not signed in: request-level, as everywhere
    assert anonymous["data"] is None
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    again = run_operation(client, "Logout", {"refreshToken": pair["refresh_token"]})
    assert again["data"]["logout"] == {"ok": True, "errors": []}  # idempotent
    garbage = run_operation(client, "Logout", {"refreshToken": "not-a-token"})
    assert garbage["data"]["logout"]["ok"] is False
    assert garbage["data"]["logout"]["errors"][0]["code"] == "INVALID_TOKEN"


@pytest.mark.django_db
def test_logout_with_refresh_token_only_rest(client, user):
    """One logout rule on both facades: a bearer token or a refresh token (or both)."""
    pair = services.issue_tokens(user)
    response = post(client, "/api/v2/auth/logout", {"refresh_token": pair["refresh_token"]})
    assert response.status_code == 204
    assert _me(client, pair["access_token"]) == 401
    again = post(client, "/api/v2/auth/logout", {"refresh_token": pair["refresh_token"]})
    assert again.status_code == 204  # idempotent
    garbage = post(client, "/api/v2/auth/logout", {"refresh_token": "not-a-token"})
    assert garbage.status_code == 401
    assert garbage.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.django_db
def test_logout_requires_a_token_on_rest(client):
    response = post(client, "/api/v2/auth/logout", {})
    assert response.status_code == 401
    bad_bearer = post(client, "/api/v2/auth/logout", {}, HTTP_AUTHORIZATION="Bearer nope")
    assert bad_bearer.status_code == 401


@pytest.mark.django_db
def test_cannot_log_out_someone_elses_refresh_token(client, user, other_tenant_user):
    mine = services.issue_tokens(user)
    theirs = services.issue_tokens(other_tenant_user)
    response = post(
        client,
        "/api/v2/auth/logout",
        {"refresh_token": theirs["refresh_token"]},
        HTTP_AUTHORIZATION=f"Bearer {mine['access_token']}",
    )
    assert response.status_code == 401
    assert _me(client, theirs["access_token"]) == 200


# --- signing-key rotation -------------------------------------------------------------------


def _keyset(private_pem: str, previous: tuple[str, ...] = ()) -> KeySet:
    env = {"JWT_PRIVATE_KEY": private_pem}
    if previous:
        old = [
            load_keyset({"JWT_PRIVATE_KEY": pem}, var_dir=NOWHERE, allow_generate=False)
            for pem in previous
        ]
        env["JWT_PUBLIC_KEYS"] = "\n".join(k.public_pems[k.signing_kid] for k in old)
    return load_keyset(env, var_dir=NOWHERE, allow_generate=False)


NOWHERE = Path("/nonexistent")
OLD_PEM = generate_private_pem(2048)
NEW_PEM = generate_private_pem(2048)


@pytest.mark.django_db
def test_key_rotation_accepts_previous_keys_until_they_are_dropped(client, user):
    with override_settings(JWT_KEYSET=_keyset(OLD_PEM)):
        old_token = services.issue_tokens(user)["access_token"]
        old_kid = tokens.keyset().signing_kid
    with override_settings(JWT_KEYSET=_keyset(NEW_PEM, previous=(OLD_PEM,))):
        new_token = services.issue_tokens(user)["access_token"]
        assert tokens.decode(new_token, tokens.ACCESS)  # signed with the new key
        assert tokens.keyset().signing_kid != old_kid
        assert _me(client, old_token) == 200
        assert _me(client, new_token) == 200
        assert run_operation(client, "Me", token=old_token)["data"]["me"]["email"] == user.email
    with override_settings(JWT_KEYSET=_keyset(NEW_PEM)):
        assert _me(client, old_token) == 401  # previous key retired: unknown kid
        assert (
            run_operation(client, "Me", token=old_token)["errors"][0]["extensions"]["code"]
            == "UNAUTHENTICATED"
        )
        assert _me(client, new_token) == 200


@pytest.mark.django_db
def test_tokens_carry_kid_and_required_claims(user):
    from jose import jwt

    pair = services.issue_tokens(user)
    header = jwt.get_unverified_header(pair["access_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] == tokens.keyset().signing_kid
    claims = tokens.decode(pair["access_token"], tokens.ACCESS)
    assert {"iss", "aud", "sub", "iat", "nbf", "exp", "jti", "typ", "sid"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60
    refresh = tokens.decode(pair["refresh_token"], tokens.REFRESH)
    assert refresh["exp"] - refresh["iat"] == 14 * 24 * 3600
    assert pair["expires_in"] == 15 * 60
