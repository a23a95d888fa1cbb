"""The one mutation pipeline (``schema/mutations.py``): every mutation's payload has
``errors: [<Domain>Error!]!`` with a per-domain code enum, and every mutation is declared
through ``mutation`` (so the request-level rule is the same everywhere)."""

from __future__ import annotations

from enum import Enum

import pytest
import strawberry

from apps.auth_app.errors import AuthErrorCode
from apps.core.errors import (
    GENERIC_CODES,
    Conflict,
    CredentialsRejected,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from apps.math_core.errors import RecommendationErrorCode
from apps.providers.errors import IntegrationErrorCode
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
)
from schema import schema as gpubroker_schema
from schema.mutations import PIPELINE_ATTR, code_for, mutation, payload_error

DOMAIN_CODES = [AuthErrorCode, IntegrationErrorCode, RecommendationErrorCode]


def payload_problems(graphql_schema: GraphQLSchema) -> list[str]:
    """Every mutation whose payload lacks ``errors: [<Domain>Error!]!`` (``field: String``,
    ``message: String!``, ``code: <Domain>ErrorCode!``)."""
    problems = []
    mutation_type = graphql_schema.mutation_type
    assert mutation_type is not None
    for name, field in mutation_type.fields.items():
        payload = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if not isinstance(payload, GraphQLObjectType) or "errors" not in payload.fields:
            problems.append(f"{name}: payload has no errors field")
            continue
        errors = payload.fields["errors"].type
        shape_ok = (
            isinstance(errors, GraphQLNonNull)
            and isinstance(errors.of_type, GraphQLList)
            and isinstance(errors.of_type.of_type, GraphQLNonNull)
            and isinstance(errors.of_type.of_type.of_type, GraphQLObjectType)
        )
        if not shape_ok:
            problems.append(f"{name}: errors is not [<Domain>Error!]!")
            continue
        error = errors.of_type.of_type.of_type
        code = error.fields.get("code")
        code_type = code.type.of_type if code and isinstance(code.type, GraphQLNonNull) else None
        if not (
            error.name.endswith("Error")
            and error.name != "FieldError"
            and isinstance(code_type, GraphQLEnumType)
            and code_type.name == f"{error.name}Code"
            and set(GENERIC_CODES) <= set(code_type.values)
            and {"field", "message"} <= set(error.fields)
        ):
            problems.append(f"{name}: {error.name} is not a per-domain error with its code enum")
    return problems


def test_every_mutation_payload_has_typed_domain_errors():
    assert payload_problems(gpubroker_schema._schema) == []


def test_every_mutation_is_declared_through_the_pipeline():
    definition = gpubroker_schema.get_type_by_name("Mutation")
    assert definition is not None
    undeclared = [
        f.name
        for f in definition.fields  # type: ignore[union-attr]
        if not (f.base_resolver and getattr(f.base_resolver.wrapped_func, PIPELINE_ATTR, False))
    ]
    assert undeclared == []


@strawberry.type
class LooseError:
    field: str | None
    message: str
    code: str


@strawberry.type
class NoErrors:
    ok: bool


@strawberry.type
class Loose:
    errors: list[LooseError]


@strawberry.type
class LooseMutation:
    @strawberry.mutation
    def plain(self) -> NoErrors:
        return NoErrors(ok=True)

    @strawberry.mutation
    def loose(self) -> Loose:
        return Loose(errors=[])


@strawberry.type
class OkQuery:
    ok: bool = True


def test_the_walk_fails_for_a_payload_without_domain_errors():
    """The check above can fail: a payload with no errors, and one with an untyped code."""
    problems = payload_problems(strawberry.Schema(query=OkQuery, mutation=LooseMutation)._schema)
    assert problems == [
        "plain: payload has no errors field",
        "loose: LooseError is not a per-domain error with its code enum",
    ]


@pytest.mark.parametrize("codes", DOMAIN_CODES)
def test_every_domain_code_enum_has_the_generic_codes(codes: type[Enum]):
    assert set(GENERIC_CODES) <= set(codes.__members__)
    assert all(member.name == member.value for member in codes)


