"""Public or private: every GraphQL field says, where it is declared, whether its value is the
same for every caller (catalogue data: offers, providers, benchmarks, models, KPIs, the price
index) or about the viewer (me, sessions, invitations, integrations, runs, chat).

**How to mark** (the one-liner, at the declaration): ``directives=[PUBLIC]`` or
``directives=[PRIVATE]`` on the type — it covers every field declared in it — or on a field,
which then overrides its type::

    @strawberry_django.type(models.GPUOffer, name="GPUOffer", directives=[PUBLIC])
    class GPUOfferType: ...

    @strawberry.type(directives=[PRIVATE])
    class SessionType: ...

    # root fields (the domain ``Query`` classes are merged, so each root field says it):
    offers: OfferConnection = strawberry_django.field(directives=[PUBLIC], ...)

The marking is the Apollo ``@cacheControl(scope:)`` hint and is printed in
``graphql/schema.graphql`` (``type GPUOffer @cacheControl(scope: PUBLIC)``), so CDNs and clients
read the same thing. ``tests/api/test_field_privacy.py`` fails for any object type field without
a marking and for a public field with permission classes (a field only some callers may read is
about the viewer). Root mutation and subscription fields need none: mutations are never cached
and subscriptions never travel over HTTP.

A field is public when its value is a function of its parent object, its arguments and the
catalogue — the same for every caller. When in doubt, mark it private: a private field only
costs a cache miss, a wrongly public one leaks one caller's answer to another.

Readers: the response cache (``schema/response_cache.py``: an operation is cached only when
*every* field it can select is public) and whatever cost or rate rule needs the distinction —
all through :func:`operation_is_public` / :func:`field_scope`, never a list kept elsewhere.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from enum import Enum
from typing import Any

import strawberry
from strawberry import relay
from strawberry.permission import PermissionExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.schema_directive import Location

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)


@strawberry.enum(name="CacheControlScope", description="Who a field's value is the same for.")
class Scope(Enum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


@strawberry.schema_directive(
    name="cacheControl",
    locations=[Location.OBJECT, Location.INTERFACE, Location.FIELD_DEFINITION],
    description=(
        "PUBLIC: the same for every caller (catalogue data; responses made only of public fields "
        "are cached and carry an ETag). PRIVATE: about the viewer (never cached)."
    ),
)
class CacheControl:
    scope: Scope


PUBLIC = CacheControl(scope=Scope.PUBLIC)
PRIVATE = CacheControl(scope=Scope.PRIVATE)

_META_FIELDS = {"__typename", "__schema", "__type"}  # schema-level: the same for everyone

#: Set on the HTTP request by ``schema.permissions`` when a resolver asks who the viewer is: a
#: response that did is about the viewer, whatever its fields say, and is never cached.
VIEWER_READ_ATTR = "gpubroker_viewer_read"


def mark_viewer_read(request: Any) -> None:
    if request is not None:
        setattr(request, VIEWER_READ_ATTR, True)


def _marking(directives: Any) -> Scope | None:
    for directive in directives or ():
        if isinstance(directive, CacheControl):
            return directive.scope
    return None


def _definition(graphql_thing: Any) -> Any:
    return (getattr(graphql_thing, "extensions", None) or {}).get(
        GraphQLCoreConverter.DEFINITION_BACKREF
    )


def _class_marking(cls: Any) -> Scope | None:
    definition = getattr(cls, "__strawberry_definition__", None)
    return _marking(getattr(definition, "directives", None)) if definition else None


def _structural(parent: Any) -> bool:
    """Strawberry's own Relay types (``PageInfo``, ``<Node>Edge``) cannot carry a marking: their
    fields are the shape of the connection that selects them (cursors, page flags, the node,
    which has its own marking), so they are public exactly when that connection is."""
    definition = _definition(parent)
    origin = getattr(definition, "concrete_of", None) or definition
    origin = getattr(origin, "origin", None)
    return origin is relay.PageInfo or origin is relay.Edge


def field_scope(parent: GraphQLObjectType | GraphQLInterfaceType, field_name: str) -> Scope | None:
    """The field's own marking, else that of the class that declares it (a domain ``Query``,
    a type, an interface), else its GraphQL type's; ``None`` when none says."""
    if field_name in _META_FIELDS:
        return Scope.PUBLIC
    field = parent.fields.get(field_name)
    if field is None:
        return None
    definition = _definition(field)
    own = _marking(getattr(definition, "directives", None))
    if own is not None:
        return own
    declared = _class_marking(getattr(definition, "origin", None))
    if declared is not None:
        return declared
    on_type = _marking(getattr(_definition(parent), "directives", None))
    if on_type is not None:
        return on_type
    return Scope.PUBLIC if _structural(parent) else None


