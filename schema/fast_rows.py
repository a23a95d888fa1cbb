"""Row plans: a list page built straight from database rows, with graphql-core's exact output.

Profiling the uncached catalogue page (``bench/profile_catalogue.py``, py-spy on the bench
server) after the fast field path (``schema/fast_execution.py``) still showed most of the
GraphQL-only time in three places: strawberry-django's optimizer *planning* the page's query
(walking the selection on every request), Django *building model instances* for 50 offers with
their provider and benchmark, and *completing* them field by field (``complete_value``, a
``GraphQLResolveInfo`` and the model type's ``is_type_of`` per object).

A **row plan** replaces all three for a field whose whole selection is plain data:

* **compiled once per (document, field)** from the selection graphql-core collects: the object
  types between the field and the rows (a Relay connection, its edges and page info) read with
  their basic getters, and at the rows' position a strawberry-django type whose selected fields
  are all **columns**, **forward foreign keys** (recursively), **model properties** declared with
  ``only=`` hints, or ``__typename``. Anything else — a resolver, arguments, a directive, a
  fragment argument, a type with ``get_queryset`` or ``is_type_of``, a non-null field over a
  nullable column — means no plan, and the field runs as before;
* **executed** by calling the field's resolver as graphql-core does (middleware, arguments,
  strawberry's extensions), with strawberry-django's ``optimizer`` context variable pointing at
  a loader that answers the resolver's ``optimize(queryset, info)`` for this field with
  ``queryset.values_list(<the plan's columns>, named=True)`` — the same rows, joins and order,
  no planning and no model instances (rows have ``pk``, which is all ``apps.providers.selectors``
  reads of them);
* **completed** by the compiled builders: dicts in the grouped field set's order, leaves coerced
  with the field types' own ``coerce_output_value`` (what ``complete_leaf_value`` calls), model
  properties evaluated on an object holding exactly their ``only`` columns.

Whatever the builders cannot answer exactly as graphql-core would — ``None`` for a non-null
field, a coercion failure, a property reading an undeclared attribute, a value that is not one
of the plan's rows (the resolver did not ask the optimizer), an exception in the resolver after
rows were handed out — **aborts** the plan: the field is executed again the general way, so the
response, its errors included, is graphql-core's. Structural aborts switch the plan off for the
document. Row plans run only for queries, in synchronous execution, with the optimizer enabled
and ``GRAPHQL_FAST_EXECUTION`` on; ``tests/catalogue/test_fast_rows.py`` and the differential
harness (``tests/fast_path_differential.py``) compare them byte for byte with graphql-core.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, QuerySet
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from graphql.pyutils import Path
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.optimizer import DjangoOptimizerExtension, optimizer
from strawberry_django.utils.typing import get_django_definition

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationType,
    Undefined,
    is_leaf_type,
)

from .field_readers import is_basic_getter, leaf_coercer, model_attribute

logger = logging.getLogger("gpubroker.graphql.rows")

TYPENAME = "__typename"
#: Compiled plans kept (documents come from the parser cache; this bounds the memory).
MAX_PLANS = 1024


class Abort(Exception):
    """The plan cannot answer this value exactly as graphql-core would: run the field again."""

    def __init__(self, structural: bool = False) -> None:
        super().__init__()
        self.structural = structural


FALLBACK: Any = object()
Build = Callable[[Any], Any]


@dataclass
class RowPlan:
    """A field's compiled row plan (shared by threads; ``disabled`` only ever turns on)."""

    node: FieldNode
    model: type[Model]
    columns: tuple[str, ...]
    build: Build
    disabled: bool = False


@dataclass
class _Columns:
    """The ``values_list`` lookups of a plan, each once, ``pk`` first."""

    names: list[str] = field(default_factory=lambda: ["pk"])
    #: The final names, once compiled: a row of this plan has exactly these ``_fields``.
    frozen: tuple[str, ...] | None = None

    def index(self, lookup: str) -> int:
        if lookup not in self.names:
            self.names.append(lookup)
        return self.names.index(lookup)


class _Refuse(Exception):
    """Compile time: this selection has no row plan."""


