"""TOPSIS through both facades: the legacy REST calculator, the GraphQL mutation, TOPSIS over
offers, and every kind of bad input — a clear error, never a 500 or a NaN."""

import json

import pytest

from apps.math_core.models import RecommendationRun
from tests.graphql_client import run_operation
from tests.math_catalogue import seed_catalogue

pytestmark = pytest.mark.django_db

# Hwang & Yoon (1981), pp. 133-134 — see tests/unit/test_topsis.py.
AIRCRAFT = {
    "matrix": [
        [2.0, 1500, 20000, 5.5, 5, 9],
        [2.5, 2700, 18000, 6.5, 3, 5],
        [1.8, 2000, 21000, 4.5, 7, 7],
        [2.2, 1800, 20000, 5.0, 5, 5],
    ],
    "weights": [0.2, 0.1, 0.1, 0.1, 0.2, 0.3],
    "criteria_types": ["benefit", "benefit", "benefit", "cost", "benefit", "benefit"],
}


def rest(client, body, path="topsis", **headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        f"/api/v2/math/{path}", data=data, content_type="application/json", **headers
    )


def gql_alternatives(client, body):
    alternatives = {
        "matrix": body["matrix"],
        "weights": body["weights"],
        "criteriaTypes": [t.upper() for t in body["criteria_types"]],
    }
    if "normalization" in body:
        alternatives["normalization"] = body["normalization"].upper()
    return run_operation(client, "Topsis", {"input": {"alternatives": alternatives}})


def test_legacy_rest_calculator_reproduces_the_published_example(client):
    response = rest(client, AIRCRAFT)
    assert response.status_code == 200
    body = response.json()
    assert body["scores"] == pytest.approx([0.643, 0.268, 0.613, 0.312], abs=1e-3)
    assert body["ranking"] == [0, 2, 3, 1]
    assert body["ranks"] == [1, 4, 2, 3]


def test_graphql_mutation_agrees_with_rest(client):
    rest_body = rest(client, {**AIRCRAFT, "normalization": "minmax"}).json()
    gql = gql_alternatives(client, {**AIRCRAFT, "normalization": "minmax"})["data"]["topsis"]
    assert gql["errors"] == [] and gql["ranking"] is None
    assert gql["scores"]["scores"] == pytest.approx(rest_body["scores"])
    assert gql["scores"]["ranking"] == rest_body["ranking"]


def test_degenerate_input_has_defined_answers(client):
    identical = rest(
        client, {"matrix": [[1, 2]] * 3, "weights": [1, 1], "criteria_types": ["benefit", "cost"]}
    )
    assert identical.json() == {"scores": [0.5, 0.5, 0.5], "ranking": [0, 1, 2], "ranks": [1, 1, 1]}
    single = rest(
        client, {"matrix": [[4, 0]], "weights": [1, 1], "criteria_types": ["benefit", "cost"]}
    )
    assert single.json() == {"scores": [0.5], "ranking": [0], "ranks": [1]}


BAD_INPUTS = [
    ({"matrix": [[1, 2]], "weights": [1], "criteria_types": ["benefit", "cost"]}, "weights"),
    ({"matrix": [[1, 2]], "weights": [1, 0], "criteria_types": ["benefit", "cost"]}, "weights"),
    ({"matrix": [[1, 2]], "weights": [1, 1], "criteria_types": ["benefit"]}, "criteria_types"),
    ({"matrix": [[1, -2]], "weights": [1, 1], "criteria_types": ["benefit", "cost"]}, "matrix"),
    ({"matrix": [], "weights": [], "criteria_types": []}, "matrix"),
    ({"matrix": [[1, 2], [3]], "weights": [1, 1], "criteria_types": ["benefit", "cost"]}, "matrix"),
    ({"matrix": [[1.0]] * 10_001, "weights": [1], "criteria_types": ["benefit"]}, "matrix"),
]


