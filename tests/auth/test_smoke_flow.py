"""Register → login → me → refresh → logout through REST and GraphQL."""

import json

import pytest

from tests.graphql_client import run_operation

PASSWORD = "a sturdy passphrase 2024"


def _post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


@pytest.mark.django_db
def test_rest_end_to_end(client):
    created = _post(
        client,
        "/api/v2/auth/register",
        {"email": "Neo@Matrix.Example", "password": PASSWORD, "full_name": "Neo"},
    )
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "neo@matrix.example"
    assert created.json()["role"] == "tenant_admin"

    login = _post(
        client, "/api/v2/auth/login", {"email": "neo@matrix.example", "password": PASSWORD}
    )
    assert login.status_code == 200, login.content
    tokens = login.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer"

    me = client.get("/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert me.status_code == 200, me.content
    assert me.json()["email"] == "neo@matrix.example"

    refreshed = _post(client, "/api/v2/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.content
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]

    out = _post(
        client, "/api/v2/auth/logout", {}, HTTP_AUTHORIZATION=f"Bearer {new['access_token']}"
    )
    assert out.status_code == 204, out.content
    after = client.get("/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {new['access_token']}")
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "UNAUTHENTICATED"
    again = _post(client, "/api/v2/auth/refresh", {"refresh_token": new["refresh_token"]})
    assert again.status_code == 401


@pytest.mark.django_db
def test_graphql_end_to_end(client):
    created = run_operation(
        client,
        "Register",
        {"input": {"email": "Trin@Matrix.Example", "password": PASSWORD, "fullName": "Trinity"}},
    )
    assert created["data"]["register"]["errors"] == [], created
    assert created["data"]["register"]["user"]["email"] == "trin@matrix.example"

    login = run_operation(client, "Login", {"email": "trin@matrix.example", "password": PASSWORD})
    tokens = login["data"]["login"]["tokens"]
    assert tokens["tokenType"] == "bearer", login

    me = run_operation(client, "Me", token=tokens["accessToken"])
    assert me["data"]["me"]["email"] == "trin@matrix.example", me

    refreshed = run_operation(client, "RefreshToken", {"refreshToken": tokens["refreshToken"]})
    new = refreshed["data"]["refreshToken"]["tokens"]
    assert new["refreshToken"] != tokens["refreshToken"]

    out = run_operation(client, "Logout", token=new["accessToken"])
    assert out["data"]["logout"] == {"ok": True, "errors": []}
    after = run_operation(client, "Me", token=new["accessToken"])
    assert after["data"] is None
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