def unmarked_fields(schema: GraphQLSchema) -> list[str]:
    """``Type.field`` for every object/interface field (outside the mutation and subscription
    roots) whose privacy is not declared."""
    skipped = {t.name for t in (schema.mutation_type, schema.subscription_type) if t}
    missing: list[str] = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in skipped:
            continue
        if isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType)):
            missing.extend(
                f"{name}.{field}"
                for field in graphql_type.fields
                if field_scope(graphql_type, field) is None
            )
    return missing


def public_fields_with_permissions(schema: GraphQLSchema) -> list[str]:
    """``Type.field`` for public fields guarded by permissions (who may read it is the viewer)."""
    found = []
    for name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType)):
            continue
        for field_name, field in graphql_type.fields.items():
            definition = _definition(field)
            guarded = getattr(definition, "permission_classes", None) or any(
                isinstance(extension, PermissionExtension)
                for extension in getattr(definition, "extensions", None) or ()
            )
            if guarded and field_scope(graphql_type, field_name) is Scope.PUBLIC:
                found.append(f"{name}.{field_name}")
    return found


# --- operations ------------------------------------------------------------------------------
class _Private(Exception):
    pass


def _check_selection(
    schema: GraphQLSchema,
    parent: Any,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen_fragments: set[str],
) -> None:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            _check_field(schema, parent, selection, fragments, seen_fragments)
        elif isinstance(selection, InlineFragmentNode):
            target = (
                schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            _check_selection(schema, target, selection.selection_set, fragments, seen_fragments)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None:
                raise _Private
            if name in seen_fragments:
                continue
            target = schema.get_type(fragment.type_condition.name.value)
            _check_selection(
                schema, target, fragment.selection_set, fragments, seen_fragments | {name}
            )


def _possible_types(schema: GraphQLSchema, parent: Any) -> list[Any]:
    if isinstance(parent, GraphQLObjectType):
        return [parent]
    if isinstance(parent, (GraphQLInterfaceType, GraphQLUnionType)):
        return [*schema.get_possible_types(parent)] + (
            [parent] if isinstance(parent, GraphQLInterfaceType) else []
        )
    raise _Private


def _check_field(
    schema: GraphQLSchema,
    parent: Any,
    node: FieldNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen_fragments: set[str],
) -> None:
    name = node.name.value
    if name in _META_FIELDS:
        return  # introspection and __typename: the schema is the same for everyone
    # Selected on an abstract type, the field is read from whichever object comes back: every
    # implementation's marking must be public.
    targets = [t for t in _possible_types(schema, parent) if name in t.fields]
    if not targets:
        raise _Private
    for target in targets:
        if field_scope(target, name) is not Scope.PUBLIC:
            raise _Private
    field_type = get_named_type(targets[0].fields[name].type)
    if node.selection_set is not None:
        _check_selection(schema, field_type, node.selection_set, fragments, seen_fragments)


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            raise _Private
        return operations[0]
    for operation in operations:
        if operation.name and operation.name.value == operation_name:
            return operation
    raise _Private


def document_is_public(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> bool:
    """Is the named operation a query whose every selectable field is public? Unknown fields,
    fragments or operations answer ``False`` (execution will report them; nothing is cached).
    ``@skip``/``@include`` are ignored: a field that *may* be selected counts."""
    try:
        operation = _operation(document, operation_name)
        if operation.operation is not OperationType.QUERY or schema.query_type is None:
            return False
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        _check_selection(schema, schema.query_type, operation.selection_set, fragments, set())
    except (_Private, RecursionError):
        return False
    return True


class _Memo:
    """Decisions per (document text, operation name): analysed once per process."""

    def __init__(self, size: int = 1024) -> None:
        self._entries: OrderedDict[tuple[str, str | None], bool] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: tuple[str, str | None]) -> bool | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: tuple[str, str | None], value: bool) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


_memo = _Memo()


def operation_is_public(
    schema: GraphQLSchema, query: str, operation_name: str | None, parse: Any
) -> bool:
    """:func:`document_is_public` for a query text (``parse`` turns text into a document, e.g.
    graphql-core's ``parse``); remembered per text and operation name."""
    key = (hashlib.sha256(query.encode()).hexdigest(), operation_name)
    known = _memo.get(key)
    if known is not None:
        return known
    try:
        document = parse(query)
    except Exception:
        return False  # a syntax error: execution answers it, nothing to cache
    public = document_is_public(schema, document, operation_name)
    _memo.put(key, public)
    return public
