"""Cost calculators through both facades: same service, same numbers, same errors."""

import json

import pytest

from tests.graphql_client import run_operation
from tests.math_catalogue import make_offer

pytestmark = pytest.mark.django_db


def rest(client, path, body, **headers):
    return client.post(
        f"/api/v2/math/{path}", data=json.dumps(body), content_type="application/json", **headers
    )


def gql_token_cost(client, **fields):
    data = run_operation(client, "CostPerToken", {"input": fields})
    return data


def test_explicit_rate_by_hand_on_both_facades(client):
    # $2.00/h at 1000 tokens/s: 3.6M tokens per hour -> $0.5556 per million.
    body = rest(client, "cost-per-token", {"price_per_hour": "2.00", "tokens_per_second": 1000})
    assert body.status_code == 200
    assert body.json()["cost_per_million_tokens"] == "0.5556"
    assert body.json()["is_estimate"] is False
    gql = gql_token_cost(client, pricePerHour="2.00", tokensPerSecond=1000)
    assert gql["data"]["costPerToken"]["costPerMillionTokens"] == "0.5556"


def test_rate_from_a_gpu_models_measured_benchmark(client, benchmarks):
    # H100 PCIe: measured 68 tok/s (Llama-3-8B F16, llama.cpp). $2.40/h / (68 x 3600) x 1e6.
    response = rest(
        client, "cost-per-token", {"price_per_hour": "2.40", "gpu_model": "H100 PCIe"}
    ).json()
    assert response["gpu_model"] == "H100 PCIe 80GB"
    assert response["tokens_per_second"] == 68
    assert response["is_estimate"] is False
    assert response["cost_per_million_tokens"] == "9.8039"
    gql = gql_token_cost(client, pricePerHour="2.40", gpuModel="H100 PCIe")["data"]["costPerToken"]
    assert gql["costPerMillionTokens"] == "9.8039" and gql["isEstimate"] is False


def test_unmeasured_gpu_or_model_size_is_labelled_an_estimate(client, benchmarks):
    # The L4 has no llama.cpp measurement: its 8B figure is a bandwidth estimate.
    l4 = rest(client, "cost-per-token", {"price_per_hour": "0.5", "gpu_model": "L4"}).json()
    assert l4["is_estimate"] is True and "estimated from memory bandwidth" in l4["basis"]
    # A 13B model on a measured GPU is scaled from bandwidth, and labelled.
    big = rest(
        client,
        "cost-per-token",
        {"price_per_hour": "2.4", "gpu_model": "H100 PCIe", "model_params_billion": 13},
    ).json()
    assert big["is_estimate"] is True
    assert big["tokens_per_second"] == pytest.approx(68 * 16.06 / 26)


def test_rate_and_price_from_an_offer(client, benchmarks):
    offer = make_offer(gpu_type="RTX 4090", gpu_count=2, price="0.6800", provider_name="vastai")
    response = rest(client, "cost-per-token", {"offer_id": str(offer.id)}).json()
    # Two replicas of the 4090's 54 tok/s: $0.68 / (108 x 3600) x 1e6 = $1.7490.
    assert response["replicas"] == 2 and response["tokens_per_second"] == 108
    assert response["cost_per_million_tokens"] == "1.7490"
    assert response["price_per_hour"] == "0.6800" and response["offer_id"] == str(offer.id)
    gql = gql_token_cost(client, offerId=str(offer.id))["data"]["costPerToken"]
    assert gql["costPerMillionTokens"] == "1.7490" and gql["replicas"] == 2


