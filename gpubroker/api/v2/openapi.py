"""OpenAPI that tells the truth about errors: every operation documents the error responses it
can give, each with the D9 envelope schema (``ErrorEnvelope``).

Which statuses an operation documents follows from what it has (the handlers in ``errors.py``
and ``envelope.py`` answer them): every operation 401 (a bearer token that does not verify, or
rejected credentials), 405, 429 and 500; a request body 400 (unparsable), 404 and 409 (domain
errors on what the body names), 413, 415 and 422; query or path parameters 422; path parameters
404; a bearer guard 403.
Responses an operation declares itself are kept.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"

ENVELOPE_SCHEMA: dict[str, Any] = {
    "title": "ErrorEnvelope",
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "trace_id"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code."},
                "message": {"type": "string", "description": "For people; never internal."},
                "details": {
                    "description": "Null, or what went wrong where (e.g. one entry per field).",
                    "anyOf": [
                        {"type": "null"},
                        {"type": "array", "items": {"type": "object"}},
                        {"type": "object"},
                    ],
                },
                "trace_id": {"type": "string", "description": "Matches X-Trace-Id."},
            },
        }
    },
}

DESCRIPTIONS = {
    "400": "The body is not valid JSON.",
    "401": "Authentication required or credentials rejected.",
    "403": "Not allowed for this caller.",
    "404": "Not found.",
    "405": "Method not allowed (see Allow).",
    "409": "Conflicts with existing data.",
    "413": "The body is larger than MAX_REQUEST_BYTES.",
    "415": "The body is not JSON.",
    "422": "Validation failed (a JSON body that is not an object included).",
    "429": "Rate limited (see Retry-After).",
    "500": "Internal error (masked; quote trace_id).",
}


def error_statuses(path: str, operation: dict[str, Any]) -> list[str]:
    # 401: any request may carry a bearer token that does not verify (optional sign-in too).
    statuses = {"401", "405", "429", "500"}
    parameters = operation.get("parameters") or []
    if "requestBody" in operation:
        statuses |= {"400", "404", "409", "413", "415", "422"}
    if parameters:
        statuses.add("422")
    if any(p.get("in") == "path" for p in parameters):
        statuses.add("404")
    if operation.get("security"):
        statuses.add("403")
    return sorted(statuses)


def _object_bodies_only(operation: dict[str, Any]) -> None:
    """An optional body is omitted, never ``null``: the parser answers any JSON body that is
    not an object with 422 (``envelope.ObjectJSONParser``), so the document does not offer
    ``null`` for ``body: X | None``."""
    for media in ((operation.get("requestBody") or {}).get("content") or {}).values():
        branches = (media.get("schema") or {}).get("anyOf")
        if isinstance(branches, list):
            kept = [branch for branch in branches if branch != {"type": "null"}]
            if len(kept) == 1 and len(kept) < len(branches):
                media["schema"] = kept[0]


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["ErrorEnvelope"] = ENVELOPE_SCHEMA
    for path, methods in (schema.get("paths") or {}).items():
        for operation in methods.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            _object_bodies_only(operation)
            responses = operation["responses"]
            for status in error_statuses(path, operation):
                responses.setdefault(
                    status,
                    {
                        "description": DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": {"$ref": ENVELOPE_REF}}},
                    },
                )
    return schema


class DocumentedErrorsAPI(NinjaAPI):
    """``NinjaAPI`` whose OpenAPI document lists the error responses (module docstring)."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        return document_errors(super().get_openapi_schema(*args, **kwargs))
