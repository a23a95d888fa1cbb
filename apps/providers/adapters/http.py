"""One HTTP client for every adapter: async httpx with explicit timeouts, bounded retries with
exponential backoff on 429/5xx that honour ``Retry-After``, and strict JSON decoding that turns
HTML error pages and truncated bodies into :class:`ProviderPayloadError`.

Retries are only automatic for idempotent calls (price listings). A non-idempotent call (booking)
is retried only when the provider provably did not process it: a 429 or a failed connect.

Pure Python (no Django import). ``transport`` lets tests and the replay source swap the network
edge (``httpx.MockTransport``, :class:`apps.providers.replay.ReplayTransport`); ``sleep`` lets
tests observe the backoff without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from .errors import (
    ProviderAuthError,
    ProviderError,
    ProviderPayloadError,
    ProviderRateLimited,
    ProviderRequestError,
    ProviderUnavailable,
)

logger = logging.getLogger("gpubroker.providers.http")

Sleep = Callable[[float], Awaitable[None]]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0, pool=5.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "gpubroker-ingest/1.0 (+https://github.com/gpubroker)"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` is the total number of tries. The n-th retry waits ``base_delay * 2**n``
    (capped by ``max_delay``, with up to 25 % jitter) unless the provider sent ``Retry-After``,
    which is honoured exactly — up to ``max_retry_after``; a longer demand is not waited for (the
    call fails with :class:`ProviderRateLimited` carrying it, so a cron run never hangs)."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        delay: float = min(self.max_delay, self.base_delay * (2**retry_number))
        return delay * (1.0 + 0.25 * rng.random())


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_message(response: httpx.Response) -> str:
    """The provider's own error text when the body is JSON in one of the known shapes."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # Lambda: {"error": {"code", "message", "suggestion"}}
            return str(error.get("message") or error.get("code") or "")[:300]
        for key in ("msg", "message", "detail", "error"):  # Vast, Shadeform, TensorDock
            if isinstance(body.get(key), str):
                return str(body[key])[:300]
        errors = body.get("errors")  # GraphQL
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message", ""))[:300]
    return ""


def decode_json(provider: str, response: httpx.Response) -> Any:
    """The body as JSON, or :class:`ProviderPayloadError` naming what arrived instead."""
    content = response.content
    if not content.strip():
        raise ProviderPayloadError(
            "empty response body", provider=provider, status_code=response.status_code
        )
    try:
        return orjson.loads(content)
    except (orjson.JSONDecodeError, ValueError, UnicodeDecodeError) as exc:
        head = content.lstrip()[:15].lower()
        if head.startswith((b"<!doctype", b"<html", b"<")):
            what = "an HTML page instead of JSON"
        else:
            what = f"malformed or truncated JSON ({exc.__class__.__name__}: {str(exc)[:80]})"
        raise ProviderPayloadError(
            f"received {what}", provider=provider, status_code=response.status_code
        ) from exc


class ProviderHTTPClient:
    """A thin wrapper over one ``httpx.AsyncClient`` per adapter call."""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        headers: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep: Sleep = sleep or asyncio.sleep
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._shared: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            transport=self.transport,
            timeout=self.timeout,
            headers=self.headers,
            follow_redirects=False,
        )

    async def __aenter__(self) -> ProviderHTTPClient:
        """``async with client:`` keeps one connection pool for many requests (fan-outs)."""
        self._shared = self._client()
        await self._shared.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            await shared.__aexit__(*exc_info)

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Any:
        response = await self.request(
            method, path, params=params, json_body=json_body, headers=headers, idempotent=idempotent
        )
        return decode_json(self.provider, response)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise a :class:`ProviderError`."""
        if self._shared is not None:
            return await self._send(
                self._shared, method, path, params, json_body, headers, idempotent
            )
        async with self._client() as client:
            return await self._send(client, method, path, params, json_body, headers, idempotent)

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        idempotent: bool,
    ) -> httpx.Response:
        attempts = max(1, self.retry.attempts)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await client.request(
                    method, path, params=params, json=json_body, headers=headers
                )
            except httpx.TimeoutException as exc:
                # A read timeout may mean the request was processed: retry only idempotent ones.
                retryable = idempotent or isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
                if last or not retryable:
                    raise ProviderUnavailable(
                        f"timed out ({exc.__class__.__name__}) on {method} {path}",
                        provider=self.provider,
                    ) from exc
                await self._wait(attempt, None, f"timeout on {method} {path}")
                continue
            except httpx.TransportError as exc:
                retryable = idempotent or isinstance(exc, httpx.ConnectError)
                if last or not retryable:
                    raise ProviderUnavailable(
                        f"connection failed ({exc.__class__.__name__}: {str(exc)[:120]})",
                        provider=self.provider,
                    ) from exc
                await self._wait(attempt, None, f"{exc.__class__.__name__} on {method} {path}")
                continue

            status = response.status_code
            if status < 300:
                return response
            if status in RETRY_STATUSES and (idempotent or status == 429) and not last:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None and retry_after > self.retry.max_retry_after:
                    raise self._status_error(response)
                await self._wait(attempt, retry_after, f"HTTP {status} on {method} {path}")
                continue
            raise self._status_error(response)
        raise AssertionError("unreachable: the retry loop always returns or raises")

    async def _wait(self, attempt: int, retry_after: float | None, why: str) -> None:
        delay = retry_after if retry_after is not None else self.retry.backoff(attempt, self.rng)
        logger.warning(
            "provider request retried",
            extra={"provider": self.provider, "reason": why, "delay_s": round(delay, 3)},
        )
        await self.sleep(delay)

    def _status_error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        detail = _error_message(response)
        suffix = f": {detail}" if detail else ""
        kwargs: dict[str, Any] = {"provider": self.provider, "status_code": status}
        if status in (401, 403):
            return ProviderAuthError(f"credentials rejected{suffix}", **kwargs)
        if status == 429:
            return ProviderRateLimited(
                f"rate limited{suffix}",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                **kwargs,
            )
        if status == 410:
            return ProviderUnavailable(f"API endpoint retired (410 Gone){suffix}", **kwargs)
        if status >= 500:
            return ProviderUnavailable(f"server error{suffix}", **kwargs)
        return ProviderRequestError(f"request refused{suffix}", **kwargs)
