"""Ensemble recommendations and interactions through both facades."""

import json

import pytest

from apps.math_core.models import OfferInteraction, RecommendationRun
from tests.auth_fixtures import bearer
from tests.graphql_client import run_operation
from tests.math_catalogue import seed_catalogue

pytestmark = pytest.mark.django_db

WORKLOAD = {
    "workload_type": "llm_inference",
    "params_billion": 8,
    "requests": 20_000,
    "num_kv_heads": 8,
}
GQL_WORKLOAD = {
    "workloadType": "LLM_INFERENCE",
    "paramsBillion": 8,
    "requests": 20_000,
    "numKvHeads": 8,
}


@pytest.fixture
def catalogue(benchmarks):
    return seed_catalogue()


def rest(client, path, body, **headers):
    return client.post(
        f"/api/v2/math/{path}", data=json.dumps(body), content_type="application/json", **headers
    )


def test_rest_and_graphql_recommend_the_same_offers(
    client, catalogue, user, auth_header, user_token
):
    body = {"workload": WORKLOAD, "preferences": {"regions": ["US"]}, "limit": 5}
    response = rest(client, "ensemble-recommend", body, **auth_header)
    assert response.status_code == 200
    result = response.json()
    assert result["feasible"] and len(result["recommendations"]) == 5
    top = result["recommendations"][0]
    assert top["rank"] == 1 and top["total_cost"] is not None
    assert [c["name"] for c in top["explanation"]["components"]] == [
        "topsis",
        "collaborative",
        "content",
    ]
    assert sum(c["contribution"] for c in top["explanation"]["components"]) == pytest.approx(
        top["score"]
    )
    assert any(d["criterion"] == "region" for d in top["explanation"]["deciding_criteria"])
    run = RecommendationRun.objects.get(pk=result["run_id"])
    assert run.user == user and run.inputs["preferences"]["regions"] == ["US"]
    gql = run_operation(
        client,
        "EnsembleRecommend",
        {"input": {"workload": GQL_WORKLOAD, "preferences": {"regions": ["US"]}, "limit": 5}},
        token=user_token,
    )["data"]["ensembleRecommend"]
    assert gql["errors"] == []
    recs = gql["result"]["recommendations"]
    assert [r["offerId"] for r in recs] == [
        r["offer"]["offer_id"] for r in result["recommendations"]
    ]
    assert [r["score"] for r in recs] == pytest.approx(
        [r["score"] for r in result["recommendations"]]
    )
    assert recs[0]["explanation"]["summary"] == top["explanation"]["summary"]
    assert gql["result"]["effectiveWeights"] == result["effective_weights"]


def test_weights_are_chosen_per_request(client, catalogue):
    cheapest = rest(
        client,
        "ensemble-recommend",
        {
            "weights": {"topsis": 1, "collaborative": 0, "content": 0},
            "preferences": {"criteria": [{"criterion": "price_per_hour"}]},
        },
    ).json()
    assert cheapest["recommendations"][0]["offer"]["gpu_type"] == "RTX 4090"
    assert cheapest["effective_weights"] == {"topsis": 1.0, "collaborative": 0.0, "content": 0.0}
    biggest = rest(
        client,
        "ensemble-recommend",
        {
            "weights": {"topsis": 1, "collaborative": 0, "content": 0},
            "preferences": {"criteria": [{"criterion": "total_vram_gb"}]},
        },
    ).json()
    assert biggest["recommendations"][0]["offer"]["gpu_count"] == 8


