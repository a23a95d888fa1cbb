"""GraphQL latency and cost by operation name, as ``/metrics`` exports them."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

pytestmark = pytest.mark.django_db


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def post(client, query: str, operation: str | None = None):
    response = client.post(
        "/graphql/", {"query": query, "operationName": operation}, content_type="application/json"
    )
    assert response.status_code == 200 and "errors" not in response.json(), response.content
    return response.json()


def test_operations_are_timed_and_costed_by_name(client, benchmarks):
    before = sample("gpubroker_graphql_duration_seconds_count", operation="Gpus", type="query")
    cost_sum = sample("gpubroker_graphql_query_cost_sum", operation="Gpus")
    costs = []
    for _ in range(2):
        body = post(client, "query Gpus { benchmarks { gpuModel vramGb } }", "Gpus")
        costs.append(body["extensions"]["cost"]["requested"])
    count = sample("gpubroker_graphql_duration_seconds_count", operation="Gpus", type="query")
    assert count == before + 2
    # the cost the response reports, as the cost model computed it
    assert sample("gpubroker_graphql_query_cost_sum", operation="Gpus") == cost_sum + sum(costs)
    assert costs[0] > 0


def test_unnamed_operations_count_as_anonymous(client, benchmarks):
    labels = {"operation": "anonymous", "type": "query"}
    before = sample("gpubroker_graphql_duration_seconds_count", **labels)
    post(client, "{ benchmarks { gpuModel } }")
    assert sample("gpubroker_graphql_duration_seconds_count", **labels) == before + 1
