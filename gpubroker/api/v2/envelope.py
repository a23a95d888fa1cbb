"""The D9 envelope for every REST error, including those no endpoint raises.

Django and django-ninja answer some failures before (or around) any endpoint: an unknown path
(Django's 404 page, in development the debug page listing every URL pattern), a wrong method
(ninja's ``text/plain`` 405), a CSRF or host failure, a body Django refuses to read. The exception
handlers of ``errors.py`` never see those. ``ApiErrorEnvelopeMiddleware`` turns every error
response under ``/api/v2/`` that is not already JSON into the envelope, keeping its status (and
``Allow`` for 405).

``ObjectJSONParser`` is the API's body parser: JSON only (anything else is 415), and the body of
an endpoint that takes an object must be a JSON object (``42``, ``"hello"``, ``[null, null]``
are 422 naming ``body``, before any validation or service runs). ``RequestObject`` is the base of
every request body and of the objects nested in one (``filter``, ``workload``, ...): ninja's
``Schema`` reads attributes of any value, so without it ``"filter": [null, null]`` passed as an
empty filter; and its number fields refuse JSON booleans with a 422 naming the field.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Schema
from ninja.parser import Parser
from ninja.schema import DjangoGetter
from pydantic import BaseModel, BeforeValidator, ValidationInfo, field_validator, model_validator

API_PREFIX = "/api/v2/"

_CODES = {
    400: ("BAD_REQUEST", "The request could not be processed."),
    401: ("UNAUTHENTICATED", "Authentication required."),
    403: ("FORBIDDEN", "You do not have permission to do this."),
    404: ("NOT_FOUND", "Not found."),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed."),
    406: ("NOT_ACCEPTABLE", "No acceptable representation."),
    413: ("PAYLOAD_TOO_LARGE", "The request body is too large."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Send a JSON body (Content-Type: application/json)."),
    429: ("RATE_LIMITED", "Too many requests."),
}


class UnsupportedMediaType(Exception):
    pass


class NotAnObject(Exception):
    pass


def is_json_content_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class ObjectJSONParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        if not is_json_content_type(request.content_type or ""):
            raise UnsupportedMediaType(request.content_type)
        data = json.loads(request.body)  # as ninja does: NaN reaches validation (422, named)
        if not isinstance(data, dict):
            raise NotAnObject(type(data).__name__)
        return data


def enforced_by_service(**keywords: Any) -> dict[str, Any]:  # for json_schema_extra
    """``Field`` arguments that document a rule the service enforces itself, with its own error
    code (the one GraphQL gives too): the JSON Schema keywords appear in OpenAPI (and the fuzzer
    holds the server to them), pydantic does not check them first with a generic code."""
    return keywords


def refuse_bool(value: Any) -> Any:
    """JSON ``true``/``false`` is not a number (pydantic's lax mode would read it as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


#: ``Annotated[float, NotBool]``: a number field that refuses JSON booleans.
NotBool = BeforeValidator(refuse_bool)


def _numeric(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Annotated:
        return _numeric(typing.get_args(annotation)[0])
    if annotation in (int, float, Decimal):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_numeric(a) for a in typing.get_args(annotation) if a is not type(None))
    return False


def _boolean(annotation: Any) -> bool:
    if annotation is bool:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args == [bool]
    return False


class RequestObject(Schema):
    """A request schema whose input must be a JSON object (module docstring), whose number
    fields refuse JSON booleans and whose boolean fields refuse anything but ``true``/``false``
    (pydantic's lax mode would read 0, 1 or "yes")."""

    @model_validator(mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        # ninja's own (wrap) validator has already wrapped the input in a DjangoGetter
        raw = value._obj if isinstance(value, DjangoGetter) else value
        if isinstance(raw, BaseModel):
            return value
        if not isinstance(raw, dict):
            raise ValueError("must be a JSON object")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _strict_kinds(cls, value: Any, info: ValidationInfo) -> Any:
        # a field validator, so that the error's ``field`` is the field, not ``body``
        annotation = cls.model_fields[info.field_name].annotation if info.field_name else None
        if isinstance(value, bool) and _numeric(annotation):
            raise ValueError(f"{info.field_name} must be a number, not a boolean")
        if value is not None and not isinstance(value, bool) and _boolean(annotation):
            raise ValueError(f"{info.field_name} must be true or false")
        return value


def _envelope_for(response: HttpResponseBase) -> HttpResponseBase:
    from .errors import error_response

    code, message = _CODES.get(
        response.status_code,
        ("INTERNAL_ERROR", "An internal error occurred.")
        if response.status_code >= 500
        else ("HTTP_ERROR", "The request could not be processed."),
    )
    replacement = error_response(code, message, response.status_code)
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if response.has_header(header):
            replacement[header] = response[header]
    return replacement


def needs_envelope(request: HttpRequest, response: HttpResponseBase) -> bool:
    return (
        request.path.startswith(API_PREFIX)
        and response.status_code >= 400
        and not is_json_content_type(response.get("Content-Type", ""))
    )


class ApiErrorEnvelopeMiddleware:
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
        response = self.get_response(request)
        return _envelope_for(response) if needs_envelope(request, response) else response

    async def _acall(self, request: HttpRequest) -> Any:
        response = await self.get_response(request)
        return _envelope_for(response) if needs_envelope(request, response) else response
