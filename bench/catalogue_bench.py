"""Offer catalogue benchmark: a page of 50 offers with provider and benchmark, as GraphQL, as REST
and as a bare Django view (the baseline), served by a real daphne process on 127.0.0.1, loaded at
1, 8 and 32 concurrent clients with the offer cache off and on. Prints req/s, p50, p95 and the
ratios to the baseline measured in the same run. ``graphql-async`` is the same query through
strawberry's async Django view (bench-only URL), the wiring the product replaced by the sync view.

Usage (PostgreSQL required; REDIS_URL optional — without it the cache is local memory):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test_wt5 REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/catalogue_bench.py [--offers 50000] [--requests 400]

The database is seeded once with ``--offers`` generated offers (deterministic) and reused.
Requests rotate over ten pages of the same search (available offers, cheapest first), so with
the cache on every page is a hit after the first round; with it off every request runs the
COUNT and the page query.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.catalogue_settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

HOST = "127.0.0.1"
PAGE_SIZE = 50
PAGES = 10
CONCURRENCY = (1, 8, 32)

GRAPHQL_QUERY = """
query BenchOffers($after: String) {
  offers(filter: {availability: [AVAILABLE]}, orderBy: PRICE, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id gpuType gpuCount gpuMemoryGb pricePerHour pricePerGpuHour region country
      availabilityStatus isSpot lastSeenAt
      provider { name displayName reliabilityScore }
      benchmark { gpuModel vendor tflopsFp16 tokensPerSecond7b }
    } }
  }
}
"""


# --- data ------------------------------------------------------------------------------------
def seed(count: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.math_core.benchmark_loader import load_benchmarks
    from apps.providers.models import GPUOffer, Provider

    if connection.vendor != "postgresql":
        raise SystemExit("The catalogue bench runs on PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)
    load_benchmarks()
    if GPUOffer.objects.count() == count and Provider.objects.filter(name="bench-0").exists():
        print(f"reusing {count} offers in {connection.settings_dict['NAME']}")
        return
    _generate(count)
    # The steady state autovacuum keeps: visibility map set (index-only COUNT), fresh statistics.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE gpu_offers")


def _generate(count: int) -> None:
    from apps.math_core.algorithms.gpu_names import display_gpu_name
    from apps.math_core.models import GPUBenchmark
    from apps.providers.models import GPUOffer, PriceHistory, Provider

    started = time.perf_counter()
    PriceHistory.objects.all().delete()
    GPUOffer.objects.all().delete()
    Provider.objects.all().delete()
    rng = random.Random(5)
    providers = [
        Provider.objects.create(
            name=f"bench-{n}",
            display_name=f"Bench cloud {n}",
            api_base_url=f"https://bench-{n}.example",
            reliability_score=round(0.8 + 0.04 * n, 2),
        )
        for n in range(5)
    ]
    benchmarks = {b.gpu_model: b for b in GPUBenchmark.objects.all()}
    spellings = [
        ("H100 SXM", 80),
        ("H100 PCIe", 80),
        ("A100 SXM4", 80),
        ("A100", 40),
        ("RTX 4090", 24),
        ("RTX 3090", 24),
        ("L40S", 48),
        ("L4", 24),
        ("A10G", 24),
        ("MI300X", 192),
        ("RTX A5000", 24),
        ("Tesla K80", 12),
    ]
    regions = [("us-east-1", "US"), ("EU-RO-1", "RO"), ("Quebec, CA", "CA"), ("eu-west-2", "GB")]
    batch: list[GPUOffer] = []
    for n in range(count):
        gpu, memory = rng.choice(spellings)
        gpu_type = display_gpu_name(gpu, memory)
        gpu_count = rng.choice((1, 1, 1, 2, 4, 8))
        region, country = rng.choice(regions)
        batch.append(
            GPUOffer(
                id=uuid.UUID(int=rng.getrandbits(128)),
                provider=providers[n % len(providers)],
                external_id=f"bench-{n}",
                gpu_type=gpu_type,
                raw_gpu_name=gpu,
                benchmark=benchmarks.get(gpu_type),
                gpu_memory_gb=memory,
                gpu_count=gpu_count,
                cpu_cores=8 * gpu_count,
                ram_gb=64 * gpu_count,
                storage_gb=200 * gpu_count,
                price_per_hour=Decimal(rng.randint(10, 40_000)) / 1000 * gpu_count,
                region=region,
                country=country,
                availability_status=rng.choice(
                    ("available", "available", "limited", "unavailable")
                ),
                is_spot=rng.random() < 0.3,
                is_datacenter=rng.random() < 0.8,
                compliance_tags=rng.sample(["SOC2", "HIPAA", "GDPR"], rng.randint(0, 2)),
            )
        )
        if len(batch) == 5000:
            GPUOffer.objects.bulk_create(batch)
            batch = []
    GPUOffer.objects.bulk_create(batch)
    print(f"seeded {count} offers in {time.perf_counter() - started:.1f} s")


# --- server ----------------------------------------------------------------------------------
SERVER_LOG = ROOT / "var" / "catalogue_bench_server.log"


def start_server(port: int, cache_seconds: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OFFER_CACHE_SECONDS": str(cache_seconds), "PYTHONPATH": str(ROOT)}
    daphne = str(Path(sys.executable).parent / "daphne")
    SERVER_LOG.parent.mkdir(exist_ok=True)
    with SERVER_LOG.open("ab") as log:
        process = subprocess.Popen(
            [daphne, "-b", HOST, "-p", str(port), "gpubroker.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not start; see {SERVER_LOG}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


# --- load ------------------------------------------------------------------------------------
def cursor_after(page: int) -> str | None:
    import base64

    return None if page == 1 else base64.b64encode(f"offer:{(page - 1) * 50 - 1}".encode()).decode()


def request_for(kind: str, page: int) -> tuple[str, str, dict[str, Any]]:
    if kind in ("graphql", "graphql-async"):
        body = {"query": GRAPHQL_QUERY, "variables": {"after": cursor_after(page)}}
        return "POST", "/graphql/" if kind == "graphql" else "/graphql-async/", {"json": body}
    if kind == "rest":
        params = {"availability": "available", "per_page": PAGE_SIZE, "page": page}
        return "GET", "/api/v2/providers", {"params": params}
    return "GET", "/bench/offers", {"params": {"page": page}}


def ids_of(kind: str, body: dict[str, Any]) -> list[str]:
    if kind.startswith("graphql"):
        return [edge["node"]["id"] for edge in body["data"]["offers"]["edges"]]
    return [item["id"] for item in body["items"]]


@dataclass
class Result:
    kind: str
    clients: int
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def load(bases: list[str], kind: str, clients: int, total: int) -> Result:
    """``clients`` concurrent clients; each keeps to one server process (client n → process
    n mod len(bases)), as nginx's least-connections balancing spreads equal clients."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        for base in bases:
            for page in range(1, PAGES + 1):  # warm-up: one round of every page
                method, path, kwargs = request_for(kind, page)
                (await client.request(method, base + path, **kwargs)).raise_for_status()
        latencies: list[float] = []
        issued = 0

        async def worker(base: str) -> None:
            nonlocal issued
            while issued < total:
                issued += 1
                method, path, kwargs = request_for(kind, issued % PAGES + 1)
                started = time.perf_counter()
                response = await client.request(method, base + path, **kwargs)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{kind} answered {response.status_code}")

        started = time.perf_counter()
        await asyncio.gather(*(worker(bases[n % len(bases)]) for n in range(clients)))
        return Result(kind, clients, len(latencies), time.perf_counter() - started, latencies)


