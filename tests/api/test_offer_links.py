"""``offer: GPUOffer`` on the math core's results: the catalogue offer itself, all of a result's
offers loaded in one query whatever their number (no N+1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.providers.models import GPUOffer
from tests.graphql_client import execute, run_operation
from tests.math_catalogue import make_offer, seed_catalogue

pytestmark = pytest.mark.django_db

LINK = "offer { id gpuType provider { name } benchmark { gpuModel } }"
ENSEMBLE = f"""
mutation E($limit: Int!) {{
  ensembleRecommend(input: {{limit: $limit}}) {{
    errors {{ field }}
    result {{ recommendations {{ offerId offer {{ offerId {LINK} }} }} }}
  }}
}}"""
TOPSIS = f"""
mutation T($limit: Int!) {{
  topsis(input: {{offers: {{limit: $limit}}}}) {{
    errors {{ field }}
    ranking {{ offers {{ offer {{ offerId {LINK} }} }} }}
  }}
}}"""
ESTIMATE = f"""
query W($limit: Int!) {{
  estimateWorkload(
    workload: {{workloadType: LLM_INFERENCE, paramsBillion: 7, requests: 100}}, limit: $limit
  ) {{ offers {{ offerId {LINK} }} }}
}}"""


def summaries(operation: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    if operation == "ensemble":
        payload = data["ensembleRecommend"]
        assert payload["errors"] == []
        return [r["offer"] for r in payload["result"]["recommendations"]]
    if operation == "topsis":
        payload = data["topsis"]
        assert payload["errors"] == []
        return [r["offer"] for r in payload["ranking"]["offers"]]
    return list(data["estimateWorkload"]["offers"])


def run(client, document: str, limit: int) -> tuple[dict[str, Any], int]:
    with CaptureQueriesContext(connection) as queries:
        body = execute(client, document, {"limit": limit})
    assert "errors" not in body, body
    offer_queries = [q for q in queries.captured_queries if "gpu_offers" in q["sql"]]
    return body["data"], len(offer_queries)


@pytest.fixture
def catalogue(benchmarks):
    offers = seed_catalogue()
    for i in range(12):  # more offers than the small request ranks
        offers[f"extra{i}"] = make_offer(gpu_type="L40S", price=f"1.{i:02d}00", region=f"r{i}")
    return offers


@pytest.mark.parametrize(
    ("operation", "document"), [("ensemble", ENSEMBLE), ("topsis", TOPSIS), ("estimate", ESTIMATE)]
)
def test_linked_offers_cost_the_same_queries_for_two_or_twenty_results(
    client, catalogue, operation, document
):
    by_id = {str(offer.id): offer for offer in catalogue.values()}
    few, few_queries = run(client, document, 2)
    many, many_queries = run(client, document, 20)
    assert len(summaries(operation, few)) == 2 and len(summaries(operation, many)) == 20
    assert few_queries == many_queries
    _, unlinked_queries = run(client, document.replace(LINK, ""), 20)
    # One query loads every linked offer with its provider and benchmark joined.
    assert many_queries == unlinked_queries + 1
    for summary in summaries(operation, many):
        offer = by_id[summary["offerId"]]
        linked = summary["offer"]
        assert linked["id"] == summary["offerId"]
        assert linked["gpuType"] == offer.gpu_type
        assert linked["provider"]["name"] == offer.provider.name
        assert linked["benchmark"]["gpuModel"] == offer.benchmark.gpu_model


def test_frontend_operations_carry_the_catalogue_card(client, catalogue):
    data = run_operation(client, "EnsembleRecommend", {"input": {"limit": 3}})
    recommendations = data["data"]["ensembleRecommend"]["result"]["recommendations"]
    assert len(recommendations) == 3
    for item in recommendations:
        card = item["offer"]["offer"]
        offer = GPUOffer.objects.select_related("provider").get(pk=item["offerId"])
        assert card["id"] == item["offerId"] == item["offer"]["offerId"]
        assert card["pricePerHour"] == f"{offer.price_per_hour:.4f}"
        assert card["provider"]["displayName"] == offer.provider.display_name
