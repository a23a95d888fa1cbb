"""GraphQL: provider integrations (stored provider API keys) over ``apps.providers.integrations``.

The same functions serve ``/api/v2/config/integrations``. No field ever exposes a key. Mutations
go through ``schema/mutations.py``: payloads with ``errors: [IntegrationError!]!``
(``IntegrationErrorCode``); a missing right (only tenant admins change an
organisation's keys) is a request-level ``FORBIDDEN``, like every permission in this schema."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
import strawberry_django
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from apps.providers import integrations
from apps.providers.errors import IntegrationErrorCode
from apps.providers.integrations import IntegrationView

from . import cost
from .mutations import mutation, payload_error
from .permissions import IsAuthenticated, request_ip, require_user
from .privacy import PRIVATE


def _authenticated() -> list[Any]:
    return [PermissionExtension(permissions=[IsAuthenticated()])]


@payload_error(IntegrationErrorCode)
@strawberry.type(description="A problem with a provider integration request.", directives=[PRIVATE])
class IntegrationError:
    field: str | None
    message: str
    code: IntegrationErrorCode


@strawberry.enum(description="Whether the provider accepted the stored key when last asked.")
class IntegrationStatus(Enum):
    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIED = "unverified"


@strawberry.enum(description="Who an integration belongs to.")
class IntegrationScope(Enum):
    TENANT = "tenant"
    USER = "user"


@strawberry.type(
    name="ProviderIntegration",
    description="A provider and the caller's stored API key for it (never the key itself).",
    directives=[PRIVATE],
)
class ProviderIntegrationType:
    provider: str
    display_name: str
    requires_api_key: bool = strawberry.field(
        description="The provider lists prices only with a key."
    )
    configured: bool
    id: strawberry.ID | None = None
    scope: IntegrationScope | None = None
    status: IntegrationStatus | None = None
    last_validated_at: datetime | None = None
    last_error: str | None = None
    use_for_catalogue: bool | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, view: IntegrationView) -> ProviderIntegrationType:
        i = view.integration
        stored: dict[str, Any] = {}
        if i is not None:
            stored = {
                "id": strawberry.ID(str(i.pk)),
                "scope": IntegrationScope.TENANT if i.tenant_id else IntegrationScope.USER,
                "status": IntegrationStatus(i.status),
                "last_validated_at": i.last_validated_at,
                "last_error": i.last_error,
                "use_for_catalogue": i.use_for_catalogue,
                "updated_at": i.updated_at,
            }
        return cls(
            provider=view.provider,
            display_name=view.display_name,
            requires_api_key=view.requires_api_key,
            configured=view.configured,
            **stored,
        )


@strawberry.input
class SaveIntegrationInput:
    provider: str
    api_key: str
    use_for_catalogue: bool = True


@strawberry.type(directives=[PRIVATE])
class IntegrationPayload:
    integration: ProviderIntegrationType | None = None
    created: bool = False
    errors: list[IntegrationError] = strawberry.field(
        default_factory=list, metadata=cost.list_size(10)
    )


@strawberry.type(directives=[PRIVATE])
class DeleteIntegrationPayload:
    ok: bool = False
    errors: list[IntegrationError] = strawberry.field(
        default_factory=list, metadata=cost.list_size(10)
    )


@strawberry.type(directives=[PRIVATE])
class Query:
    @strawberry_django.field(
        description="Every provider with your organisation's integration status.",
        extensions=_authenticated(),
        metadata=cost.list_size(20),
    )
    def integrations(self, info: Info) -> list[ProviderIntegrationType]:
        views = integrations.integration_statuses(user=require_user(info))
        return [ProviderIntegrationType.of(view) for view in views]


@strawberry.type(directives=[PRIVATE])
class Mutation:
    @mutation(
        "Store or replace a provider API key (validated with the provider first).", IsAuthenticated
    )
    def save_integration(self, info: Info, input: SaveIntegrationInput) -> IntegrationPayload:
        view, created = integrations.save_integration(
            user=require_user(info), **vars(input), ip=request_ip(info)
        )
        return IntegrationPayload(integration=ProviderIntegrationType.of(view), created=created)

    @mutation("Ask the provider again whether the stored key is accepted.", IsAuthenticated)
    def validate_integration(self, info: Info, provider: str) -> IntegrationPayload:
        view = integrations.revalidate_integration(
            user=require_user(info), provider=provider, ip=request_ip(info)
        )
        return IntegrationPayload(integration=ProviderIntegrationType.of(view))

    @mutation("Remove a stored provider API key.", IsAuthenticated)
    def delete_integration(self, info: Info, provider: str) -> DeleteIntegrationPayload:
        integrations.delete_integration(
            user=require_user(info), provider=provider, ip=request_ip(info)
        )
        return DeleteIntegrationPayload(ok=True)
