"""A small, realistic offer catalogue for math-core tests (plain functions, not fixtures, so
any test module can build what it needs). Prices follow the public list prices of the providers
at the time of writing; benchmarks come from the shipped dataset (``load_benchmarks``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.math_core.models import GPUBenchmark
from apps.providers.models import GPUOffer, Provider

PROVIDERS = {
    "runpod": ("RunPod", 0.98),
    "vastai": ("Vast.ai", 0.90),
    "lambda": ("Lambda", 0.995),
}

# (key, provider, gpu_type, gpu_count, price_per_hour, region, country, is_spot)
OFFERS: list[tuple[str, str, str, int, str, str, str, bool]] = [
    ("h100x1", "runpod", "H100 SXM 80GB", 1, "2.9900", "US-TX-3", "US", False),
    ("h100x8", "lambda", "H100 SXM 80GB", 8, "23.9200", "us-east-1", "US", False),
    ("a100x1", "lambda", "A100 SXM 80GB", 1, "1.2900", "us-west-1", "US", False),
    ("a100x4-spot", "vastai", "A100 SXM 80GB", 4, "3.2000", "EU-RO-1", "RO", True),
    ("l40s", "runpod", "L40S", 1, "0.8600", "EU-SE-1", "SE", False),
    ("rtx4090", "vastai", "RTX 4090", 1, "0.3400", "PL", "PL", True),
    ("rtx4090x2", "vastai", "RTX 4090", 2, "0.6500", "US", "US", False),
    ("a10", "lambda", "A10", 1, "0.7500", "us-east-1", "US", False),
]


def provider(name: str) -> Provider:
    display, reliability = PROVIDERS[name]
    found, _ = Provider.objects.get_or_create(
        name=name,
        defaults={
            "display_name": display,
            "api_base_url": f"https://api.{name}.example",
            "reliability_score": reliability,
        },
    )
    return found


def make_offer(
    *,
    provider_name: str = "runpod",
    gpu_type: str = "H100 SXM 80GB",
    gpu_count: int = 1,
    price: str = "2.0000",
    region: str = "US-TX-3",
    country: str = "US",
    is_spot: bool = False,
    external_id: str | None = None,
    with_benchmark: bool = True,
    **extra: Any,
) -> GPUOffer:
    bench = GPUBenchmark.objects.filter(gpu_model=gpu_type).first() if with_benchmark else None
    vram = bench.vram_gb if bench else extra.pop("gpu_memory_gb", 24)
    return GPUOffer.objects.create(
        provider=provider(provider_name),
        external_id=external_id or f"{provider_name}-{gpu_type}-{gpu_count}-{price}-{region}",
        gpu_type=gpu_type,
        raw_gpu_name=gpu_type,
        benchmark=bench,
        gpu_memory_gb=vram,
        gpu_count=gpu_count,
        price_per_hour=Decimal(price),
        region=region,
        country=country,
        is_spot=is_spot,
        **extra,
    )


def seed_catalogue() -> dict[str, GPUOffer]:
    """The offers of ``OFFERS`` keyed by their short name (benchmarks must be loaded)."""
    return {
        key: make_offer(
            provider_name=prov,
            gpu_type=gpu,
            gpu_count=count,
            price=price,
            region=region,
            country=country,
            is_spot=spot,
            external_id=key,
        )
        for key, prov, gpu, count, price, region, country, spot in OFFERS
    }
