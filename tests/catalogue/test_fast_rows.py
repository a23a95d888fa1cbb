"""Row plans (``schema/fast_rows.py``) against graphql-core's executor.

Every request below goes through ``tests.graphql_client.execute``, which executes it with the
fast paths off (graphql-core, the optimizer, model instances) and on (the row plan) and
byte-compares the two (``tests/fast_path_differential.py``). This module adds what the shortcut
must guarantee beyond that: that plain pages really take it (and only they), that its SQL stays
two statements whatever the page size, and that every case it cannot answer exactly — bad data,
a property reading more than its hints, a resolver that does not load through the optimizer, a
resolver error — ends in graphql-core's own response.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry_django.optimizer import DjangoOptimizerExtension

from apps.providers.models import GPUOffer, Provider
from apps.providers.offer_pages import encode_cursor
from schema import fast_rows
from tests.catalogue_factories import benchmark_index, build_offer, make_provider
from tests.graphql_client import execute

pytestmark = pytest.mark.django_db

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $orderBy: OfferOrderField,
           $direction: SortDirection, $filter: OfferFilter) {
  offers(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy,
         direction: $direction, filter: $filter) {
    __typename
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      __typename id gpuType rawGpuName gpuCount gpuMemoryGb rawGpuMemoryGb cpuCores ramGb
      storageGb pricePerHour pricePerGpuHour totalVramGb currency region country macroRegion
      availabilityStatus isSpot isDatacenter lastSeenAt createdAt updatedAt
      provider { __typename id name displayName status reliabilityScore lastSyncAt errorCount }
      benchmark { id gpuModel vendor vramGb tflopsFp16 tflopsFp8 tokensPerSecond7b notes }
    } }
  }
}
"""

# Aliases, a named fragment, an inline fragment on the concrete type and a field selected twice
# with different sub-selections (merged, as graphql-core merges them).
SHAPES = """
fragment Money on GPUOffer { price: pricePerHour perGpu: pricePerGpuHour }
query Shapes {
  page: offers(first: 7, orderBy: VRAM, direction: DESC) {
    count: totalCount
    edges { node {
      ...Money
      ... on GPUOffer { gpu: gpuType provider { name } }
      provider { displayName }
      benchmark { model: gpuModel }
      benchmark { tflopsFp16 }
    } }
  }
}
"""


class _Spy:
    """Counts row-plan executions, and how many ended in the general path."""

    def __init__(self) -> None:
        self.planned = 0
        self.fallbacks = 0
        self.original = fast_rows.execute

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.planned += 1
        value = self.original(*args, **kwargs)
        self.fallbacks += value is fast_rows.FALLBACK
        return value


def _expect(spy: _Spy, planned: int, fallbacks: int) -> None:
    """Row plans run only with the optimizer on; CI's GRAPHQL_OPTIMIZER=off step checks that
    they then stay off (and that the responses are graphql-core's either way)."""
    if DjangoOptimizerExtension.enabled.get():
        assert (spy.planned, spy.fallbacks) == (planned, fallbacks)
    else:
        assert (spy.planned, spy.fallbacks) == (0, 0)


def _rows_on() -> bool:
    return bool(DjangoOptimizerExtension.enabled.get())


def _compiled() -> list[fast_rows.RowPlan]:
    return [plan for _, plan in fast_rows._plans.values() if plan is not None]


def _run(query: str, variables: dict[str, Any] | None = None) -> tuple[dict[str, Any], _Spy]:
    spy = _Spy()
    with mock.patch.object(fast_rows, "execute", spy):
        body = execute(Client(), query, variables or {})
    return body, spy


def test_a_plain_page_takes_the_row_plan(catalogue):
    body, spy = _run(PAGE, {"first": 50})
    assert "errors" not in body, body
    edges = body["data"]["offers"]["edges"]
    assert len(edges) == 12 and body["data"]["offers"]["totalCount"] == 12
    assert any(edge["node"]["benchmark"] is None for edge in edges)  # nullable join, both ways
    assert any(edge["node"]["benchmark"] is not None for edge in edges)
    # The differential harness ran it twice: graphql-core, then the row plan (no fallback).
    _expect(spy, 1, 0)
    if not _rows_on():
        return
    (plan,) = _compiled()
    assert not plan.disabled and plan.model is GPUOffer
    assert {"provider__name", "benchmark__gpu_model", "price_per_hour"} <= set(plan.columns)


def test_aliases_fragments_and_merged_selections(catalogue):
    body, spy = _run(SHAPES)
    assert "errors" not in body, body
    node = body["data"]["page"]["edges"][0]["node"]
    assert list(node) == ["price", "perGpu", "gpu", "provider", "benchmark"]
    assert list(node["provider"]) == ["name", "displayName"]
    _expect(spy, 1, 0)


