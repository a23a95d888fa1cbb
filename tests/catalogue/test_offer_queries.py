"""SQL query counts: a fixed number per request whatever the page size (no N+1), with nested
provider, benchmark and price history; fewer when the page's ids come from the cache."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.providers.models import GPUOffer, PriceHistory
from tests.catalogue_factories import GPU_SPELLINGS, benchmark_index, build_offer, make_provider
from tests.graphql_client import execute, run_operation

pytestmark = pytest.mark.django_db

HISTORY_PER_OFFER = 4


@pytest.fixture
def hundred_offers(benchmarks) -> list[GPUOffer]:
    providers = [make_provider(name) for name in ("runpod", "vastai", "lambda")]
    index = benchmark_index()
    offers = [
        build_offer(
            providers[n % 3],
            gpu=GPU_SPELLINGS[n % len(GPU_SPELLINGS)],
            benchmarks=index,
            price_per_hour=Decimal(n + 1) / 4,
            gpu_count=1 + n % 4,
        )
        for n in range(120)
    ]
    GPUOffer.objects.bulk_create(offers)
    now = timezone.now()
    PriceHistory.objects.bulk_create(
        PriceHistory(
            offer=offer,
            price_per_hour=offer.price_per_hour + step,
            availability_status=offer.availability_status,
        )
        for offer in offers
        for step in range(HISTORY_PER_OFFER)
    )
    rows = list(PriceHistory.objects.order_by("id"))
    for position, row in enumerate(rows):
        row.recorded_at = now - timedelta(minutes=position)
    PriceHistory.objects.bulk_update(rows, ["recorded_at"])
    return offers


@pytest.mark.parametrize("size", [1, 20, 100])
def test_graphql_page_with_provider_benchmark_and_history_is_three_queries(
    client, hundred_offers, django_assert_num_queries, size, settings
):
    # 100 offers with 3 history rows each cost 1,104 points, over the default cap of 1,000
    # (schema/cost.py): the query count is what this test is about.
    settings.GRAPHQL_COST_MAX_PER_OPERATION = 2000
    variables = {"first": size, "historyFirst": 3}
    # COUNT, the page (provider and benchmark joined), the latest 3 changes of every offer.
    with django_assert_num_queries(3):
        data = run_operation(client, "OfferSearchWithHistory", variables)
    edges = data["data"]["offers"]["edges"]
    assert len(edges) == size and data["data"]["offers"]["totalCount"] == 120
    assert all(len(edge["node"]["priceHistory"]) == 3 for edge in edges)
    assert all(edge["node"]["provider"]["name"] for edge in edges)
    assert any(edge["node"]["benchmark"] for edge in edges) or size == 1
    # Cached ids and total: the rows by primary key and their history.
    with django_assert_num_queries(2):
        again = run_operation(client, "OfferSearchWithHistory", variables)
    assert again == data


@pytest.mark.parametrize("size", [1, 20, 100])
def test_nested_provider_offer_counts_stay_one_query(
    client, hundred_offers, django_assert_num_queries, size
):
    query = """query ($first: Int) { offers(first: $first) { edges { node { id
        provider { name offerCount availableOfferCount } } } } }"""
    # COUNT, the page, the page's providers with their offer counts (one grouped query).
    with django_assert_num_queries(3):
        data = execute(client, query, {"first": size})
    counts = {edge["node"]["provider"]["offerCount"] for edge in data["data"]["offers"]["edges"]}
    assert counts == {40}


@pytest.mark.parametrize("size", [1, 20, 100])
def test_rest_page_takes_3_queries_then_1(client, hundred_offers, django_assert_num_queries, size):
    # count, page, and the market rows the anomaly flags compare with; then only the page (its
    # ids and total, the peer scales and the page's flags are cached per catalogue version)
    with django_assert_num_queries(3):
        body = client.get("/api/v2/providers", {"per_page": size}).json()
    assert len(body["items"]) == size and body["total"] == 120
    with django_assert_num_queries(1):
        assert client.get("/api/v2/providers", {"per_page": size}).json() == body


def test_offer_detail_and_provider_list_query_counts(
    client, hundred_offers, django_assert_num_queries
):
    offer = hundred_offers[7]
    with django_assert_num_queries(2):  # the offer with provider and benchmark, its history
        detail = run_operation(client, "OfferDetail", {"id": str(offer.id)})
    assert len(detail["data"]["offer"]["priceHistory"]) == HISTORY_PER_OFFER
    with django_assert_num_queries(1):
        providers = run_operation(client, "ProviderList")
    assert [p["offerCount"] for p in providers["data"]["providers"]] == [40, 40, 40]
