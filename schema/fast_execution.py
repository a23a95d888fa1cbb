"""A faster field-execution path for list pages, with results identical to graphql-core's.

Profiling the catalogue page (50 offers with provider and benchmark, ~1,000 fields; see
``bench/profile_catalogue.py``) showed most of the GraphQL time outside the work itself:
for every field of every row graphql-core builds a ``GraphQLResolveInfo`` and a ``Path``, runs
the resolver through the middleware chain (the Django optimizer's ``resolve`` hook, which only
acts on querysets), and walks ``complete_value``'s type dispatch; strawberry adds an ``Info``,
argument conversion and the field-extension chain for every field that is not "basic".

:class:`FastFieldsExecutionContext` keeps graphql-core's executor and replaces only the loop
that executes an object's sub-selection (``execute_collected_subfields``) with a per-selection
*plan*, compiled once per execution for each grouped field set:

* ``__typename`` is the parent type's name (what graphql-core's meta field returns);
* a **leaf** field whose resolver is strawberry's basic-field getter (no resolver, arguments,
  extensions or permissions: what ``ColumnField`` and plain strawberry fields compile to) is read
  and coerced inline with the field type's own ``coerce_output_value`` — the call graphql-core
  makes in ``complete_leaf_value``;
* a basic field of object or list type, and a strawberry-django **forward relation** whose row
  the optimizer already joined (``select_related``: the related object is in the row's field
  cache), skip the resolver chain and go straight to graphql-core's own ``complete_value``;
* everything else — resolvers, arguments, unions, permissions, relations not yet loaded —
  runs through graphql-core's ``execute_field`` unchanged.

Whenever an inline read is anything but a plain value (an exception, ``None`` for a non-null
field, a coercion failure, an awaitable, a queryset or manager the optimizer would reshape),
that field is handed to ``execute_field``, which re-reads it (basic reads are pure attribute
reads) and produces the error, path and null propagation graphql-core always produces. Fields
run in the grouped field set's order, so errors are collected in the same order too.

The path is used for queries and mutations (subscriptions keep graphql-core's path) only when
every middleware is known to pass plain values through unchanged
(the Django optimizer extension is the only one today; any other ``resolve`` extension turns it
off for the whole execution), and ``@defer`` selections keep graphql-core's handling. Setting
``GRAPHQL_FAST_EXECUTION = False`` turns it off; ``tests/catalogue/test_fast_execution.py`` runs
every operation in ``graphql/operations/`` (and hypothesis-generated variables) both ways and
compares the serialised responses byte for byte.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.manager import BaseManager
from django.db.models.query_utils import DeferredAttribute
from graphql.pyutils import Path, gather_with_cancel
from strawberry_django.optimizer import DjangoOptimizerExtension

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationType,
    Undefined,
    is_leaf_type,
)

from . import fast_rows
from .field_readers import PLAIN_VALUES, is_basic_getter, leaf_coercer, model_attribute
from .live_execution import SharedEventExecutionContext

#: Middleware whose ``resolve`` returns a plain (non-queryset) value unchanged.
_PASS_THROUGH_MIDDLEWARE: tuple[type, ...] = (DjangoOptimizerExtension,)

_SLOW, _TYPENAME, _LEAF, _OBJECT = range(4)
_TYPENAME_FIELD = "__typename"
#: How a field's value is read without its resolver chain.
_GETTER, _MODEL_ATTRIBUTE = range(2)

Step = tuple[int, str, Any, Any, Any, Any, Any]


def enabled() -> bool:
    return bool(getattr(settings, "GRAPHQL_FAST_EXECUTION", True))


def _reader(model: type, attname: str) -> Callable[[Any], Any]:
    """How to read ``attname`` on rows of ``model`` (decided once per class and attribute)."""
    descriptor = getattr(model, attname, None)
    kind = type(descriptor)
    if descriptor is None:  # an annotation

        def annotation(source: Any) -> Any:
            return source.__dict__.get(attname, Undefined)

        return annotation
    if kind is DeferredAttribute:  # a column (not deferred: then it would be loaded)
        column = descriptor.field.attname  # type: ignore[union-attr]

        def column_value(source: Any) -> Any:
            return source.__dict__.get(column, Undefined)

        return column_value
    if isinstance(descriptor, ForwardManyToOneDescriptor):  # FK / one-to-one, joined
        related = descriptor.field

        def joined(source: Any) -> Any:
            try:
                return related.get_cached_value(source)
            except KeyError:
                return Undefined

        return joined
    if kind is property:  # a model property over selected columns

        def computed(source: Any) -> Any:
            try:
                value = getattr(source, attname)
            except Exception:
                return Undefined
            if isinstance(value, (BaseManager, QuerySet, FileDescriptor)):
                return Undefined
            return value

        return computed
    return lambda source: Undefined


_readers: dict[tuple[type, str], Callable[[Any], Any]] = {}


def readmodel_attribute(source: Any, attname: str) -> Any:
    """What strawberry-django's ``get_result`` returns for a field without resolver on a loaded
    row — or ``Undefined`` where it would do more (load a deferred column or an unjoined
    relation, call a queryset hook, unwrap a file): the general path handles those."""
    key = (type(source), attname)
    reader = _readers.get(key)
    if reader is None:
        reader = _readers[key] = _reader(key[0], attname)
    return reader(source)


class FastFieldsExecutionContext(SharedEventExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middlewares = self.middleware_manager.middlewares if self.middleware_manager else ()
        # Subscriptions keep graphql-core's path: their events are executed once per process
        # and shared by every subscriber already (live_execution.py).
        self._fast = (
            enabled()
            and self.operation.operation is not OperationType.SUBSCRIPTION
            and all(type(m) in _PASS_THROUGH_MIDDLEWARE for m in middlewares)
        )
        # id(grouped field set) → (grouped field set kept alive, its plan); graphql-core memoises
        # the grouped sets per (type, field group), so each plan is compiled once per execution.
        self._plans: dict[int, tuple[Any, list[Step]]] = {}
        # Row plans (schema/fast_rows.py): list pages built from database rows.
        self._rows = self._fast and fast_rows.enabled_for(self)

    # --- fields with a row plan -----------------------------------------------------------------
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        if self._rows:
            plan = fast_rows.plan_for(self, parent_type, field_details_list)
            if plan is not None:
                value = fast_rows.execute(self, plan, parent_type, source, field_details_list, path)
                if value is not fast_rows.FALLBACK:
                    return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    # --- compile ------------------------------------------------------------------------------
    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[Step]:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        steps = [
            self._step(parent_type, name, details) for name, details in grouped_field_set.items()
        ]
        self._plans[id(grouped_field_set)] = (grouped_field_set, steps)
        return steps

    def _step(self, parent_type: GraphQLObjectType, key: str, details: Any) -> Step:
        node = details[0].node
        field_name = node.name.value
        slow: Step = (_SLOW, key, details, None, None, None, None)
        if node.arguments:
            return slow
        if field_name == _TYPENAME_FIELD:
            return (_TYPENAME, key, details, parent_type.name, None, None, None)
        field_def = self.schema.get_field(parent_type, field_name)
        if field_def is None or field_def.args:
            return slow
        return_type: GraphQLOutputType = field_def.type
        non_null = isinstance(return_type, GraphQLNonNull)
        named: Any = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        attname = model_attribute(field_def)
        if attname is not None:
            reader: tuple[int, Any] = (_MODEL_ATTRIBUTE, attname)
        elif is_basic_getter(field_def.resolve):
            reader = (_GETTER, field_def.resolve)
        else:
            return slow
        if is_leaf_type(named):
            return (_LEAF, key, details, reader, non_null, leaf_coercer(named), None)
        return (_OBJECT, key, details, reader, field_def, return_type, non_null)

    # --- run ----------------------------------------------------------------------------------
    def execute_collected_subfields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path,
        grouped_field_set: Any,
        new_defer_usages: Any,
        position_context: Any,
    ) -> Any:
        if new_defer_usages or not self._fast:
            return super().execute_collected_subfields(
                parent_type, source_value, path, grouped_field_set, new_defer_usages, None
            )
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            self._run_plan(parent_type, source_value, path, grouped_field_set, results, pending)
        except Exception:
            if pending:  # as execute_fields does: settle the other fields' awaitables
                self.settle_in_background([results[key] for key in pending])
            raise
        if not pending:
            return results
        return self._gather(results, pending)

    def _run_plan(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path,
        grouped_field_set: Any,
        results: dict[str, Any],
        pending: list[str],
    ) -> None:
        is_awaitable = self.is_awaitable
        model = type(source_value)
        readers = _readers
        for kind, key, details, a, b, c, d in self._plan(parent_type, grouped_field_set):
            if kind == _LEAF:
                if a[0] == _MODEL_ATTRIBUTE:  # the common case, inlined: a column of the row
                    reader = readers.get((model, a[1]))
                    if reader is None:
                        reader = readers[(model, a[1])] = _reader(model, a[1])
                    value = reader(source_value)
                    if type(value) not in PLAIN_VALUES and value is not None:
                        value = self._checked(value)
                else:
                    value = self._read(a, source_value)
                if value is None:
                    if not b:
                        results[key] = None
                        continue
                elif value is not Undefined and not isinstance(value, Exception):
                    try:
                        coerced = c(value)
                    except Exception:
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        results[key] = coerced
                        continue
            elif kind == _TYPENAME:
                results[key] = a
                continue
            elif kind == _OBJECT:
                value = self._read(a, source_value)
                if value is not Undefined and not (value is None and d):
                    completed = self._complete(
                        parent_type, source_value, path, key, details, b, c, value
                    )
                    results[key] = completed
                    if is_awaitable(completed):
                        pending.append(key)
                    continue
            # Anything else, or an inline read that was not a plain value: graphql-core itself.
            result = self.execute_field(
                parent_type, source_value, details, Path(path, key, parent_type.name), None
            )
            if result is not Undefined:
                results[key] = result
                if is_awaitable(result):
                    pending.append(key)

    def _read(self, reader: tuple[int, Any], source: Any) -> Any:
        """The value the field's resolver chain would return, or ``Undefined`` to take the
        general path."""
        how, what = reader
        if how == _MODEL_ATTRIBUTE:
            value = readmodel_attribute(source, what)
        else:
            try:
                value = what(source, None)
            except Exception:
                return Undefined
            if isinstance(value, (BaseManager, QuerySet)):
                return Undefined  # the optimizer middleware would reshape a queryset
        return self._checked(value)

    def _checked(self, value: Any) -> Any:
        if type(value) not in PLAIN_VALUES and self.is_awaitable(value):
            return Undefined
        return value

    def _complete(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path,
        key: str,
        details: Any,
        field_def: Any,
        return_type: GraphQLOutputType,
        value: Any,
    ) -> Any:
        """``execute_field`` after its resolver call: complete the value, handle field errors."""
        field_path = Path(path, key, parent_type.name)
        info = self.build_resolve_info(
            field_def, [d.node for d in details], parent_type, field_path
        )
        try:
            completed = self.complete_value(return_type, details, info, field_path, value, None)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, field_path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(completed, return_type, details, field_path)
        return completed

    async def _await_completed(
        self, completed: Awaitable[Any], return_type: Any, details: Any, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None

    async def _gather(self, results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        """``execute_fields``' handling of awaitable field results (subscriptions run async)."""
        values = await gather_with_cancel(*(results[key] for key in pending))
        results.update(zip(pending, values, strict=True))
        return results
