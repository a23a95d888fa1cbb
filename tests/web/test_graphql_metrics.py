"""GraphQL latency and cost by operation name, as ``/metrics`` exports them."""

from __future__ import annotations

import pytest
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode
from prometheus_client import REGISTRY

from graphql import parse
from schema.operation_metrics import operation_cost

pytestmark = pytest.mark.django_db


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_cost_counts_fields_with_fragments_expanded():
    document = parse(
        """
        query Q { offers(first: 2) { totalCount edges { node { ...O } } } me { ...U } }
        fragment O on GPUOffer { id gpuType provider { name } }
        fragment U on User { email }
        """
    )
    operation = document.definitions[0]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    assert isinstance(operation, OperationDefinitionNode)
    # offers, totalCount, edges, node, id, gpuType, provider, name, me, email
    assert operation_cost(operation, fragments) == 10


def test_operations_are_timed_and_costed_by_name(client, benchmarks):
    before = sample("gpubroker_graphql_duration_seconds_count", operation="Gpus", type="query")
    cost_sum = sample("gpubroker_graphql_query_cost_sum", operation="Gpus")
    for _ in range(2):
        response = client.post(
            "/graphql/",
            {"query": "query Gpus { benchmarks { gpuModel vramGb } }", "operationName": "Gpus"},
            content_type="application/json",
        )
        assert response.status_code == 200 and "errors" not in response.json()
    assert (
        sample("gpubroker_graphql_duration_seconds_count", operation="Gpus", type="query")
        == before + 2
    )
    assert sample("gpubroker_graphql_query_cost_sum", operation="Gpus") == cost_sum + 2 * 3
    anonymous = sample(
        "gpubroker_graphql_duration_seconds_count", operation="anonymous", type="query"
    )
    client.post(
        "/graphql/", {"query": "{ benchmarks { gpuModel } }"}, content_type="application/json"
    )
    assert (
        sample("gpubroker_graphql_duration_seconds_count", operation="anonymous", type="query")
        == anonymous + 1
    )
