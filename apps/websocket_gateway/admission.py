"""Admission of one GraphQL operation sent over the WebSocket (``subscribe``), before it runs:
the same request rate limit as HTTP (``apps/auth_app/ratelimit.py``), the trusted-documents mode
and the per-operation cost cap (``schema/cost.py``; subscriptions are costed here, queries and
mutations again — and charged to the budget — by the schema's ``CostExtension``).

Returns the GraphQL error (formatted) to send back as the operation's ``error`` message, or None.
Sync (storage and settings I/O): the consumer calls it through ``sync_to_async``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from graphql.language import DocumentNode

from apps.auth_app import ratelimit
from apps.core.errors import RateLimited
from gpubroker.observability import current_trace_id
from schema import trusted_documents
from schema.cost import LIMIT_EXCEEDED, operation_cost
from schema.permissions import WS_USER_SCOPE_KEY


def _error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {
        "message": message,
        "extensions": {"code": code, "traceId": current_trace_id(), **extensions},
    }


def too_large(limit: int) -> dict[str, Any]:
    return _error(
        f"The result is larger than {limit} bytes, the most one message may carry: "
        "select fewer fields or a smaller page.",
        "RESULT_TOO_LARGE",
        maximum=limit,
    )


def admit(
    scope: dict[str, Any],
    document: DocumentNode,
    query: str,
    payload: dict[str, Any],
    graphql_schema: Any,
) -> dict[str, Any] | None:
    user = scope.get(WS_USER_SCOPE_KEY)
    client = scope.get("client")
    ip = str(client[0]) if client else "unknown"
    try:
        ratelimit.hit_request(user, ip)
    except RateLimited as limited:
        return _error(limited.message, limited.code, retryAfter=limited.retry_after)
    name = payload.get("operationName")
    if not trusted_documents.check_document(query, name if isinstance(name, str) else None):
        return _error("Only trusted documents are accepted.", "TRUSTED_DOCUMENT_REQUIRED")
    maximum = settings.GRAPHQL_COST_MAX_PER_OPERATION
    requested = operation_cost(
        graphql_schema,
        document,
        name if isinstance(name, str) else None,
        payload.get("variables"),
        maximum,
    )
    if requested > maximum:
        return _error(
            f"The operation costs {requested} points; at most {maximum} are allowed.",
            LIMIT_EXCEEDED,
            requested=requested,
            maximum=maximum,
        )
    return None
