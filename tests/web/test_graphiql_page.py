"""The GraphiQL page (offline build, served only when ``GRAPHQL_GRAPHIQL`` is on) and the clear
error a subscription sent over plain HTTP gets."""

from __future__ import annotations

import pytest
from django.test import override_settings

from gpubroker.web import vendor

pytestmark = pytest.mark.django_db


@override_settings(GRAPHQL_GRAPHIQL=True)
def test_graphiql_page_uses_only_local_pinned_assets(client):
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="graphiql-config"' in html and "graphiql-page.js" in html
    for file in vendor.FILES:
        assert file.static_path in html and file.integrity in html
    assert "unpkg" not in html and "https://" not in html


@override_settings(GRAPHQL_GRAPHIQL=True)
def test_the_query_parameter_prefills_the_editor(client):
    html = client.get("/graphql/?q={ me { email } }", HTTP_ACCEPT="text/html").content.decode()
    assert "{ me { email } }" in html


@override_settings(GRAPHQL_GRAPHIQL=False)
def test_no_graphiql_when_off(client):
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert "graphiql" not in response.content.decode().lower()


@pytest.mark.parametrize(
    "query, operation",
    [
        ("subscription { priceUpdates { offerId } }", None),
        ("query A { benchmarks { gpuModel } } subscription B { priceUpdates { offerId } }", "B"),
    ],
)
def test_a_subscription_over_http_gets_a_clear_documented_error(client, query, operation):
    response = client.post(
        "/graphql/", {"query": query, "operationName": operation}, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "SUBSCRIPTION_REQUIRES_WEBSOCKET"
    assert "WebSocket" in error["message"] and "graphql-transport-ws" in error["message"]


def test_a_query_beside_a_subscription_still_runs_over_http(client, benchmarks):
    query = "query A { benchmarks { gpuModel } } subscription B { priceUpdates { offerId } }"
    response = client.post(
        "/graphql/", {"query": query, "operationName": "A"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["data"]["benchmarks"]
