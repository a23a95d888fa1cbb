"""REST: provider integrations (``/api/v2/config/integrations``) — the seed's paths.

Thin: each endpoint calls one function of ``apps.providers.integrations`` (GraphQL calls the same).
No response ever contains an API key."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import StrictBool, WithJsonSchema

from apps.auth_app.middleware import client_ip
from apps.providers import integrations
from apps.providers.adapters.registry import ProviderRegistry
from apps.providers.integrations import IntegrationView

from .envelope import RequestObject, enforced_by_service
from .security import auth_user, jwt_auth

router = Router(auth=jwt_auth)


# Known providers (an enum in OpenAPI); the service answers any other name (UNKNOWN_PROVIDER).
ProviderName = Annotated[
    str, WithJsonSchema({"type": "string", "enum": ProviderRegistry.list_adapters()})
]


class IntegrationIn(RequestObject):
    provider: str = Field(
        ...,
        max_length=integrations.MAX_PROVIDER_NAME,
        examples=["lambda"],
        json_schema_extra=enforced_by_service(enum=ProviderRegistry.list_adapters()),
    )
    api_key: str = Field(
        ...,
        max_length=integrations.MAX_KEY_LENGTH,
        json_schema_extra=enforced_by_service(
            pattern=rf"^[!-~]{{{integrations.MIN_KEY_LENGTH},{integrations.MAX_KEY_LENGTH}}}$"
        ),
        description="The provider may still refuse the key (422 KEY_REJECTED).",
    )
    use_for_catalogue: StrictBool = True


class IntegrationOut(Schema):
    provider: str
    display_name: str
    requires_api_key: bool
    configured: bool
    id: uuid.UUID | None = None
    scope: Literal["tenant", "user"] | None = None
    status: Literal["valid", "invalid", "unverified"] | None = None
    last_validated_at: datetime | None = None
    last_error: str | None = None
    use_for_catalogue: bool | None = None
    updated_at: datetime | None = None

    @staticmethod
    def of(view: IntegrationView) -> IntegrationOut:
        i = view.integration
        stored: dict[str, Any] = {}
        if i is not None:
            stored = {
                "id": i.pk,
                "scope": "tenant" if i.tenant_id else "user",
                "status": i.status,
                "last_validated_at": i.last_validated_at,
                "last_error": i.last_error,
                "use_for_catalogue": i.use_for_catalogue,
                "updated_at": i.updated_at,
            }
        return IntegrationOut(
            provider=view.provider,
            display_name=view.display_name,
            requires_api_key=view.requires_api_key,
            configured=view.configured,
            **stored,
        )


@router.get("/integrations", response=list[IntegrationOut], summary="Integration status")
def list_integrations(request: HttpRequest) -> object:
    return [
        IntegrationOut.of(v) for v in integrations.integration_statuses(user=auth_user(request))
    ]


@router.post(
    "/integrations",
    response={200: IntegrationOut, 201: IntegrationOut},
    summary="Store (or replace) a provider API key; validated with the provider first",
)
def save_integration(request: HttpRequest, body: IntegrationIn) -> Status[IntegrationOut]:
    view, created = integrations.save_integration(
        user=auth_user(request), **body.dict(), ip=client_ip(request)
    )
    return Status(201 if created else 200, IntegrationOut.of(view))


@router.post(
    "/integrations/{provider}/validate",
    response=IntegrationOut,
    summary="Ask the provider again whether the stored key is accepted",
)
def validate_integration(request: HttpRequest, provider: ProviderName) -> object:
    view = integrations.revalidate_integration(
        user=auth_user(request), provider=provider, ip=client_ip(request)
    )
    return IntegrationOut.of(view)


@router.delete("/integrations/{provider}", response={204: None}, summary="Remove a stored key")
def delete_integration(request: HttpRequest, provider: ProviderName) -> Status[None]:
    integrations.delete_integration(
        user=auth_user(request), provider=provider, ip=client_ip(request)
    )
    return Status(204, None)
