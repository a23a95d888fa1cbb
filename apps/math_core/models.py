"""GPU performance data (one row per canonical GPU model), recommendation runs and the users'
offer interactions that feed collaborative filtering."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


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


class RecommendationKind(models.TextChoices):
    ENSEMBLE = "ensemble", "Ensemble recommendation"
    TOPSIS_OFFERS = "topsis_offers", "TOPSIS ranking of offers"


class RecommendationRun(models.Model):
    """One recommendation request and what it answered: kept for audit and read back as
    context for collaborative filtering (interactions can name the run that led to them)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recommendation_runs",
        help_text="Who asked; null for anonymous callers.",
    )
    kind = models.CharField(max_length=20, choices=RecommendationKind.choices)
    workload_type = models.CharField(max_length=32, blank=True, default="", db_index=True)
    inputs = models.JSONField(default=dict, help_text="The request as received (normalised).")
    outputs = models.JSONField(default=dict, help_text="The ranked offers returned, with scores.")
    candidate_count = models.PositiveIntegerField(default=0)
    feasible = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "recommendation_runs"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M} ({self.candidate_count} offers)"


class InteractionKind(models.TextChoices):
    VIEW = "view", "Viewed"
    SELECT = "select", "Selected"
    BOOK = "book", "Booked"


class OfferInteraction(models.Model):
    """Implicit feedback: a user viewed, selected or booked an offer (collaborative filtering's
    input; weights per kind live in ``algorithms/collaborative.py``)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offer_interactions"
    )
    offer = models.ForeignKey(
        "providers.GPUOffer", on_delete=models.CASCADE, related_name="interactions"
    )
    kind = models.CharField(max_length=10, choices=InteractionKind.choices)
    run = models.ForeignKey(
        RecommendationRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        help_text="The recommendation run the user acted on, when there was one.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "offer_interactions"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["offer", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.offer_id}"


class ModelArchitecture(models.Model):
    """One open model's published architecture (the model catalogue, issue 12): loaded from
    ``apps/math_core/data/models.json`` by ``manage.py load_models``; every row cites the
    config it comes from (``source``) and what it was checked against (``verified_via``)."""

    name = models.CharField(max_length=100, unique=True, help_text="Canonical model name.")
    family = models.CharField(max_length=50)
    kind = models.CharField(max_length=20, help_text="llm, embedding or diffusion.")
    aliases = models.JSONField(default=list, help_text="Other spellings, repo ids, tags.")
    hf_repo = models.CharField(max_length=200, blank=True, default="")
    ollama_tag = models.CharField(max_length=100, blank=True, default="")
    params_total = models.BigIntegerField()
    params_active = models.BigIntegerField()
    params_source = models.TextField()
    attention = models.CharField(max_length=10, help_text="mha, gqa, mqa, mla or none.")
    num_layers = models.IntegerField(null=True, blank=True)
    hidden_size = models.IntegerField(null=True, blank=True)
    num_heads = models.IntegerField(null=True, blank=True)
    num_kv_heads = models.IntegerField(null=True, blank=True)
    head_dim = models.IntegerField(null=True, blank=True)
    kv_lora_rank = models.IntegerField(null=True, blank=True)
    qk_rope_head_dim = models.IntegerField(null=True, blank=True)
    sliding_window = models.IntegerField(null=True, blank=True)
    sliding_window_rule = models.CharField(max_length=20, blank=True, default="")
    experts_total = models.IntegerField(null=True, blank=True)
    experts_active = models.IntegerField(null=True, blank=True)
    shared_experts = models.IntegerField(null=True, blank=True)
    vocab_size = models.IntegerField(null=True, blank=True)
    max_context = models.IntegerField(null=True, blank=True)
    tied_embeddings = models.BooleanField(default=False)
    native_dtype = models.CharField(max_length=20, blank=True, default="")
    licence = models.CharField(max_length=200, blank=True, default="")
    source = models.CharField(max_length=300, help_text="The published config the row is from.")
    verified_via = models.TextField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    config = models.JSONField(default=dict, help_text="The published config.json fields.")

    class Meta:
        db_table = "model_architectures"
        ordering = ["family", "params_total", "name"]

    def __str__(self) -> str:
        return self.name