def test_code_mapping():
    own = ValidationFailed("x", field="api_key", reason=IntegrationErrorCode.KEY_REJECTED)
    assert code_for(IntegrationErrorCode, own) is IntegrationErrorCode.KEY_REJECTED
    # another domain's reason: the same-named member, else the transport code
    offer = NotFound("x", reason=RecommendationErrorCode.OFFER_NOT_FOUND)
    assert code_for(IntegrationErrorCode, offer) is IntegrationErrorCode.NOT_FOUND
    assert code_for(AuthErrorCode, Conflict("x")) is AuthErrorCode.CONFLICT
    assert code_for(RecommendationErrorCode, ValidationFailed("x")).name == "VALIDATION_ERROR"
    rejected = CredentialsRejected("x", reason=AuthErrorCode.INVALID_TOKEN)
    assert code_for(AuthErrorCode, rejected) is AuthErrorCode.INVALID_TOKEN
    # a transport code no enum has (UNAUTHENTICATED outside auth) lands on BAD_REQUEST
    assert code_for(IntegrationErrorCode, CredentialsRejected("x")).name == "BAD_REQUEST"


def test_request_level_is_fixed_once():
    assert Unauthenticated.request_level and PermissionDenied.request_level
    assert RateLimited.request_level
    assert not CredentialsRejected.request_level
    assert not any(c.request_level for c in (ValidationFailed, NotFound, Conflict))


class _Codes(Enum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    BAD_REQUEST = "BAD_REQUEST"
    TOO_MANY = "TOO_MANY"


@payload_error(_Codes)
@strawberry.type
class _ProbeError:
    field: str | None
    message: str
    code: _Codes


@strawberry.type
class _ProbePayload:
    ok: bool = False
    errors: list[_ProbeError] = strawberry.field(default_factory=list)


_RAISED: dict[str, Exception] = {
    "validation": ValidationFailed("too many", field="n", reason=_Codes.TOO_MANY),
    "unauthenticated": Unauthenticated(),
    "forbidden": PermissionDenied(),
    "rate": RateLimited(retry_after=3),
    "credentials": CredentialsRejected("bad password"),
    "bug": RuntimeError("secret internal detail"),
}


@strawberry.type
class _ProbeMutation:
    @mutation("Raises what it is told to.")
    def probe(self, what: str) -> _ProbePayload:
        if what == "none":
            return _ProbePayload(ok=True)
        raise _RAISED[what]

    @mutation("The same, async.")
    async def probe_async(self, what: str) -> _ProbePayload:
        if what == "none":
            return _ProbePayload(ok=True)
        raise _RAISED[what]


def _probe_schema() -> strawberry.Schema:
    from schema.errors import ErrorFormatter

    return strawberry.Schema(query=OkQuery, mutation=_ProbeMutation, extensions=[ErrorFormatter])


QUERY = "mutation($w: String!) { %s(what: $w) { ok errors { field message code } } }"


@pytest.mark.parametrize("field", ["probe", "probeAsync"])
@pytest.mark.parametrize(
    ("what", "payload_error_code", "top_level_code"),
    [
        ("none", None, None),
        ("validation", "TOO_MANY", None),
        ("credentials", "BAD_REQUEST", None),
        ("unauthenticated", None, "UNAUTHENTICATED"),
        ("forbidden", None, "FORBIDDEN"),
        ("rate", None, "RATE_LIMITED"),
        ("bug", None, "INTERNAL_ERROR"),
    ],
)
async def test_pipeline_places_each_failure_once(field, what, payload_error_code, top_level_code):
    result = await _probe_schema().execute(QUERY % field, variable_values={"w": what})
    if top_level_code is None:
        assert result.errors is None and result.data is not None
        data = result.data[field]
        assert data["ok"] is (what == "none")
        codes = [e["code"] for e in data["errors"]]
        assert codes == ([payload_error_code] if payload_error_code else [])
    else:
        assert result.data is None and result.errors is not None
        (error,) = result.errors
        assert (error.extensions or {})["code"] == top_level_code
        assert "secret" not in error.message
