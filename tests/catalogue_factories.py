"""Factories for the offer catalogue: providers, offers (named the way providers name their GPUs,
normalised and linked to benchmarks the way ingestion does it) and price history.

``build_offer`` returns an unsaved offer (for ``bulk_create``); ``make_offer`` saves one.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.math_core.algorithms.gpu_names import display_gpu_name
from apps.math_core.models import GPUBenchmark
from apps.providers.models import Availability, GPUOffer, PriceHistory, Provider
from apps.providers.regions import locate

_sequence = itertools.count(1)

#: Provider spellings: known with a benchmark row, known without one, and unknown to the normaliser.
GPU_SPELLINGS = (
    "NVIDIA H100 80GB HBM3",
    "H100 PCIe",
    "A100 SXM4 80GB",
    "A100-PCIE-40GB",
    "GeForce RTX 4090",
    "RTX 3090",
    "L40S",
    "MI300X",
    "RTX A5000",
    "MI250X",
    "Tesla K80",
    "Gaudi 2",
)


def make_provider(name: str | None = None, **fields: Any) -> Provider:
    name = name or f"provider{next(_sequence)}"
    defaults: dict[str, Any] = {
        "display_name": name.title(),
        "api_base_url": f"https://api.{name}.example",
        "reliability_score": 0.95,
        "last_sync_at": timezone.now(),
    }
    defaults.update(fields)
    return Provider.objects.create(name=name, **defaults)


def benchmark_index() -> dict[str, GPUBenchmark]:
    return {b.gpu_model: b for b in GPUBenchmark.objects.all()}


def build_offer(
    provider: Provider,
    *,
    gpu: str = "NVIDIA H100 80GB HBM3",
    benchmarks: dict[str, GPUBenchmark] | None = None,
    **fields: Any,
) -> GPUOffer:
    """An unsaved offer; ``gpu`` is the provider's spelling, normalised like ingestion does."""
    gpu_memory_gb = fields.pop("gpu_memory_gb", 80)
    gpu_type = display_gpu_name(gpu, gpu_memory_gb)
    index = benchmarks if benchmarks is not None else benchmark_index()
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "external_id": f"ext-{next(_sequence)}",
        "gpu_type": gpu_type,
        "raw_gpu_name": gpu,
        "benchmark": index.get(gpu_type),
        "gpu_memory_gb": gpu_memory_gb,
        "gpu_count": 1,
        "cpu_cores": 16,
        "ram_gb": 128,
        "storage_gb": 500,
        "price_per_hour": Decimal("2.4900"),
        "region": "us-east-1",
        "country": "US",
        "availability_status": Availability.AVAILABLE,
        "is_spot": False,
        "is_datacenter": True,
        "compliance_tags": [],
    }
    values.update(fields)
    if "macro_region" not in fields:  # as ingestion derives it (apps.providers.regions)
        values["macro_region"] = locate(
            provider.name, values["region"], values["country"]
        ).macro_region
    return GPUOffer(provider=provider, **values)


def make_offer(provider: Provider | None = None, **fields: Any) -> GPUOffer:
    offer = build_offer(provider or make_provider(), **fields)
    offer.save()
    return offer


def make_history(
    offer: GPUOffer,
    prices: Sequence[str | Decimal],
    *,
    start: datetime | None = None,
    step: timedelta = timedelta(hours=1),
) -> list[PriceHistory]:
    """One history row per price, oldest first, ``step`` apart, ending at ``start`` or now."""
    end = start or timezone.now()
    rows = [
        PriceHistory(
            offer=offer,
            price_per_hour=Decimal(str(price)),
            availability_status=offer.availability_status,
        )
        for price in prices
    ]
    created = PriceHistory.objects.bulk_create(rows)
    # recorded_at is auto_now_add: set the intended times afterwards.
    for position, row in enumerate(created):
        row.recorded_at = end - step * (len(created) - 1 - position)
    PriceHistory.objects.bulk_update(created, ["recorded_at"])
    return created
