"""Admission of one GraphQL operation sent over the WebSocket (``subscribe``), before it runs:
the same request rate limit as HTTP (``apps/auth_app/ratelimit.py``), then the operation checks
the project wiring hands in (``gpubroker/asgi.py`` builds them in ``schema/live_admission.py``:
the trusted-documents mode and the per-operation cost cap, which need the schema — apps never
import it). Subscriptions are costed here, queries and mutations again — and charged to the
budget — by the schema's ``CostExtension``.

Returns the GraphQL error (formatted) to send back as the operation's ``error`` message, or None.
Sync (storage and settings I/O): the consumer calls it through ``sync_to_async``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql.language import DocumentNode

from apps.auth_app import ratelimit
from apps.core.errors import RateLimited
from gpubroker.observability import current_trace_id

#: Where the consumer keeps the connection's authenticated user (``schema.permissions`` reads the
#: same key as ``WS_USER_SCOPE_KEY``; a test checks they agree).
USER_SCOPE_KEY = "gpubroker_user"


@dataclass(frozen=True)
class Refusal:
    """Why an operation may not run: a message, the error code, extra extensions."""

    message: str
    code: str
    extensions: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One ``subscribe`` payload, parsed."""

    document: DocumentNode
    query: str
    operation_name: str | None
    variables: Mapping[str, Any] | None


#: A check of one operation (sync; may do I/O): a :class:`Refusal`, or None to let it run.
OperationCheck = Callable[[Operation], Refusal | None]


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
    checks: Sequence[OperationCheck] = (),
) -> dict[str, Any] | None:
    user = scope.get(USER_SCOPE_KEY)
    client = scope.get("client")
    ip = str(client[0]) if client else "unknown"
    try:
        ratelimit.hit_request(user, ip)
    except RateLimited as limited:
        return _error(limited.message, limited.code, retryAfter=limited.retry_after)
    name = payload.get("operationName")
    variables = payload.get("variables")
    operation = Operation(
        document=document,
        query=query,
        operation_name=name if isinstance(name, str) else None,
        variables=variables if isinstance(variables, Mapping) else None,
    )
    for check in checks:
        refusal = check(operation)
        if refusal is not None:
            return _error(refusal.message, refusal.code, **refusal.extensions)
    return None
