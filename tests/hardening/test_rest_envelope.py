"""The D9 envelope for every REST error under /api/v2/ (issue 11)."""

from __future__ import annotations

import pytest

from apps.math_core.models import RecommendationRun

pytestmark = pytest.mark.django_db


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "trace_id"}
    assert error["code"] == code
    assert error["trace_id"] == response["X-Trace-Id"]
    return error


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_paths_under_the_api_are_enveloped_404s(client, settings, debug):
    settings.DEBUG = debug  # in development Django's page listed every URL pattern
    for path in ("/api/v2/nope", "/api/v2/math/nope/deeper", "/api/v2/providers/x/y/z"):
        error = assert_envelope(client.get(path), 404, "NOT_FOUND")
        assert "api/v2" not in error["message"]


@pytest.mark.parametrize("debug", [False, True])
def test_wrong_methods_are_enveloped_405s_with_allow(client, settings, debug):
    settings.DEBUG = debug
    response = client.delete("/api/v2/math/topsis-offers")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response["Allow"]
    assert_envelope(client.get("/api/v2/math/topsis-offers"), 405, "METHOD_NOT_ALLOWED")


def test_unparsable_json_is_an_enveloped_400(client):
    response = client.post(
        "/api/v2/math/topsis-offers", data="{bad", content_type="application/json"
    )
    error = assert_envelope(response, 400, "BAD_REQUEST")
    assert error["details"] == [
        {"field": "body", "message": "Malformed JSON.", "type": "json_invalid"}
    ]


@pytest.mark.parametrize("raw", ["[null, null]", "42", '"hello"', "null", "true", "[]"])
@pytest.mark.parametrize("path", ["/api/v2/math/topsis-offers", "/api/v2/math/ensemble-recommend"])
def test_json_that_is_not_an_object_is_422_and_stores_nothing(client, raw, path):
    """Issue: `[null, null]`, `42` or `"hello"` as the body was accepted and stored a run."""
    response = client.post(path, data=raw, content_type="application/json")
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == "body"
    assert RecommendationRun.objects.count() == 0


def test_a_non_json_content_type_is_an_enveloped_415(client):
    response = client.post("/api/v2/math/topsis-offers", data="a=1", content_type="text/plain")
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    form = client.post("/api/v2/auth/login", data={"email": "a@b.c", "password": "x"})
    assert_envelope(form, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_a_body_over_the_limit_is_an_enveloped_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post(
        "/api/v2/math/topsis-offers",
        data='{"criteria": [], "pad": "' + "x" * 500 + '"}',
        content_type="application/json",
    )
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_a_valid_object_body_still_works(client):
    response = client.post("/api/v2/math/topsis-offers", data="{}", content_type="application/json")
    assert response.status_code in (200, 422), response.content
