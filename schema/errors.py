"""GraphQL error conventions, one style for the whole schema.

* Expected outcomes a client handles are **typed results**: queries return a union with
  ``NotFoundError``; mutations return a payload with ``errors: [<Domain>Error!]!`` whose ``code``
  is the domain's enum (Saleor style), all through ``schema/mutations.py``.
* Request-level failures (unauthenticated, forbidden, rate limited, malformed input the schema
  cannot type) are GraphQL errors whose ``extensions.code`` is a stable code and
  ``extensions.traceId`` the request's trace id. Anything unexpected is masked as
  ``INTERNAL_ERROR``: no internal message, no stack trace, ever.
"""

from __future__ import annotations

import logging
from enum import Enum

import strawberry
from strawberry.extensions import MaskErrors

from apps.core.errors import DomainError, ServiceUnavailable
from gpubroker.dependencies import dependency_unavailable
from gpubroker.observability import current_trace_id
from graphql import GraphQLError

from .privacy import PUBLIC

logger = logging.getLogger("gpubroker.graphql")


@strawberry.enum(description="Stable, machine-readable codes of query results' errors.")
class ErrorCode(Enum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    BAD_REQUEST = "BAD_REQUEST"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


@strawberry.type(description="The requested object does not exist.", directives=[PUBLIC])
class NotFoundError:
    message: str
    code: ErrorCode = ErrorCode.NOT_FOUND

    @classmethod
    def from_domain(cls, exc: DomainError) -> NotFoundError:
        return cls(message=exc.message)


class ErrorFormatter(MaskErrors):
    """Adds ``code`` and ``traceId`` to every error's extensions and masks unexpected ones."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=self._should_mask, error_message="Internal error.")

    @staticmethod
    def _should_mask(error: GraphQLError) -> bool:
        original = error.original_error
        return original is not None and not isinstance(original, (DomainError, GraphQLError))

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = []
        trace_id = current_trace_id()
        for error in errors:
            original = error.original_error
            if self._should_mask(error) and dependency_unavailable(original):
                logger.warning("dependency unavailable in GraphQL", exc_info=original)
                masked = self.anonymise_error(error)
                masked.message = ServiceUnavailable.default_message
                masked.extensions = {"code": ServiceUnavailable.code, "traceId": trace_id}
                processed.append(masked)
                continue
            if self._should_mask(error):
                logger.error("unhandled GraphQL error", exc_info=original)
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL_ERROR", "traceId": trace_id}
                processed.append(masked)
                continue
            extensions = dict(error.extensions or {})
            if isinstance(original, DomainError):
                extensions["code"] = original.code
                if original.field:
                    extensions["field"] = original.field
                retry_after = getattr(original, "retry_after", None)
                if retry_after is not None:
                    extensions["retryAfter"] = retry_after
            else:
                extensions.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
            extensions["traceId"] = trace_id
            error.extensions = extensions
            processed.append(error)
        return processed
