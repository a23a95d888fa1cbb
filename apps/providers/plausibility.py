"""The plausibility gate: every offer is checked against its GPU's known ranges before it is stored.

``data/gpu_plausibility.csv`` holds, per GPU family (``gpu_names.gpu_family``), the plausible
price per GPU-hour (USD, spot and on-demand alike) and the largest GPU count one offer can have,
each row with its source; a ``*`` row bounds GPUs without a row (and GPUs the normaliser does not
know). VRAM per GPU must lie within :data:`VRAM_TOLERANCE` of the model's nominal datasheet size
(``gpu_names.nominal_vram_gb``).

An implausible offer is **rejected with a reason code, counted and logged**, never stored as a
price. The price codes are the KPI engine's anomaly codes where they overlap:

* ``LIKELY_PER_NODE_AS_PER_GPU`` — the per-GPU price is above the range but the range holds
  when divided by the GPU count: a node price was read as a per-GPU price.
* ``LIKELY_CENTS_AS_DOLLARS`` — above the range, but within it divided by 100.
* ``PRICE_OUTLIER_HIGH`` / ``PRICE_OUTLIER_LOW`` — outside the range otherwise.
* ``LIKELY_TOTAL_VRAM_AS_PER_GPU`` — the reported VRAM per GPU is the whole machine's.
* ``VRAM_IMPLAUSIBLE`` — VRAM per GPU far from the model's nominal size (a MIG slice, a unit
  error).
* ``GPU_COUNT_IMPLAUSIBLE`` — fewer than one GPU or more than the family's largest offer.

Pure Python (no Django import).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from apps.math_core.algorithms.gpu_names import gpu_family, nominal_vram_gb

DATA = Path(__file__).resolve().parent / "data" / "gpu_plausibility.csv"
FALLBACK = "*"
#: Reported VRAM per GPU may differ from the nominal size by this share (GiB vs GB is 7 %).
VRAM_TOLERANCE = 0.15

LIKELY_PER_NODE_AS_PER_GPU = "LIKELY_PER_NODE_AS_PER_GPU"
LIKELY_CENTS_AS_DOLLARS = "LIKELY_CENTS_AS_DOLLARS"
PRICE_OUTLIER_HIGH = "PRICE_OUTLIER_HIGH"
PRICE_OUTLIER_LOW = "PRICE_OUTLIER_LOW"
LIKELY_TOTAL_VRAM_AS_PER_GPU = "LIKELY_TOTAL_VRAM_AS_PER_GPU"
VRAM_IMPLAUSIBLE = "VRAM_IMPLAUSIBLE"
GPU_COUNT_IMPLAUSIBLE = "GPU_COUNT_IMPLAUSIBLE"
REASON_CODES = (
    LIKELY_PER_NODE_AS_PER_GPU,
    LIKELY_CENTS_AS_DOLLARS,
    PRICE_OUTLIER_HIGH,
    PRICE_OUTLIER_LOW,
    LIKELY_TOTAL_VRAM_AS_PER_GPU,
    VRAM_IMPLAUSIBLE,
    GPU_COUNT_IMPLAUSIBLE,
)


@dataclass(frozen=True, slots=True)
class Range:
    family: str
    price_min: Decimal
    price_max: Decimal
    max_gpus: int
    source: str

    def holds(self, per_gpu: Decimal) -> bool:
        return self.price_min <= per_gpu <= self.price_max


@dataclass(frozen=True, slots=True)
class Verdict:
    """``reason`` is None when the offer is plausible."""

    reason: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None


PLAUSIBLE = Verdict()


@lru_cache(maxsize=1)
def ranges() -> dict[str, Range]:
    """The table, by family (``*`` is the fallback)."""
    with DATA.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    table = {}
    for row in rows:
        if not row["source"].strip():
            raise ValueError(f"plausibility row {row['family']!r} has no source")
        entry = Range(
            family=row["family"],
            price_min=Decimal(row["price_per_gpu_hour_min"]),
            price_max=Decimal(row["price_per_gpu_hour_max"]),
            max_gpus=int(row["max_gpus_per_offer"]),
            source=row["source"],
        )
        if not entry.price_min < entry.price_max or entry.max_gpus < 1:
            raise ValueError(f"plausibility row {entry.family!r} is not a range")
        table[entry.family] = entry
    if FALLBACK not in table:
        raise ValueError("the plausibility table needs a '*' fallback row")
    return table


def range_for(gpu_type: str) -> Range:
    table = ranges()
    family = gpu_family(gpu_type)
    return table.get(family or "", table[FALLBACK])


def _near(value: float, target: float) -> bool:
    return abs(value - target) <= VRAM_TOLERANCE * target


def _vram_verdict(gpu_type: str, gpu_count: int, reported: float | None) -> Verdict | None:
    nominal = nominal_vram_gb(gpu_type)
    if nominal is None or reported is None or _near(reported, nominal):
        return None
    if gpu_count > 1 and _near(reported, nominal * gpu_count):
        return Verdict(
            LIKELY_TOTAL_VRAM_AS_PER_GPU, f"{reported:g} GB per GPU is {gpu_count} x {nominal} GB"
        )
    return Verdict(VRAM_IMPLAUSIBLE, f"{reported:g} GB, nominal {nominal} GB")


def check(
    *,
    gpu_type: str,
    gpu_count: int,
    price_per_hour: Decimal,
    vram_per_gpu_gb: float | None,
) -> Verdict:
    """Whether one offer is plausible (see the module docstring for the reason codes)."""
    bounds = range_for(gpu_type)
    if gpu_count < 1 or gpu_count > bounds.max_gpus:
        return Verdict(GPU_COUNT_IMPLAUSIBLE, f"{gpu_count} GPUs (at most {bounds.max_gpus})")
    vram = _vram_verdict(gpu_type, gpu_count, vram_per_gpu_gb)
    if vram is not None:
        return vram
    per_gpu = price_per_hour / gpu_count
    if bounds.holds(per_gpu):
        return PLAUSIBLE
    shown = (
        f"{per_gpu:.4f} USD/GPU-h outside {bounds.price_min}-{bounds.price_max} ({bounds.family})"
    )
    if per_gpu < bounds.price_min:
        return Verdict(PRICE_OUTLIER_LOW, shown)
    if gpu_count > 1 and bounds.holds(per_gpu / gpu_count):
        return Verdict(LIKELY_PER_NODE_AS_PER_GPU, shown)
    if bounds.holds(per_gpu / 100):
        return Verdict(LIKELY_CENTS_AS_DOLLARS, shown)
    return Verdict(PRICE_OUTLIER_HIGH, shown)
