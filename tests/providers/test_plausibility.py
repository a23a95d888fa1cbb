"""The plausibility gate (``apps.providers.plausibility``): implausible offers are rejected with
the KPI anomaly codes, never stored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.math_core.algorithms.gpu_names import FAMILIES
from apps.providers import plausibility
from apps.providers.plausibility import (
    FALLBACK,
    GPU_COUNT_IMPLAUSIBLE,
    LIKELY_CENTS_AS_DOLLARS,
    LIKELY_PER_NODE_AS_PER_GPU,
    LIKELY_TOTAL_VRAM_AS_PER_GPU,
    PRICE_OUTLIER_HIGH,
    PRICE_OUTLIER_LOW,
    VRAM_IMPLAUSIBLE,
    check,
    range_for,
    ranges,
)


@pytest.mark.parametrize(
    ("gpu", "count", "price", "vram", "reason"),
    [
        ("H100 SXM 80GB", 8, "19.92", 80, None),  # $2.49/GPU-h
        ("H100 SXM 80GB", 1, "98.32", 80, LIKELY_CENTS_AS_DOLLARS),  # $0.98 in cents?
        ("H100 SXM 80GB", 1, "1600.00", 80, PRICE_OUTLIER_HIGH),  # not even in cents
        ("H100 SXM 80GB", 8, "786.56", 80, LIKELY_PER_NODE_AS_PER_GPU),  # 98.32 × 8 per GPU
        ("RTX 4090", 1, "34.00", 24, LIKELY_CENTS_AS_DOLLARS),  # 34 cents read as dollars
        ("RTX 4090", 1, "0.0300", 24, PRICE_OUTLIER_LOW),
        ("RTX 4090", 1, "400.00", 24, PRICE_OUTLIER_HIGH),
        ("L40S", 1, "0.79", 44.99, None),  # Vast's driver figure for a 48 GB part
        ("A100 SXM 80GB", 1, "1.20", 10, VRAM_IMPLAUSIBLE),  # a MIG slice
        ("A100 SXM 80GB", 8, "12.00", 640, LIKELY_TOTAL_VRAM_AS_PER_GPU),
        ("H100 SXM 80GB", 64, "160.00", 80, GPU_COUNT_IMPLAUSIBLE),
        ("H100 SXM 80GB", 0, "2.00", 80, GPU_COUNT_IMPLAUSIBLE),
        ("Tesla K80", 1, "0.20", None, None),  # unknown GPU: the wide fallback row
        ("Tesla K80", 1, "60.00", None, LIKELY_CENTS_AS_DOLLARS),
        ("Tesla K80", 1, "0.005", None, PRICE_OUTLIER_LOW),
    ],
)
def test_reason_codes(gpu, count, price, vram, reason):
    verdict = check(
        gpu_type=gpu, gpu_count=count, price_per_hour=Decimal(price), vram_per_gpu_gb=vram
    )
    assert verdict.reason == reason
    assert verdict.ok is (reason is None)
    assert (verdict.detail == "") is (reason is None)


def test_bounds_are_inclusive():
    h100 = range_for("H100 PCIe 80GB")
    assert h100.family == "H100"
    for price in (h100.price_min, h100.price_max):
        assert check(
            gpu_type="H100 PCIe 80GB", gpu_count=1, price_per_hour=price, vram_per_gpu_gb=80
        ).ok


def test_table_rows_are_families_with_sources():
    table = ranges()
    assert FALLBACK in table
    for family, row in table.items():
        assert family == FALLBACK or family in FAMILIES, family
        assert row.source.strip() and row.price_min < row.price_max and row.max_gpus >= 1
    # every family buyers rent at scale has its own row
    for family in ("H100", "H200", "A100", "B200", "L40S", "RTX 4090", "MI300X", "T4", "V100"):
        assert family in table
    assert range_for("Unknown GPU").family == FALLBACK
    assert plausibility.REASON_CODES == (
        "LIKELY_PER_NODE_AS_PER_GPU",
        "LIKELY_CENTS_AS_DOLLARS",
        "PRICE_OUTLIER_HIGH",
        "PRICE_OUTLIER_LOW",
        "LIKELY_TOTAL_VRAM_AS_PER_GPU",
        "VRAM_IMPLAUSIBLE",
        "GPU_COUNT_IMPLAUSIBLE",
    )
