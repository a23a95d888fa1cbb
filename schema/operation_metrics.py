"""GraphQL latency and size by operation name, for ``/metrics`` (``gpubroker/metrics.py``).

``gpubroker_graphql_duration_seconds{operation, type}`` times each query or mutation from parsing
to the result (subscriptions are long-lived streams: their deliveries are counted by
``gpubroker_price_events_delivered_total`` instead). ``gpubroker_graphql_query_cost{operation}``
records each executed operation's cost: its field selections after fragments are expanded."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension

from gpubroker import metrics


def operation_cost(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> int:
    """Field selections in ``operation``, fragments expanded (each spread counts in full)."""
    sizes: dict[str, int] = {}

    def size(selection_set: object, seen: frozenset[str]) -> int:
        total = 0
        for node in getattr(selection_set, "selections", ()) or ():
            if isinstance(node, FieldNode):
                total += 1 + size(node.selection_set, seen)
            elif isinstance(node, InlineFragmentNode):
                total += size(node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in seen or name not in fragments:
                    continue
                if name not in sizes:
                    sizes[name] = size(
                        getattr(fragments[name], "selection_set", None), seen | {name}
                    )
                total += sizes[name]
        return total

    return size(operation.selection_set, frozenset())


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        name = context.operation_name
        chosen = next(
            (o for o in operations if name is None or (o.name and o.name.value == name)), None
        )
        if chosen is None or chosen.operation.value == "subscription":
            return
        label = metrics.operation_label(name or (chosen.name.value if chosen.name else None))
        metrics.GRAPHQL_DURATION.labels(label, chosen.operation.value).observe(
            time.perf_counter() - started
        )
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        metrics.GRAPHQL_COST.labels(label).observe(operation_cost(chosen, fragments))
