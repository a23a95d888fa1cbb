"""The stored provider keys as the catalogue sync sees them: read the key a sync may use, and
mark one the provider refused. The sync engine imports this module; ``integrations`` (the
service that validates and stores keys) imports the sync engine — no cycle."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from apps.auth_app.crypto import DecryptionFailed, decrypt_str

from .models import IntegrationStatus, ProviderIntegration

logger = logging.getLogger("gpubroker.providers.integrations")


@dataclass(frozen=True, slots=True)
class CatalogueKey:
    api_key: str
    integration_id: Any


def catalogue_key(provider: str) -> CatalogueKey | None:
    """A stored key the sync may use to read ``provider``'s price list: valid, allowed by its
    owner, most recently validated first. Keys that no longer decrypt are skipped."""
    candidates = (
        ProviderIntegration.objects.filter(
            provider__name=provider, use_for_catalogue=True, status=IntegrationStatus.VALID
        )
        .order_by("-last_validated_at")
        .values_list("id", "encrypted_api_key")[:5]
    )
    for integration_id, ciphertext in candidates:
        try:
            return CatalogueKey(decrypt_str(ciphertext), integration_id)
        except DecryptionFailed:
            logger.warning(
                "stored integration key cannot be decrypted; skipped",
                extra={"provider": provider, "integration": str(integration_id)},
            )
    return None


def mark_refused_by_provider(integration_id: Any, message: str) -> None:
    """A sync's request with this key was refused (401/403): stop using it until re-validated."""
    ProviderIntegration.objects.filter(pk=integration_id).update(
        status=IntegrationStatus.INVALID,
        last_error=f"Refused during a catalogue sync: {message}"[:500],
        updated_at=timezone.now(),
    )
