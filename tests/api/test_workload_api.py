"""Workload estimation through both facades."""

import json

import pytest

from tests.graphql_client import run_operation
from tests.math_catalogue import seed_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(benchmarks):
    return seed_catalogue()


def rest(client, body):
    return client.post(
        "/api/v2/math/estimate-workload", data=json.dumps(body), content_type="application/json"
    )


def test_both_facades_price_the_job_on_every_offer(client, catalogue):
    body = {
        "workload_type": "fine_tune_lora",
        "params_billion": 13,
        "tokens": 5e7,
        "batch_size": 4,
        "num_kv_heads": 8,
        "limit": 8,
    }
    response = rest(client, body)
    assert response.status_code == 200
    estimate = response.json()
    assert estimate["feasible"] and estimate["reason"] is None
    assert estimate["candidate_count"] == 8 and len(estimate["offers"]) == 8
    # Feasible first, cheapest first among them; money as 4-place decimal strings.
    flags = [o["feasible"] for o in estimate["offers"]]
    assert flags == sorted(flags, reverse=True)
    feasible = [o for o in estimate["offers"] if o["feasible"]]
    assert [float(o["total_cost"]) for o in feasible] == sorted(
        float(o["total_cost"]) for o in feasible
    )
    assert all(len(o["total_cost"].split(".")[1]) == 4 for o in feasible)
    # 13B LoRA at FP16 (26 GB of weights) does not fit a single 24 GB card.
    rtx = next(o for o in estimate["offers"] if o["gpu_type"] == "RTX 4090" and o["gpu_count"] == 1)
    assert rtx["reasons"] == ["insufficient_memory"] and rtx["total_cost"] is None
    gql = run_operation(
        client,
        "EstimateWorkload",
        {
            "workload": {
                "workloadType": "FINE_TUNE_LORA",
                "paramsBillion": 13,
                "tokens": 5e7,
                "batchSize": 4,
                "numKvHeads": 8,
            },
            "limit": 8,
        },
    )["data"]["estimateWorkload"]
    assert [o["offerId"] for o in gql["offers"]] == [o["offer_id"] for o in estimate["offers"]]
    assert [o["totalCost"] for o in gql["offers"]] == [o["total_cost"] for o in estimate["offers"]]
    assert gql["memory"]["totalGb"] == pytest.approx(estimate["memory"]["total_gb"])
    assert gql["totalFlops"] == pytest.approx(4 * 13e9 * 5e7)
    per_model = {g["gpuModel"]: g for g in gql["gpuModels"]}
    assert per_model["H100 SXM 80GB"]["minGpus"] == 1
    assert per_model["RTX 4090"]["minGpus"] == 2


def test_no_feasible_offer_is_an_answer_not_an_error(client, catalogue):
    body = {"workload_type": "llm_training", "params_billion": 175, "tokens": 3e11}
    estimate = rest(client, body).json()
    assert estimate["feasible"] is False and estimate["feasible_count"] == 0
    assert "GPU memory" in estimate["reason"]
    assert all(o["total_cost"] is None for o in estimate["offers"])
    gql = run_operation(
        client,
        "EstimateWorkload",
        {"workload": {"workloadType": "LLM_TRAINING", "paramsBillion": 175, "tokens": 3e11}},
    )["data"]["estimateWorkload"]
    assert gql["feasible"] is False and gql["reason"] == estimate["reason"]


def test_filter_with_no_match_says_so(client, catalogue):
    body = {
        "workload_type": "embeddings",
        "params_billion": 0.3,
        "requests": 1000,
        "filter": {"provider_name": ["nobody"]},
    }
    estimate = rest(client, body).json()
    assert estimate["feasible"] is False and estimate["reason"] == "No offers match the filter."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"workload_type": "llm_inference", "params_billion": 7}, "tokens"),
        ({"workload_type": "llm_inference", "params_billion": -7, "tokens": 10}, "params_billion"),
        (
            {
                "workload_type": "llm_inference",
                "params_billion": 7,
                "tokens": 10,
                "context_length": 0,
            },
            "context_length",
        ),
        (
            {
                "workload_type": "llm_inference",
                "params_billion": 7,
                "tokens": 10,
                "batch_size": 10**9,
            },
            "batch_size",
        ),
        ({"workload_type": "image_generation", "params_billion": 3, "tokens": 10}, "requests"),
        (
            {
                "workload_type": "fine_tune_full",
                "params_billion": 7,
                "tokens": 10,
                "precision": "int4",
            },
            "precision",
        ),
        (
            {"workload_type": "llm_inference", "params_billion": 7, "tokens": 10, "limit": 0},
            "limit",
        ),
        (
            {"workload_type": "llm_inference", "params_billion": 7, "tokens": 10, "budget_usd": -5},
            "budget_usd",
        ),
        ({"workload_type": "quantum", "params_billion": 7, "tokens": 10}, "workload_type"),
    ],
)
def test_bad_workloads_are_422_naming_the_field(client, catalogue, body, field):
    response = rest(client, body)
    assert response.status_code == 422
    assert field in {d["field"] for d in response.json()["error"]["details"]}


def test_graphql_bad_workload_names_the_field(client, catalogue):
    data = run_operation(
        client,
        "EstimateWorkload",
        {
            "workload": {
                "workloadType": "LLM_INFERENCE",
                "paramsBillion": 7,
                "tokens": 10,
                "contextLength": 0,
            }
        },
    )
    assert data["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert data["errors"][0]["extensions"]["field"] == "context_length"
    nan = run_operation(
        client,
        "EstimateWorkload",
        {"workload": {"workloadType": "LLM_INFERENCE", "paramsBillion": 7}},
    )
    assert nan["errors"][0]["extensions"]["field"] == "tokens"
