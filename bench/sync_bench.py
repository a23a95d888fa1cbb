"""Sync-engine benchmark: first sync and re-syncs of N offers through the real parsing path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test_wt4 .venv/bin/python bench/sync_bench.py

A Vast.ai-style bundle payload of N offers (recorded shape, ~60 keys per offer) is generated
deterministically and served through ``httpx.MockTransport``; each sync runs the real
``VastAIAdapter`` (JSON decode, per-record validation, unit conversion, GPU normalisation) and the
real sync engine against a throwaway test database (created and dropped by this script).

For N = 2,000 and 20,000 it prints, per scenario (first sync, unchanged re-sync, re-sync with 1 %
of prices changed): seconds, offers/s, SQL statements, price-history rows written. The baseline,
measured in the same run, is the naive ORM path (``update_or_create`` per offer) on 2,000 offers.
Target (issue 4): re-sync of 20,000 offers with 1 % changed ≤ 2 s on PostgreSQL, exactly the
changed history rows, statements independent of N.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpubroker.settings.test")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.providers.adapters.vastai import VastAIAdapter  # noqa: E402
from apps.providers.models import GPUOffer, PriceHistory, Provider  # noqa: E402
from apps.providers.sync import LAST_SEEN_RESOLUTION, sync_provider  # noqa: E402

GPUS = [
    ("RTX 4090", 24564, 0.35),
    ("RTX 3090", 24576, 0.18),
    ("RTX 5090", 32607, 0.62),
    ("H100 SXM", 81559, 2.2),
    ("H100 PCIE", 81559, 1.9),
    ("A100 SXM4", 81920, 1.2),
    ("A100 PCIE", 40960, 0.8),
    ("L40S", 46068, 0.8),
    ("RTX A6000", 49140, 0.45),
    ("A40", 46068, 0.35),
    ("RTX 4080", 16376, 0.2),
    ("Tesla V100", 32768, 0.22),
]
GEO = ["Texas, US", "Quebec, CA", "Sweden, SE", "Poland, PL", "Japan, JP", "Germany, DE"]


def make_offers(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    offers = []
    for i in range(n):
        name, mib, per_gpu = GPUS[i % len(GPUS)]
        gpus = (1, 1, 2, 4, 8)[i % 5]
        cores = rng.choice((32, 64, 128, 256))
        dph = round(per_gpu * gpus * (0.8 + 0.4 * rng.random()), 4)
        offers.append(
            {
                "id": 10_000_000 + i,
                "ask_contract_id": 10_000_000 + i,
                "bundle_id": 700_000_000 + i,
                "bundled_results": 1,
                "machine_id": 30_000 + i // 3,
                "host_id": 200_000 + i // 7,
                "hostname": None,
                "num_gpus": gpus,
                "gpu_name": name,
                "gpu_ram": mib,
                "gpu_total_ram": mib * gpus,
                "gpu_frac": 1.0,
                "gpu_arch": "nvidia",
                "gpu_lanes": 16,
                "gpu_mem_bw": 900.0,
                "gpu_max_power": 450.0,
                "gpu_max_temp": 83.0,
                "gpu_display_active": False,
                "compute_cap": 890,
                "cuda_max_good": 12.8,
                "driver_version": "570.133.07",
                "bw_nvlink": 0.0,
                "cpu_name": "AMD EPYC 7K62 48-Core Processor",
                "cpu_arch": "amd64",
                "cpu_cores": cores,
                "cpu_cores_effective": float(cores // 4),
                "cpu_ghz": 3.3,
                "cpu_ram": cores * 4096,
                "has_avx": 1,
                "mobo_name": "H12DSi-N6",
                "pci_gen": 4.0,
                "pcie_bw": 24.6,
                "disk_space": round(100 + 900 * rng.random(), 1),
                "disk_bw": 3105.2,
                "disk_name": "SAMSUNG MZ7LH3T8HMLT",
                "inet_up": 742.1,
                "inet_down": 918.4,
                "inet_up_cost": 0.002,
                "inet_down_cost": 0.002,
                "direct_port_count": 99,
                "static_ip": False,
                "dph_base": round(dph - 0.0104, 4),
                "dph_total": dph,
                "storage_cost": 0.15,
                "storage_total_cost": 0.0104,
                "min_bid": round(dph * 0.6, 4),
                "is_bid": False,
                "credit_discount_max": 0.2,
                "dlperf": 68.9,
                "dlperf_per_dphtotal": 208.5,
                "total_flops": 82.6,
                "flops_per_dphtotal": 250.0,
                "score": 191.3,
                "reliability": 0.9962,
                "reliability2": 0.9962,
                "verification": "verified",
                "verified": True,
                "rentable": True,
                "rented": False,
                "external": False,
                "hosting_type": i % 2,
                "vms_enabled": False,
                "geolocation": GEO[i % len(GEO)],
                "geolocode": 30,
                "os_version": "22.04",
                "duration": 7776000.0,
                "search": {"gpuCostPerHour": dph, "diskHour": 0.0104, "totalHour": dph},
            }
        )
    return offers


def change_prices(offers: list[dict[str, Any]], share: float, seed: int) -> int:
    rng = random.Random(seed)
    picked = rng.sample(range(len(offers)), int(len(offers) * share))
    for index in picked:
        offers[index]["dph_total"] = round(offers[index]["dph_total"] * 1.05 + 0.0001, 4)
    return len(picked)


def adapter_for(body: bytes) -> VastAIAdapter:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v0/bundles/"
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return VastAIAdapter(transport=httpx.MockTransport(handler), limit=50_000)


def timed_sync(offers: list[dict[str, Any]]) -> dict[str, Any]:
    body = json.dumps({"offers": offers}).encode()
    history_before = PriceHistory.objects.count()
    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        report = sync_provider("vastai", adapter=adapter_for(body))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert report.ok, report.error
    return {
        "seconds": seconds,
        "cpu": cpu,
        "statements": len(queries.captured_queries),
        "history": PriceHistory.objects.count() - history_before,
        "report": report,
        "mb": len(body) / 1e6,
    }


def age_last_seen() -> None:
    """Make every offer's last_seen_at older than the resolution (the periodic refresh is due)."""
    GPUOffer.objects.update(last_seen_at=F("last_seen_at") - LAST_SEEN_RESOLUTION * 2)


