"""Smoke tests for the places where schema/ leans on Strawberry / strawberry-django internals
(pinned to tested minor versions in pyproject.toml). Each fails loudly when an upgrade changes the
hook it relies on, instead of the schema silently losing its fast path."""

from __future__ import annotations

import inspect

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
