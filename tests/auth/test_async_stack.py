"""Through Django's ASGI handler (AsyncClient): the async middleware path authenticates the
bearer token once, and GraphQL permission checks then run without ORM calls in async code."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import override_settings

from apps.auth_app import services


@pytest.fixture(autouse=True)
async def _close_executor_connections():
    yield
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
async def test_graphql_and_rest_over_asgi(async_client, user):
    token = (await sync_to_async(services.issue_tokens)(user))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    response = await async_client.post(
        "/graphql/",
        data=json.dumps({"query": "{ me { email mySessionsAlias: id } mySessions { current } }"}),
        content_type="application/json",
        headers=headers,
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["me"]["email"] == user.email
    assert body["data"]["mySessions"] == [{"current": True}]
    rest = await async_client.get("/api/v2/auth/me", headers=headers)
    assert rest.status_code == 200
    anonymous = await async_client.post(
        "/graphql/", data=json.dumps({"query": "{ me { email } }"}), content_type="application/json"
    )
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.django_db(transaction=True)
@override_settings(RATE_LIMIT_REQUESTS_ENABLED=True, RATE_LIMIT_ANONYMOUS_RPS=1)
async def test_rate_limit_over_asgi(async_client):
    statuses = []
    for _ in range(10):
        response = await async_client.get("/api/v2/math/benchmarks")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response["Retry-After"]) >= 1
            break
    assert statuses[-1] == 429
