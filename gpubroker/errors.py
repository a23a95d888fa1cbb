"""Domain errors: raised by services, mapped once at each edge.

REST turns them into the seed's envelope ``{"error": {"code", "message", "details", "trace_id"}}``
with ``http_status``; GraphQL turns them into typed results (``NotFoundError``, ``FieldError`` lists
on mutation payloads) or, for request-level failures, errors whose ``extensions.code`` is ``code``.
Messages are written for clients: never an internal detail."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "BAD_REQUEST"
    http_status = 400
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        details: Any = None,
        code: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.details = details
        if code:
            self.code = code
        super().__init__(self.message)

    def as_details(self) -> Any:
        if self.details is not None:
            return self.details
        if self.field:
            return [{"field": self.field, "message": self.message}]
        return None


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"
    http_status = 422
    default_message = "Request validation failed."


class NotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404
    default_message = "Not found."


class Conflict(DomainError):
    code = "CONFLICT"
    http_status = 409
    default_message = "The request conflicts with existing data."


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    http_status = 401
    default_message = "Authentication required."


class PermissionDenied(DomainError):
    code = "FORBIDDEN"
    http_status = 403
    default_message = "You do not have permission to do this."


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    http_status = 429
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs: Any) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, **kwargs)


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    http_status = 503
    default_message = "A dependency is unavailable; try again shortly."


#: Seconds a client is told to wait (``Retry-After``) when a dependency is down.
DEPENDENCY_RETRY_AFTER = 5


def dependency_unavailable(exc: BaseException | None) -> bool:
    """True for failures of a backing service rather than of the request: the database
    unreachable (or its pool exhausted), the cache or channel layer's Redis down. Every edge
    answers these as ``SERVICE_UNAVAILABLE`` (REST 503 with ``Retry-After``), not 500."""
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    while exc is not None:
        if isinstance(
            exc, OperationalError | InterfaceError | RedisConnectionError | RedisTimeoutError
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
