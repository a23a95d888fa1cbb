"""The fast field path (``schema/fast_execution.py``) against graphql-core's executor.

Every request sent through ``tests.graphql_client`` is already executed both ways and
byte-compared (``tests/fast_path_differential.py``), so every operation of
``graphql/operations/`` the suite runs is a differential case. This module adds the cases that
matter most for the shortcut: hypothesis-generated variables for the catalogue operations, the
error paths (a failing or null non-null leaf and its propagation), and a guard that the page
really takes the fast path (a strawberry upgrade that changes its internals would otherwise
silently slow it down, not break it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.providers.models import GPUOffer
from schema import fast_execution
from tests.graphql_client import execute, post, run_operation

pytestmark = pytest.mark.django_db

PAGE = """
query Page($first: Int) {
  offers(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      __typename id gpuType gpuCount gpuMemoryGb pricePerHour pricePerGpuHour region country
      availabilityStatus isSpot lastSeenAt
      provider { name displayName reliabilityScore }
      benchmark { gpuModel vendor tflopsFp16 tokensPerSecond7b }
    } }
  }
}
"""

hypothesis_settings = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _general_path_calls(fast: bool) -> int:
    """How many fields graphql-core's ``execute_field`` resolves for the catalogue page."""
    calls = 0
    original = fast_execution.FastFieldsExecutionContext.execute_field

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(self, *args, **kwargs)

    with (
        override_settings(GRAPHQL_FAST_EXECUTION=fast),
        mock.patch.object(fast_execution.FastFieldsExecutionContext, "execute_field", counting),
    ):
        body = post(Client(), PAGE, {"first": 50}).json()
    assert "errors" not in body, body
    assert len(body["data"]["offers"]["edges"]) == 12
    return calls


def test_the_catalogue_page_takes_the_fast_path(catalogue):
    # Fast: only the root field goes through graphql-core's execute_field; every column,
    # relation, edge and page-info field of the 12 rows is read by the plan.
    assert _general_path_calls(fast=True) == 1
    assert _general_path_calls(fast=False) > 12 * 20


def test_a_failing_non_null_leaf_gives_the_same_error_and_null_propagation(catalogue):
    victim = catalogue.offers["l40s_runpod"].pk
    original = GPUOffer.price_per_gpu_hour

    def failing(self: GPUOffer) -> Any:
        if self.pk == victim:
            raise ValueError("boom")
        return original.fget(self)  # type: ignore[attr-defined]

    with mock.patch.object(GPUOffer, "price_per_gpu_hour", property(failing)):
        body = execute(catalogue_client(), PAGE, {"first": 50})  # compared both ways
    assert body["data"] is None or body["data"]["offers"] is None
    (error,) = body["errors"]
    assert error["message"] == "Internal error."  # masked, as everywhere
    assert error["path"][:3] == ["offers", "edges", error["path"][2]]
    assert error["path"][-1] == "pricePerGpuHour"


def test_a_read_that_is_not_a_plain_value_is_left_to_graphql_core(catalogue):
    # The plan reads None for a non-null relation: instead of answering null (or an error of
    # its own) it hands the field to graphql-core's execute_field, which runs the real resolver.
    original = fast_execution._reader

    def reader(model: Any, attname: str) -> Any:
        real = original(model, attname)
        if attname != "provider":
            return real
        return lambda source: None if source.region == "EU-RO-1" else real(source)

    with (
        mock.patch.object(fast_execution, "_reader", reader),
        mock.patch.dict(fast_execution._readers, clear=True),
    ):
        body = execute(catalogue_client(), PAGE, {"first": 50})
    # graphql-core read the real (joined) provider itself: the page is complete, and equal to
    # the reference (checked by the harness).
    assert "errors" not in body
    assert len(body["data"]["offers"]["edges"]) == 12
    fast_execution._readers.clear()


def catalogue_client() -> Any:
    return Client()


@hypothesis_settings
@given(
    order=st.sampled_from(
        ["PRICE", "PRICE_PER_GPU_HOUR", "COST_PER_MILLION_TOKENS", "COST_PER_TFLOP_HOUR", "VRAM"]
    ),
    direction=st.sampled_from(["ASC", "DESC"]),
    precision=st.sampled_from(["FP32", "FP16", "FP8", "INT8"]),
    first=st.integers(0, 15),
    history_first=st.integers(1, 5),
    since_minutes=st.none() | st.integers(0, 120),
    spot=st.none() | st.booleans(),
)
def test_generated_catalogue_variables_agree(
    client, catalogue, order, direction, precision, first, history_first, since_minutes, spot
):
    since = (
        None
        if since_minutes is None
        else (timezone.now() - timedelta(minutes=since_minutes)).isoformat()
    )
    search = run_operation(
        client,
        "OfferSearch",
        {
            "orderBy": order,
            "direction": direction,
            "precision": precision,
            "first": first,
            "filter": {"isSpot": spot},
        },
    )
    assert "errors" not in search, search
    with_history = run_operation(
        client,
        "OfferSearchWithHistory",
        {"orderBy": order, "first": first, "historyFirst": history_first, "historySince": since},
    )
    assert "errors" not in with_history, with_history
    for edge in search["data"]["offers"]["edges"][:2]:
        detail = run_operation(
            client,
            "OfferDetail",
            {"id": edge["node"]["id"], "historyFirst": history_first, "weights": precision},
        )
        assert detail["data"]["offer"]["__typename"] == "GPUOffer"


@hypothesis_settings
@given(
    params_billion=st.none() | st.floats(0.1, 500, allow_nan=False),
    size=st.sampled_from(["SIZE_7B", "SIZE_13B", "SIZE_34B", "SIZE_70B"]),
)
def test_generated_token_cost_variables_agree(client, catalogue, params_billion, size):
    offer = catalogue.offers["h100x8_lambda"].pk
    detail = run_operation(
        client,
        "OfferDetail",
        {"id": str(offer), "modelSize": size, "paramsBillion": params_billion},
    )
    if detail.get("errors"):  # a model too large for any offer, or a bad size: typed error
        assert detail["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", detail
    else:
        assert detail["data"]["offer"]["__typename"] == "GPUOffer"