@pytest.mark.parametrize(("body", "field"), BAD_INPUTS)
def test_bad_input_is_a_422_naming_the_field_and_a_field_error_on_graphql(client, body, field):
    response = rest(client, body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in {d["field"] for d in error["details"]}
    payload = gql_alternatives(client, body)["data"]["topsis"]
    assert payload["scores"] is None
    assert payload["errors"][0]["field"] == field
    assert payload["errors"][0]["message"] == error["message"]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected(client, token):
    template = '{"matrix": MATRIX, "weights": WEIGHTS, "criteria_types": ["benefit", "cost"]}'
    raw = template.replace("MATRIX", f"[[1, {token}]]").replace("WEIGHTS", "[1, 1]")
    response = rest(client, raw)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "matrix"
    weights = template.replace("MATRIX", "[[1, 2]]").replace("WEIGHTS", f"[1, {token}]")
    assert rest(client, weights).json()["error"]["details"][0]["field"] == "weights"


def test_schema_level_errors_name_the_field(client):
    bad_type = rest(client, {"matrix": [[1]], "weights": [1], "criteria_types": ["price"]})
    assert bad_type.status_code == 422
    assert bad_type.json()["error"]["details"][0]["field"].startswith("criteria_types")
    bad_norm = rest(client, {**AIRCRAFT, "normalization": "zscore"})
    assert bad_norm.json()["error"]["details"][0]["field"] == "normalization"
    missing = rest(client, {"matrix": [[1]]})
    assert {d["field"] for d in missing.json()["error"]["details"]} == {"weights", "criteria_types"}
    gql = run_operation(
        client,
        "Topsis",
        {"input": {"alternatives": {"matrix": [[1]], "weights": [1], "criteriaTypes": ["PRICE"]}}},
    )
    assert gql["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    both = run_operation(
        client,
        "Topsis",
        {
            "input": {
                "alternatives": {"matrix": [[1]], "weights": [1], "criteriaTypes": ["COST"]},
                "offers": {},
            }
        },
    )
    assert "exactly one key" in both["errors"][0]["message"]


def test_an_oversized_body_is_a_413_envelope(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = rest(
        client,
        {
            "matrix": [[1.123456789] * 8] * 200,
            "weights": [1] * 8,
            "criteria_types": ["benefit"] * 8,
        },
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_topsis_over_offers_on_both_facades(client, benchmarks, user, auth_header, user_token):
    seed_catalogue()
    body = {
        "filter": {"is_spot": False},
        "criteria": [
            {"criterion": "price_per_hour", "weight": 2},
            {"criterion": "total_tflops", "weight": 1},
        ],
        "limit": 4,
    }
    response = rest(client, body, path="topsis-offers", **auth_header)
    assert response.status_code == 200
    ranking = response.json()
    assert ranking["ranked_count"] == 6  # eight offers, two of them spot
    assert [c["criterion"] for c in ranking["criteria"]] == ["price_per_hour", "total_tflops"]
    assert ranking["criteria"][0]["weight"] == pytest.approx(2 / 3)
    assert all(not o["offer"]["is_spot"] for o in ranking["offers"])
    assert RecommendationRun.objects.get(pk=ranking["run_id"]).user == user
    gql = run_operation(
        client,
        "Topsis",
        {
            "input": {
                "offers": {
                    "filter": {"isSpot": False},
                    "criteria": [
                        {"criterion": "PRICE_PER_HOUR", "weight": 2},
                        {"criterion": "TOTAL_TFLOPS", "weight": 1},
                    ],
                    "limit": 4,
                }
            }
        },
        token=user_token,
    )["data"]["topsis"]
    assert gql["errors"] == []
    assert [o["offer"]["offerId"] for o in gql["ranking"]["offers"]] == [
        o["offer"]["offer_id"] for o in ranking["offers"]
    ]
    assert [o["score"] for o in gql["ranking"]["offers"]] == pytest.approx(
        [o["score"] for o in ranking["offers"]]
    )


def test_topsis_over_offers_rejects_workload_criteria_and_bad_tokens(client, benchmarks):
    body = {"criteria": [{"criterion": "total_cost", "weight": 1}]}
    response = rest(client, body, path="topsis-offers")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "criteria"
    gql = run_operation(
        client, "Topsis", {"input": {"offers": {"criteria": [{"criterion": "TOTAL_COST"}]}}}
    )["data"]["topsis"]
    assert gql["errors"][0]["field"] == "criteria"
    bad_token = rest(client, {}, path="topsis-offers", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad_token.status_code == 401
    gql_bad = run_operation(client, "Topsis", {"input": {"offers": {}}}, token="not-a-token")
    assert gql_bad["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
