"""The model catalogue and model-sized estimates through both facades (REST and GraphQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.graphql_client import run_operation
from tests.math_catalogue import make_offer, seed_catalogue

pytestmark = pytest.mark.django_db

CASE = {"context_length": 8192, "batch_size": 8, "requests": 1000}


@pytest.fixture
def offers(catalogue, benchmarks):
    found = seed_catalogue()
    found["h100x4"] = make_offer(gpu_type="H100 SXM 80GB", gpu_count=4, price="12.0000")
    return found


def post(client, path: str, body: dict[str, Any]):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_list_and_search_agree_across_facades(client, catalogue):
    rest = client.get("/api/v2/math/models").json()
    assert len(rest) >= 30
    gql = run_operation(client, "ModelSearch", {})["data"]["models"]
    assert [m["name"] for m in gql] == [m["name"] for m in rest]
    qwen = client.get("/api/v2/math/models", {"search": "qwen3"}).json()
    gql_qwen = run_operation(client, "ModelSearch", {"search": "qwen3"})["data"]["models"]
    assert [m["name"] for m in qwen] == [m["name"] for m in gql_qwen]
    assert qwen and all(m["name"].startswith("Qwen3") for m in qwen)
    moe = next(m for m in qwen if m["name"] == "Qwen3 30B-A3B")
    assert (moe["experts_total"], moe["experts_active"]) == (128, 8)
    diffusion = client.get("/api/v2/math/models", {"kind": "diffusion"}).json()
    assert {m["kind"] for m in diffusion} == {"diffusion"}


def test_detail_by_alias_on_both_facades(client, catalogue):
    rest = client.get("/api/v2/math/models/meta-llama/Llama-3.1-70B-Instruct")
    assert rest.status_code == 200
    body = rest.json()
    assert body["name"] == "Llama 3.1 70B" and body["kv_bytes_per_token_fp16"] == 327_680
    assert body["source"].startswith("https://huggingface.co/meta-llama/")
    gql = run_operation(client, "ModelDetail", {"name": "llama3.1:70b"})["data"]["model"]
    assert gql["__typename"] == "Model" and gql["name"] == "Llama 3.1 70B"
    assert gql["kvBytesPerTokenFp16"] == 327_680 and gql["numKvHeads"] == 8
    gemma = client.get("/api/v2/math/models/gemma2:27b").json()
    assert gemma["sliding_window"] == 4096 and gemma["sliding_window_layers"][:2] == [0, 2]


def test_unknown_model_is_404_or_typed_error_with_suggestions(client, catalogue):
    rest = client.get("/api/v2/math/models/llama-3.1-7b")
    assert rest.status_code == 404
    error = rest.json()["error"]
    assert error["code"] == "NOT_FOUND" and error["details"]["suggestions"]
    assert "Did you mean" in error["message"]
    gql = run_operation(client, "ModelDetail", {"name": "llama-3.1-7b"})["data"]["model"]
    assert gql["__typename"] == "ModelNotFoundError"
    assert gql["suggestions"] == error["details"]["suggestions"]


def test_bad_catalogue_queries_are_422(client, catalogue):
    assert client.get("/api/v2/math/models", {"kind": "robot"}).status_code == 422
    assert client.get("/api/v2/math/models", {"limit": 0}).status_code == 422
    assert client.get("/api/v2/math/models", {"search": "x" * 300}).status_code == 422


def test_estimate_with_model_on_both_facades(client, offers):
    body = {"workload_type": "llm_inference", "model": "Llama 3 70B", "precision": "fp16", **CASE}
    rest = post(client, "/api/v2/math/estimate-workload", body)
    assert rest.status_code == 200
    estimate = rest.json()
    assert estimate["model"] == "Llama 3 70B"
    assert 163 < estimate["memory"]["total_gb"] < 166
    assert estimate["memory"]["kv_bytes_per_token"] == 327_680
    assert any("model Llama 3 70B" in a for a in estimate["assumptions"])
    h100 = next(g for g in estimate["gpu_models"] if g["gpu_model"] == "H100 SXM 80GB")
    assert h100["min_gpus"] == 3
    gql = run_operation(
        client,
        "EstimateModelWorkload",
        {
            "workload": {
                "workloadType": "LLM_INFERENCE",
                "model": "meta-llama/Meta-Llama-3-70B-Instruct",
                "precision": "FP16",
                "contextLength": 8192,
                "batchSize": 8,
                "requests": 1000,
            }
        },
    )["data"]["estimateWorkload"]
    assert gql["model"] == "Llama 3 70B" and gql["modelSource"] == estimate["model_source"]
    assert gql["memory"]["totalGb"] == pytest.approx(estimate["memory"]["total_gb"])
    assert [o["offerId"] for o in gql["offers"]] == [o["offer_id"] for o in estimate["offers"]]
    h100_gql = next(g for g in gql["gpuModels"] if g["gpuModel"] == "H100 SXM 80GB")
    assert h100_gql["batchedTokensPerSecond"] == pytest.approx(h100["batched_tokens_per_second"])
    assert h100_gql["singleStreamTokensPerSecond"] < h100_gql["batchedTokensPerSecond"]


def test_ensemble_with_model_on_both_facades(client, offers):
    workload = {"workload_type": "llm_inference", "model": "llama3:70b", **CASE}
    rest = post(client, "/api/v2/math/ensemble-recommend", {"workload": workload}).json()
    assert rest["feasible"] and rest["recommendations"]
    assert rest["model"] == "Llama 3 70B"
    assert any("model Llama 3 70B" in a for a in rest["assumptions"])
    gql = run_operation(
        client,
        "EnsembleRecommendModel",
        {
            "input": {
                "workload": {
                    "workloadType": "LLM_INFERENCE",
                    "model": "llama3:70b",
                    "contextLength": 8192,
                    "batchSize": 8,
                    "requests": 1000,
                }
            }
        },
    )["data"]["ensembleRecommend"]["result"]
    assert gql["feasible"] is True
    assert gql["model"] == rest["model"] and gql["assumptions"] == rest["assumptions"]
    assert [r["offer"]["offerId"] for r in gql["recommendations"]] == [
        r["offer"]["offer_id"] for r in rest["recommendations"]
    ]


@pytest.mark.parametrize(
    ("workload", "field"),
    [
        ({"model": "Llama 3 70B", "context_length": 100_000}, "context_length"),
        ({"model": "Llama 3 70B", "quantization": "q7_z"}, "quantization"),
        ({"params_billion": 0}, "params_billion"),
        ({"params_billion": 1e6}, "params_billion"),
        ({}, "params_billion"),
    ],
)
def test_bad_workloads_are_422_on_both_facades(client, offers, workload, field):
    body = {"workload_type": "llm_inference", "requests": 10, **workload}
    rest = post(client, "/api/v2/math/estimate-workload", body)
    assert rest.status_code == 422, rest.content
    assert rest.json()["error"]["details"][0]["field"] == field
    camel = {
        "workloadType": "LLM_INFERENCE",
        "requests": 10,
        **{
            "".join(w if i == 0 else w.title() for i, w in enumerate(k.split("_"))): v
            for k, v in workload.items()
        },
    }
    gql = run_operation(client, "EstimateModelWorkload", {"workload": camel})
    assert gql["data"] is None
    assert gql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert gql["errors"][0]["extensions"]["field"] == field


def test_unknown_model_in_a_workload_is_404_and_not_found(client, offers):
    body = {"workload_type": "llm_inference", "model": "gpt-5", "requests": 1}
    rest = post(client, "/api/v2/math/estimate-workload", body)
    assert rest.status_code == 404 and rest.json()["error"]["details"]["name"] == "gpt-5"
    gql = run_operation(
        client,
        "EstimateModelWorkload",
        {"workload": {"workloadType": "LLM_INFERENCE", "model": "gpt-5", "requests": 1}},
    )
    assert gql["errors"][0]["extensions"]["code"] == "NOT_FOUND"
