"""No JSON body of the REST facade reads ``true``/``false`` as a number.

pydantic's lax mode reads ``true`` as 1 and ``false`` as 0. ``.ci/fuzz`` found it twice, one body
at a time (``topsis-offers``' filter, then ``cost-per-token``'s ``tokens_per_second``, a 200
costing "1 token/s"). This test walks every request body the OpenAPI document lists, nested
objects included, and sends ``true`` in each number field: every one must be a 422 naming the
boolean in a detail naming the field, and nothing may be stored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.auth_fixtures import bearer

pytestmark = pytest.mark.django_db

NUMERIC = {"number", "integer"}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _variants(doc: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(doc, schema)
    alternatives = [
        *schema.get("anyOf", []),
        *schema.get("oneOf", []),
        *schema.get("allOf", []),
    ]
    return [schema, *(v for alt in alternatives for v in _variants(doc, alt))]


def numeric_fields(
    doc: dict[str, Any], schema: dict[str, Any], prefix: tuple[str, ...] = (), depth: int = 0
) -> Iterator[tuple[str, ...]]:
    """Paths to every property that takes a JSON number, through nested objects."""
    if depth > 4:
        return
    for variant in _variants(doc, schema):
        for name, prop in (variant.get("properties") or {}).items():
            kinds = _variants(doc, prop)
            if any(kind.get("type") in NUMERIC for kind in kinds):
                yield (*prefix, name)
            for kind in kinds:
                if kind.get("type") == "object" or "properties" in kind:
                    yield from numeric_fields(doc, kind, (*prefix, name), depth + 1)


def _nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body: Any = value
    for name in reversed(path):
        body = {name: body}
    return body


def cases(doc: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            schema = (content.get("application/json") or {}).get("schema")
            if schema is None:
                continue
            for field in sorted(set(numeric_fields(doc, schema))):
                found.append((method, path, field))
    return found


def test_every_number_in_every_body_refuses_a_boolean(client, tenant_admin):
    from apps.math_core.models import RecommendationRun

    doc = client.get("/api/v2/openapi.json").json()
    found = cases(doc)
    # the walk reaches the bodies it must: the calculators, TOPSIS, the recommenders' nested
    # filters, weights and workloads
    fields = {(path, ".".join(field)) for _, path, field in found}
    for expected in [
        ("/api/v2/math/cost-per-token", "tokens_per_second"),
        ("/api/v2/math/cost-per-gflop", "tflops"),
        ("/api/v2/math/cost-per-gflop", "gpu_count"),
        ("/api/v2/math/topsis-offers", "filter.storage_gb_min"),
        ("/api/v2/math/ensemble-recommend", "weights.topsis"),
        ("/api/v2/math/ensemble-recommend", "limit"),
        ("/api/v2/math/ensemble-recommend", "workload.params_billion"),
        ("/api/v2/math/estimate-workload", "params_billion"),
    ]:
        assert expected in fields, expected
    assert len(found) > 60, len(found)

    headers = bearer(tenant_admin)
    accepted = []
    for method, path, field in found:
        url = path
        while "{" in url:
            start, end = url.index("{"), url.index("}")
            url = url[:start] + str(uuid.uuid4()) + url[end + 1 :]
        for value in (True, False):
            response = getattr(client, method)(
                url,
                data=json.dumps(_nested(field, value)),
                content_type="application/json",
                **headers,
            )
            error = response.json().get("error") if response.status_code == 422 else None
            named = [
                detail
                for detail in (error or {}).get("details") or []
                if detail["field"].split(".")[-1] == field[-1]
                and "not a boolean" in detail["message"]
            ]
            if response.status_code != 422 or not named:
                accepted.append((method, path, ".".join(field), value, response.status_code))
    assert accepted == [], "\n".join(map(str, accepted))
    assert not RecommendationRun.objects.exists()
