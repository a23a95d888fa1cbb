"""The idempotent loader of the shipped GPU dataset: benchmark rows, then the catalogue's offers
linked to them (so it imports the catalogue; ``benchmarks`` itself stays a leaf)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from apps.providers.models import GPUOffer

from .benchmarks import DATASET, read_dataset
from .models import GPUBenchmark


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int
    offers_linked: int


@transaction.atomic
def load_benchmarks(path: Path = DATASET) -> LoadResult:
    """Create or update one row per dataset entry (idempotent), then link offers to benchmarks."""
    created = updated = unchanged = 0
    existing = {b.gpu_model: b for b in GPUBenchmark.objects.all()}
    for model, fields in read_dataset(path):
        current = existing.get(model)
        if current is None:
            GPUBenchmark.objects.create(gpu_model=model, **fields)
            created += 1
            continue
        changed = [name for name, value in fields.items() if getattr(current, name) != value]
        if changed:
            for name in changed:
                setattr(current, name, fields[name])
            current.save(update_fields=changed)
            updated += 1
        else:
            unchanged += 1
    linked = 0
    for bench in GPUBenchmark.objects.only("id", "gpu_model"):
        linked += (
            GPUOffer.objects.filter(gpu_type=bench.gpu_model)
            .exclude(benchmark=bench)
            .update(benchmark=bench)
        )
    return LoadResult(created, updated, unchanged, linked)
