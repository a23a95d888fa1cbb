"""The OpenAPI document lists error responses with the envelope schema (issue 11: it listed
success responses only)."""

from __future__ import annotations

import pytest

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
