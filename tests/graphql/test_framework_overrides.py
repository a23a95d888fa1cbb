"""Smoke tests for the places where schema/ leans on Strawberry / strawberry-django internals
(pinned to tested minor versions in pyproject.toml). Each fails loudly when an upgrade changes the
hook it relies on, instead of the schema silently losing its fast path."""

from __future__ import annotations

import inspect
from datetime import UTC, timedelta

import pytest
from strawberry.schema import schema_converter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField
from strawberry_django.optimizer import DjangoOptimizerExtension

from schema import schema
from schema.django_fields import ColumnField
from schema.live_execution import SharedEventExecutionContext


def _fields(type_name: str) -> dict[str, StrawberryField]:
    definition = schema.get_type_by_name(type_name)
    return {f.python_name: f for f in definition.fields}  # type: ignore[union-attr]


def test_column_field_takes_strawberrys_basic_field_path():
    # The hook still exists and the converter still consults it.
    assert isinstance(inspect.getattr_static(StrawberryField, "is_basic_field"), property)
    assert "is_basic_field" in inspect.getsource(schema_converter)
    offer = _fields("GPUOffer")
    assert isinstance(offer["gpu_type"], ColumnField) and offer["gpu_type"].is_basic_field
    assert not offer["gpu_family"].is_basic_field  # a resolver: the full path
    assert not offer["provider"].is_basic_field  # a relation: the full path


def test_shared_event_context_overrides_the_current_execute_operation():
    parent = inspect.signature(StrawberryGraphQLCoreExecutionContext.execute_operation)
    ours = inspect.signature(SharedEventExecutionContext.execute_operation)
    assert list(parent.parameters) == list(ours.parameters)
    assert issubclass(schema.execution_context_class, SharedEventExecutionContext)


def test_the_optimizer_can_be_switched_off_per_context():
    """tests/conftest.py runs the GraphQL tests with the optimizer off when asked
    (GRAPHQL_OPTIMIZER=off, a CI step) through this public switch."""
    assert DjangoOptimizerExtension.enabled.get() in (True, False)
    with DjangoOptimizerExtension.disabled():
        assert DjangoOptimizerExtension.enabled.get() is False


@pytest.mark.django_db
def test_history_window_hint_reads_literals_and_variables_alike(client, benchmarks):
    """``priceHistory(first:, since:)`` becomes one windowed prefetch through the public
    ``info.selected_fields`` (a literal arrives as source text, a variable coerced): both forms
    select the same rows with the same queries, never one history query per offer."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from strawberry_django.optimizer import DjangoOptimizerExtension

    from tests.catalogue_factories import make_history, make_offer, make_provider
    from tests.graphql_client import execute

    provider = make_provider("runpod")
    start = timezone.now()
    for n in range(5):
        make_history(make_offer(provider), [f"{n + 1}.0{k}" for k in range(6)], start=start)
    since = (start - timedelta(hours=3, minutes=30)).astimezone(UTC)
    literal = f"""{{ offers(first: 5) {{ edges {{ node {{ id
        priceHistory(first: 2, since: "{since.isoformat().replace("+00:00", "Z")}")
        {{ pricePerHour recordedAt }} }} }} }} }}"""
    variables_form = """query ($n: Int!, $since: DateTime) { offers(first: 5) { edges { node {
        id priceHistory(first: $n, since: $since) { pricePerHour recordedAt } } } } }"""
    answers, counts = [], []
    for query, variables in (
        (literal, None),
        (variables_form, {"n": 2, "since": since.isoformat()}),
    ):
        cache.clear()  # the offer-search cache would skip the COUNT the second time
        with CaptureQueriesContext(connection) as captured:
            answers.append(execute(client, query, variables))
        counts.append(len(captured))
    assert "errors" not in answers[0], answers[0]
    assert answers[0] == answers[1]
    histories = [e["node"]["priceHistory"] for e in answers[0]["data"]["offers"]["edges"]]
    assert len(histories) == 5 and all(len(rows) == 2 for rows in histories)
    assert counts[0] == counts[1]
    if DjangoOptimizerExtension.enabled.get():
        assert counts[0] == 3  # COUNT, the page, every offer's window in one query