def test_cost_per_gflop_by_hand_on_both_facades(client, benchmarks):
    # 8 x H100 SXM at FP8 (1979 TFLOPS each) for $24/h:
    # per TFLOP-hour 24 / 15832 = 0.00151592; per GFLOP 24 / (15832 x 1e3 x 3600) = 4.21089e-10
    body = {"price_per_hour": "24", "gpu_model": "H100 SXM", "gpu_count": 8, "precision": "fp8"}
    response = rest(client, "cost-per-gflop", body).json()
    assert response["cost_per_tflop_hour"] == "0.00151592"
    assert float(response["cost_per_gflop"]) == pytest.approx(4.21089e-10)
    assert response["total_tflops"] == 15832
    gql = run_operation(
        client,
        "CostPerGflop",
        {
            "input": {
                "pricePerHour": "24",
                "gpuModel": "H100 SXM",
                "gpuCount": 8,
                "precision": "FP8",
            }
        },
    )["data"]["costPerGflop"]
    assert gql["costPerTflopHour"] == "0.00151592"
    assert gql["costPerGflop"] == response["cost_per_gflop"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"price_per_hour": "1", "tokens_per_second": 5, "gpu_model": "L4"}, "gpu_model"),
        ({"price_per_hour": "1"}, "tokens_per_second"),
        ({"tokens_per_second": 5}, "price_per_hour"),
        ({"price_per_hour": "-1", "tokens_per_second": 5}, "price_per_hour"),
        ({"price_per_hour": "1", "tokens_per_second": 0}, "tokens_per_second"),
        ({"price_per_hour": "1", "tokens_per_second": -3}, "tokens_per_second"),
        ({"price_per_hour": "1", "gpu_model": "L4", "gpu_count": 0}, "gpu_count"),
        (
            {"price_per_hour": "1", "gpu_model": "L4", "model_params_billion": 0},
            "model_params_billion",
        ),
        (
            {"price_per_hour": "1", "gpu_model": "RTX 4090", "model_params_billion": 70},
            "model_params_billion",
        ),
        (
            {"price_per_hour": "1", "gpu_model": "H100 SXM", "model_params_billion": 1e300},
            "model_params_billion",
        ),
        ({"offer_id": "not-a-uuid"}, "offer_id"),
    ],
)
def test_bad_token_cost_input_is_422_naming_the_field(client, benchmarks, body, field):
    response = rest(client, "cost-per-token", body)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in {d["field"] for d in error["details"]}


def test_nan_and_infinity_are_rejected_not_echoed(client):
    for raw in ("NaN", "Infinity", "-Infinity"):
        response = client.post(
            "/api/v2/math/cost-per-token",
            data='{"price_per_hour": "1", "tokens_per_second": RAW}'.replace("RAW", raw),
            content_type="application/json",
        )
        assert response.status_code == 422
        assert b"NaN" not in response.content and b"Infinity" not in response.content


def test_graphql_reports_the_same_field_errors(client, benchmarks):
    both = gql_token_cost(client, pricePerHour="1", tokensPerSecond=5, gpuModel="L4")
    assert both["errors"][0]["extensions"] == {
        "code": "VALIDATION_ERROR",
        "field": "gpu_model",
        "traceId": both["errors"][0]["extensions"]["traceId"],
    }
    no_fp8 = run_operation(
        client,
        "CostPerGflop",
        {"input": {"pricePerHour": "1", "gpuModel": "A100 SXM", "precision": "FP8"}},
    )
    assert no_fp8["errors"][0]["extensions"]["field"] == "precision"
    assert "no published FP8 figure" in no_fp8["errors"][0]["message"]
    rest_fp8 = rest(
        client,
        "cost-per-gflop",
        {"price_per_hour": "1", "gpu_model": "A100 SXM", "precision": "fp8"},
    )
    assert rest_fp8.status_code == 422
    assert rest_fp8.json()["error"]["message"] == no_fp8["errors"][0]["message"]


def test_unknown_gpu_or_offer_is_not_found_on_both_facades(client, benchmarks):
    response = rest(client, "cost-per-token", {"price_per_hour": "1", "gpu_model": "Voodoo5"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    gql = gql_token_cost(client, pricePerHour="1", gpuModel="Voodoo5")["data"]["costPerToken"]
    assert gql == {
        "__typename": "NotFoundError",
        "message": "No benchmark for GPU 'Voodoo5'.",
        "code": "NOT_FOUND",
    }
    missing = "00000000-0000-0000-0000-000000000000"
    assert rest(client, "cost-per-gflop", {"offer_id": missing}).status_code == 404
    gql_offer = run_operation(client, "CostPerGflop", {"input": {"offerId": missing}})
    assert gql_offer["data"]["costPerGflop"]["__typename"] == "NotFoundError"
