"""Query cost, computed before anything executes (the IBM/Shopify cost model).

* a scalar or enum field costs **0**, an object field **1** plus its selection;
* a list field costs **2 + size × (cost of one item)** where one item costs 1 (objects) plus its
  selection, or 0 (scalars); a connection is an object whose ``edges`` list is sized by the
  connection field's page argument;
* a root mutation field costs **10** (``GRAPHQL_COST_MUTATION``) plus its payload;
* a field may add a declared ``weight`` (expensive resolvers).

**Declaring sizes (one line, beside the field).** Every list field must say how long it can be
(``tests/hardening/test_cost.py`` fails naming each ``Type.field`` that does not):

.. code-block:: python

    from schema import cost

    @strawberry_django.field(description="...", metadata=cost.list_size(20, argument="first"))
    def price_history(self, first: int = 20) -> list[PriceHistory]: ...

    errors: list[FieldError] = strawberry.field(default_factory=list, metadata=cost.list_size(10))

``list_size(assumed, argument=...)``: the size is the value of ``argument`` (a dotted path such as
``"input.offers.limit"``, or a tuple of alternatives such as ``("first", "last")``), looked up on
the field itself, then on its nearest ancestor field that has that argument (so ``edges`` of a
connection reads ``first`` from ``offers(first: …)``); when no such argument is given (and has
no default) the size is ``assumed`` (the most items the list can hold). ``maximum`` caps the
argument at what the server serves (it refuses more with a field error). ``weight(n)`` adds ``n``
to a field. Both may be combined: ``metadata=cost.list_size(20, argument="limit", weight=10)``.

**Limits.** ``GRAPHQL_COST_MAX_PER_OPERATION`` (default 1,000 points) refuses an operation whose
cost is above it (``COST_LIMIT_EXCEEDED``). Every client also has a **budget**: a leaky bucket per
tenant (its plan's request rate × ``GRAPHQL_COST_POINTS_PER_REQUEST`` points per second, holding
``GRAPHQL_COST_BUDGET_WINDOW`` seconds of that), per user without tenant (free plan), per IP when
anonymous (``apps/auth_app/ratelimit.py``: ``charge_cost``). An operation the bucket cannot pay
for is refused with ``COST_BUDGET_EXCEEDED`` and ``retryAfter``. Both refusals happen before any
resolver or SQL runs. Every response carries ``extensions.cost``:
``{"requested", "maximum", "budget": {"limit", "remaining", "resetAfter"} | null}``.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.pyutils import Undefined as _UNDEFINED
from graphql.type import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from graphql.utilities import type_from_ast, value_from_ast
from strawberry.extensions import SchemaExtension

from apps.core.errors import RateLimited
from gpubroker import metrics
from graphql import GraphQLError

METADATA_KEY = "gpubroker.cost"
LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
BUDGET_EXCEEDED = "COST_BUDGET_EXCEEDED"
#: Walking stops past this many field nodes (a document built to be slow to cost is refused).
MAX_WALK = 50_000


@dataclass(frozen=True)
class FieldCost:
    assumed: int | None = None  # list size when no argument gives it (None: not a list spec)
    arguments: tuple[str, ...] = ()
    weight: int = 0
    maximum: int | None = None  # the most the server serves whatever the argument says


def list_size(
    assumed: int,
    *,
    argument: str | tuple[str, ...] = (),
    maximum: int | None = None,
    weight: int = 0,
) -> dict[str, FieldCost]:
    """Field metadata declaring a list's size (see the module docstring)."""
    arguments = (argument,) if isinstance(argument, str) else tuple(argument)
    spec = FieldCost(assumed=assumed, arguments=arguments, weight=weight, maximum=maximum)
    return {METADATA_KEY: spec}


def weight(points: int) -> dict[str, FieldCost]:
    """Field metadata adding ``points`` to a field's cost."""
    return {METADATA_KEY: FieldCost(weight=points)}


def declared(field: GraphQLField) -> FieldCost | None:
    definition = (field.extensions or {}).get("strawberry-definition")
    metadata = getattr(definition, "metadata", None) or {}
    spec = metadata.get(METADATA_KEY)
    return spec if isinstance(spec, FieldCost) else None


