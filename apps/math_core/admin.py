from django.contrib import admin

from .models import GPUBenchmark, OfferInteraction, RecommendationRun


@admin.register(GPUBenchmark)
class GPUBenchmarkAdmin(admin.ModelAdmin):
    list_display = (
        "gpu_model",
        "vendor",
        "vram_gb",
        "memory_bandwidth_gbps",
        "tflops_fp16",
        "tokens_per_second_7b",
        "tokens_per_second_7b_is_estimate",
    )
    list_filter = ("vendor", "architecture", "tokens_per_second_7b_is_estimate")
    search_fields = ("gpu_model", "architecture", "source")


@admin.register(RecommendationRun)
class RecommendationRunAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "workload_type", "user", "candidate_count", "feasible")
    list_filter = ("kind", "workload_type", "feasible")
    readonly_fields = ("inputs", "outputs")


@admin.register(OfferInteraction)
class OfferInteractionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "kind", "offer", "run")
    list_filter = ("kind",)
    raw_id_fields = ("user", "offer", "run")
