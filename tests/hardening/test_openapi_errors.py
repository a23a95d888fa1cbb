"""The OpenAPI document lists error responses with the envelope schema (issue 11: it listed
success responses only)."""

from __future__ import annotations

import json

import pytest

from tests.graphql_client import run_operation

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(client):
    response = client.get("/api/v2/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(openapi):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_documents_its_errors_with_the_envelope(openapi):
    envelope = openapi["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["properties"]["error"]["required"] == ["code", "message", "details", "trace_id"]
    for path, method, operation in _operations(openapi):
        responses = operation["responses"]
        for status in ("405", "429", "500"):
            assert status in responses, (method, path, status)
        if "requestBody" in operation:
            for status in ("400", "413", "415", "422"):
                assert status in responses, (method, path, status)
        if operation.get("security"):
            assert {"401", "403"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (path, status)


def test_documented_errors_match_real_answers(client, openapi):
    """A few real error answers validate against the documented envelope."""
    import jsonschema_rs  # installed with schemathesis (dev extras)

    envelope = openapi["components"]["schemas"]["ErrorEnvelope"]
    answers = [
        client.get("/api/v2/auth/me"),
        client.post("/api/v2/math/topsis-offers", data="{bad", content_type="application/json"),
        client.post("/api/v2/math/topsis-offers", data="42", content_type="application/json"),
        client.delete("/api/v2/math/topsis-offers"),
        client.get("/api/v2/nope"),
    ]
    for response in answers:
        jsonschema_rs.validate(envelope, response.json())


# --- declared constraints are the server's (issue 11: "declares looser constraints than the
# server enforces"; .ci/fuzz holds every operation to them with positive_data_acceptance) -------


def _body_schema(openapi, path):
    content = openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    ref = content["schema"]["$ref"].rsplit("/", 1)[-1]
    return openapi["components"]["schemas"][ref]


def _param(openapi, path, name):
    parameters = openapi["paths"][path]["get"]["parameters"]
    return next(p["schema"] for p in parameters if p["name"] == name)


def test_the_constraints_the_fuzzer_found_looser_are_declared(openapi):
    from apps.core.text import NOT_BLANK

    register = _body_schema(openapi, "/api/v2/auth/register")["properties"]
    assert register["email"]["format"] == "email"
    assert register["password"]["minLength"] == 10 and register["password"]["pattern"] == r"\D"
    assert register["full_name"]["minLength"] == 1
    gpu_type = _param(openapi, "/api/v2/providers", "gpu_type")["anyOf"][0]
    assert (gpu_type["minLength"], gpu_type["maxLength"], gpu_type["pattern"]) == (
        1,
        200,
        NOT_BLANK,
    )
    assert _param(openapi, "/api/v2/kpi/insights/market", "window")["enum"] == ["24h", "7d", "30d"]
    logout = openapi["paths"]["/api/v2/auth/logout"]["post"]["requestBody"]
    assert logout["required"] is False
    assert logout["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LogoutIn"
    }  # no `null`: the parser answers a body that is not an object with 422
    limit = _body_schema(openapi, "/api/v2/math/topsis-offers")["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"]) == (1, 100)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v2/auth/register",
            {"email": "", "password": "long enough 1", "full_name": "A"},
            "email",
        ),
        ("/api/v2/math/topsis-offers", {"limit": 0}, "limit"),
        ("/api/v2/math/topsis-offers", {"filter": [None, None]}, "filter"),
        ("/api/v2/math/ensemble-recommend", {"filter": [None, None]}, "filter"),
        ("/api/v2/math/ensemble-recommend", {"preferences": 42}, "preferences"),
        ("/api/v2/auth/logout", None, "body"),
    ],
)
def test_values_outside_the_declared_constraints_are_refused_and_store_nothing(
    client, path, body, field
):
    from apps.math_core.models import RecommendationRun

    response = client.post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in {d["field"] for d in response.json()["error"]["details"]}
    assert not RecommendationRun.objects.exists()


