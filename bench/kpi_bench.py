"""KPI benchmark on PostgreSQL: every KPI endpoint uncached and cached, the daily index update
and the compaction of the raw history, on a generated market.

Full size (the issue's): 100,000 offers, 1,000,000 raw history rows over the last 35 days and a
year of daily rollups (for ``--rollup-offers`` offers, default 5,000: 1.8 M rows) before that.
``--scale 0.1`` runs everything at a tenth for a quick check.

Usage (PostgreSQL required; REDIS_URL optional — without it the cache is local memory):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gb_iss13 REDIS_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python bench/kpi_bench.py [--scale 1.0] [--rollup-offers 5000] [--repeat 3]

Requests go through Django's test client (the full middleware stack and both facades' code, no
socket). "Uncached" runs with ``KPI_CACHE_SECONDS=0`` (every request recomputes); "cached" is
p95 over ``--cached-requests`` requests after one warm-up. The baseline is a bare
``GET /api/v2/providers?per_page=1`` measured in the same run. The index update stores one new
day for every series after a backfill; the compaction moves every raw row into rollups (the raw
history is regenerated at the next run). Memory during compaction is Python's traced peak
(``tracemalloc``), which stays flat when the batch size, not the table, bounds it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpubroker.settings.base")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The bench fires requests from one client in a tight loop: the per-IP limit would answer 429.
os.environ.setdefault("RATE_LIMIT_REQUESTS_ENABLED", "0")

MODELS = [
    ("H100 SXM 80GB", 80, 2.4),
    ("H100 PCIe 80GB", 80, 2.1),
    ("A100 SXM 80GB", 80, 1.4),
    ("A100 40GB", 40, 1.1),
    ("L40S", 48, 0.9),
    ("RTX 4090", 24, 0.4),
    ("RTX 3090", 24, 0.25),
    ("L4", 24, 0.45),
    ("H200", 141, 3.4),
    ("MI300X", 192, 2.6),
]
PROVIDERS = 20
MARKER = "kpi-bench-0"


def setup() -> None:
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("The KPI bench runs on PostgreSQL: set DATABASE_URL=postgres://…")


def _copy(table: str, columns: list[str], rows) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def seed(offers: int, history: int, rollup_offers: int, now: datetime) -> None:
    import numpy as np
    from django.core.management import call_command
    from django.db import connection

    from apps.kpi.models import PriceIndexPeriod, PriceRollup, SyncOutcome
    from apps.math_core.models import GPUBenchmark
    from apps.math_core.services import load_benchmarks
    from apps.providers.models import GPUOffer, PriceHistory, Provider

    call_command("migrate", verbosity=0)
    load_benchmarks()
    same = (
        Provider.objects.filter(name=MARKER).exists()
        and GPUOffer.objects.count() == offers
        and PriceHistory.objects.count() == history
    )
    if same:
        print(f"reusing {offers} offers and {history} history rows")
        PriceIndexPeriod.objects.all().delete()
        return
    started = time.perf_counter()
    rng = np.random.default_rng(13)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE kpi_price_rollups, kpi_price_index_periods, kpi_sync_outcomes, "
            "price_history, gpu_offers, providers CASCADE"
        )
    providers = [
        Provider(
            name=f"kpi-bench-{i}",
            display_name=f"Bench {i}",
            api_base_url="https://bench.example",
            last_sync_at=now - timedelta(minutes=int(rng.integers(1, 300))),
        )
        for i in range(PROVIDERS)
    ]
    Provider.objects.bulk_create(providers)
    benchmarks = {b.gpu_model: b.pk for b in GPUBenchmark.objects.all()}
    start = now - timedelta(days=35)
    per_offer = max(1, history // offers)
    offer_rows, history_rows, offer_ids = [], [], []
    for i in range(offers):
        model, memory, base = MODELS[i % len(MODELS)]
        spot = bool(rng.random() < 0.25)
        count = int(rng.choice([1, 1, 2, 4, 8]))
        per_gpu = base * (0.6 if spot else 1.0) * (1 + (i % PROVIDERS) / 40)
        prices = per_gpu * count * rng.lognormal(0, 0.05, per_offer)
        times = np.sort(rng.uniform(0, 35 * 86400, per_offer))
        times[0] = 0
        status = "available" if rng.random() < 0.8 else "limited"
        oid = uuid.uuid4()
        offer_ids.append(oid)
        offer_rows.append(
            (
                oid,
                providers[i % PROVIDERS].pk,
                f"bench-{i}",
                model,
                model,
                benchmarks.get(model),
                memory,
                count,
                8 * count,
                64 * count,
                500,
                f"{prices[-1]:.4f}",
                "USD",
                f"region-{i % 12}",
                ["US", "DE", "FI", "CA", "JP", "SG"][i % 6],
                status,
                spot,
                True,
                "[]",
                now - timedelta(minutes=int(rng.integers(0, 30))),
                start,
                now,
                ["north-america", "europe", "europe", "north-america", "asia-pacific"][
                    [0, 1, 2, 3, 4, 4][i % 6]
                ],
                "{}",
            )
        )
        for price, seconds in zip(prices, times, strict=True):
            history_rows.append(
                (oid, f"{price:.4f}", status, start + timedelta(seconds=float(seconds)))
            )
    _copy(
        "gpu_offers",
        [
            "id",
            "provider_id",
            "external_id",
            "gpu_type",
            "raw_gpu_name",
            "benchmark_id",
            "gpu_memory_gb",
            "gpu_count",
            "cpu_cores",
            "ram_gb",
            "storage_gb",
            "price_per_hour",
            "currency",
            "region",
            "country",
            "availability_status",
            "is_spot",
            "is_datacenter",
            "compliance_tags",
            "last_seen_at",
            "created_at",
            "updated_at",
            "macro_region",
            "price_breakdown",
        ],
        offer_rows,
    )
    _copy(
        "price_history",
        ["offer_id", "price_per_hour", "availability_status", "recorded_at"],
        history_rows,
    )

    # A year of daily rollups before the raw window, for the first ``rollup_offers`` offers.
    def rollups():  # type: ignore[no-untyped-def]
        for position, oid in enumerate(offer_ids[:rollup_offers]):
            base = float(offer_rows[position][11])
            for day in range(36, 36 + 365):
                bucket = (now - timedelta(days=day)).replace(
                    hour=0, minute=0, second=0, microsecond=0
                )
                price = f"{base * (1 + day / 2000):.4f}"
                yield (
                    oid,
                    "day",
                    bucket,
                    price,
                    price,
                    price,
                    price,
                    4,
                    4.0,
                    4,
                    "available",
                    bucket + timedelta(hours=1),
                    bucket + timedelta(hours=20),
                )

    _copy(
        "kpi_price_rollups",
        [
            "offer_id",
            "granularity",
            "bucket_start",
            "first_price",
            "last_price",
            "min_price",
            "max_price",
            "samples",
            "available_weight",
            "listed_samples",
            "last_availability",
            "first_at",
            "last_at",
        ],
        rollups(),
    )
    SyncOutcome.objects.bulk_create(
        SyncOutcome(provider_name=p.name, finished_at=now - timedelta(hours=h), ok=h % 7 != 0)
        for p in providers
        for h in range(0, 24 * 7, 2)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"seeded {offers} offers, {len(history_rows)} history rows, "
        f"{PriceRollup.objects.count()} daily rollups in {time.perf_counter() - started:.0f} s"
    )


def _time(call, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


ENDPOINTS = [
    ("overview", "/api/v2/kpi/overview"),
    ("gpu H100 (family)", "/api/v2/kpi/gpu/H100"),
    ("gpu RTX 4090 spot, hourly", "/api/v2/kpi/gpu/rtx4090?tier=spot&bucket=hour"),
    ("provider", f"/api/v2/kpi/provider/{MARKER}"),
    ("insights 24h", "/api/v2/kpi/insights/market?window=24h"),
    ("insights 30d", "/api/v2/kpi/insights/market?window=30d"),
    ("index H100 SXM 90 d", "/api/v2/kpi/index/h100%20sxm"),
]
GRAPHQL = (
    '{ gpuKpis(gpuModel: "A100") { ... on GpuKpis { price { median p25 p75 } '
    "trends { changePercent } series { indexValue } } } }"
)


def bench_endpoints(repeat: int, cached_requests: int) -> list[tuple[str, float, float, float]]:
    import json

    from django.core.cache import cache
    from django.test import Client, override_settings

    from apps.providers import offer_cache

    client = Client()
    rows = []

    def get(path: str):  # type: ignore[no-untyped-def]
        def call() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.content[:300])

        return call

    def graphql() -> None:
        response = client.post(
            "/graphql/", json.dumps({"query": GRAPHQL}), content_type="application/json"
        )
        assert response.status_code == 200 and "errors" not in response.json(), response.content[
            :300
        ]

    cases = [(name, get(path)) for name, path in ENDPOINTS]
    cases.append(("GraphQL gpuKpis A100 (family)", graphql))
    baseline = get("/api/v2/providers?per_page=1")
    with override_settings(KPI_CACHE_SECONDS=0, OFFER_CACHE_SECONDS=0):
        base = statistics.median(_time(baseline, 5))
        for name, call in cases:
            call()  # warm the process (imports, parser caches) without timing
            uncached = _time(call, repeat)
            rows.append((name, statistics.median(uncached), max(uncached), 0.0))
    cache.clear()
    offer_cache.reset_breaker()
    with override_settings(KPI_CACHE_SECONDS=300, OFFER_CACHE_SECONDS=300):
        for index, (_name, call) in enumerate(cases):
            call()
            samples = sorted(_time(call, cached_requests))
            p95 = samples[int(len(samples) * 0.95) - 1]
            rows[index] = (*rows[index][:3], p95)
    print(f"\nbaseline GET /api/v2/providers?per_page=1 (uncached): {base * 1000:.1f} ms")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rollup-offers", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cached-requests", type=int, default=100)
    args = parser.parse_args()
    setup()
    from apps.kpi.compaction import compact_price_history
    from apps.kpi.index_engine import update_price_index
    from apps.providers.models import PriceHistory

    now = datetime.now(UTC)
    offers = int(100_000 * args.scale)
    history = int(1_000_000 * args.scale)
    seed(offers, history, int(args.rollup_offers * args.scale), now)

    backfill = update_price_index(bucket="day", now=now - timedelta(days=1), backfill_days=1)
    daily = update_price_index(bucket="day", now=now)
    print(
        f"index base period: {backfill.periods_written} periods in {backfill.seconds:.2f} s; "
        f"daily update: {daily.periods_written} periods ({daily.series} series) in "
        f"{daily.seconds:.2f} s"
    )
    rows = bench_endpoints(args.repeat, args.cached_requests)
    print("\n| endpoint | uncached median | uncached max | cached p95 |")
    print("|---|---:|---:|---:|")
    for name, median, worst, p95 in rows:
        print(f"| {name} | {median * 1000:.0f} ms | {worst * 1000:.0f} ms | {p95 * 1000:.1f} ms |")

    raw = PriceHistory.objects.count()
    tracemalloc.start()
    report = compact_price_history(now=now, raw_days=0, hourly_days=36)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"\ncompaction: {report.raw_rows_compacted} of {raw} raw rows → "
        f"{report.hourly_rollups_written} hourly rollups, {report.hourly_rollups_compacted} "
        f"hourly → {report.daily_rollups_written} daily, {report.batches} batches, "
        f"{report.seconds:.1f} s, traced peak {peak / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