def check_same_rows(base: str) -> int:
    """The three endpoints return the same offers in the same order (apples to apples)."""
    pages = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for kind in ("baseline", "rest", "graphql", "graphql-async"):
            method, path, kwargs = request_for(kind, 3)
            response = client.request(method, path, **kwargs)
            response.raise_for_status()
            pages[kind] = ids_of(kind, response.json())
    assert pages["baseline"] == pages["rest"] == pages["graphql"] == pages["graphql-async"]
    assert len(pages["baseline"]) == PAGE_SIZE
    return len(pages["baseline"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=400, help="per endpoint and level")
    parser.add_argument("--port", type=int, default=18510)
    parser.add_argument("--kinds", default="baseline,rest,graphql,graphql-async")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (ports --port, --port+1, …), as production runs one per core",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database (e.g. postgres://…/test_wt5)")
    seed(args.offers)
    kinds = args.kinds.split(",")
    results: dict[tuple[str, str, int], Result] = {}
    for cache_label, seconds in (("off", 0), ("on", 30)):
        ports = [args.port + n for n in range(args.workers)]
        servers = [start_server(port, seconds) for port in ports]
        bases = [f"http://{HOST}:{port}" for port in ports]
        try:
            check_same_rows(bases[0])
            for clients in CONCURRENCY:
                for kind in kinds:
                    result = asyncio.run(load(bases, kind, clients, args.requests))
                    results[(cache_label, kind, clients)] = result
                    print(
                        f"cache {cache_label:3} {kind:13} {clients:2} clients: "
                        f"{result.rps:7.1f} req/s  p50 {result.percentile(0.5):6.1f} ms  "
                        f"p95 {result.percentile(0.95):6.1f} ms",
                        flush=True,
                    )
        finally:
            for server in servers:
                stop_server(server)
    print(f"\n{args.workers} server process(es)")
    print_table(results, kinds)


def print_table(results: dict[tuple[str, str, int], Result], kinds: list[str]) -> None:
    print()
    print(f"{len(next(iter(results.values())).latencies)} requests per cell; page of {PAGE_SIZE}")
    print("| cache | endpoint | clients | req/s | p50 ms | p95 ms | req/s÷base | p95÷base |")
    print("|" + "---|" * 8)
    for (cache, kind, clients), result in results.items():
        base = results.get((cache, "baseline", clients))
        ratio = f"{result.rps / base.rps:.2f}" if base else "-"
        p95_ratio = f"{result.percentile(0.95) / base.percentile(0.95):.2f}" if base else "-"
        print(
            f"| {cache} | {kind} | {clients} | {result.rps:.1f} | {result.percentile(0.5):.1f} | "
            f"{result.percentile(0.95):.1f} | {ratio} | {p95_ratio} |"
        )
    for cache in ("off", "on"):
        for clients in CONCURRENCY:
            rest = results.get((cache, "rest", clients))
            graphql = results.get((cache, "graphql", clients))
            if rest and graphql:
                line = (
                    f"cache {cache}, {clients:2} clients: GraphQL throughput = "
                    f"{graphql.rps / rest.rps:.0%} of REST, p95 {graphql.percentile(0.95):.1f} ms"
                )
                if old := results.get((cache, "graphql-async", clients)):
                    line += (
                        f"; async view: {old.rps / rest.rps:.0%} of REST, "
                        f"p95 {old.percentile(0.95):.1f} ms"
                    )
                print(line)


if __name__ == "__main__":
    main()
