"""The one mutation pipeline: every mutation of the schema is declared with :func:`mutation`.

How to declare a mutation (KPI, assistant … follow the same three steps)::

    # 1. the domain's code enum, in the app (services raise it as ``reason=``):
    #    apps/kpi/errors.py
    class KpiErrorCode(Enum):
        VALIDATION_ERROR = "VALIDATION_ERROR"   # the GENERIC_CODES of apps.core.errors …
        NOT_FOUND = "NOT_FOUND"
        CONFLICT = "CONFLICT"
        BAD_REQUEST = "BAD_REQUEST"
        UNKNOWN_METRIC = "UNKNOWN_METRIC"       # … and the domain's own

    # 2. its GraphQL error type and the payload, in the schema module:
    @payload_error(KpiErrorCode)
    @strawberry.type(description="A problem with a KPI request.")
    class KpiError:
        field: str | None
        message: str
        code: KpiErrorCode

    @strawberry.type
    class RecordKpiPayload:
        kpi: KpiType | None = None                      # every other field has a default
        errors: list[KpiError] = strawberry.field(default_factory=list)

    # 3. the resolver: call the service, return the payload for success; raise, never catch
    @strawberry.type
    class Mutation:
        @mutation("Record a KPI value.", IsAuthenticated)
        def record_kpi(self, info: Info, input: RecordKpiInput) -> RecordKpiPayload:
            return RecordKpiPayload(kpi=services.record(user=require_user(info), **vars(input)))

What the pipeline fixes once, for every mutation:

* **Permissions** are the classes after the description (``IsAuthenticated``,
  ``IsTenantAdmin``, from ``schema.permissions``), checked before the resolver runs.
* A ``DomainError`` the resolver raises becomes ``Payload(errors=[<Domain>Error])``: ``field`` and
  ``message`` from the error, ``code`` its ``reason`` when that is a member of the payload's code
  enum, else the member named like the reason, else the one named like the transport code.
* **Request-level** failures (``request_level = True`` in ``apps.core.errors``: not signed in or a
  bearer token that does not verify, a missing right, rate limited) are never payload errors: they
  stay top-level GraphQL errors with ``extensions.code`` (``UNAUTHENTICATED``, ``FORBIDDEN``,
  ``RATE_LIMITED``). Credentials sent *as input* (``login``'s password, a refresh token) that are
  refused are payload errors (``CredentialsRejected``: ``INVALID_CREDENTIALS``, ``INVALID_TOKEN``).
* Anything else is a bug: masked as ``INTERNAL_ERROR`` by ``schema.errors.ErrorFormatter``.

``tests/graphql/test_mutation_pipeline.py`` walks the schema and fails for any mutation whose
payload lacks ``errors: [<Domain>Error!]!`` with a ``code: <Domain>ErrorCode!``, and for any
mutation not declared here. Sync and async resolvers are both supported.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol, TypeVar

import strawberry
import strawberry_django
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from apps.core.errors import DomainError

#: Marks the resolvers declared through :func:`mutation` (the schema test checks every one is).
PIPELINE_ATTR = "__gpubroker_mutation__"

E = TypeVar("E", bound=type)


class PayloadErrorType(Protocol):
    field: str | None
    message: str
    code: Any


def payload_error(codes: type[Enum]) -> Callable[[E], E]:
    """Register ``cls`` (a Strawberry type with ``field``, ``message``, ``code``) as the GraphQL
    error of the domain whose code enum is ``codes``; Strawberry exposes ``codes`` itself."""

    def register(cls: E) -> E:
        if not hasattr(codes, "_enum_definition"):
            strawberry.enum(codes)
        cls.__gpubroker_codes__ = codes  # type: ignore[attr-defined]
        return cls

    return register


def code_for(codes: type[Enum], exc: DomainError) -> Enum:
    """The member of ``codes`` that says what ``exc`` means in that domain."""
    reason = exc.reason
    if isinstance(reason, codes):
        return reason
    for name in ((reason.name,) if reason is not None else ()) + (exc.code, "BAD_REQUEST"):
        if name in codes.__members__:
            return codes[name]
    raise LookupError(f"{codes.__name__} lacks the generic code BAD_REQUEST")


def error_of(error_type: type, exc: DomainError) -> Any:
    codes: type[Enum] = error_type.__gpubroker_codes__  # type: ignore[attr-defined]
    return error_type(field=exc.field, message=exc.message, code=code_for(codes, exc))


@functools.cache
def _payload_and_error(resolver: Callable[..., Any]) -> tuple[type, type]:
    payload = typing.get_type_hints(resolver)["return"]
    errors = typing.get_type_hints(payload)["errors"]
    (error_type,) = typing.get_args(errors)
    return payload, error_type


def _failed(resolver: Callable[..., Any], exc: DomainError) -> Any:
    if exc.request_level:
        raise exc
    payload, error_type = _payload_and_error(resolver)
    return payload(errors=[error_of(error_type, exc)])


def mutation(description: str, *permissions: type[BasePermission]) -> Any:
    """Declare a mutation: see the module docstring."""
    extensions: list[FieldExtension] = []
    if permissions:
        extensions.append(PermissionExtension(permissions=[p() for p in permissions]))

    def declare(resolver: Callable[..., Any]) -> Any:
        if inspect.iscoroutinefunction(resolver):

            @functools.wraps(resolver)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await resolver(*args, **kwargs)
                except DomainError as exc:
                    return _failed(resolver, exc)

            wrapped: Callable[..., Any] = run_async
        else:

            @functools.wraps(resolver)
            def run(*args: Any, **kwargs: Any) -> Any:
                try:
                    return resolver(*args, **kwargs)
                except DomainError as exc:
                    return _failed(resolver, exc)

            wrapped = run
        setattr(wrapped, PIPELINE_ATTR, True)
        return strawberry_django.mutation(
            description=description, handle_django_errors=False, extensions=extensions
        )(wrapped)

    return declare
