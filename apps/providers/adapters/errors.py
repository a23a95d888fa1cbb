"""The error types every provider adapter raises. Pure Python (no Django import).

``ProviderError`` is the root; the sync engine catches it per provider, so one failing cloud never
stops the others. Subclasses tell the caller what to do next:

* :class:`ProviderAuthError` — the API key is missing, wrong or revoked (401/403): fix the key.
* :class:`ProviderUnavailable` — timeouts, connection errors, 5xx, 410 Gone: try again later.
* :class:`ProviderRateLimited` — 429 after the retries ran out (``retry_after`` seconds, if known).
* :class:`ProviderPayloadError` — the answer is not what the API documents (an HTML error page,
  truncated JSON, a missing envelope): the provider changed or is broken; nothing is trusted.
* :class:`ProviderRequestError` — any other 4xx: our request was refused (e.g. a booking of an
  offer that is gone).
"""

from __future__ import annotations


class ProviderError(Exception):
    """Something went wrong talking to a provider's API."""

    #: Short stable code for logs, summaries and API status fields.
    code = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after
        super().__init__(message)

    def __str__(self) -> str:
        prefix = f"{self.provider}: " if self.provider else ""
        status = f" (HTTP {self.status_code})" if self.status_code else ""
        return f"{prefix}{self.message}{status}"


class ProviderAuthError(ProviderError):
    code = "auth_failed"


class ProviderUnavailable(ProviderError):
    code = "unavailable"


class ProviderRateLimited(ProviderUnavailable):
    code = "rate_limited"


class ProviderPayloadError(ProviderError):
    code = "bad_payload"


class ProviderRequestError(ProviderError):
    code = "request_refused"
