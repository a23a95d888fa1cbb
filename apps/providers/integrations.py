"""Provider integrations: API keys an organisation (or a user without one) stores for a provider.

Rules, once for both facades:

* **Scope and rights.** A user in an organisation works on the organisation's integrations:
  every member sees their status, only a tenant admin saves, re-validates or deletes them. A user
  without an organisation has personal ones. Nobody ever sees another scope's integrations
  (a lookup outside the scope is "not found").
* **Secrets.** The key is validated through the provider's adapter (``validate_credentials``),
  stored encrypted with ``apps.auth_app.crypto`` (MultiFernet over ``FIELD_ENCRYPTION_KEYS``,
  rotatable) and never returned, logged or written to the audit log. A key the provider refuses is
  not stored; a key that could not be checked (provider unreachable) is stored as *unverified*.
* **Audit.** Saving, replacing, refusing, re-validating and deleting are recorded in the tenant's
  hash-chained audit log.
* **Catalogue sync.** The sync engine may use a valid key whose owner allowed it
  (``use_for_catalogue``) to read a provider's price list when no platform key is configured
  (``GPUBROKER_<PROVIDER>_API_KEY``); a key the provider refuses during a sync is marked invalid.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx
from asgiref.sync import async_to_sync
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.auth_app import audit
from apps.auth_app.crypto import DecryptionFailed, decrypt_str, encrypt_str
from apps.auth_app.models import User
from apps.auth_app.permissions import AUTHENTICATED, TENANT_ADMIN
from apps.core.errors import NotFound, ValidationFailed
from apps.core.inputs import check_length

from .adapters import ProviderError, ProviderRegistry, RetryPolicy, UnknownProvider
from .errors import IntegrationErrorCode
from .models import IntegrationStatus, ProviderIntegration
from .sync import ensure_provider
from .sync_sources import live_adapter

logger = logging.getLogger("gpubroker.providers.integrations")

#: A person waits for this answer: fewer, shorter tries than a background sync.
VALIDATION_RETRY = RetryPolicy(attempts=2, base_delay=0.5)
VALIDATION_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 512
MAX_PROVIDER_NAME = 50
KEY_CHARACTERS = re.compile(r"[!-~]+")
RESOURCE = "provider_integration"


@dataclass(frozen=True, slots=True)
class IntegrationView:
    """One provider as the caller sees it: whether a key is configured and its status."""

    provider: str
    display_name: str
    requires_api_key: bool
    integration: ProviderIntegration | None

    @property
    def configured(self) -> bool:
        return self.integration is not None


def scoped(user: User) -> QuerySet[ProviderIntegration]:
    """The integrations ``user`` may see (their organisation's, or their own without one)."""
    AUTHENTICATED.check(user)
    if user.tenant_id is not None:
        return ProviderIntegration.objects.filter(tenant_id=user.tenant_id)
    return ProviderIntegration.objects.filter(tenant__isnull=True, user_id=user.pk)


def _check_can_change(user: User) -> None:
    (TENANT_ADMIN if user.tenant_id is not None else AUTHENTICATED).check(user)


def _provider_name(provider: str) -> str:
    check_length(provider, field="provider", maximum=MAX_PROVIDER_NAME)
    name = (provider or "").strip().lower()
    try:
        ProviderRegistry.adapter_class(name)
    except UnknownProvider:
        known = ", ".join(ProviderRegistry.list_adapters())
        raise ValidationFailed(
            f"Unknown provider {provider!r}; one of: {known}.",
            field="provider",
            reason=IntegrationErrorCode.UNKNOWN_PROVIDER,
        ) from None
    return name


def _clean_key(api_key: str) -> str:
    check_length(api_key, field="api_key", maximum=MAX_KEY_LENGTH)
    key = (api_key or "").strip()
    # printable ASCII: keys travel in HTTP headers (a non-ASCII key was a 500, found by .ci/fuzz)
    if not MIN_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH or not KEY_CHARACTERS.fullmatch(key):
        raise ValidationFailed(
            f"An API key is {MIN_KEY_LENGTH}-{MAX_KEY_LENGTH} printable ASCII characters "
            "without spaces.",
            field="api_key",
            reason=IntegrationErrorCode.KEY_INVALID,
        )
    return key


def integration_statuses(*, user: User) -> list[IntegrationView]:
    """Every registered provider with the caller's integration for it (or none)."""
    mine = {i.provider.name: i for i in scoped(user).select_related("provider")}
    views = []
    for name in ProviderRegistry.list_adapters():
        adapter_class = ProviderRegistry.adapter_class(name)
        views.append(
            IntegrationView(
                provider=name,
                display_name=adapter_class.DISPLAY_NAME,
                requires_api_key=adapter_class.REQUIRES_CREDENTIALS,
                integration=mine.get(name),
            )
        )
    return views


def _view(integration: ProviderIntegration) -> IntegrationView:
    adapter_class = ProviderRegistry.adapter_class(integration.provider.name)
    return IntegrationView(
        provider=integration.provider.name,
        display_name=adapter_class.DISPLAY_NAME,
        requires_api_key=adapter_class.REQUIRES_CREDENTIALS,
        integration=integration,
    )


def _validate(provider: str, api_key: str) -> tuple[str, str]:
    """``(status, last_error)`` from asking the provider; network trouble → unverified."""
    adapter = live_adapter(provider, retry=VALIDATION_RETRY, timeout=VALIDATION_TIMEOUT)
    try:
        accepted = async_to_sync(adapter.validate_credentials)({"api_key": api_key})
    except ProviderError as exc:
        logger.warning(
            "integration key could not be validated",
            extra={"provider": provider, "error": exc.message},
        )
        return IntegrationStatus.UNVERIFIED, f"Could not reach the provider: {exc.message}"[:500]
    if not accepted:
        return IntegrationStatus.INVALID, "The provider rejected this API key."
    return IntegrationStatus.VALID, ""


def save_integration(
    *,
    user: User,
    provider: str,
    api_key: str,
    use_for_catalogue: bool = True,
    ip: str | None = None,
) -> tuple[IntegrationView, bool]:
    """Validate and store (or replace) the caller's key for ``provider``.
    Returns the integration's view and whether it was created."""
    _check_can_change(user)
    name = _provider_name(provider)
    key = _clean_key(api_key)
    status, error = _validate(name, key)  # network: outside any transaction
    scope: dict[str, Any] = (
        {"tenant": user.tenant} if user.tenant_id is not None else {"user": user, "tenant": None}
    )
    details = {"provider": name, "status": status, "use_for_catalogue": use_for_catalogue}
    if status == IntegrationStatus.INVALID:
        audit.record(
            action="integration.rejected",
            resource_type=RESOURCE,
            tenant=user.tenant,
            user=user,
            details=details,
            ip=ip,
        )
        raise ValidationFailed(
            "The provider rejected this API key.",
            field="api_key",
            reason=IntegrationErrorCode.KEY_REJECTED,
        )
    now = timezone.now()
    with transaction.atomic():
        provider_row = ensure_provider(name)
        lookup: dict[str, Any] = {"provider": provider_row, **scope}
        integration, created = ProviderIntegration.objects.select_for_update().get_or_create(
            **lookup,
            defaults={"encrypted_api_key": encrypt_str(key), "created_by": user},
        )
        integration.encrypted_api_key = encrypt_str(key)
        integration.status = status
        integration.last_error = error
        integration.use_for_catalogue = use_for_catalogue
        if status == IntegrationStatus.VALID:
            integration.last_validated_at = now
        integration.save()
        audit.record(
            action="integration.created" if created else "integration.replaced",
            resource_type=RESOURCE,
            resource_id=integration.pk,
            tenant=user.tenant,
            user=user,
            details=details,
            ip=ip,
        )
    return _view(integration), created


def _find(user: User, provider: str) -> ProviderIntegration:
    name = _provider_name(provider)
    found = scoped(user).select_related("provider").filter(provider__name=name).first()
    if found is None:
        raise NotFound(
            f"No {name} integration is configured.",
            field="provider",
            reason=IntegrationErrorCode.NOT_CONFIGURED,
        )
    return found


def revalidate_integration(*, user: User, provider: str, ip: str | None = None) -> IntegrationView:
    """Ask the provider again whether the stored key is accepted; record the outcome."""
    _check_can_change(user)
    integration = _find(user, provider)
    status: str
    error: str
    try:
        key = decrypt_str(integration.encrypted_api_key)
    except DecryptionFailed:
        status, error = (
            IntegrationStatus.INVALID,
            "The stored key cannot be decrypted (encryption key rotated away); save it again.",
        )
    else:
        status, error = _validate(integration.provider.name, key)
    integration.status = status
    integration.last_error = error
    if status == IntegrationStatus.VALID:
        integration.last_validated_at = timezone.now()
    with transaction.atomic():
        integration.save(update_fields=["status", "last_error", "last_validated_at", "updated_at"])
        audit.record(
            action="integration.validated",
            resource_type=RESOURCE,
            resource_id=integration.pk,
            tenant=user.tenant,
            user=user,
            details={"provider": integration.provider.name, "status": status},
            ip=ip,
        )
    return _view(integration)


def delete_integration(*, user: User, provider: str, ip: str | None = None) -> None:
    _check_can_change(user)
    integration = _find(user, provider)
    with transaction.atomic():
        audit.record(
            action="integration.deleted",
            resource_type=RESOURCE,
            resource_id=integration.pk,
            tenant=user.tenant,
            user=user,
            details={"provider": integration.provider.name},
            ip=ip,
        )
        integration.delete()


# --- the catalogue sync's side ----------------------------------------------------------------
