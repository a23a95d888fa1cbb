"""GraphQL latency by operation name, for ``/metrics`` (``gpubroker/metrics.py``).

``gpubroker_graphql_duration_seconds{operation, type}`` times each query or mutation from parsing
to the result (subscriptions are long-lived streams: their deliveries are counted by
``gpubroker_price_events_delivered_total`` instead). The cost of each operation
(``gpubroker_graphql_query_cost``) is recorded where it is computed, ``schema/cost.py``."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql.language import OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from gpubroker import metrics


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return
        name = context.operation_name
        chosen = next(
            (
                d
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
                and (name is None or (d.name is not None and d.name.value == name))
            ),
            None,
        )
        if chosen is None or chosen.operation.value == "subscription":
            return
        label = metrics.operation_label(name or (chosen.name.value if chosen.name else None))
        metrics.GRAPHQL_DURATION.labels(label, chosen.operation.value).observe(
            time.perf_counter() - started
        )
