"""Per-request trace ids: generated (or accepted from a sane ``X-Request-ID``), stored in a context
variable so every log line of the request carries it, and returned in the ``X-Trace-Id`` header.
The REST error envelope and GraphQL error extensions read the same id.

Tracing (seed D11): with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``)
set, :func:`configure_tracing` switches on OpenTelemetry — Django and httpx instrumentation, spans
exported over OTLP/HTTP, W3C Trace Context (``traceparent``/``tracestate``) accepted on requests
and sent on outgoing provider calls. The request's trace id is then the span's (32 hex digits),
so the id in every JSON log line, the ``X-Trace-Id`` header and the error envelopes is the one the
tracing backend shows. Without OpenTelemetry a valid incoming ``traceparent`` still sets the id.
The standard ``OTEL_*`` variables apply (``OTEL_SERVICE_NAME``, ``OTEL_SDK_DISABLED``, sampling)."""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from opentelemetry import trace

TRACE_HEADER = "X-Trace-Id"
_INCOMING_ID = re.compile(r"^[A-Za-z0-9\-_.]{8,64}$")
#: W3C Trace Context ``traceparent``: version 00, trace id, parent id, flags (all-zero ids invalid).
_TRACEPARENT = re.compile(r"^00-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")
_tracing_on = False
_trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)
logger = logging.getLogger("gpubroker.request")


def current_trace_id() -> str:
    """The trace id of the running request; a fresh one outside a request (commands, consumers)."""
    value = _trace_id.get()
    if value is None:
        value = uuid.uuid4().hex
        _trace_id.set(value)
    return value


def span_trace_id() -> str | None:
    """The trace id of the active OpenTelemetry span, if one is recording or was propagated."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _incoming_id(request: HttpRequest) -> str:
    from_span = span_trace_id()
    if from_span:
        return from_span
    parent = _TRACEPARENT.match(request.headers.get("traceparent", "").strip().lower())
    if parent:
        return parent.group(1)
    candidate = request.headers.get("X-Request-ID", "")
    return candidate if _INCOMING_ID.match(candidate) else uuid.uuid4().hex


def tracing_endpoint() -> str | None:
    return os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )


def configure_tracing() -> bool:
    """Switch OpenTelemetry on when an OTLP endpoint is configured (once per process; called
    from ``WebConfig.ready`` so the ASGI server, WSGI and management commands all trace)."""
    global _tracing_on
    if _tracing_on:
        return True
    if not tracing_endpoint() or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "gpubroker")})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()  # puts its middleware first in settings.MIDDLEWARE
    HTTPXClientInstrumentor().instrument()
    _tracing_on = True
    logger.info("tracing on", extra={"otlp_endpoint": tracing_endpoint()})
    return True


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