def test_an_impossible_workload_gets_the_reason(client, catalogue):
    body = {"workload": {"workload_type": "fine_tune_full", "params_billion": 300, "tokens": 1e9}}
    result = rest(client, "ensemble-recommend", body).json()
    assert result["feasible"] is False and result["recommendations"] == []
    assert "GPU memory" in result["reason"] and result["excluded"]["insufficient_memory"] == 8
    gql = run_operation(
        client,
        "EnsembleRecommend",
        {
            "input": {
                "workload": {"workloadType": "FINE_TUNE_FULL", "paramsBillion": 300, "tokens": 1e9}
            }
        },
    )["data"]["ensembleRecommend"]
    assert gql["result"]["feasible"] is False and gql["result"]["reason"] == result["reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weights": {"topsis": -1}}, "weights"),
        ({"weights": {"topsis": 0, "collaborative": 0, "content": 0}}, "weights"),
        ({"limit": 0}, "limit"),
        ({"preferences": {"criteria": [{"criterion": "price_per_hour", "weight": -2}]}}, "weights"),
        ({"workload": {"workload_type": "llm_inference", "params_billion": 7}}, "tokens"),
        ({"filter": {"price_max": "-1"}}, "price_max"),
        ({"filter": {"availability": ["gone"]}}, "filter.availability.0"),
        ({"filter": {"vram_gb_min": 80, "vram_gb_max": 40}}, "vram_gb_min"),
    ],
)
def test_bad_requests_are_422_and_field_errors(client, catalogue, body, field):
    response = rest(client, "ensemble-recommend", body)
    assert response.status_code == 422
    assert field in {d["field"] for d in response.json()["error"]["details"]}


def test_graphql_bad_weights_are_payload_errors(client, catalogue):
    data = run_operation(client, "EnsembleRecommend", {"input": {"weights": {"topsis": -1}}})
    payload = data["data"]["ensembleRecommend"]
    assert payload["result"] is None
    assert payload["errors"] == [
        {
            "field": "weights",
            "message": "ensemble weights must be non-negative finite numbers",
            "code": "VALIDATION_ERROR",
        }
    ]


def test_interactions_need_a_user_and_feed_collaborative_filtering(client, catalogue, make_user):
    alice, bob, carol = (make_user(f"{n}@example.com") for n in ("alice", "bob", "carol"))
    h100, a100 = catalogue["h100x1"], catalogue["a100x1"]
    assert (
        rest(client, "interactions", {"offer_id": str(h100.id), "kind": "book"}).status_code == 401
    )
    anonymous = run_operation(
        client, "RecordInteraction", {"input": {"offerId": str(h100.id), "kind": "BOOK"}}
    )
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for person in (alice, bob):
        for offer in (h100, a100):
            created = rest(
                client,
                "interactions",
                {"offer_id": str(offer.id), "kind": "book"},
                **bearer(person),
            )
            assert created.status_code == 201 and created.json()["kind"] == "book"
    token = bearer(carol)["HTTP_AUTHORIZATION"].split()[1]
    viewed = run_operation(
        client,
        "RecordInteraction",
        {"input": {"offerId": str(h100.id), "kind": "VIEW"}},
        token=token,
    )["data"]["recordInteraction"]
    assert viewed["errors"] == [] and viewed["interaction"]["offerId"] == str(h100.id)
    assert OfferInteraction.objects.count() == 5
    result = rest(
        client,
        "ensemble-recommend",
        {"weights": {"topsis": 0, "content": 0, "collaborative": 1}},
        **bearer(carol),
    ).json()
    assert result["collaborative_source"] == "item_item"
    assert result["recommendations"][0]["offer"]["offer_id"] == str(a100.id)
    similar = [
        d
        for d in result["recommendations"][0]["explanation"]["deciding_criteria"]
        if d["source"] == "collaborative"
    ]
    assert similar and similar[0]["effect"] == "similar"


def test_interaction_errors_on_both_facades(client, catalogue, user, auth_header, user_token):
    missing = "00000000-0000-0000-0000-000000000000"
    response = rest(client, "interactions", {"offer_id": missing, "kind": "view"}, **auth_header)
    assert response.status_code == 404
    assert response.json()["error"]["details"][0]["field"] == "offer_id"
    bad_kind = rest(client, "interactions", {"offer_id": missing, "kind": "like"}, **auth_header)
    assert bad_kind.status_code == 422
    gql = run_operation(
        client,
        "RecordInteraction",
        {"input": {"offerId": missing, "kind": "VIEW"}},
        token=user_token,
    )["data"]["recordInteraction"]
    assert gql["interaction"] is None
    assert gql["errors"][0]["field"] == "offer_id" and gql["errors"][0]["code"] == "OFFER_NOT_FOUND"
