"""An exception that escapes every edge (here: the bearer-token lookup the request middleware runs
before any view) answers JSON, never Django's HTML page: 503 ``SERVICE_UNAVAILABLE`` with
``Retry-After`` when a backing service is down (the database, Redis), 500 ``INTERNAL_ERROR``
otherwise; the D9 envelope on REST and everywhere else, a GraphQL error body on ``/graphql/``;
the trace id in the body is the response's ``X-Trace-Id``. No internal text leaks."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.auth_app import middleware

pytestmark = pytest.mark.django_db
SECRET = "connection to 10.0.0.7 refused"


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION="Bearer some.token.value")


def failing_lookup(exc: Exception):
    def lookup(request):
        raise exc

    return lookup


@pytest.mark.parametrize("exc", [OperationalError(SECRET), RedisConnectionError(SECRET)])
def test_a_dependency_down_before_any_view_is_503_with_the_envelope(client, monkeypatch, exc):
    monkeypatch.setattr(middleware, "request_principal", failing_lookup(exc))
    response = client.get("/api/v2/providers")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["trace_id"] == response["X-Trace-Id"]
    assert SECRET not in response.content.decode()


def test_graphql_gets_a_graphql_error_body(client, monkeypatch):
    monkeypatch.setattr(middleware, "request_principal", failing_lookup(OperationalError(SECRET)))
    response = client.post(
        "/graphql/", json.dumps({"query": "{ me { email } }"}), content_type="application/json"
    )
    assert response.status_code == 503 and response["Retry-After"] == "5"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "traceId": response["X-Trace-Id"]}
    assert SECRET not in response.content.decode()


def test_any_other_escaped_exception_is_500_internal_error(client, monkeypatch):
    monkeypatch.setattr(middleware, "request_principal", failing_lookup(RuntimeError(SECRET)))
    response = client.get("/api/v2/providers")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert not response.has_header("Retry-After")
    graphql = client.post("/graphql/", "{}", content_type="application/json")
    assert graphql.status_code == 500
    assert graphql.json()["errors"][0]["extensions"]["code"] == "INTERNAL_ERROR"
    assert SECRET not in response.content.decode() + graphql.content.decode()


def test_a_caused_dependency_failure_counts_too(client, monkeypatch):
    def lookup(request):
        try:
            raise OperationalError(SECRET)
        except OperationalError as exc:
            raise RuntimeError("wrapped") from exc

    monkeypatch.setattr(middleware, "request_principal", lookup)
    assert client.get("/api/v2/providers").status_code == 503
