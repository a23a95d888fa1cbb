"""One execution per live event and operation, shared by the subscribers of a server process.

A price change reaches every local subscriber of a process as the *same* event object (see
``apps.websocket_gateway.streams``: the stream builds it once per published batch and filter).
Executing the subscription's selection on it is then the same work for every subscriber whose
document and variables are equal, and that work (graphql-core's field collection and completion,
the extensions' resolve middleware) dominated the fan-out. This execution context memoises the
per-event result on the event itself, keyed by the operation (the parser cache hands every
subscriber the same document object for the same text) and the coerced variables.

Only events that opt in (:class:`SharedEvent`) are memoised, only results without errors are
reused, and an event that carries per-subscriber data (e.g. an ``offer`` read for one
subscriber) is never shared in the first place. Everything else executes as before.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql import ExecutionResult


class SharedEvent:
    """Mixin for subscription events that are safe to execute once for all subscribers: their
    fields depend only on the event itself, not on the subscriber or its context."""

    __slots__ = ()


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        event = self.root_value
        if not isinstance(event, SharedEvent):
            return super().execute_operation(serially)
        cache = event.__dict__.setdefault("_shared_results", {})
        key = (id(self.operation), repr(sorted(self.variable_values.coerced.items())))
        hit = cache.get(key)
        if hit is not None and hit[0] is self.operation:
            return hit[1]
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            cache[key] = (self.operation, result)  # the operation keeps its id unique
        return result
