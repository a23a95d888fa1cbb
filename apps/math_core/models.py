"""GPU performance data: one row per canonical GPU model."""

from __future__ import annotations

import uuid

from django.db import models


class GPUBenchmark(models.Model):
    """Datasheet and benchmark figures for a GPU model. Every row cites its sources."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    gpu_model = models.CharField(max_length=100, unique=True, help_text="Canonical GPU model name.")
    vendor = models.CharField(max_length=20, help_text="NVIDIA or AMD.")
    architecture = models.CharField(max_length=50, blank=True, default="")
    form_factor = models.CharField(max_length=50, blank=True, default="")
    tflops_fp32 = models.FloatField(help_text="Peak FP32 TFLOPS (dense).")
    tflops_fp16 = models.FloatField(
        null=True,
        blank=True,
        help_text="Peak FP16/BF16 tensor TFLOPS (dense); null when unpublished.",
    )
    tflops_fp8 = models.FloatField(
        null=True, blank=True, help_text="Peak FP8 tensor TFLOPS (dense)."
    )
    tflops_int8 = models.FloatField(
        null=True, blank=True, help_text="Peak INT8 tensor TOPS (dense)."
    )
    memory_bandwidth_gbps = models.FloatField(help_text="Memory bandwidth, GB/s.")
    vram_gb = models.IntegerField()
    tdp_w = models.IntegerField(null=True, blank=True)
    tokens_per_second_7b = models.IntegerField(
        help_text=(
            "Single-stream decode tokens/s of a 7-8B model at FP16 (llama.cpp, batch 1): measured "
            "where a benchmark exists, else estimated from memory bandwidth (see is_estimate)."
        )
    )
    tokens_per_second_7b_is_estimate = models.BooleanField(default=False)
    tokens_per_second_13b = models.IntegerField(null=True, blank=True)
    tokens_per_second_70b = models.IntegerField(
        null=True,
        blank=True,
        help_text="Measured single-stream decode tokens/s of a 70B model at Q4_K_M (llama.cpp).",
    )
    server_tokens_per_second_8b = models.IntegerField(
        null=True,
        blank=True,
        help_text="Measured max-load output tokens/s, Llama 3.1 8B FP8 (TensorRT-LLM, 1k/1k).",
    )
    image_gen_per_minute = models.IntegerField(null=True, blank=True)
    source = models.CharField(max_length=255, help_text="Datasheet the spec figures come from.")
    perf_source = models.CharField(max_length=255, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "gpu_benchmarks"
        ordering = ["gpu_model"]

    def __str__(self) -> str:
        return self.gpu_model