def baseline_naive(offers: list[dict[str, Any]]) -> dict[str, Any]:
    """The naive ORM path: one update_or_create (+ a history check) per offer."""
    provider = Provider.objects.get(name="vastai")
    parsed = VastAIAdapter().parse({"offers": offers}).offers
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        for offer in parsed:
            row, created = GPUOffer.objects.update_or_create(
                provider=provider,
                external_id="naive-" + offer.external_id,
                defaults={
                    "gpu_type": offer.gpu_type,
                    "gpu_memory_gb": offer.gpu_memory_gb,
                    "gpu_count": offer.gpu_count,
                    "price_per_hour": offer.price_per_hour,
                    "region": offer.region,
                    "availability_status": offer.availability,
                },
            )
            if created:
                PriceHistory.objects.create(
                    offer=row, price_per_hour=row.price_per_hour, availability_status="available"
                )
        seconds = time.perf_counter() - started
    GPUOffer.objects.filter(external_id__startswith="naive-").delete()
    return {"seconds": seconds, "statements": len(queries.captured_queries)}


def row(label: str, n: int, m: dict[str, Any]) -> str:
    rate = n / m["seconds"] if m["seconds"] else float("inf")
    cpu = f"{m['cpu']:.3f}" if "cpu" in m else "-"
    return (
        f"{label:<44} {n:>7} {m['seconds']:>8.3f} {cpu:>8} {rate:>10.0f} {m['statements']:>6}"
        f" {m.get('history', '-')!s:>8}"
    )


def main() -> None:
    vendor = connection.vendor
    if vendor != "postgresql":
        print(f"NOTE: running on {vendor}; the issue's target is measured on PostgreSQL.")
    old_name = connection.settings_dict["NAME"]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    print(f"database: {vendor} ({test_db}), python {sys.version.split()[0]}")
    print(
        f"{'scenario':<44} {'offers':>7} {'seconds':>8} {'cpu s':>8} {'offers/s':>10}"
        f" {'stmts':>6} {'history':>8}"
    )
    results: dict[tuple[int, str], dict[str, Any]] = {}
    try:
        for n in (2_000, 20_000):
            GPUOffer.objects.all().delete()
            Provider.objects.filter(name="vastai").delete()
            offers = make_offers(n)
            first = timed_sync(offers)
            print(row(f"first sync ({first['mb']:.1f} MB payload)", n, first))
            same = timed_sync(offers)
            print(row("re-sync, nothing changed", n, same))
            runs = []
            for attempt in range(3):
                changed = change_prices(offers, 0.01, seed=n + attempt)
                resync = timed_sync(offers)
                print(row(f"re-sync, 1% changed ({changed}), run {attempt + 1}", n, resync))
                assert resync["history"] == changed, (resync["history"], changed)
                assert resync["report"].changed == changed
                runs.append(resync)
            assert same["history"] == 0
            age_last_seen()
            changed = change_prices(offers, 0.01, seed=n + 99)
            due = timed_sync(offers)
            print(row("re-sync, 1% changed, last_seen refresh due", n, due))
            assert due["history"] == changed
            runs.sort(key=lambda m: m["seconds"])
            results[(n, "first")] = first
            results[(n, "same")] = same
            results[(n, "resync")] = runs[1]  # the median of three
            results[(n, "due")] = due
        GPUOffer.objects.all().delete()
        Provider.objects.filter(name="vastai").delete()
        timed_sync(make_offers(10))  # provider row for the baseline
        naive = baseline_naive(make_offers(2_000, seed=11))
        print(row("baseline: naive update_or_create", 2_000, naive))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print()
    small, large = results[(2_000, "resync")], results[(20_000, "resync")]
    print(
        f"statements, re-sync 1% changed: {small['statements']} for 2k vs {large['statements']}"
        f" for 20k; unchanged re-sync: {results[(2_000, 'same')]['statements']} vs"
        f" {results[(20_000, 'same')]['statements']}"
    )
    print(
        f"statements, first sync: {results[(2_000, 'first')]['statements']} for 2k vs"
        f" {results[(20_000, 'first')]['statements']} for 20k (INSERT batches of 1000)"
    )
    per_offer_engine = small["seconds"] / 2_000
    per_offer_naive = naive["seconds"] / 2_000
    print(
        f"speed-up vs naive baseline (2k offers): {per_offer_naive / per_offer_engine:.1f}x "
        f"faster, {naive['statements'] / max(small['statements'], 1):.0f}x fewer statements"
    )
    verdict = "MET" if large["seconds"] <= 2.0 else "MISSED"
    due = results[(20_000, "due")]
    print(
        f"target re-sync of 20,000 offers with 1% changed <= 2 s: median {large['seconds']:.3f} s"
        f" (cpu {large['cpu']:.3f} s) -> {verdict}; history rows written {large['history']}"
        f" (= changed offers); with the last_seen_at refresh due: {due['seconds']:.3f} s"
    )


if __name__ == "__main__":
    main()
