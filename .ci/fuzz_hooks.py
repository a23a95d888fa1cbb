"""Schemathesis hooks of ``.ci/fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

REST

The OpenAPI document declares every constraint JSON Schema can state (types, ranges, lengths,
patterns, enums, formats), so ``positive_data_acceptance`` holds the server to it. A few rules
relate two values, or a value and stored data, and no JSON Schema keyword can say them; the
document states them in words (descriptions) and the server answers them with a 422 envelope
naming the rule. ``UNSTATED_RULES`` lists exactly those answers: a schema-valid request refused
for one of them is not a failure. Anything else the server refuses with a 4xx still is.

A query string carries text only. schemathesis knows that for string and number parameters, not
for array ones: it mutates ``provider_name`` (an array of strings) into ``false``, sends
``?provider_name=false`` (a valid one-name list on the wire) and reports the 200 as "schema-
violating request accepted". ``wire_query_is_valid`` reads the query as the server does (an array
parameter as the list of texts sent, a string one as its text) and drops that report only when
what arrived is valid against the same schema.

GraphQL
schemathesis reports every GraphQL error that comes with ``data: null`` as a "server error"
(ST113), a documented refusal (``UNAUTHENTICATED``, ``VALIDATION_ERROR`` of a service, a cost or
structure limit) included. ``graphql_failure_is_real`` keeps exactly the real ones: an error
whose ``extensions.code`` is ``INTERNAL_ERROR``, ``SERVICE_UNAVAILABLE`` or missing, or a code
the schema does not document (``enum ErrorCode`` of ``graphql/schema.graphql`` plus the
request-level codes of the README). Its client-error check (ST206: a generated document the
server did not execute) is kept too, except for documented request-level refusals (a generated
document above a cost or structure limit, a rate limit) and one generator limitation:
hypothesis-graphql does not know ``@oneOf`` input objects (``TopsisInput``) and sends both keys
or ``null``, which GraphQL validation rightly refuses. Non-JSON responses, 5xx statuses and
nulls in non-null fields (ST114/ST115, ``not_a_server_error``) always fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.graphql.checks import GraphQLClientError, GraphQLServerError
from schemathesis.openapi.checks import RejectedPositiveData

#: (operation, pattern over the 422 envelope's first detail "code: message", why no schema says it)
UNSTATED_RULES: list[tuple[str, str, str]] = [
    # an offer filter (GET /providers, the recommenders' "filter")
    ("*", r"must not exceed", "each *_min must not exceed its *_max (two values)"),
    # the recommenders' criteria
    ("*", r"given twice", "each criterion at most once (uniqueness by a key)"),
    ("POST /api/v2/math/ensemble-recommend", r"needs a workload", "needs the workload field"),
    # TOPSIS over a matrix: its shape
    (
        "POST /api/v2/math/topsis",
        r"rectangular|one value per criterion|one entry per criterion",
        "rows as long as weights and criteria_types (lengths of two arrays)",
    ),
    # the ensemble's weights: each may be 0, but not all of them (a relation of three values)
    (
        "POST /api/v2/math/ensemble-recommend",
        r"at least one ensemble weight must be positive",
        "the weights' sum must be positive (a relation of three values)",
    ),
    # calculators: an offer's own rate (its benchmark) is stored data
    ("POST /api/v2/math/cost-per-", r"has no benchmark", "the offer needs a benchmark row"),
    (
        "POST /api/v2/math/cost-per-",
        r"too small for this price",
        "price / rate must be a finite number (a relation of two values)",
    ),
    # workload estimation: relations between the workload's fields and the model catalogue
    (
        "POST /api/v2/math/",
        r"give params_billion or a catalogue model|give tokens or requests|"
        r"counts images|cannot exceed context_length|full training|cannot run a|maximum context|"
        r"quantization|kv_cache_dtype",
        "relations between workload fields and catalogue models",
    ),
    # the price index: a range relative to "to" (default: now)
    ("GET /api/v2/kpi/index/", r"INVALID_RANGE", "from <= to, at most 400 (day) / 14 (hour) days"),
    # accounts: stored data and Django's password policy
    (
        "POST /api/v2/auth/register",
        r"INVITATION_INVALID|PASSWORD_REJECTED",
        "an invitation must exist for this address; common or name-like passwords",
    ),
    ("POST /api/v2/auth/mfa/", r"MFA_", "the account's MFA state and the current TOTP code"),
    ("POST /api/v2/config/integrations", r"KEY_REJECTED", "the provider refused the key"),
]


def _first_detail(response: Any) -> str:
    try:
        error = json.loads(response.content)["error"]
    except (ValueError, KeyError, TypeError):
        return ""
    details = error.get("details") or [{}]
    first = details[0] if isinstance(details, list) and details else {}
    return f"{first.get('code', error.get('code'))}: {first.get('message', error.get('message'))}"


def unstated_rule(label: str, status: int, detail: str) -> str | None:
    """The reason when a 422 answers one of ``UNSTATED_RULES``, else None."""
    if status != 422:
        return None
    for operation, pattern, reason in UNSTATED_RULES:
        if (operation == "*" or label.startswith(operation)) and re.search(pattern, detail):
            return reason
    return None


SDL = Path(__file__).resolve().parent.parent / "graphql" / "schema.graphql"
#: Request-level refusals (README "Hardened public API"): limits, budgets, trusted documents.
REQUEST_LEVEL_CODES = frozenset(
    {
        "QUERY_TOO_COMPLEX",
        "COST_LIMIT_EXCEEDED",
        "COST_BUDGET_EXCEEDED",
        "TRUSTED_DOCUMENT_REQUIRED",
    }
)
REAL_ERROR_CODES = frozenset({"INTERNAL_ERROR", "SERVICE_UNAVAILABLE", None})


def documented_error_codes(sdl: str) -> frozenset[str]:
    match = re.search(r"enum ErrorCode \{([^}]*)\}", sdl)
    if match is None:
        raise RuntimeError("graphql/schema.graphql has no enum ErrorCode")
    return frozenset(match.group(1).split()) | REQUEST_LEVEL_CODES


DOCUMENTED_CODES = documented_error_codes(SDL.read_text(encoding="utf-8"))
#: ``@oneOf`` inputs: GraphQL validation refuses a key given as ``null`` ("Field
#: 'TopsisInput.offers' must be non-null."), which the generator sends.
ONE_OF_INPUTS = re.findall(r"input (\w+) @oneOf", SDL.read_text(encoding="utf-8")) or ["-"]
ONE_OF_NULL = re.compile(rf"Field '(?:{'|'.join(ONE_OF_INPUTS)})\.\w+' must be non-null\.")


def graphql_failure_is_real(failure: Any) -> bool:
    errors = getattr(failure, "errors", None) or []
    if isinstance(failure, GraphQLServerError):
        codes = {(error.get("extensions") or {}).get("code") for error in errors}
        return bool(codes & REAL_ERROR_CODES) or not codes <= DOCUMENTED_CODES
    if isinstance(failure, GraphQLClientError):
        return not all(
            "OneOf Input Object" in error.get("message", "")
            or ONE_OF_NULL.fullmatch(error.get("message", "")) is not None
            or (error.get("extensions") or {}).get("code") in REQUEST_LEVEL_CODES | {"RATE_LIMITED"}
            for error in errors
        )
    return True


def _allows(schema: Any, kind: str) -> bool:
    if not isinstance(schema, dict):
        return False
    declared = schema.get("type")
    if declared == kind or (isinstance(declared, list) and kind in declared):
        return True
    return any(_allows(sub, kind) for key in ("anyOf", "oneOf") for sub in schema.get(key, []))


def wire_query_is_valid(
    properties: Mapping[str, Any],
    generated: Mapping[str, Any],
    sent: Mapping[str, list[str]],
    is_valid: Callable[[dict[str, Any]], bool],
) -> bool:
    """Whether the query the server received is valid: each array parameter read as the texts
    sent, each string parameter as its text, any other keeps its generated value (the server
    parses that text back into it)."""
    read: dict[str, Any] = {}
    for name, value in generated.items():
        if name not in sent:  # [] and None are not sent
            continue
        schema = properties.get(name, {})
        if _allows(schema, "array"):
            read[name] = list(sent[name])
        elif _allows(schema, "string") and len(sent[name]) == 1:
            read[name] = sent[name][0]
        else:
            read[name] = value
    return is_valid(read)


OTHER_LOCATIONS = (
    ParameterLocation.BODY,
    ParameterLocation.PATH,
    ParameterLocation.HEADER,
    ParameterLocation.COOKIE,
)


def _negative_query_valid_on_wire(case: Any, response: Any) -> bool:
    meta = case.meta
    if meta is None or not meta.is_negative_at(ParameterLocation.QUERY):
        return False
    if any(meta.is_negative_at(location) for location in OTHER_LOCATIONS):
        return False
    container = case.operation.get_parameter_set(ParameterLocation.QUERY)
    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    return wire_query_is_valid(
        container.schema.get("properties", {}),
        case.query or {},
        sent,
        container.get_strict_validator().is_valid,
    )


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if isinstance(failure, (GraphQLServerError, GraphQLClientError)):
        return graphql_failure_is_real(failure)
    if isinstance(failure, AcceptedNegativeData):
        return not _negative_query_valid_on_wire(case, response)
    if not isinstance(failure, RejectedPositiveData):
        return True
    label = f"{case.method.upper()} {case.path}"
    return unstated_rule(label, response.status_code, _first_detail(response)) is None
