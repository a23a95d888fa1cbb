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
``GET /api/v2/providers?per_page=1`` measured in the same run (uncached, so it also pays the
offers' anomaly flags against the whole market's peer scales); every row prints its ratio to it.
"providers listing" is the REST catalogue's first page of 20 uncached, as after a catalogue change
(its flags need the market's peer scales: one scan of every offer). The index update stores one new
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def seed(offers: int, history: int, rollup_offers: int, now: datetime, reuse: bool) -> None:
    """Seed the market with bulk SQL (``INSERT … SELECT generate_series``): minutes, not hours.

    The raw history and the rollups are also kept in snapshot tables (``kpi_bench_*``) so a
    ``--reuse`` run restores them (the compaction of the previous run moved the raw rows) and
    shifts every timestamp to the new ``now`` instead of generating them again."""
    from django.core.management import call_command
    from django.db import connection

    from apps.math_core.benchmark_loader import load_benchmarks

    call_command("migrate", verbosity=0)
    load_benchmarks()
    wanted = f"{offers}/{history}/{rollup_offers}"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS kpi_bench_meta (shape text PRIMARY KEY, "
            "seeded_at timestamptz NOT NULL)"
        )
        cursor.execute("SELECT seeded_at FROM kpi_bench_meta WHERE shape = %s", [wanted])
        found = cursor.fetchone()
    if reuse and found is not None:
        _restore(found[0], now, wanted)
        return
    started = time.perf_counter()
    _generate(offers, history, rollup_offers, now)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM kpi_bench_meta")
        cursor.execute("INSERT INTO kpi_bench_meta VALUES (%s, %s)", [wanted, now])
        # The steady state autovacuum leaves (visibility map set: index-only scans without heap
        # fetches), as after a --reuse restore.
        cursor.execute("VACUUM ANALYZE")
    print(
        f"seeded {wanted} (offers/raw rows/offers with a year of daily rollups) "
        f"in {time.perf_counter() - started:.0f} s"
    )


def _restore(seeded_at: datetime, now: datetime, shape: str) -> None:
    """Back to the seeded state, every timestamp moved forward by the time since seeding (daily
    rollups by whole days, so their buckets stay UTC days)."""
    from django.db import connection, transaction

    started = time.perf_counter()
    shift = now - seeded_at
    list1: Any = [shift]
    list3: Any = [shift, shift, shift]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE kpi_price_rollups, kpi_price_index_periods, price_history, kpi_sync_outcomes"
        )
        cursor.execute(
            "UPDATE gpu_offers o SET price_per_hour = s.price_per_hour, "
            "availability_status = s.availability_status, last_seen_at = s.last_seen_at + %s, "
            "created_at = s.created_at + %s, updated_at = s.updated_at + %s "
            "FROM kpi_bench_offers s WHERE s.id = o.id",
            list3,
        )
        cursor.execute(
            "INSERT INTO price_history (offer_id, price_per_hour, availability_status, "
            "recorded_at) SELECT offer_id, price_per_hour, availability_status, recorded_at + %s "
            "FROM kpi_bench_history ORDER BY offer_id, recorded_at",
            list1,
        )
        days = timedelta(days=shift.days)
        days3: Any = [days, days, days]
        cursor.execute(
            f"INSERT INTO kpi_price_rollups ({', '.join(ROLLUP_COLUMNS)}) SELECT "
            + ", ".join(
                f"{c} + %s" if c in ("bucket_start", "first_at", "last_at") else c
                for c in ROLLUP_COLUMNS
            )
            + " FROM kpi_bench_rollups",
            days3,
        )
        cursor.execute(
            "INSERT INTO kpi_sync_outcomes (provider_name, finished_at, ok, error_code) "
            "SELECT provider_name, finished_at + %s, ok, error_code FROM kpi_bench_syncs",
            list1,
        )
        cursor.execute(
            "UPDATE providers p SET last_sync_at = s.last_sync_at + %s "
            "FROM kpi_bench_providers s WHERE s.id = p.id",
            list1,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE price_history")
        cursor.execute("VACUUM ANALYZE kpi_price_rollups")
        cursor.execute("VACUUM ANALYZE gpu_offers")
    print(
        f"restored the seeded {shape} market, moved {shift} forward, in "
        f"{time.perf_counter() - started:.0f} s"
    )


ROLLUP_COLUMNS = [
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
]


def _generate(offers: int, history: int, rollup_offers: int, now: datetime) -> None:
    """The market in SQL. Offer i: model i mod 10, provider i mod 20 (each 2.5 % dearer than the
    one before), 25 % spot at 0.6×, 1/1/2/4/8 GPUs, 80 % available; its history: ``history /
    offers`` changes spread over the last 35 days (the first at the window's start), each the
    base price × a log-normal factor (σ 0.05); the offer's current price is its last change. The
    first ``rollup_offers`` offers also have a year of daily rollups before the raw window."""
    from django.db import connection, transaction

    per_offer = max(1, history // offers)
    start = now - timedelta(days=35)
    models = ", ".join(
        f"({i}, '{name}', {memory}, {base})" for i, (name, memory, base) in enumerate(MODELS)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT setseed(0.13)")
        cursor.execute(
            "TRUNCATE kpi_price_rollups, kpi_price_index_periods, kpi_sync_outcomes, "
            "price_history, gpu_offers, providers CASCADE"
        )
        for table in ("offers", "history", "rollups", "syncs", "providers"):
            cursor.execute(f"DROP TABLE IF EXISTS kpi_bench_{table}")
        cursor.execute(
            "INSERT INTO providers (id, name, display_name, api_base_url, status, "
            "reliability_score, last_sync_at, error_count, is_sample_data, created_at) "
            "SELECT md5('kpi-bench-provider-' || p)::uuid, 'kpi-bench-' || p, 'Bench ' || p, "
            "'https://bench.example', 'active', 0.99, %s - make_interval(mins => "
            "1 + floor(random() * 299)::int), 0, false, %s FROM generate_series(0, %s) p",
            [now, now, PROVIDERS - 1],
        )
        cursor.execute(
            f"CREATE TEMP TABLE bench_models (m int, name text, memory int, base float8) "
            f"ON COMMIT DROP; INSERT INTO bench_models VALUES {models}"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_offers ON COMMIT DROP AS SELECT i, "
            "md5('kpi-bench-offer-' || i)::uuid AS id, i %% 10 AS m, random() < 0.25 AS spot, "
            "(ARRAY[1, 1, 2, 4, 8])[1 + floor(random() * 5)::int] AS cnt, "
            "CASE WHEN random() < 0.8 THEN 'available' ELSE 'limited' END AS status "
            "FROM generate_series(0, %s) i",
            [offers - 1],
        )
        # Box-Muller: a standard normal from two uniforms (1 - random() is never 0).
        cursor.execute(
            "INSERT INTO price_history (offer_id, price_per_hour, availability_status, "
            "recorded_at) SELECT o.id, round((bm.base * CASE WHEN o.spot THEN 0.6 ELSE 1 END "
            "* (1 + (o.i %% %s) / 40.0) * o.cnt * exp(0.05 * sqrt(-2 * ln(1 - random())) "
            "* cos(2 * pi() * random())))::numeric, 4), o.status, "
            "CASE WHEN k = 0 THEN %s ELSE %s + make_interval(secs => "
            "(k + random()) * 35 * 86400.0 / %s) END "
            "FROM bench_offers o JOIN bench_models bm USING (m), generate_series(0, %s) k "
            "ORDER BY o.id, k",
            [PROVIDERS, start, start, per_offer, per_offer - 1],
        )
        cursor.execute(
            "INSERT INTO gpu_offers (id, provider_id, external_id, gpu_type, raw_gpu_name, "
            "benchmark_id, gpu_memory_gb, gpu_count, cpu_cores, ram_gb, storage_gb, "
            "price_per_hour, currency, region, country, macro_region, availability_status, "
            "is_spot, is_datacenter, compliance_tags, price_breakdown, last_seen_at, "
            "created_at, updated_at) "
            "SELECT o.id, md5('kpi-bench-provider-' || (o.i %% %s))::uuid, 'bench-' || o.i, "
            "bm.name, bm.name, b.id, bm.memory, o.cnt, 8 * o.cnt, 64 * o.cnt, 500, "
            "(SELECT h.price_per_hour FROM price_history h WHERE h.offer_id = o.id "
            " ORDER BY h.recorded_at DESC LIMIT 1), 'USD', 'region-' || (o.i %% 12), "
            "(ARRAY['US', 'DE', 'FI', 'CA', 'JP', 'SG'])[1 + o.i %% 6], "
            "(ARRAY['north-america', 'europe', 'europe', 'north-america', 'asia-pacific', "
            "'asia-pacific'])[1 + o.i %% 6], o.status, o.spot, true, '[]', '{}', "
            "%s - make_interval(mins => floor(random() * 30)::int), %s, %s "
            "FROM bench_offers o JOIN bench_models bm USING (m) "
            "LEFT JOIN gpu_benchmarks b ON b.gpu_model = bm.name",
            [PROVIDERS, now, start, now],
        )
        cursor.execute(
            f"INSERT INTO kpi_price_rollups ({', '.join(ROLLUP_COLUMNS)}) "
            "SELECT o.id, 'day', d.bucket, p.price, p.price, p.price, p.price, 4, 4.0, 4, "
            "'available', d.bucket + interval '1 hour', d.bucket + interval '20 hours' "
            "FROM (SELECT id, price_per_hour FROM gpu_offers ORDER BY external_id LIMIT %s) o "
            "CROSS JOIN LATERAL (SELECT date_trunc('day', %s::timestamptz AT TIME ZONE 'UTC') "
            "AT TIME ZONE 'UTC' - make_interval(days => day) AS bucket, day "
            "FROM generate_series(36, 400) day) d "
            "CROSS JOIN LATERAL (SELECT round(o.price_per_hour * (1 + d.day / 2000.0), 4) "
            "AS price) p",
            [rollup_offers, now],
        )
        cursor.execute(
            "INSERT INTO kpi_sync_outcomes (provider_name, finished_at, ok, error_code) "
            "SELECT 'kpi-bench-' || p, %s - make_interval(hours => h), h %% 7 <> 0, '' "
            "FROM generate_series(0, %s) p, generate_series(0, 24 * 7 - 1, 2) h",
            [now, PROVIDERS - 1],
        )
        cursor.execute(
            "CREATE TABLE kpi_bench_offers AS SELECT id, price_per_hour, availability_status, "
            "last_seen_at, created_at, updated_at FROM gpu_offers"
        )
        cursor.execute("CREATE TABLE kpi_bench_history AS SELECT * FROM price_history")
        cursor.execute("CREATE TABLE kpi_bench_rollups AS SELECT * FROM kpi_price_rollups")
        cursor.execute("CREATE TABLE kpi_bench_syncs AS SELECT * FROM kpi_sync_outcomes")
        cursor.execute("CREATE TABLE kpi_bench_providers AS SELECT id, last_sync_at FROM providers")


CPU: dict[str, float] = {}
BASELINE: list[float] = []


def _time(call, repeat: int, label: str = "") -> list[float]:  # type: ignore[no-untyped-def]
    """Wall-clock seconds per call; the median CPU seconds this process spent is kept in
    ``CPU[label]`` (on a shared, loaded machine the wall clock also counts waiting for a core)."""
    samples, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        samples.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    if label:
        CPU[label] = statistics.median(cpu)
    return samples


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


ENDPOINTS = [
    ("overview", "/api/v2/kpi/overview"),
    ("gpu H100 (family)", "/api/v2/kpi/gpu/H100"),
    ("gpu RTX 4090 spot, hourly", "/api/v2/kpi/gpu/rtx4090?tier=spot&bucket=hour"),
    ("provider", f"/api/v2/kpi/provider/{MARKER}"),
    ("insights 24h", "/api/v2/kpi/insights/market?window=24h"),
    ("insights 30d", "/api/v2/kpi/insights/market?window=30d"),
    ("index H100 SXM 90 d", "/api/v2/kpi/index/h100%20sxm"),
    ("providers listing p1 (20 offers, flags)", "/api/v2/providers?per_page=20"),
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
    with override_settings(
        KPI_CACHE_SECONDS=0, OFFER_CACHE_SECONDS=0, GRAPHQL_RESPONSE_CACHE_SECONDS=0
    ):
        base = statistics.median(_time(baseline, 5))
        for name, call in cases:
            call()  # warm the process (imports, parser caches) without timing
            uncached = _time(call, repeat, name)
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
    BASELINE.append(base)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rollup-offers", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cached-requests", type=int, default=100)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="restore the market seeded by an earlier run of the same size instead of seeding",
    )
    parser.add_argument("--skip-compaction", action="store_true")
    args = parser.parse_args()
    setup()
    from apps.kpi.compaction import compact_price_history
    from apps.kpi.index_engine import update_price_index
    from apps.providers.models import PriceHistory

    now = datetime.now(UTC)
    offers = int(100_000 * args.scale)
    history = int(1_000_000 * args.scale)
    seed(offers, history, int(args.rollup_offers * args.scale), now, args.reuse)

    backfill = update_price_index(bucket="day", now=now - timedelta(days=1), backfill_days=1)
    cpu_started = time.process_time()
    daily = update_price_index(bucket="day", now=now)
    daily_cpu = time.process_time() - cpu_started
    print(
        f"index base period: {backfill.periods_written} periods in {backfill.seconds:.2f} s; "
        f"daily update: {daily.periods_written} periods ({daily.series} series) in "
        f"{daily.seconds:.2f} s ({daily_cpu:.2f} s CPU of this process; {_load()})"
    )
    rows = bench_endpoints(args.repeat, args.cached_requests)
    print(f"\n{_load()}")
    print("| endpoint | uncached median | uncached max | uncached CPU | × baseline | cached p95 |")
    print("|---|---:|---:|---:|---:|---:|")
    base = BASELINE[0] if BASELINE else 0.0
    for name, median, worst, p95 in rows:
        ratio = f"{median / base:.2f}" if base else "–"
        print(
            f"| {name} | {median * 1000:.0f} ms | {worst * 1000:.0f} ms | "
            f"{CPU.get(name, 0.0) * 1000:.0f} ms | {ratio} | {p95 * 1000:.1f} ms |"
        )
    print(
        f"| daily index update ({daily.series} series) | {daily.seconds * 1000:.0f} ms | | "
        f"{daily_cpu * 1000:.0f} ms | | |"
    )

    if args.skip_compaction:
        return
    raw = PriceHistory.objects.count()
    tracemalloc.start()
    cpu_started = time.process_time()
    report = compact_price_history(now=now, raw_days=0, hourly_days=36)
    compaction_cpu = time.process_time() - cpu_started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"\ncompaction: {report.raw_rows_compacted} of {raw} raw rows → "
        f"{report.hourly_rollups_written} hourly rollups, {report.hourly_rollups_compacted} "
        f"hourly → {report.daily_rollups_written} daily, {report.batches} batches, "
        f"{report.seconds:.1f} s ({compaction_cpu:.1f} s CPU of this process), traced peak "
        f"{peak / 1e6:.1f} MB; {_load()}"
    )


if __name__ == "__main__":
    main()
