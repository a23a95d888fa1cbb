"""Per-request trace ids: generated (or accepted from a sane ``X-Request-ID``), stored in a context
variable so every log line of the request carries it, and returned in the ``X-Trace-Id`` header.
The REST error envelope and GraphQL error extensions read the same id."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

TRACE_HEADER = "X-Trace-Id"
_INCOMING_ID = re.compile(r"^[A-Za-z0-9\-_.]{8,64}$")
_trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)
logger = logging.getLogger("gpubroker.request")


def current_trace_id() -> str:
    """The trace id of the running request; a fresh one outside a request (commands, consumers)."""
    value = _trace_id.get()
    if value is None:
        value = uuid.uuid4().hex
        _trace_id.set(value)
    return value


def _incoming_id(request: HttpRequest) -> str:
    candidate = request.headers.get("X-Request-ID", "")
    return candidate if _INCOMING_ID.match(candidate) else uuid.uuid4().hex


class TraceIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = _trace_id.get() or "-"
        return True


class TraceIdMiddleware:
    """Sync and async capable, so async views keep running without a thread hop."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[..., Any]) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self._acall(request)
        token = _trace_id.set(_incoming_id(request))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            return self._finish(request, response, started)
        finally:
            _trace_id.reset(token)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        token = _trace_id.set(_incoming_id(request))
        started = time.perf_counter()
        try:
            get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
            response = await get_response(request)
            return self._finish(request, response, started)
        finally:
            _trace_id.reset(token)

    @staticmethod
    def _finish(
        request: HttpRequest, response: HttpResponseBase, started: float
    ) -> HttpResponseBase:
        response[TRACE_HEADER] = _trace_id.get() or ""
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response
