from django.contrib import admin
from django.http import HttpRequest

from .models import GPUOffer, PriceHistory, Provider, ProviderIntegration


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "display_name",
        "status",
        "reliability_score",
        "last_sync_at",
        "error_count",
        "is_sample_data",
    )
    list_filter = ("status", "is_sample_data")
    search_fields = ("name", "display_name")


@admin.register(GPUOffer)
class GPUOfferAdmin(admin.ModelAdmin):
    list_display = (
        "gpu_type",
        "gpu_count",
        "provider",
        "region",
        "price_per_hour",
        "availability_status",
        "is_spot",
        "last_seen_at",
    )
    list_filter = ("provider", "availability_status", "is_spot", "is_datacenter", "gpu_type")
    search_fields = ("gpu_type", "raw_gpu_name", "external_id", "region")
    list_select_related = ("provider",)
    raw_id_fields = ("benchmark",)


@admin.register(PriceHistory)
class PriceHistoryAdmin(admin.ModelAdmin):
    list_display = ("offer", "price_per_hour", "availability_status", "recorded_at")
    list_filter = ("availability_status",)
    search_fields = ("offer__gpu_type", "offer__external_id")
    list_select_related = ("offer", "offer__provider")
    raw_id_fields = ("offer",)


@admin.register(ProviderIntegration)
class ProviderIntegrationAdmin(admin.ModelAdmin):
    """Status only: the encrypted key is neither shown nor editable here (use the API)."""

    list_display = (
        "provider",
        "tenant",
        "user",
        "status",
        "last_validated_at",
        "use_for_catalogue",
    )
    list_filter = ("provider", "status", "use_for_catalogue")
    exclude = ("encrypted_api_key",)
    readonly_fields = (
        "provider",
        "tenant",
        "user",
        "status",
        "last_validated_at",
        "last_error",
        "created_by",
        "created_at",
        "updated_at",
    )
    list_select_related = ("provider", "tenant", "user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
