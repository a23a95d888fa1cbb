"""Structural limits, introspection and field suggestions: checked before anything executes.

Every limit is a setting (``gpubroker/settings/base.py``, block "Hardened public API"), read here
in one place (``current_limits``). Counts are taken **after fragments are expanded** (a fragment
spread twice counts twice; each fragment is summarised once, so the check stays linear even for
documents built to explode):

==============================  =======  =============================================
setting                         default  what is counted
==============================  =======  =============================================
``GRAPHQL_MAX_DEPTH``           10       nested field levels (root fields are 1;
                                         ``__schema``/``__type`` subtrees count 1)
``GRAPHQL_MAX_ALIASES``         10       aliased fields in the operation
``GRAPHQL_MAX_ROOT_MUTATIONS``  3        root fields of one mutation operation
``GRAPHQL_MAX_TOKENS``          1,000    lexical tokens (the parser stops there)
``GRAPHQL_MAX_DIRECTIVES``      10       directive uses in the operation
==============================  =======  =============================================

The defaults sit just above what the project's own operations in ``graphql/operations/`` need
(``tests/api/test_query_limits.py`` measures them and fails when an operation outgrows a limit).

``GatewayValidation`` replaces Strawberry's ``ValidationCache``: it validates with the standard
rules plus the limits above, ``NoSchemaIntrospectionCustomRule`` unless ``GRAPHQL_INTROSPECTION``
is on, and graphql-core's ``hide_suggestions`` unless ``GRAPHQL_FIELD_SUGGESTIONS`` is on; the
result is cached per (document, settings), so a repeated document validates once.

Violations are GraphQL errors with ``extensions.code = "QUERY_TOO_COMPLEX"`` plus ``limit``,
``maximum`` and ``actual``; nothing has run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.validation import (
    ASTValidationRule,
    NoSchemaIntrospectionCustomRule,
    ValidationContext,
    specified_rules,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from graphql import GraphQLError, GraphQLSchema, validate

TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int
    max_aliases: int
    max_root_mutations: int
    max_tokens: int
    max_directives: int
    introspection: bool
    suggestions: bool


def current_limits() -> QueryLimits:
    return QueryLimits(
        max_depth=settings.GRAPHQL_MAX_DEPTH,
        max_aliases=settings.GRAPHQL_MAX_ALIASES,
        max_root_mutations=settings.GRAPHQL_MAX_ROOT_MUTATIONS,
        max_tokens=settings.GRAPHQL_MAX_TOKENS,
        max_directives=settings.GRAPHQL_MAX_DIRECTIVES,
        introspection=settings.GRAPHQL_INTROSPECTION,
        suggestions=settings.GRAPHQL_FIELD_SUGGESTIONS,
    )


@dataclass(frozen=True)
class Shape:
    """What a selection set amounts to once its fragments are expanded."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0
    root_fields: int = 0

    def __add__(self, other: Shape) -> Shape:
        return Shape(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.directives + other.directives,
            self.root_fields + other.root_fields,
        )


class ShapeCounter:
    """Summarises selection sets; each named fragment once (memoised), cycles count as empty
    (the standard ``NoFragmentCycles`` rule reports them)."""

    def __init__(self, fragments: dict[str, Any]) -> None:
        self.fragments = fragments
        self._memo: dict[str, Shape] = {}
        self._visiting: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None) -> Shape:
        shape = Shape()
        if node is None:
            return shape
        for selection in node.selections:
            directives = len(selection.directives or ())
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set)
                # Introspection (``__schema``/``__type``, allowed only when enabled) nests type
                # references ~10 deep by design: it does not count towards the depth limit.
                introspection = selection.name.value.startswith("__")
                shape += Shape(
                    depth=1 if introspection else inner.depth + 1,
                    aliases=inner.aliases + (1 if selection.alias else 0),
                    directives=inner.directives + directives,
                    root_fields=1,
                )
            elif isinstance(selection, InlineFragmentNode):
                shape += self.selection_set(selection.selection_set) + Shape(directives=directives)
            elif isinstance(selection, FragmentSpreadNode):
                shape += self.fragment(selection.name.value) + Shape(directives=directives)
        return shape

    def fragment(self, name: str) -> Shape:
        if name in self._memo:
            return self._memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self._visiting:
            return Shape()
        self._visiting.add(name)
        shape = self.selection_set(definition.selection_set)
        shape = Shape(
            shape.depth,
            shape.aliases,
            shape.directives + len(definition.directives or ()),
            shape.root_fields,
        )
        self._visiting.discard(name)
        self._memo[name] = shape
        return shape


def operation_shape(document: DocumentNode, operation: OperationDefinitionNode) -> Shape:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    shape = ShapeCounter(fragments).selection_set(operation.selection_set)
    return Shape(
        shape.depth,
        shape.aliases,
        shape.directives + len(operation.directives or ()),
        shape.root_fields,
    )


def too_complex(message: str, limit: str, maximum: int, actual: int) -> GraphQLError:
    return GraphQLError(
        message,
        extensions={"code": TOO_COMPLEX, "limit": limit, "maximum": maximum, "actual": actual},
    )


@lru_cache(maxsize=16)
def structure_rule(limits: QueryLimits) -> type[ASTValidationRule]:
    """A validation rule class enforcing ``limits`` (one class per distinct limits)."""

    class StructureLimitsRule(ASTValidationRule):
        context: ValidationContext

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            shape = operation_shape(self.context.document, node)
            checks = [
                ("depth", limits.max_depth, shape.depth, "The query is nested too deeply"),
                ("aliases", limits.max_aliases, shape.aliases, "The query uses too many aliases"),
                (
                    "directives",
                    limits.max_directives,
                    shape.directives,
                    "The query uses too many directives",
                ),
            ]
            if node.operation == OperationType.MUTATION:
                checks.append(
                    (
                        "rootMutations",
                        limits.max_root_mutations,
                        shape.root_fields,
                        "The operation runs too many mutations",
                    )
                )
            for limit, maximum, actual, message in checks:
                if actual > maximum:
                    self.report_error(
                        too_complex(
                            f"{message}: {actual}, at most {maximum}.", limit, maximum, actual
                        )
                    )

    return StructureLimitsRule


@lru_cache(maxsize=1024)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


def validation_rules(limits: QueryLimits) -> tuple[type[ASTValidationRule], ...]:
    rules: list[type[ASTValidationRule]] = [
        *specified_rules,
        MaybeNullValidationRule,
        OneOfInputValidationRule,
        structure_rule(limits),
    ]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


class GatewayValidation(SchemaExtension):
    """Token limit at parse time, then cached validation with the limits (see module doc)."""

    def on_operation(self) -> Iterator[None]:
        self.limits = current_limits()
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = _validate(
            context.schema._schema,
            context.graphql_document,
            validation_rules(self.limits),
            not self.limits.suggestions,
        )
        yield