def is_list_field(field: GraphQLField) -> bool:
    field_type = field.type
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def undeclared_list_fields(schema: GraphQLSchema) -> list[str]:
    """``Type.field`` of every list field without a declared size (the CI check)."""
    missing = []
    for type_name, graphql_type in sorted(schema.type_map.items()):
        if type_name.startswith("__") or not isinstance(
            graphql_type, (GraphQLObjectType, GraphQLInterfaceType)
        ):
            continue
        for field_name, field in graphql_type.fields.items():
            if is_list_field(field):
                spec = declared(field)
                if spec is None or spec.assumed is None:
                    missing.append(f"{type_name}.{field_name}")
    return missing


class CostTooHigh(Exception):
    def __init__(self, cost: int) -> None:
        self.cost = cost


@dataclass
class _Frame:
    field: GraphQLField
    node: FieldNode


class CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any] | None,
        ceiling: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = dict(variables or {})
        self.ceiling = ceiling
        self.walked = 0
        self.total = 0

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = {
            OperationType.QUERY: self.schema.query_type,
            OperationType.MUTATION: self.schema.mutation_type,
            OperationType.SUBSCRIPTION: self.schema.subscription_type,
        }[operation.operation]
        if root is None:
            return 0
        per_root = (
            settings.GRAPHQL_COST_MUTATION if operation.operation == OperationType.MUTATION else 0
        )
        return self.selection(operation.selection_set, root, [], per_root)

    def _collect(
        self,
        selection_set: SelectionSetNode,
        parent: Any,
        into: dict[tuple[str, str], tuple[Any, list[FieldNode]]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = (
                    parent.name,
                    selection.alias.value if selection.alias else selection.name.value,
                )
                into.setdefault(key, (parent, []))[1].append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                self._collect(selection.selection_set, condition or parent, into, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visited:
                    continue  # spread twice in one selection: executed once (field merging)
                visited.add(name)
                condition = self.schema.get_type(fragment.type_condition.name.value) or parent
                self._collect(fragment.selection_set, condition, into, visited)

    def selection(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        ancestors: list[_Frame],
        per_field: int = 0,
    ) -> int:
        if selection_set is None:
            return 0
        fields: dict[tuple[str, str], tuple[Any, list[FieldNode]]] = {}
        self._collect(selection_set, parent, fields, set())
        cost = 0
        for (_, _key), (owner, nodes) in fields.items():
            self.walked += 1
            if self.walked > MAX_WALK:
                raise CostTooHigh(max(self.total, self.ceiling + 1))
            name = nodes[0].name.value
            if name.startswith("__") or not hasattr(owner, "fields"):
                continue  # __typename / introspection: free (introspection is a setting)
            field = owner.fields.get(name)
            if field is None:
                continue
            item = self.field(field, nodes, ancestors) + per_field
            cost += item
            self.total += item
            if self.total > self.ceiling * 100:
                raise CostTooHigh(self.total)
        return cost

    def field(self, field: GraphQLField, nodes: list[FieldNode], ancestors: list[_Frame]) -> int:
        spec = declared(field) or FieldCost()
        named = get_named_type(field.type)
        frame = _Frame(field, nodes[0])
        if is_leaf_type(named):
            per_item = 0
        else:
            merged = SelectionSetNode(
                selections=tuple(
                    s for n in nodes if n.selection_set for s in n.selection_set.selections
                )
            )
            per_item = 1 + self.selection(merged, named, [*ancestors, frame])
        if not is_list_field(field):
            return spec.weight + per_item
        size = self.size(spec, [*ancestors, frame])
        return 2 + spec.weight + size * per_item

    def size(self, spec: FieldCost, frames: list[_Frame]) -> int:
        for path in spec.arguments:
            head, *rest = path.split(".")
            for frame in reversed(frames):
                argument = frame.field.args.get(head)
                if argument is None:
                    continue
                value = self._argument(frame.node, head, argument)
                for part in rest:
                    value = value.get(part) if isinstance(value, dict) else None
                if isinstance(value, int) and not isinstance(value, bool):
                    # Past ``maximum`` the resolver refuses the argument itself (a clearer error
                    # than the cost's), so the cost counts what could be served.
                    return max(0, min(value, spec.maximum) if spec.maximum else value)
                break  # the nearest field with this argument decides; not given → next path
        return spec.assumed if spec.assumed is not None else 1

    def _argument(self, node: FieldNode, name: str, argument: Any) -> Any:
        for given in node.arguments or ():
            if given.name.value == name:
                try:
                    value = value_from_ast(given.value, argument.type, self.variables)
                except (GraphQLError, TypeError, ValueError):
                    return None
                return None if value is _UNDEFINED else value
        default = argument.default_value
        return None if default is _UNDEFINED else default


def operation_cost(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    ceiling: int,
) -> int:
    """The operation's cost; stops early (returning something above ``ceiling``) for documents
    whose costing alone would be expensive."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return 0  # graphql-core reports the missing/ambiguous operation itself
    calculator = CostCalculator(schema, fragments, variables, ceiling)
    try:
        return calculator.operation(operations[0])
    except CostTooHigh as too_high:
        return too_high.cost


def _coerced_variables(schema: GraphQLSchema, operation: Any, variables: Any) -> dict[str, Any]:
    """Raw variables, plus declared defaults for those not given (sizes often come from them)."""
    values = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            var_type = type_from_ast(schema, definition.type)
            if var_type is not None:
                values[name] = value_from_ast(definition.default_value, var_type)  # type: ignore[arg-type]
    return values


#: Costs of recent (document text, operation, variables, cap): a client repeating an operation
#: (the catalogue page) is costed once. The cost depends on nothing else (sizes are declared on
#: the schema, whose identity is part of the key).
_COST_CACHE: OrderedDict[tuple[int, str, str | None, str, int], int] = OrderedDict()
_COST_CACHE_SIZE = 1024
_cost_cache_lock = threading.Lock()


def cost_of(execution_context: Any) -> int:
    query = execution_context.query
    try:
        variables = json.dumps(execution_context.variables or {}, sort_keys=True)
    except (TypeError, ValueError):
        return _cost_of(execution_context)
    if query is None:
        return _cost_of(execution_context)
    schema_id = id(execution_context.schema)
    key = (schema_id, query, execution_context.operation_name, variables, cap := _cap())
    with _cost_cache_lock:
        if key in _COST_CACHE:
            _COST_CACHE.move_to_end(key)
            return _COST_CACHE[key]
    cost = _cost_of(execution_context, cap)
    with _cost_cache_lock:
        _COST_CACHE[key] = cost
        if len(_COST_CACHE) > _COST_CACHE_SIZE:
            _COST_CACHE.popitem(last=False)
    return cost


def _cap() -> int:
    return int(settings.GRAPHQL_COST_MAX_PER_OPERATION)


def _cost_of(execution_context: Any, cap: int | None = None) -> int:
    schema = execution_context.schema._schema
    document = execution_context.graphql_document
    name = execution_context.operation_name
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        operations = [o for o in operations if o.name and o.name.value == name]
    variables = execution_context.variables
    if len(operations) == 1:
        variables = _coerced_variables(schema, operations[0], variables)
    return operation_cost(schema, document, name, variables, _cap() if cap is None else cap)


class CostExtension(SchemaExtension):
    """Refuses operations above the per-operation cap or the client's budget, before execution,
    and reports ``extensions.cost`` on every response (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.requested: int | None = None
        self.budget: dict[str, int] | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and context.operation_type != OperationType.SUBSCRIPTION:
            self._admit(context)
        yield

    def _admit(self, context: Any) -> None:
        from apps.auth_app import ratelimit

        from .permissions import context_client

        maximum = settings.GRAPHQL_COST_MAX_PER_OPERATION
        self.requested = cost_of(context)
        metrics.GRAPHQL_COST.labels(metrics.operation_label(context.operation_name)).observe(
            self.requested
        )
        if self.requested > maximum:
            context.result = _refusal(
                f"The operation costs {self.requested} points; at most {maximum} are allowed.",
                {"code": LIMIT_EXCEEDED, "requested": self.requested, "maximum": maximum},
            )
            return
        user, ip = context_client(context.context)
        try:
            self.budget = ratelimit.charge_cost(user, ip, self.requested)
        except RateLimited as limited:
            self.budget = ratelimit.cost_budget_state(user, ip)
            context.result = _refusal(
                f"The cost budget cannot pay {self.requested} points now; retry later.",
                {
                    "code": BUDGET_EXCEEDED,
                    "requested": self.requested,
                    "retryAfter": limited.retry_after,
                },
            )

    def get_results(self) -> dict[str, Any]:
        return {
            "cost": {
                "requested": self.requested if self.requested is not None else 0,
                "maximum": settings.GRAPHQL_COST_MAX_PER_OPERATION,
                "budget": self.budget,
            }
        }


def _refusal(message: str, extensions: dict[str, Any]) -> Any:
    from graphql import ExecutionResult

    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions=extensions)])