# --- compile ------------------------------------------------------------------------------
def _no_directives(selection_set: SelectionSetNode | None, fragments: dict[str, Any]) -> bool:
    """No ``@skip``/``@include``/``@defer`` anywhere below: the collected fields then depend
    on the document alone, never on the variables, so the plan can be shared."""
    if selection_set is None:
        return True
    for selection in selection_set.selections:
        if selection.directives:
            return False
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or fragment.directives:
                return False
            if not _no_directives(fragment.selection_set, fragments):
                return False
        elif isinstance(selection, (FieldNode, InlineFragmentNode)):
            if isinstance(selection, FieldNode) and selection.arguments:
                return False  # arguments below the planned field: resolvers, not columns
            if not _no_directives(selection.selection_set, fragments):
                return False
    return True


def _django_model(named: GraphQLObjectType) -> type[Model] | None:
    definition = (named.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin = getattr(definition, "origin", None)
    django = get_django_definition(origin) if origin is not None else None
    if django is None:
        return None
    if django.disable_optimization or django.store or hasattr(origin, "get_queryset"):
        raise _Refuse  # the optimizer would do more than select columns for this type
    return django.model


class _Compiler:
    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.schema = executor.schema
        self.columns = _Columns()
        self.model: type[Model] | None = None

    def subfields(self, named: GraphQLObjectType, details: Any) -> Any:
        grouped, defer_usages, *_ = self.executor.collect_subfields(named, details)
        if defer_usages:
            raise _Refuse
        for key_details in grouped.values():
            for detail in key_details:
                if detail.defer_usage is not None or detail.fragment_variable_values:
                    raise _Refuse
        return grouped

    # Values above the rows: objects with basic getters, lists, leaves.
    def value(self, type_: GraphQLOutputType, details: Any) -> Build:
        non_null = isinstance(type_, GraphQLNonNull)
        inner: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(inner, GraphQLList):
            item = self.value(inner.of_type, details)

            def build_list(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise Abort
                    return None
                if type(value) is not list and type(value) is not tuple:
                    raise Abort
                return [item(v) for v in value]

            return build_list
        if is_leaf_type(inner):
            return _leaf(inner, non_null)
        if not isinstance(inner, GraphQLObjectType):
            raise _Refuse  # interfaces and unions resolve their type at run time
        model = _django_model(inner)
        if model is not None:
            if self.model is not None and self.model is not model:
                raise _Refuse  # one row shape per plan
            self.model = model
            return self.rows(inner, model, details, non_null)
        if inner.is_type_of is not None:
            raise _Refuse
        steps: list[tuple[str, Any, Build | None]] = []
        for key, key_details in self.subfields(inner, details).items():
            name = key_details[0].node.name.value
            if name == TYPENAME:
                steps.append((key, inner.name, None))
                continue
            field_def = self.schema.get_field(inner, name)
            if field_def is None or field_def.args or not is_basic_getter(field_def.resolve):
                raise _Refuse
            steps.append((key, field_def.resolve, self.value(field_def.type, key_details)))
        return _object(steps, non_null)

    # The rows: a strawberry-django type over ``model``, read from the row tuple.
    def rows(
        self, named: GraphQLObjectType, model: type[Model], details: Any, non_null: bool
    ) -> Build:
        build_row = self.row_fields(named, model, "", details)
        columns = self.columns

        def build_rows(value: Any) -> Any:
            if value is None:
                if non_null:
                    raise Abort
                return None
            if getattr(value, "_fields", None) != columns.frozen:
                raise Abort(structural=True)  # not one of this plan's rows
            return build_row(value)

        return build_rows

    def row_fields(
        self, named: GraphQLObjectType, model: type[Model], prefix: str, details: Any
    ) -> Build:
        steps: list[tuple[str, int, Any, Any]] = []
        for key, key_details in self.subfields(named, details).items():
            name = key_details[0].node.name.value
            if name == TYPENAME:
                steps.append((key, _CONSTANT, named.name, None))
                continue
            field_def = self.schema.get_field(named, name)
            if field_def is None or field_def.args:
                raise _Refuse
            attname = model_attribute(field_def)
            if attname is None:
                raise _Refuse
            steps.append(self.row_field(key, key_details, field_def, model, prefix, attname))
        return _row_object(steps)

    def row_field(
        self, key: str, details: Any, field_def: Any, model: type[Model], prefix: str, attr: str
    ) -> tuple[str, int, Any, Any]:
        type_ = field_def.type
        non_null = isinstance(type_, GraphQLNonNull)
        named = type_.of_type if non_null else type_
        django_field: StrawberryDjangoField = field_def.extensions[
            GraphQLCoreConverter.DEFINITION_BACKREF
        ]
        store = django_field.store
        descriptor = getattr(model, attr, None)
        if isinstance(descriptor, ForwardManyToOneDescriptor):
            related = descriptor.field
            if store or (related.null and non_null) or not isinstance(named, GraphQLObjectType):
                raise _Refuse
            if _django_model(named) is not related.related_model:
                raise _Refuse
            link = self.columns.index(prefix + related.name)
            nested = self.row_fields(
                named, related.related_model, f"{prefix}{related.name}__", details
            )
            return (key, _RELATED, link, nested)
        if not is_leaf_type(named):
            raise _Refuse
        coerce = _leaf(named, non_null)
        if type(descriptor) is DeferredAttribute:
            column = descriptor.field  # type: ignore[union-attr]
            if store or (column.null and non_null) or column.is_relation:
                raise _Refuse
            return (key, _COLUMN, self.columns.index(prefix + column.name), coerce)
        if (
            type(descriptor) is property
            and store.only
            and not (store.select_related or store.prefetch_related or store.annotate)
        ):
            inputs = []
            for name in store.only:
                column = _concrete(model, name)
                inputs.append((column.attname, self.columns.index(prefix + column.name)))
            # The property is looked up on the model at run time (what attribute access does).
            inputs_class = _inputs_class(tuple(a for a, _ in inputs))
            return (
                key,
                _PROPERTY,
                (model, attr, inputs_class),
                (tuple(i for _, i in inputs), coerce),
            )
        raise _Refuse


def _concrete(model: type[Model], name: str) -> Any:
    """A concrete, non-relational column of ``model`` named by an ``only`` hint."""
    if "__" in name:
        raise _Refuse
    try:
        column = model._meta.get_field(name)
    except Exception as exc:
        raise _Refuse from exc
    if not getattr(column, "concrete", False) or column.is_relation:
        raise _Refuse
    return column


_inputs_classes: dict[tuple[str, ...], type] = {}


def _inputs_class(names: tuple[str, ...]) -> type:
    """A class holding exactly ``names``: what a property with those ``only`` hints may read
    (reading anything else raises AttributeError, and the plan aborts)."""
    cls = _inputs_classes.get(names)
    if cls is None:
        cls = _inputs_classes[names] = type("PropertyInputs", (), {"__slots__": names})
    return cls


_CONSTANT, _COLUMN, _RELATED, _PROPERTY = range(4)


def _leaf(named: Any, non_null: bool) -> Build:
    coerce = leaf_coercer(named)

    def build_leaf(value: Any) -> Any:
        if value is None:
            if non_null:
                raise Abort
            return None
        try:
            coerced = coerce(value)
        except Exception as exc:
            raise Abort from exc
        if coerced is None or coerced is Undefined:
            raise Abort
        return coerced

    return build_leaf


def _object(steps: list[tuple[str, Any, Build | None]], non_null: bool) -> Build:
    def build_object(value: Any) -> Any:
        if value is None:
            if non_null:
                raise Abort
            return None
        out = {}
        for key, getter, child in steps:
            if child is None:
                out[key] = getter  # __typename
                continue
            try:
                raw = getter(value, None)
            except Exception as exc:
                raise Abort from exc
            out[key] = child(raw)
        return out

    return build_object


def _row_object(steps: list[tuple[str, int, Any, Any]]) -> Build:
    def build_row(row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, kind, a, b in steps:
            if kind == _COLUMN:
                out[key] = b(row[a])
            elif kind == _RELATED:
                out[key] = None if row[a] is None else b(row)
            elif kind == _CONSTANT:
                out[key] = a
            else:  # a property over its ``only`` columns
                model, attr, inputs_class = a
                indexes, coerce = b
                inputs = inputs_class()
                for attname, index in zip(inputs_class.__slots__, indexes, strict=True):
                    setattr(inputs, attname, row[index])
                prop = getattr(model, attr, None)
                if type(prop) is not property or prop.fget is None:
                    raise Abort(structural=True)
                try:
                    value = prop.fget(inputs)
                except Exception as exc:
                    raise Abort(structural=isinstance(exc, AttributeError)) from exc
                out[key] = coerce(value)
        return out

    return build_row


def compile_plan(executor: Any, field_def: Any, details: Any) -> RowPlan | None:
    node = details[0].node
    if not _no_directives(node.selection_set, executor.fragment_definitions):
        return None
    compiler = _Compiler(executor)
    compiler.columns.frozen = None  # type: ignore[attr-defined]
    try:
        named = (
            field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type
        )
        if not isinstance(named, GraphQLObjectType) or _django_model(named) is not None:
            return None  # the field itself returns rows: the optimizer middleware shapes them
        build = compiler.value(field_def.type, details)
    except _Refuse:
        return None
    if compiler.model is None:
        return None  # no rows below: nothing to load
    columns = tuple(compiler.columns.names)
    compiler.columns.frozen = columns
    return RowPlan(node=node, model=compiler.model, columns=columns, build=build)


# --- plan cache -----------------------------------------------------------------------------
_plans: OrderedDict[tuple[int, int, str], tuple[FieldNode, RowPlan | None]] = OrderedDict()
_plans_lock = threading.Lock()


def plan_for(executor: Any, parent_type: GraphQLObjectType, details: Any) -> RowPlan | None:
    node = details[0].node
    key = (id(executor.schema), id(node), parent_type.name)
    cached = _plans.get(key)
    if cached is not None and cached[0] is node:
        plan = cached[1]
        return None if plan is None or plan.disabled else plan
    field_def = executor.schema.get_field(parent_type, node.name.value)
    plan = None
    if field_def is not None and not is_basic_getter(field_def.resolve):
        try:
            plan = compile_plan(executor, field_def, details)
        except Exception:  # a shape this module does not know: the general path, and say so
            logger.exception("no row plan for field %s (compile error)", node.name.value)
    with _plans_lock:
        _plans[key] = (node, plan)
        while len(_plans) > MAX_PLANS:
            _plans.popitem(last=False)
    return plan


def enabled_for(executor: Any) -> bool:
    """Row plans for this execution: a query, run synchronously, with the optimizer on."""
    if executor.operation.operation is not OperationType.QUERY:
        return False
    if not DjangoOptimizerExtension.enabled.get() or optimizer.get() is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False  # async execution: strawberry-django's resolvers return awaitables


# --- execute --------------------------------------------------------------------------------
_loading: ContextVar[_RowLoader | None] = ContextVar("gpubroker_row_loader", default=None)


class _RowLoader:
    """Stands in for the optimizer extension while the planned field's resolver runs."""

    def __init__(self, extension: Any, plan: RowPlan, info: Any) -> None:
        self.extension = extension
        self.plan = plan
        self.info = info
        self.used = False

    def optimize(self, qs: Any, info: Any, **kwargs: Any) -> Any:
        raw = getattr(info, "_raw_info", info)
        if (
            raw is self.info
            and isinstance(qs, QuerySet)
            and qs.model is self.plan.model
            and qs._iterable_class is ModelIterable
            and not getattr(qs, "_prefetch_related_lookups", ())
        ):
            self.used = True
            return qs.values_list(*self.plan.columns, named=True)
        return self.extension.optimize(qs, info, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.extension, name)


def loading_rows() -> bool:
    """Whether a planned field's resolver is running (the differential test lets it run)."""
    return _loading.get() is not None


@contextmanager
def _rows_for(loader: _RowLoader) -> Iterator[None]:
    token = optimizer.set(loader)  # type: ignore[arg-type]
    loading = _loading.set(loader)
    try:
        yield
    finally:
        _loading.reset(loading)
        optimizer.reset(token)


def execute(
    executor: Any,
    plan: RowPlan,
    parent_type: GraphQLObjectType,
    source: Any,
    details: Any,
    path: Path,
) -> Any:
    """The planned field's completed value, or ``FALLBACK`` to execute it the general way."""
    node = details[0].node
    field_def = executor.schema.get_field(parent_type, node.name.value)
    resolve_fn = field_def.resolve
    if executor.middleware_manager:
        resolve_fn = executor.middleware_manager.get_field_resolver(resolve_fn)
    info = executor.build_resolve_info(field_def, [d.node for d in details], parent_type, path)
    try:
        args = (
            get_argument_values(
                field_def,
                node,
                executor.variable_values,
                details[0].fragment_variable_values,
                executor.hide_suggestions,
            )
            if field_def.args or node.arguments
            else {}
        )
    except Exception:
        return FALLBACK  # the general path reports it
    loader = _RowLoader(optimizer.get(), plan, info)
    try:
        with _rows_for(loader):
            result = resolve_fn(source, info, **args)
    except Exception:
        return FALLBACK  # an error is reported by the general path, rows or not
    if executor.is_awaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()
        plan.disabled = True
        return FALLBACK
    if not loader.used:
        plan.disabled = True  # the resolver does not load through the optimizer
        return FALLBACK
    try:
        return plan.build(result)
    except Abort as abort:
        if abort.structural:
            plan.disabled = True
        return FALLBACK
