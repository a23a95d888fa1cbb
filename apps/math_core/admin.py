from django.contrib import admin

from .models import GPUBenchmark


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
