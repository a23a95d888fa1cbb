"""The seed's REST error envelope (D9), registered for every error class, ``Exception`` included,
so no request ever gets Django's HTML error page or a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from apps.core.errors import (
    DomainError,
    RateLimited,
    ServiceUnavailable,
    envelope,
)
from gpubroker.dependencies import DEPENDENCY_RETRY_AFTER, dependency_unavailable
from gpubroker.observability import current_trace_id

from .envelope import NotAnObject, UnsupportedMediaType

logger = logging.getLogger("gpubroker.api")


def error_response(code: str, message: str, status: int, details: Any = None) -> JsonResponse:
    return JsonResponse(envelope(code, message, details, current_trace_id()), status=status)


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    details = []
    for item in errors:
        raw = [str(part) for part in item.get("loc", ())]
        loc = [part for part in raw if part not in ("body", "query", "path")]
        details.append(
            {
                "field": ".".join(loc) or (raw[0] if raw else None),
                "message": item.get("msg", "invalid value"),
                "type": item.get("type"),
                "code": "VALIDATION_ERROR",
            }
        )
    return details


def body_error(cause: BaseException | None) -> HttpResponse:
    """The answer to a body the parser refused (``envelope.ObjectJSONParser``)."""
    if isinstance(cause, UnsupportedMediaType):
        return error_response(
            "UNSUPPORTED_MEDIA_TYPE", "Send a JSON body (Content-Type: application/json).", 415
        )
    if isinstance(cause, RequestDataTooBig):
        return too_big_response()
    if isinstance(cause, NotAnObject):
        details = [
            {"field": "body", "message": "The body must be a JSON object.", "type": "object_type"}
        ]
        return error_response("VALIDATION_ERROR", "Request validation failed", 422, details)
    details = [{"field": "body", "message": "Malformed JSON.", "type": "json_invalid"}]
    return error_response("BAD_REQUEST", "The request body is not valid JSON.", 400, details)


def too_big_response() -> JsonResponse:
    return error_response(
        "PAYLOAD_TOO_LARGE",
        f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        413,
    )


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        response = error_response(exc.code, exc.message, exc.http_status, exc.as_details())
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return error_response(
            "VALIDATION_ERROR", "Request validation failed", 422, _validation_details(exc.errors)
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error_response("UNAUTHENTICATED", "Authentication required.", 401)
        response["WWW-Authenticate"] = 'Bearer realm="gpubroker"'
        return response

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return too_big_response()

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response("NOT_FOUND", "Not found.", 404)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and str(exc.message).startswith("Cannot parse request body"):
            return body_error(exc.__cause__)
        code = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND"}
        return error_response(
            code.get(exc.status_code, "HTTP_ERROR"), str(exc.message), exc.status_code
        )

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        if dependency_unavailable(exc):
            return service_unavailable(request)
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("INTERNAL_ERROR", "An internal error occurred.", 500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with the envelope and ``Retry-After`` for a backing service that is down."""
    logger.warning("dependency unavailable on %s %s", request.method, request.path, exc_info=True)
    response = error_response("SERVICE_UNAVAILABLE", ServiceUnavailable.default_message, 503)
    response["Retry-After"] = str(DEPENDENCY_RETRY_AFTER)
    return response
