"""Domain errors: raised by the services, mapped once at each edge. No facade owns this module.

Each error has a *transport* ``code`` (``VALIDATION_ERROR``, ``NOT_FOUND``, ``CONFLICT``,
``UNAUTHENTICATED``, ``FORBIDDEN``, ``RATE_LIMITED``, ``BAD_REQUEST``) with its ``http_status``,
and optionally a *domain reason*: a member of a per-domain code enum (``AuthErrorCode``,
``IntegrationErrorCode``, ``RecommendationErrorCode`` …, each declared in its app's
``errors.py``) that says what went wrong in that domain's words::

    raise ValidationFailed("An API key is 8-512 characters.", field="api_key",
                           reason=IntegrationErrorCode.KEY_INVALID)

The edges:

* REST (``gpubroker/api/v2/errors.py``) answers the envelope
  ``{"error": {"code", "message", "details", "trace_id"}}`` with ``http_status``; ``details`` is
  ``[{"field", "message", "code"}]`` when the error names a field (``code`` = the reason, else
  the transport code).
* GraphQL (``schema/mutations.py``) turns an error into the mutation payload's
  ``errors: [<Domain>Error!]!`` (``code`` = the reason when it belongs to that domain's enum,
  else the enum's member named like the transport code) — unless the error is
  **request-level** (``request_level = True``: not signed in or bad bearer token, missing right,
  rate limited), which is a top-level GraphQL error with ``extensions.code`` everywhere.

Every domain code enum contains the :data:`GENERIC_CODES` (a test checks it), so any domain error
lands on a member of any payload's enum. Messages are written for clients: never an internal
detail."""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

#: Members every per-domain code enum declares (the transport codes of payload-level errors).
GENERIC_CODES = ("VALIDATION_ERROR", "NOT_FOUND", "CONFLICT", "BAD_REQUEST")


class DomainError(Exception):
    code: ClassVar[str] = "BAD_REQUEST"
    http_status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request could not be processed."
    #: True: about the request itself (credentials of the caller, rights, rate), never a payload
    #: error on GraphQL.
    request_level: ClassVar[bool] = False

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        details: Any = None,
        reason: Enum | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.details = details
        self.reason = reason
        super().__init__(self.message)

    @property
    def reason_code(self) -> str:
        """The domain reason's name, else the transport code."""
        return self.reason.name if self.reason is not None else self.code

    def as_details(self) -> Any:
        if self.details is not None:
            return self.details
        if self.field:
            return [{"field": self.field, "message": self.message, "code": self.reason_code}]
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
    """The caller is not signed in, or its bearer token does not verify (request-level)."""

    code = "UNAUTHENTICATED"
    http_status = 401
    default_message = "Authentication required."
    request_level = True


class CredentialsRejected(Unauthenticated):
    """Credentials given *as input* (password, refresh token, MFA challenge) were refused: a
    401 on REST like any ``Unauthenticated``, but a payload error on GraphQL."""

    default_message = "The credentials were not accepted."
    request_level = False


class PermissionDenied(DomainError):
    code = "FORBIDDEN"
    http_status = 403
    default_message = "You do not have permission to do this."
    request_level = True


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    http_status = 429
    default_message = "Too many requests."
    request_level = True

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs: Any) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, **kwargs)


def envelope(code: str, message: str, details: Any = None, trace_id: str | None = None) -> dict:
    """The REST error body (seed D9): one place builds it, for the facade and the middleware."""
    return {"error": {"code": code, "message": message, "details": details, "trace_id": trace_id}}


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    http_status = 503
    default_message = "A dependency is unavailable; try again shortly."
    request_level = True
