"""The project's 500 handler (``handler500`` in ``gpubroker/urls.py``): what a client gets when an
exception escapes everything else — a middleware that reads the database (the bearer-token lookup
runs before any view), or a view without an error edge of its own.

* A backing service down (:func:`gpubroker.dependencies.dependency_unavailable`: the database
  or its pool, Redis) is **503** with ``Retry-After``, as at the facades' own edges;
  anything else is 500.
* ``/graphql/`` gets a GraphQL-over-HTTP error body (``errors[0].extensions.code`` and
  ``traceId``), every other path the D9 envelope (``SERVICE_UNAVAILABLE`` /
  ``INTERNAL_ERROR`` with the trace id), never Django's HTML page nor internal text.

Django calls the handler inside the ``except`` block of the failed request, so the exception is
``sys.exc_info()``'s. (With ``DEBUG`` on, Django shows its debug page instead.)"""

from __future__ import annotations

import sys

from django.http import HttpRequest, JsonResponse

from apps.core.errors import ServiceUnavailable, envelope
from gpubroker.dependencies import DEPENDENCY_RETRY_AFTER, dependency_unavailable
from gpubroker.observability import current_trace_id

INTERNAL_MESSAGE = "An internal error occurred."


def server_error(request: HttpRequest) -> JsonResponse:
    unavailable = dependency_unavailable(sys.exc_info()[1])
    if unavailable:
        status, code, message = 503, ServiceUnavailable.code, ServiceUnavailable.default_message
    else:
        status, code, message = 500, "INTERNAL_ERROR", INTERNAL_MESSAGE
    trace_id = current_trace_id()
    if request.path.startswith("/graphql"):
        body = {"errors": [{"message": message, "extensions": {"code": code, "traceId": trace_id}}]}
    else:
        body = envelope(code, message, None, trace_id)
    response = JsonResponse(body, status=status)
    if unavailable:
        response["Retry-After"] = str(DEPENDENCY_RETRY_AFTER)
    return response
