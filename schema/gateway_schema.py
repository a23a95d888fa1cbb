"""The project's ``strawberry.Schema`` subclass: what happens to errors before they are answered.

* **No secrets in logs.** Strawberry logs every error's message (and traceback) through
  ``strawberry.execution``; messages of validation and coercion errors quote the document's or
  the variables' literal values (a password written inline, an API key). Here each error is
  logged as one INFO line with its code and path only — never its message, the document or the
  variables. Unexpected exceptions are logged (with the trace id) by ``schema.errors``'
  ``ErrorFormatter``, which also masks them for the client.
* **Parse failures** (the token limit included) get ``extensions.code = GRAPHQL_PARSE_FAILED``.
* **No field suggestions** unless ``GRAPHQL_FIELD_SUGGESTIONS`` is on: validation already hides
  them (``schema/limits.py``); "Did you mean …" left by variable coercion is removed here.
"""

from __future__ import annotations

import logging
import re

import strawberry
from django.conf import settings
from strawberry.types import ExecutionContext

from apps.core.errors import DomainError
from gpubroker.observability import current_trace_id
from graphql import GraphQLError, GraphQLSyntaxError

logger = logging.getLogger("gpubroker.graphql")

_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")


def safe_operation_name(name: object) -> str | None:
    """A client-sent operation name fit for a log line (a GraphQL name), else None."""
    return name if isinstance(name, str) and _NAME.fullmatch(name) else None


def strip_suggestion(message: str) -> str:
    return _SUGGESTION.sub("", message)


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        suggestions = settings.GRAPHQL_FIELD_SUGGESTIONS
        for error in errors:
            if isinstance(error, GraphQLSyntaxError) and not (error.extensions or {}).get("code"):
                # Parse failures (the token limit included) never reach the error formatter.
                error.extensions = {"code": "GRAPHQL_PARSE_FAILED", "traceId": current_trace_id()}
            if not suggestions and "Did you mean" in error.message:
                error.message = strip_suggestion(error.message)
            original = error.original_error
            if original is not None and not isinstance(original, (DomainError, GraphQLError)):
                continue  # unexpected: ErrorFormatter logs it once, with its traceback
            code = (error.extensions or {}).get("code")
            if isinstance(original, DomainError):
                code = original.code
            logger.info(
                "graphql error",
                extra={
                    "code": code or "GRAPHQL_VALIDATION_FAILED",
                    "path": [str(p) for p in error.path or ()],
                    "operation_name": _operation_name(execution_context),
                },
            )


def _operation_name(execution_context: ExecutionContext | None) -> str | None:
    try:
        return safe_operation_name(getattr(execution_context, "operation_name", None))
    except Exception:
        return None
