"""One offer filter, one meaning: the offers the catalogue search returns (GraphQL ``offers``,
REST ``GET /api/v2/providers``) are exactly the offers TOPSIS, the ensemble and the workload
estimate consider for the same filter (both facades each)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.providers.models import Availability
from tests.catalogue.facades import graphql_filter, graphql_ids, rest_ids
from tests.graphql_client import run_operation
from tests.math_catalogue import make_offer, seed_catalogue

pytestmark = pytest.mark.django_db

# Filters the math core's former own filter could not express (vendor, substring search, total
# VRAM, country codes), plus the catalogue's availability and spot semantics.
FILTERS: list[dict[str, Any]] = [
    {"vendor": "nvidia", "gpu_count_max": 4, "price_max": "3.5000"},
    {"gpu_type": "a100", "country": ["us", "RO"], "availability": ["available", "unavailable"]},
    {"total_vram_gb_min": 80, "is_spot": False, "availability": ["limited", "unavailable"]},
    {"gpu_model": ["h100_sxm5", "RTX 4090"], "provider_name": ["RunPod", "vastai"]},
]
RENTABLE = ["available", "limited"]


@pytest.fixture
def catalogue(benchmarks):
    offers = seed_catalogue()
    offers["gone"] = make_offer(
        provider_name="lambda",
        gpu_type="A100 SXM 80GB",
        price="1.1000",
        region="us-east-1",
        external_id="gone",
        availability_status=Availability.UNAVAILABLE,
    )
    offers["scarce"] = make_offer(
        provider_name="runpod",
        gpu_type="H100 SXM 80GB",
        price="3.1000",
        external_id="scarce",
        availability_status=Availability.LIMITED,
    )
    return offers


def post(client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        f"/api/v2/math/{path}", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def considered_by_math_core(client, params: dict[str, Any]) -> dict[str, set[str]]:
    """Offer ids each recommender ranks for the filter (price is defined for every offer, and
    every seeded offer has a benchmark, so ranking drops none of the candidates)."""
    gql_filter = graphql_filter(params)
    price = [{"criterion": "PRICE_PER_HOUR", "weight": 1}]
    topsis = run_operation(
        client,
        "Topsis",
        {"input": {"offers": {"filter": gql_filter, "criteria": price, "limit": 100}}},
    )["data"]["topsis"]
    assert topsis["errors"] == []
    ensemble = run_operation(
        client, "EnsembleRecommend", {"input": {"filter": gql_filter, "limit": 100}}
    )["data"]["ensembleRecommend"]
    assert ensemble["errors"] == []
    workload = {"workloadType": "LLM_INFERENCE", "paramsBillion": 1, "requests": 10}
    estimate = run_operation(
        client, "EstimateWorkload", {"workload": workload, "filter": gql_filter, "limit": 200}
    )["data"]["estimateWorkload"]
    rest_topsis = post(
        client,
        "topsis-offers",
        {"filter": params, "criteria": [{"criterion": "price_per_hour"}], "limit": 100},
    )
    rest_ensemble = post(client, "ensemble-recommend", {"filter": params, "limit": 100})
    for counted in (topsis["ranking"], ensemble["result"], rest_topsis, rest_ensemble):
        counted_total = counted.get("candidateCount", counted.get("candidate_count"))
        assert counted_total == len(counted.get("offers") or counted["recommendations"])
    return {
        "graphql topsis": {o["offer"]["offerId"] for o in topsis["ranking"]["offers"]},
        "graphql ensemble": {r["offerId"] for r in ensemble["result"]["recommendations"]},
        "graphql estimate": {o["offerId"] for o in estimate["offers"]},
        "rest topsis": {o["offer"]["offer_id"] for o in rest_topsis["offers"]},
        "rest ensemble": {r["offer"]["offer_id"] for r in rest_ensemble["recommendations"]},
    }


@pytest.mark.parametrize("params", FILTERS)
def test_the_recommenders_consider_exactly_the_offers_the_search_returns(
    client, catalogue, params, settings
):
    # Every candidate at the largest limit (100 explained recommendations cost ~3,300 points,
    # over the default cap of schema/cost.py): parity is what this test is about.
    settings.GRAPHQL_COST_MAX_PER_OPERATION = 10_000
    # Without availability the recommenders consider rentable offers only (their default).
    search = params if "availability" in params else {**params, "availability": RENTABLE}
    searched, total = graphql_ids(client, {"filter": graphql_filter(search)})
    rest_searched, rest_total = rest_ids(client, search)
    assert set(searched) == set(rest_searched) and total == rest_total == len(searched)
    assert 0 < total < len(catalogue)  # the filter selects: neither nothing nor everything
    for facade, ids in considered_by_math_core(client, params).items():
        assert ids == set(searched), facade


def test_a_bad_filter_is_the_same_error_on_every_facade(client, catalogue):
    params = {"vram_gb_min": 80, "vram_gb_max": 40}
    search = client.get("/api/v2/providers", params)
    assert search.status_code == 422
    assert search.json()["error"]["details"][0]["field"] == "vram_gb_min"
    response = client.post(
        "/api/v2/math/topsis-offers",
        data=json.dumps({"filter": params}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "vram_gb_min"
    gql = run_operation(client, "EnsembleRecommend", {"input": {"filter": graphql_filter(params)}})[
        "data"
    ]["ensembleRecommend"]
    assert gql["result"] is None and gql["errors"][0]["field"] == "vram_gb_min"
