"""Cited instance-type → GPU tables (``adapters/data/*.csv``) for providers whose price lists
name an instance type but not its GPUs (the hyperscalers' public price lists).

Each row: the provider's instance type, the GPU as the vendor's documentation names it, the GPU
count (fractional for partitioned GPUs, which are skipped on purpose: a share of a GPU compares
with nothing), VRAM per GPU (GB), vCPUs, RAM (GB) and the documentation page it comes from.
Pure Python (no Django import).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class InstanceGPUs:
    instance_type: str
    gpu_name: str
    gpu_count: Decimal
    vram_gb: int
    vcpus: int
    ram_gb: int
    source: str

    @property
    def fractional(self) -> bool:
        return self.gpu_count != self.gpu_count.to_integral_value() or self.gpu_count < 1


@lru_cache(maxsize=8)
def instance_table(name: str, key: str) -> dict[str, InstanceGPUs]:
    """``data/<name>``, keyed by its ``key`` column; a row without a source is an error."""
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    table = {}
    for row in rows:
        if not row["source"].strip():
            raise ValueError(f"{name}: row {row[key]!r} has no source")
        table[row[key]] = InstanceGPUs(
            instance_type=row[key],
            gpu_name=row["gpu_name"],
            gpu_count=Decimal(row["gpu_count"]),
            vram_gb=int(row["vram_gb_per_gpu"]),
            vcpus=int(row["vcpus"]),
            ram_gb=int(row["ram_gb"]),
            source=row["source"],
        )
    return table