def test_a_provider_key_outside_printable_ascii_is_a_422_not_a_500(client, tenant_admin):
    from tests.auth_fixtures import bearer

    response = client.post(
        "/api/v2/config/integrations",
        data=json.dumps({"provider": "lambda", "api_key": "abcdefgh½ijk"}),
        content_type="application/json",
        **bearer(tenant_admin),
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["code"] == "KEY_INVALID"


@pytest.mark.parametrize(
    ("path", "rate", "value"),
    [
        ("cost-per-gflop", "tflops", 5e-324),
        ("cost-per-token", "tokens_per_second", 5e-324),
        # finite as a float, but beyond what a 4-decimal amount holds (quantize raised)
        ("cost-per-token", "tokens_per_second", 1e-20),
    ],
)
def test_a_rate_too_small_for_the_price_is_a_422_not_a_500(client, path, rate, value):
    """Found by .ci/fuzz: 5e-324 TFLOPS at 1,000,000 USD/h overflowed into a 500, and a cost
    of about 1e31 USD per million tokens failed to round to money."""
    body = {"price_per_hour": "1000000", rate: value}
    response = client.post(
        f"/api/v2/math/{path}", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert "too small for this price" in error["message"]
    assert error["details"][0]["field"] == rate


def test_a_rate_too_large_to_total_is_a_422_not_an_infinite_answer(client):
    """Found by .ci/fuzz: 1.5e308 TFLOPS × 249 GPUs answered 200 with ``total_tflops: Infinity``
    (not JSON, and not the documented number) and a cost of 0. A per-GPU figure is at most
    1,000,000 TFLOPS (documented as the field's maximum), so every machine's rate is finite."""
    body = {"price_per_hour": 1.2e-84, "tflops": 1.5278176152188985e308, "gpu_count": 249}
    response = client.post(
        "/api/v2/math/cost-per-gflop", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"] == "tflops must be at most 1,000,000 per GPU"
    assert error["details"][0]["field"] == "tflops"
    # the largest machine at the largest figure answers, with finite figures
    body.update(tflops=1e6, gpu_count=4096)
    response = client.post(
        "/api/v2/math/cost-per-gflop", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["total_tflops"] == pytest.approx(4.096e9)
    # GraphQL answers the same error from the same calculator
    gql = run_operation(
        client,
        "CostPerGflop",
        {"input": {"pricePerHour": "1", "tflops": 1.5278176152188985e308, "gpuCount": 249}},
    )
    assert gql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert gql["errors"][0]["extensions"]["field"] == "tflops"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # found by .ci/fuzz: pydantic's lax mode read false as 0 and true as 1
        ("topsis", {"matrix": [[False]], "weights": [1.0], "criteria_types": ["cost"]}),
        ("topsis-offers", {"filter": {"storage_gb_min": False}}),
        ("ensemble-recommend", {"filter": {"gpu_count_min": True}}),
        ("ensemble-recommend", {"weights": {"topsis": True}}),
        ("estimate-workload", {"workload_type": "llm_inference", "params_billion": True}),
        # and numbers or strings are not booleans
        ("topsis-offers", {"filter": {"datacenter_only": 0}}),
        ("ensemble-recommend", {"filter": {"is_spot": "yes"}}),
    ],
)
def test_booleans_are_not_numbers(client, path, body):
    from apps.math_core.models import RecommendationRun

    response = client.post(
        f"/api/v2/math/{path}", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert not RecommendationRun.objects.exists()


def test_an_empty_index_bound_is_a_422(client):
    """Found by .ci/fuzz: ``?to=`` (an empty date) was read as "no bound"."""
    response = client.get("/api/v2/kpi/index/H100", {"to": ""})
    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"][0]["field"] == "to"


def test_a_reliability_target_above_one_is_a_422(client):
    """Found by .ci/fuzz: ``min_reliability: 2`` (documented as at most 1) was accepted."""
    from apps.math_core.models import RecommendationRun

    body = {"preferences": {"min_reliability": 2}}
    response = client.post(
        "/api/v2/math/ensemble-recommend", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"][0]["field"] == "min_reliability"
    assert not RecommendationRun.objects.exists()


def _patterns(node):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_blank_text_is_one_rule_in_the_document_and_the_services(client, openapi, user):
    """Found by .ci/fuzz: ``pattern: "\\S"`` (ECMAScript whitespace) let ``"\\u001f"`` through
    the document while the services' ``str.strip`` (Python whitespace) refused it."""
    from apps.core.text import NOT_BLANK

    patterns = list(_patterns(openapi))
    assert r"\S" not in patterns
    assert patterns.count(NOT_BLANK) >= 6
    for blank in ("\x1f", "\ufeff", " \x85\t"):
        quoted = blank.encode().hex()
        assert client.get(f"/api/v2/math/benchmarks/{blank}").status_code == 422, quoted
        assert client.get("/api/v2/providers", {"gpu_model": blank}).status_code == 422, quoted
        response = client.post(
            "/api/v2/ai/parse-workload",
            data=json.dumps({"text": blank}),
            content_type="application/json",
        )
        assert response.status_code == 422, quoted
        assert response.json()["error"]["details"][0]["field"] == "text"
    # a name with control characters around it is the name inside
    assert client.get("/api/v2/math/benchmarks/%1FH100 SXM%1F").status_code in (200, 404)
