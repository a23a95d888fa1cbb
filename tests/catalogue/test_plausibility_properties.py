"""Property: whatever a provider sends, both facades list exactly the offers a plain-Python
statement of the plausibility gate accepts (``data/gpu_plausibility.csv`` read here with the csv
module, the arithmetic in fractions) — implausible prices, VRAM and GPU counts never reach the
catalogue. Records go through the real Vast.ai adapter and sync engine."""

from __future__ import annotations

import csv
from decimal import Decimal
from fractions import Fraction
from typing import Any

import httpx
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.math_core.algorithms.gpu_names import gpu_family, nominal_vram_gb
from apps.providers import offer_cache
from apps.providers.adapters.vastai import VastAIAdapter
from apps.providers.plausibility import DATA
from apps.providers.sync import sync_provider
from tests.graphql_client import execute
from tests.providers.helpers import fixture

pytestmark = pytest.mark.django_db

# (provider spelling, canonical model)
GPUS = [
    ("H100 SXM", "H100 SXM 80GB"),
    ("RTX 4090", "RTX 4090"),
    ("L40S", "L40S"),
    ("A100 PCIE", "A100 PCIe 80GB"),
    ("MI300X", "MI300X"),
]
PER_GPU_PRICES = ["0.0100", "0.0500", "0.3000", "0.9000", "2.4900", "9.9900", "40.0000", "249.0000"]


def _table() -> dict[str, dict[str, str]]:
    with DATA.open(newline="", encoding="utf-8") as handle:
        return {row["family"]: row for row in csv.DictReader(handle)}


def oracle(canonical: str, count: int, price: Decimal, reported_gb: float) -> bool:
    row = _table().get(gpu_family(canonical) or "") or _table()["*"]
    if not 1 <= count <= int(row["max_gpus_per_offer"]):
        return False
    nominal = nominal_vram_gb(canonical)
    assert nominal is not None
    if abs(Fraction(reported_gb) - nominal) > Fraction(15, 100) * nominal:
        return False
    if not 0 < price <= 2000:  # the adapters' own bound on a whole offer's price
        return False
    per_gpu = Fraction(price) / count
    return (
        Fraction(row["price_per_gpu_hour_min"])
        <= per_gpu
        <= Fraction(row["price_per_gpu_hour_max"])
    )


records = st.lists(
    st.fixed_dictionaries(
        {
            "gpu": st.sampled_from(GPUS),
            "count": st.sampled_from([1, 2, 8, 16, 64]),
            "per_gpu": st.sampled_from(PER_GPU_PRICES),
            # nvidia-smi's figure, a GiB/GB mix-up, a MIG slice, the whole machine's VRAM
            "vram": st.sampled_from(["nominal", "driver", "slice", "total"]),
        }
    ),
    min_size=1,
    max_size=12,
)


def _vram_mib(canonical: str, kind: str, count: int) -> int:
    nominal = nominal_vram_gb(canonical) or 0
    factor = {"nominal": 1.0, "driver": 0.937, "slice": 0.125, "total": float(count)}[kind]
    return round(nominal * factor * 1024)


def _bundle(template: dict[str, Any], index: int, spec: dict[str, Any]) -> dict[str, Any]:
    spelling, canonical = spec["gpu"]
    price = Decimal(spec["per_gpu"]) * spec["count"]
    return {
        **template,
        "id": 5_000_000 + index,
        "gpu_name": spelling,
        "num_gpus": spec["count"],
        "gpu_ram": _vram_mib(canonical, spec["vram"], spec["count"]),
        "dph_total": str(price),
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=records)
def test_both_facades_list_exactly_the_offers_the_gate_accepts(client, benchmarks, specs):
    template = fixture("vastai/bundles.json")["offers"][0]
    bundles = [_bundle(template, i, spec) for i, spec in enumerate(specs)]
    expected = set()
    for bundle, spec in zip(bundles, specs, strict=True):
        reported = round(bundle["gpu_ram"] / 1024, 2)
        if oracle(spec["gpu"][1], spec["count"], Decimal(bundle["dph_total"]), reported):
            expected.add(str(bundle["id"]))
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"offers": bundles}))
    with transaction.atomic():
        report = sync_provider("vastai", adapter=VastAIAdapter(transport=transport))
        offer_cache.bump_version()
        rest = client.get("/api/v2/providers", {"provider_name": "vastai", "per_page": 100})
        graphql = execute(
            client,
            '{ offers(filter: {providerName: ["vastai"]}, first: 100) '
            "{ totalCount edges { node { externalId } } } }",
        )
        transaction.set_rollback(True)
    if not expected:
        assert report.status == "failed"  # every record rejected: the sync fails, stores nothing
    else:
        assert report.ok and report.rejected == len(bundles) - len(expected)
    assert {item["external_id"] for item in rest.json()["items"]} == expected
    edges = graphql["data"]["offers"]["edges"]
    assert {edge["node"]["externalId"] for edge in edges} == expected
