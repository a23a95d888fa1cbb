from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.providers import offer_cache
from apps.providers.models import Availability, GPUOffer, Provider
from tests.catalogue_factories import build_offer, make_history, make_provider


@pytest.fixture(autouse=True)
def _fresh_offer_cache():
    """No test inherits another's cache failure (the breaker is process state)."""
    offer_cache.reset_breaker()
    yield
    offer_cache.reset_breaker()


@dataclass
class Catalogue:
    providers: dict[str, Provider]
    offers: dict[str, GPUOffer]

    def all(self) -> list[GPUOffer]:
        return list(
            GPUOffer.objects.select_related("provider", "benchmark").order_by("id")  # fresh rows
        )


@pytest.fixture
def catalogue(benchmarks) -> Catalogue:
    """A small, varied catalogue: three providers, a dozen offers named the way providers name
    them (known GPUs with and without benchmark rows, and GPUs the normaliser does not know)."""
    providers = {
        "runpod": make_provider("runpod", display_name="RunPod", reliability_score=0.99),
        "vastai": make_provider("vastai", display_name="Vast.ai", reliability_score=0.82),
        "lambda": make_provider("lambda", display_name="Lambda", reliability_score=0.97),
    }
    now = timezone.now()
    specs: dict[str, tuple[Any, ...]] = {
        "h100_runpod": ("runpod", "H100 SXM", 80, 1, "2.6900", "US-TX-3", "US", {}),
        "h100x8_lambda": (
            "lambda",
            "NVIDIA H100 80GB HBM3",
            80,
            8,
            "23.9200",
            "us-east-1",
            "US",
            {"compliance_tags": ["SOC2", "HIPAA"]},
        ),
        "a100_40_lambda": ("lambda", "A100 (40 GB SXM4)", 40, 1, "1.2900", "us-west-1", "US", {}),
        "a100_80_vast": (
            "vastai",
            "A100 PCIE",
            80,
            2,
            "2.1000",
            "Quebec, CA",
            "CA",
            {"is_datacenter": False, "is_spot": True},
        ),
        "4090_vast": (
            "vastai",
            "RTX 4090",
            24,
            4,
            "1.3600",
            "Texas, US",
            "US",
            {"is_datacenter": False, "availability_status": Availability.LIMITED},
        ),
        "4090_runpod_spot": (
            "runpod",
            "NVIDIA GeForce RTX 4090",
            24,
            1,
            "0.3400",
            "EU-RO-1",
            "RO",
            {"is_spot": True, "compliance_tags": ["gdpr"]},
        ),
        "l40s_runpod": (
            "runpod",
            "L40S",
            48,
            1,
            "0.8600",
            "EU-RO-1",
            "RO",
            {"compliance_tags": ["GDPR", "soc2"]},
        ),
        "mi300x_runpod": ("runpod", "MI300X", 192, 1, "2.4900", "US-TX-3", "US", {}),
        "a5000_vast": (
            "vastai",
            "RTX A5000",
            24,
            2,
            "0.4400",
            "Oregon, US",
            "US",
            {"availability_status": Availability.UNAVAILABLE},
        ),
        "mi250x_vast": ("vastai", "MI250X", 128, 1, "0.9000", "Nevada, US", "US", {}),
        "k80_vast": ("vastai", "Tesla K80", 12, 4, "0.1200", "Oregon, US", "US", {}),
        "gaudi_lambda": ("lambda", "Gaudi 2", 96, 8, "9.9900", "europe-central-1", "DE", {}),
    }
    offers = {}
    for position, (name, spec) in enumerate(specs.items()):
        provider, gpu, memory, count, price, region, country, extra = spec
        offer = build_offer(
            providers[provider],
            gpu=gpu,
            gpu_memory_gb=memory,
            gpu_count=count,
            price_per_hour=Decimal(price),
            region=region,
            country=country,
            cpu_cores=8 * count,
            ram_gb=64 * count,
            storage_gb=200 * count,
            **extra,
        )
        offer.save()
        GPUOffer.objects.filter(pk=offer.pk).update(last_seen_at=now - timedelta(minutes=position))
        offers[name] = offer
    make_history(offers["h100_runpod"], ["2.9900", "2.7900", "2.6900"])
    make_history(offers["4090_runpod_spot"], ["0.4400", "0.3400"])
    return Catalogue(providers=providers, offers=offers)


@pytest.fixture(autouse=True)
def _fresh_row_plans():
    """Each test compiles its own row plans (schema/fast_rows.py): a plan switched off by one
    test's mock must not outlive that test."""
    from schema import fast_rows

    fast_rows._plans.clear()
    yield
    fast_rows._plans.clear()
