"""KPI storage: price-history rollups (hour, day), stored price-index periods and provider sync
outcomes. The catalogue itself (offers, raw ``PriceHistory``) belongs to ``apps.providers``."""

from __future__ import annotations

from typing import Any

from django.db import models

from apps.providers.models import GPUOffer


class Granularity(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "Day"


class Tier(models.TextChoices):
    ON_DEMAND = "on_demand", "On-demand"
    SPOT = "spot", "Spot / interruptible"


class PriceRollup(models.Model):
    """Compacted price history of one offer in one bucket (``apps.kpi.buckets.BucketSummary``)."""

    id = models.BigAutoField(primary_key=True)
    offer = models.ForeignKey(GPUOffer, on_delete=models.CASCADE, related_name="price_rollups")
    granularity = models.CharField(max_length=4, choices=Granularity.choices)
    bucket_start = models.DateTimeField()
    first_price = models.DecimalField(max_digits=10, decimal_places=4)
    last_price = models.DecimalField(max_digits=10, decimal_places=4)
    min_price = models.DecimalField(max_digits=10, decimal_places=4)
    max_price = models.DecimalField(max_digits=10, decimal_places=4)
    samples = models.PositiveIntegerField(help_text="Recorded changes in the bucket.")
    available_weight = models.FloatField(
        help_text="Sum of availability weights (available 1, limited 0.5, unavailable 0)."
    )
    listed_samples = models.PositiveIntegerField(help_text="Changes that were not unavailable.")
    last_availability = models.CharField(max_length=20)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        db_table = "kpi_price_rollups"
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "granularity", "bucket_start"], name="kpi_rollup_offer_bucket_uniq"
            )
        ]
        indexes = [models.Index(fields=["granularity", "bucket_start"], name="kpi_rollup_bucket")]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.granularity} {self.bucket_start:%Y-%m-%d %H:%M}"

    @property
    def available_share(self) -> float:
        return self.available_weight / self.samples if self.samples else 0.0


class ImmutablePeriod(Exception):
    """A stored index period cannot be changed (a methodology change is a new version)."""


class PriceIndexPeriod(models.Model):
    """One stored period of the chained price index of a GPU model and tier (immutable)."""

    id = models.BigAutoField(primary_key=True)
    gpu_model = models.CharField(max_length=100)
    tier = models.CharField(max_length=10, choices=Tier.choices)
    bucket = models.CharField(max_length=4, choices=Granularity.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    methodology = models.CharField(max_length=64)
    methodology_version = models.PositiveIntegerField()
    index_value = models.FloatField(help_text="Chained index, 100 in the series' first period.")
    relative = models.FloatField(null=True, blank=True, help_text="R_t; null in the base period.")
    imputed = models.BooleanField(
        default=False, help_text="No matched offer: the index was carried forward."
    )
    price_level = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True, help_text="Median USD/GPU-hour."
    )
    price_min = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    price_max = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    offer_count = models.PositiveIntegerField(help_text="Included offers in the period.")
    matched_offers = models.PositiveIntegerField()
    provider_count = models.PositiveIntegerField()
    exclusions = models.JSONField(default=dict, help_text="Excluded offers by reason code.")
    input_hash = models.CharField(max_length=64, help_text="SHA-256 of the period's inputs.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "kpi_price_index_periods"
        ordering = ["gpu_model", "tier", "bucket", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["gpu_model", "tier", "bucket", "methodology_version", "period_start"],
                name="kpi_index_period_uniq",
            )
        ]
        indexes = [
            models.Index(
                fields=["gpu_model", "tier", "bucket", "period_start"], name="kpi_index_series"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gpu_model} {self.tier} {self.bucket} {self.period_start:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutablePeriod("stored index periods are immutable")
        super().save(*args, **kwargs)


class SyncOutcome(models.Model):
    """One finished provider sync (ok or failed), for sync success rates over a window."""

    id = models.BigAutoField(primary_key=True)
    provider_name = models.CharField(max_length=100)
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    error_code = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "kpi_sync_outcomes"
        indexes = [models.Index(fields=["provider_name", "finished_at"], name="kpi_sync_window")]

    def __str__(self) -> str:
        return f"{self.provider_name} {'ok' if self.ok else 'failed'} {self.finished_at}"