@pytest.mark.parametrize(
    ("selection", "why"),
    [
        ("gpuFamily", "a resolver"),
        ("complianceTags", "a resolver (a JSON list)"),
        ("costPerTflopHour(precision: FP8)", "arguments"),
        ("priceHistory { pricePerHour }", "a to-many relation"),
        ("flags { code }", "a resolver reading the viewer's context"),
        ("provider { offerCount }", "an annotation on a relation"),
        ("gpuType @include(if: $yes)", "a directive"),
    ],
)
def test_anything_but_plain_columns_keeps_the_general_path(catalogue, selection, why):
    declared = "($yes: Boolean = true)" if "$yes" in selection else ""
    query = f"""query {declared} {{ offers(first: 5) {{ totalCount
        edges {{ node {{ id pricePerHour {selection} }} }} }} }}"""
    body, spy = _run(query)
    assert "errors" not in body, (why, body)
    assert spy.planned == 0, why
    assert _compiled() == [], why


def test_off_when_the_optimizer_or_the_fast_path_is_off(catalogue):
    with DjangoOptimizerExtension.disabled():
        _, spy = _run(PAGE, {"first": 5})
    assert spy.planned == 0
    with override_settings(GRAPHQL_FAST_EXECUTION=False):
        spy = _Spy()
        with mock.patch.object(fast_rows, "execute", spy):
            Client().post("/graphql/", {"query": PAGE}, content_type="application/json")
    assert spy.planned == 0


@pytest.mark.parametrize("size", [1, 20, 100])
def test_query_counts_two_statements_whatever_the_page_size_then_one(
    client, benchmarks, django_assert_num_queries, size
):
    providers = [make_provider(name) for name in ("runpod", "vastai")]
    index = benchmark_index()
    GPUOffer.objects.bulk_create(
        build_offer(providers[n % 2], benchmarks=index, price_per_hour=Decimal(n + 1) / 4)
        for n in range(120)
    )
    spy = _Spy()
    with mock.patch.object(fast_rows, "execute", spy):
        with django_assert_num_queries(2):  # COUNT, the page with provider and benchmark joined
            first = execute(client, PAGE, {"first": size})
        with django_assert_num_queries(1):  # cached ids and total: the rows by primary key
            again = execute(client, PAGE, {"first": size})
    assert len(first["data"]["offers"]["edges"]) == size
    assert again == first
    assert (spy.planned, spy.fallbacks) == (2, 0)


def test_a_value_graphql_core_refuses_is_its_error_not_the_plans(catalogue):
    # A non-finite Float is not a GraphQL Float: graphql-core answers an error for that field
    # (nullable: null there); the plan aborts and lets graphql-core answer exactly that.
    Provider.objects.filter(name="vastai").update(reliability_score=float("inf"))
    body, spy = _run(PAGE, {"first": 50})
    assert body["errors"], body
    assert {e["path"][-1] for e in body["errors"]} == {"reliabilityScore"}
    _expect(spy, 1, 1)
    assert all(
        not plan.disabled for plan in _compiled()
    )  # a data problem: the next page tries again


def test_a_property_reading_more_than_its_hints_falls_back_and_switches_the_plan_off(catalogue):
    original = GPUOffer.price_per_gpu_hour

    def reads_region_too(self: GPUOffer) -> Any:
        assert self.region  # not among the field's ``only`` hints
        return original.fget(self)  # type: ignore[attr-defined]

    with mock.patch.object(GPUOffer, "price_per_gpu_hour", property(reads_region_too)):
        body, spy = _run(PAGE, {"first": 50})
        assert "errors" not in body, body
        _expect(spy, 1, 1)
        _, spy = _run(PAGE, {"first": 50})
        _expect(spy, 0, 0)  # the plan is off for this document from now on


def test_a_resolver_that_does_not_ask_the_optimizer_gets_the_general_path(catalogue):
    from apps.providers import selectors
    from schema import providers

    with mock.patch.object(providers, "_loader", lambda info: selectors.rest_shape):
        body, spy = _run(PAGE, {"first": 50})
    assert "errors" not in body, body
    _expect(spy, 1, 1)
    assert all(plan.disabled for plan in _compiled())


def test_a_resolver_error_is_graphql_cores(catalogue):
    body, spy = _run(PAGE, {"first": 5, "after": "not a cursor"})
    assert body["data"] is None or body["data"]["offers"] is None
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", body
    _expect(spy, 1, 1)


hypothesis_settings = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@hypothesis_settings
@given(
    order=st.sampled_from(
        ["PRICE", "PRICE_PER_GPU_HOUR", "COST_PER_MILLION_TOKENS", "VRAM", "RELIABILITY"]
    ),
    direction=st.sampled_from(["ASC", "DESC"]),
    forward=st.booleans(),
    size=st.integers(0, 13),
    position=st.none() | st.integers(0, 12),
    spot=st.none() | st.booleans(),
    availability=st.none() | st.lists(st.sampled_from(["AVAILABLE", "LIMITED"]), max_size=2),
)
def test_generated_pages_agree(
    catalogue, order, direction, forward, size, position, spot, availability
):
    cursor = None if position is None else encode_cursor(position)
    paging = {"first": size, "after": cursor} if forward else {"last": size, "before": cursor}
    variables = {
        "orderBy": order,
        "direction": direction,
        "filter": {"isSpot": spot, "availability": availability},
        **paging,
    }
    body, spy = _run(PAGE, variables)  # byte-compared with graphql-core by the harness
    assert "errors" not in body, body
    _expect(spy, 1, 0)
