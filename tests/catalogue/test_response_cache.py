"""The response cache for public operations and HTTP caching of public GETs
(``schema/response_cache.py``, ``schema/http_caching.py``): no response of one user ever reaches
another, a sync's change is visible on the very next request, 304 on a matching ETag, and the
guards (errors, rate limits, resolvers that read the viewer). Runs on SQLite and on PostgreSQL +
Redis (CI's second run), where the cache is the shared Redis."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from apps.providers import offer_cache
from apps.providers.events import OfferChange, publish_offer_changes
from apps.providers.models import GPUOffer
from tests.auth_fixtures import bearer
from tests.graphql_client import operation_document

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_cache_on")]

PAGE = "query Page { offers(first: 50) { totalCount edges { node { id pricePerHour } } } }"
ME = "query Me { me { email fullName } }"


@pytest.fixture
def _cache_on():
    with override_settings(GRAPHQL_RESPONSE_CACHE_SECONDS=30):
        yield


def post(client, query: str, variables: dict[str, Any] | None = None, /, **headers: Any):
    body = {"query": query, "variables": variables or {}}
    return client.post(
        "/graphql/", data=json.dumps(body), content_type="application/json", **headers
    )


def get(client, query: str, variables: dict[str, Any] | None = None, /, **headers: Any):
    params = {"query": query}
    if variables is not None:
        params["variables"] = json.dumps(variables)
    return client.get("/graphql/?" + urlencode(params), **headers)


def offer_queries(callable_: Any) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        response = callable_()
    return response, sum("gpu_offers" in q["sql"] for q in queries.captured_queries)


def test_a_public_operation_is_answered_from_the_cache(client, catalogue):
    first, first_reads = offer_queries(lambda: post(client, PAGE))
    second, second_reads = offer_queries(lambda: post(client, PAGE))
    assert first["X-GraphQL-Cache"] == "miss" and first_reads >= 1
    assert second["X-GraphQL-Cache"] == "hit" and second_reads == 0
    assert second.content == first.content
    assert len(second.json()["data"]["offers"]["edges"]) == 12
    assert second["Cache-Control"] == "private, no-store"  # POST: never stored by HTTP caches


def test_other_variables_and_operation_names_are_other_entries(client, catalogue):
    query = operation_document("OfferSearch")
    one = post(client, query, {"first": 1})
    two = post(client, query, {"first": 2})
    assert (one["X-GraphQL-Cache"], two["X-GraphQL-Cache"]) == ("miss", "miss")
    assert len(one.json()["data"]["offers"]["edges"]) == 1
    assert len(two.json()["data"]["offers"]["edges"]) == 2
    assert post(client, query, {"first": 2})["X-GraphQL-Cache"] == "hit"


def test_no_response_of_one_user_reaches_another(client, make_user):
    ada = make_user("ada@acme.example", tenant="Acme", full_name="Ada")
    bob = make_user("bob@globex.example", tenant="Globex", full_name="Bob")
    mixed = "{ offers(first: 1) { totalCount } me { email fullName } }"
    for query in (ME, mixed):
        for viewer, email in ((ada, "ada@acme.example"), (bob, "bob@globex.example")) * 2:
            response = post(client, query, **bearer(viewer))
            assert response.json()["data"]["me"]["email"] == email
            assert "X-GraphQL-Cache" not in response  # private: never looked up, never stored
            assert response["Cache-Control"] == "private, no-store"
        anonymous = post(client, query).json()
        assert anonymous["data"] is None or anonymous["data"].get("me") is None
    # The same, over GET: a private operation gets no ETag and must not be stored anywhere.
    response = get(client, ME, **bearer(ada))
    assert response["Cache-Control"] == "private, no-store" and "ETag" not in response


def test_a_public_field_that_reads_the_viewer_is_not_cached(client, catalogue, user, caplog):
    # A field wrongly marked PUBLIC whose resolver asks who is calling: the request is flagged
    # and the response is not stored (and the mistake is logged).
    from schema import providers as offers_schema
    from schema.permissions import current_principal

    original = offers_schema._loader

    def loader_reading_the_viewer(info: Any) -> Any:
        current_principal(info)
        return original(info)

    with mock.patch.object(offers_schema, "_loader", loader_reading_the_viewer):
        first = post(client, PAGE, **bearer(user))
        second = post(client, PAGE)
    assert first["X-GraphQL-Cache"] == "miss"
    assert second["X-GraphQL-Cache"] == "miss"  # nothing was stored
    assert "wrongly marked PUBLIC" in caplog.text


def test_a_sync_change_is_visible_on_the_very_next_request(
    client, catalogue, django_capture_on_commit_callbacks
):
    offer = catalogue.offers["h100_runpod"]
    before = post(client, PAGE).json()
    assert post(client, PAGE)["X-GraphQL-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        GPUOffer.objects.filter(pk=offer.pk).update(price_per_hour=Decimal("0.0500"))
        publish_offer_changes(
            "runpod",
            [
                OfferChange(
                    kind="changed",
                    offer_id=str(offer.pk),
                    gpu_count=offer.gpu_count,
                    provider="runpod",
                    gpu_model=offer.gpu_type,
                    region=offer.region,
                    country=offer.country,
                    is_spot=offer.is_spot,
                    old_price_per_hour=offer.price_per_hour,
                    new_price_per_hour=Decimal("0.0500"),
                    old_availability="available",
                    new_availability="available",
                    changed_at=offer.updated_at,
                )
            ],
        )
    after = post(client, PAGE)
    assert after["X-GraphQL-Cache"] == "miss"
    prices = {
        e["node"]["id"]: e["node"]["pricePerHour"] for e in after.json()["data"]["offers"]["edges"]
    }
    assert prices[str(offer.pk)] == "0.0500"
    assert after.json() != before


def test_a_real_sync_from_the_replay_moves_the_version(
    client, benchmarks, django_capture_on_commit_callbacks
):
    from apps.providers.services import load_demo_data, replay_tick

    load_demo_data()
    query = (
        "{ offers(first: 100, orderBy: PRICE) "
        "{ totalCount edges { node { id pricePerHour availabilityStatus } } } }"
    )
    post(client, query)
    cached = post(client, query)
    assert cached["X-GraphQL-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        reports = replay_tick(5)
    assert any(report.changed for report in reports)
    fresh = post(client, query)
    assert fresh["X-GraphQL-Cache"] == "miss"
    rows = {
        str(o.pk): f"{o.price_per_hour:.4f}"
        for o in GPUOffer.objects.order_by("price_per_hour", "id")[:100]
    }
    assert {
        e["node"]["id"]: e["node"]["pricePerHour"] for e in fresh.json()["data"]["offers"]["edges"]
    } == rows


def test_get_carries_etag_and_revalidation_answers_304(client, catalogue):
    first = get(client, PAGE)
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=0, must-revalidate"
    etag = first["ETag"]
    assert etag.startswith('"') and len(etag) == 34
    with CaptureQueriesContext(connection) as queries:
        revalidated = get(client, PAGE, HTTP_IF_NONE_MATCH=f'W/"other", {etag}')
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated["ETag"] == etag
    assert not [q for q in queries.captured_queries if "gpu_offers" in q["sql"]]
    # Another ETag (e.g. from before a sync) gets the full response.
    assert get(client, PAGE, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    offer_cache.bump_version()
    after_sync = get(client, PAGE, HTTP_IF_NONE_MATCH=etag)
    assert after_sync.status_code == 200 and after_sync["ETag"] != etag


def test_http_max_age_is_a_setting(client, catalogue):
    with override_settings(GRAPHQL_HTTP_MAX_AGE=15):
        assert get(client, PAGE)["Cache-Control"] == "public, max-age=15, must-revalidate"


def test_responses_with_errors_are_not_cached(client, catalogue):
    bad = "{ offers(first: 500) { totalCount } }"  # over the page-size limit: a typed error
    first = post(client, bad)
    assert first.json()["errors"]
    assert post(client, bad)["Cache-Control"] == "private, no-store"
    assert "X-GraphQL-Cache" not in post(client, bad)


def test_a_rate_limited_request_is_not_answered_from_the_cache(client, catalogue):
    post(client, PAGE)
    assert post(client, PAGE)["X-GraphQL-Cache"] == "hit"
    with override_settings(RATE_LIMIT_REQUESTS_ENABLED=True, RATE_LIMIT_ANONYMOUS_RPS=1):
        codes = []
        for _ in range(5):
            body = post(client, PAGE).json()
            codes.append(body.get("errors", [{}])[0].get("extensions", {}).get("code"))
    assert "RATE_LIMITED" in codes


def test_zero_ttl_turns_the_cache_off(client, catalogue):
    with override_settings(GRAPHQL_RESPONSE_CACHE_SECONDS=0):
        post(client, PAGE)
        second, reads = offer_queries(lambda: post(client, PAGE))
    assert "X-GraphQL-Cache" not in second and reads >= 1


def test_cache_down_serves_from_the_database_and_logs(client, catalogue, caplog):
    from schema import response_cache

    class Broken:
        def get(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("redis is down")

        set = add = incr = get

    offer_cache.reset_breaker()
    with (
        mock.patch.object(response_cache, "_cache", lambda: Broken()),
        mock.patch.object(offer_cache, "_cache", lambda: Broken()),
    ):
        response = post(client, PAGE)
    offer_cache.reset_breaker()
    assert response.status_code == 200
    assert len(response.json()["data"]["offers"]["edges"]) == 12
    assert "unavailable" in caplog.text
