"""The schema-dependent checks of a GraphQL operation sent over the WebSocket, handed to the
consumer by the project wiring (``gpubroker/asgi.py`` → ``websocket_urlpatterns``), so that
``apps.websocket_gateway`` never imports the schema: the trusted-documents mode
(``schema/trusted_documents.py``) and the per-operation cost cap (``schema/cost.py``), the same
rules the HTTP view applies. The request rate limit runs before them, in
``apps/websocket_gateway/admission.py``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.websocket_gateway.admission import Operation, OperationCheck, Refusal

from . import trusted_documents
from .cost import LIMIT_EXCEEDED, operation_cost


def trusted_document_check(operation: Operation) -> Refusal | None:
    if trusted_documents.check_document(operation.query, operation.operation_name):
        return None
    return Refusal("Only trusted documents are accepted.", "TRUSTED_DOCUMENT_REQUIRED")


def cost_check(graphql_schema: Any) -> OperationCheck:
    """The cost cap on ``graphql_schema`` (graphql-core's schema of the served one)."""

    def check(operation: Operation) -> Refusal | None:
        maximum = settings.GRAPHQL_COST_MAX_PER_OPERATION
        requested = operation_cost(
            graphql_schema,
            operation.document,
            operation.operation_name,
            operation.variables,
            maximum,
        )
        if requested <= maximum:
            return None
        return Refusal(
            f"The operation costs {requested} points; at most {maximum} are allowed.",
            LIMIT_EXCEEDED,
            {"requested": requested, "maximum": maximum},
        )

    return check


def websocket_operation_checks(served: Any) -> tuple[OperationCheck, ...]:
    """The checks for operations on ``served`` (a Strawberry schema), in the HTTP view's order."""
    return (trusted_document_check, cost_check(served._schema))
