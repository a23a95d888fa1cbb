"""Providers (GPU clouds and marketplaces), their offers and the offers' price history."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models

from apps.math_core.algorithms import costs


class ProviderStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    MAINTENANCE = "maintenance", "Maintenance"


class Availability(models.TextChoices):
    AVAILABLE = "available", "Available"
    LIMITED = "limited", "Limited"
    UNAVAILABLE = "unavailable", "Unavailable"


class Provider(models.Model):
    """A GPU cloud or marketplace whose offers GPUBROKER ingests."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True, help_text="Registry key, e.g. 'runpod'.")
    display_name = models.CharField(max_length=255)
    api_base_url = models.URLField()
    status = models.CharField(
        max_length=20, choices=ProviderStatus.choices, default=ProviderStatus.ACTIVE
    )
    reliability_score = models.FloatField(
        default=1.0, help_text="Rolling share of successful syncs, 0..1."
    )
    last_sync_at = models.DateTimeField(null=True, blank=True)
    error_count = models.IntegerField(default=0)
    is_sample_data = models.BooleanField(
        default=False,
        help_text="True when the offers come from recorded sample payloads, not the live API.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "providers"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name


class GPUOffer(models.Model):
    """One rentable configuration at one provider and location. ``price_per_hour`` is for the
    whole offer (all ``gpu_count`` GPUs); the per-GPU price is derived, never stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="offers")
    external_id = models.CharField(max_length=255)
    gpu_type = models.CharField(
        max_length=100, help_text="Canonical GPU model name (normalised from the provider's)."
    )
    raw_gpu_name = models.CharField(
        max_length=255, blank=True, default="", help_text="The provider's own spelling."
    )
    benchmark = models.ForeignKey(
        "math_core.GPUBenchmark",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="offers",
        help_text="Performance data of the GPU model, when known.",
    )
    gpu_memory_gb = models.IntegerField(
        help_text="VRAM per GPU, GB: the model's nominal size when the GPU is known."
    )
    raw_gpu_memory_gb = models.FloatField(
        null=True, blank=True, help_text="VRAM per GPU as the provider reported it."
    )
    gpu_count = models.PositiveIntegerField(default=1)
    cpu_cores = models.IntegerField(default=0)
    ram_gb = models.IntegerField(default=0)
    storage_gb = models.IntegerField(default=0)
    price_per_hour = models.DecimalField(
        max_digits=10, decimal_places=4, help_text="USD per hour for the whole offer."
    )
    currency = models.CharField(max_length=3, default="USD")
    region = models.CharField(max_length=100)
    country = models.CharField(
        max_length=2, blank=True, default="", help_text="ISO 3166-1 alpha-2."
    )
    macro_region = models.CharField(
        max_length=20,
        blank=True,
        default="",
        help_text="north-america, south-america, europe, middle-east, africa, asia-pacific, "
        "oceania (apps.providers.regions); empty when unknown.",
    )
    availability_status = models.CharField(
        max_length=20, choices=Availability.choices, default=Availability.AVAILABLE
    )
    is_spot = models.BooleanField(default=False, help_text="Interruptible / spot pricing.")
    is_datacenter = models.BooleanField(
        default=True, help_text="Hosted in a datacentre (False: community/consumer host)."
    )
    compliance_tags = models.JSONField(default=list, blank=True)
    price_breakdown = models.JSONField(
        default=dict,
        blank=True,
        help_text="What price_per_hour includes: {includes, excludes, components} (empty: not "
        "stated by the adapter).",
    )
    last_seen_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "gpu_offers"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="gpu_offers_provider_external_id_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["gpu_type"]),
            models.Index(fields=["region"]),
            models.Index(fields=["macro_region"]),
            models.Index(fields=["price_per_hour"]),
            models.Index(fields=["availability_status"]),
        ]

    def __str__(self) -> str:
        return f"{self.gpu_count}x {self.gpu_type} @ {self.provider_id} {self.region}"

    @property
    def price_per_gpu_hour(self) -> Decimal:
        return costs.price_per_gpu_hour(self.price_per_hour, self.gpu_count)

    @property
    def total_vram_gb(self) -> int:
        return self.gpu_memory_gb * self.gpu_count


class PriceHistory(models.Model):
    """A row per actual change of an offer's price or availability."""

    id = models.BigAutoField(primary_key=True)
    offer = models.ForeignKey(GPUOffer, on_delete=models.CASCADE, related_name="price_history")
    price_per_hour = models.DecimalField(max_digits=10, decimal_places=4)
    availability_status = models.CharField(max_length=20, choices=Availability.choices)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "price_history"
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["offer", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.price_per_hour} {self.availability_status}"


class SyncLease(models.Model):
    """A time-limited claim on syncing one provider, for databases without advisory locks
    (SQLite). One row per provider while a sync runs; a crashed holder's lease expires."""

    provider_name = models.CharField(max_length=100, primary_key=True)
    owner = models.CharField(max_length=64, help_text="Random token of the holding process.")
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "provider_sync_leases"

    def __str__(self) -> str:
        return f"{self.provider_name} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class IntegrationStatus(models.TextChoices):
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"
    UNVERIFIED = "unverified", "Not verified yet"


class ProviderIntegration(models.Model):
    """A provider API key stored by an organisation (or by a user without one). The key is
    encrypted at rest (``apps.auth_app.crypto``, MultiFernet) and never returned by any API."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="integrations")
    tenant = models.ForeignKey(
        "auth_app.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="provider_integrations",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="provider_integrations",
        help_text="Owner when the integration belongs to a user without an organisation.",
    )
    encrypted_api_key = models.TextField(help_text="Fernet token; see apps.auth_app.crypto.")
    status = models.CharField(
        max_length=20, choices=IntegrationStatus.choices, default=IntegrationStatus.UNVERIFIED
    )
    last_validated_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    use_for_catalogue = models.BooleanField(
        default=True,
        help_text="May be used to read the provider's public price list for the shared catalogue.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "provider_integrations"
        ordering = ["provider__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "provider"],
                condition=models.Q(tenant__isnull=False),
                name="provider_integrations_one_per_tenant",
            ),
            models.UniqueConstraint(
                fields=["user", "provider"],
                condition=models.Q(tenant__isnull=True),
                name="provider_integrations_one_per_user",
            ),
            models.CheckConstraint(
                condition=models.Q(tenant__isnull=False) | models.Q(user__isnull=False),
                name="provider_integrations_has_owner",
            ),
        ]

    def __str__(self) -> str:
        owner = self.tenant_id or self.user_id
        return f"{self.provider_id} integration of {owner} ({self.status})"
