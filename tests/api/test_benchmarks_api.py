"""The first vertical slice through both facades: same service, same data, same errors."""

import pytest

from tests.graphql_client import execute, run_operation

pytestmark = pytest.mark.django_db


def test_rest_lists_at_least_twenty_benchmarks(client, benchmarks):
    response = client.get("/api/v2/math/benchmarks")
    assert response.status_code == 200
    body = response.json()
    assert len(body) >= 20
    assert [row["gpu_model"] for row in body] == sorted(row["gpu_model"] for row in body)
    assert all(row["source"] for row in body)


def test_graphql_and_rest_return_the_same_benchmarks(client, benchmarks):
    rest = client.get("/api/v2/math/benchmarks", {"vendor": "NVIDIA", "min_vram_gb": 48}).json()
    gql = run_operation(client, "BenchmarkList", {"vendor": "NVIDIA", "minVramGb": 48})
    assert "errors" not in gql
    assert [r["gpu_model"] for r in rest] == [g["gpuModel"] for g in gql["data"]["benchmarks"]]
    assert [r["id"] for r in rest] == [g["id"] for g in gql["data"]["benchmarks"]]
    assert all(r["vendor"] == "NVIDIA" and r["vram_gb"] >= 48 for r in rest)
    assert "RTX 4090" not in {r["gpu_model"] for r in rest}  # 24 GB


def test_ordering_descending_with_stable_tie_break(client, benchmarks):
    data = run_operation(client, "BenchmarkList", {"orderBy": "VRAM_GB", "direction": "DESC"})
    rows = data["data"]["benchmarks"]
    keys = [(-r["vramGb"], r["gpuModel"]) for r in rows]
    assert keys == sorted(keys)
    rest = client.get("/api/v2/math/benchmarks", {"order_by": "vram_gb", "descending": True})
    assert [r["gpu_model"] for r in rest.json()] == [r["gpuModel"] for r in rows]


@pytest.mark.parametrize("spelling", ["H100_SXM5", "NVIDIA H100 80GB HBM3", "h100 sxm"])
def test_lookup_accepts_any_known_spelling(client, benchmarks, spelling):
    rest = client.get(f"/api/v2/math/benchmarks/{spelling}")
    assert rest.status_code == 200
    assert rest.json()["gpu_model"] == "H100 SXM 80GB"
    gql = run_operation(client, "BenchmarkDetail", {"gpuModel": spelling})
    assert gql["data"]["benchmark"]["__typename"] == "GPUBenchmark"
    assert gql["data"]["benchmark"]["gpuModel"] == "H100 SXM 80GB"


def test_unknown_gpu_is_404_envelope_on_rest_and_typed_not_found_on_graphql(client, benchmarks):
    response = client.get("/api/v2/math/benchmarks/Voodoo5 6000")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "NOT_FOUND"
    assert "Voodoo5 6000" in error["message"]
    assert error["trace_id"] == response["X-Trace-Id"]
    gql = run_operation(client, "BenchmarkDetail", {"gpuModel": "Voodoo5 6000"})
    assert gql["data"]["benchmark"] == {
        "__typename": "NotFoundError",
        "message": "No benchmark for GPU 'Voodoo5 6000'.",
        "code": "NOT_FOUND",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_vram_gb": "lots"}, "min_vram_gb"),
        ({"min_vram_gb": -1}, "min_vram_gb"),
        ({"vendor": "Intel"}, "vendor"),
        ({"order_by": "price; DROP TABLE"}, "order_by"),
        ({"descending": "maybe"}, "descending"),
    ],
)
def test_rest_malformed_filters_are_422_naming_the_field(client, benchmarks, params, field):
    response = client.get("/api/v2/math/benchmarks", params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in {d["field"] for d in error["details"]}


def test_graphql_wrong_types_and_values_name_the_argument(client, benchmarks):
    wrong_type = execute(client, '{ benchmarks(minVramGb: "lots") { gpuModel } }')
    assert wrong_type["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Int cannot represent" in wrong_type["errors"][0]["message"]
    bad_enum = execute(client, "{ benchmarks(vendor: QUALCOMM) { gpuModel } }")
    assert "Vendor" in bad_enum["errors"][0]["message"]
    out_of_range = run_operation(client, "BenchmarkList", {"minVramGb": -5})
    error = out_of_range["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "min_vram_gb"
    blank = run_operation(client, "BenchmarkDetail", {"gpuModel": ""})
    assert blank["errors"][0]["extensions"]["field"] == "gpu"


def test_graphql_malformed_json_body_is_a_clear_400(client):
    response = client.post("/graphql/", data="{not json", content_type="application/json")
    assert response.status_code == 400


def test_openapi_docs_are_served(client):
    schema = client.get("/api/v2/openapi.json")
    assert schema.status_code == 200
    assert "/api/v2/math/benchmarks/{gpu}" in schema.json()["paths"]
    assert client.get("/api/v2/docs").status_code == 200


def test_graphiql_is_served(client, settings):
    settings.GRAPHQL_GRAPHIQL = True  # off unless a setting turns it on (issue 11)
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()
