"""Offer catalogue benchmark: a page of 50 offers with provider and benchmark, as GraphQL, as REST
and as a bare Django view (the baseline), served by one real ASGI server process on 127.0.0.1.
Prints req/s, p50, p95 and the ratios to the baseline measured in the same run.

Kinds (``--kinds``):

* ``baseline`` — the bare Django view (``bench/catalogue_urls.py``), the yardstick;
* ``rest`` — ``GET /api/v2/providers``; ``graphql`` — the page over ``POST /graphql/``;
  ``graphql-async`` — the same through strawberry's async view (bench-only URL);
  all with the GraphQL response cache **off** ("uncached");
* ``graphql-cached`` — the same POSTs with the response cache **on** (every page a hit after
  the warm-up round); ``graphql-304`` — ``GET /graphql/?query=…`` with ``If-None-Match`` set to
  the page's ETag: the revalidation a CDN or browser makes (answered 304).

Load: ``wrk`` (Debian package; ``make bench-tools`` installs it) with a Lua script rotating over
ten pages of the same search, one connection per client, pinned with ``taskset`` to the other
core than the server's, so the figures measure the server, not the client. ``--load python``
uses the previous in-process httpx client instead (pinned the same way).

Servers (``--servers``): ``daphne``, ``uvicorn`` (httptools + uvloop), ``granian`` — each
started the way it would serve production (access log on), one process.

Usage (PostgreSQL required; REDIS_URL optional — without it the cache is local memory):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gb_iss16 REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/catalogue_bench.py [--servers uvicorn] [--clients 1,8,32] \
        [--duration 5] [--repeat 3] [--kinds baseline,graphql,graphql-cached,graphql-304]

``--repeat N`` runs N rounds of every cell, interleaving the kinds within each round, and the
table reports medians; the ratios are the median of each round's ratio to the bare view of the
same round (the machine is shared: a load spike then hits both sides of a ratio).

The database is seeded once with ``--offers`` generated offers (deterministic) and reused.
Requests rotate over ten pages of the same search (available offers, cheapest first); the offer
cache (ids + totals) is off unless ``--offer-cache on``, so every uncached request runs the
COUNT and the page query, as the bare view does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
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
CORES = os.cpu_count() or 1
SERVER_CORE, CLIENT_CORE = "0", "1" if CORES > 1 else "0"


def server_command(server: str, port: int) -> list[str]:
    python = sys.executable
    app = "gpubroker.asgi:application"
    if server == "daphne":  # the previous product entry point: daphne with a redacted access log
        return [
            python,
            "-m",
            "apps.websocket_gateway.serve",
            "--server",
            "daphne",
            "-b",
            HOST,
            "-p",
            str(port),
            app,
        ]
    if server == "uvicorn":  # the product's: uvicorn (httptools, uvloop), redacted access log
        return [
            python,
            "-m",
            "apps.websocket_gateway.serve",
            "--server",
            "uvicorn",
            "--host",
            HOST,
            "--port",
            str(port),
            app,
        ]
    if server == "uvicorn-plain":  # uvicorn's own command line (no redaction), for comparison
        return [
            python,
            "-m",
            "uvicorn",
            "--host",
            HOST,
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--ws",
            "websockets",
            app,
        ]
    if server == "granian":
        return [
            python,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            HOST,
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--workers",
            "1",
            "--access-log",
            app,
        ]
    raise SystemExit(f"unknown server {server!r}")


def pinned(command: list[str], core: str) -> list[str]:
    return ["taskset", "-c", core, *command] if shutil.which("taskset") and CORES > 1 else command


def start_server(
    server: str, port: int, offer_cache_seconds: int, response_cache_seconds: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OFFER_CACHE_SECONDS": str(offer_cache_seconds),
        "GRAPHQL_RESPONSE_CACHE_SECONDS": str(response_cache_seconds),
        "PYTHONPATH": str(ROOT),
    }
    SERVER_LOG.parent.mkdir(exist_ok=True)
    with SERVER_LOG.open("ab") as log:
        process = subprocess.Popen(
            pinned(server_command(server, port), SERVER_CORE),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{server} did not start; see {SERVER_LOG}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- requests --------------------------------------------------------------------------------
def cursor_after(page: int) -> str | None:
    import base64

    return None if page == 1 else base64.b64encode(f"offer:{(page - 1) * 50 - 1}".encode()).decode()


UNCACHED_KINDS = ("baseline", "rest", "graphql", "graphql-async")
CACHED_KINDS = ("graphql-cached", "graphql-304")


def request_for(kind: str, page: int) -> tuple[str, str, dict[str, Any]]:
    if kind in ("graphql", "graphql-async", "graphql-cached"):
        body = {"query": GRAPHQL_QUERY, "variables": {"after": cursor_after(page)}}
        path = "/graphql-async/" if kind == "graphql-async" else "/graphql/"
        return "POST", path, {"json": body}
    if kind == "graphql-304":
        variables = json.dumps({"after": cursor_after(page)})
        return "GET", "/graphql/", {"params": {"query": GRAPHQL_QUERY, "variables": variables}}
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
    server: str
    kind: str
    clients: int
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    errors: int = 0
    round: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def warm_up(base: str, kind: str) -> list[dict[str, Any]]:
    """One round of every page (and the ETags, for revalidation); returns wrk's request list."""
    requests = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for page in range(1, PAGES + 1):
            method, path, kwargs = request_for(kind, page)
            response = client.request(method, path, **kwargs)
            response.raise_for_status()
            url = httpx.URL(path, params=kwargs.get("params"))
            headers = {}
            body = None
            if "json" in kwargs:
                body = json.dumps(kwargs["json"], separators=(",", ":"))
                headers["Content-Type"] = "application/json"
            if kind == "graphql-304":
                headers["If-None-Match"] = response.headers["ETag"]
                assert client.request(method, path, headers=headers, **kwargs).status_code == 304
            if kind == "graphql-cached":
                again = client.request(method, path, **kwargs)
                assert again.headers.get("X-GraphQL-Cache") == "hit", again.headers
            requests.append({"method": method, "path": str(url), "headers": headers, "body": body})
    return requests


LUA = """
local requests = {%(requests)s}
local counter = 0
request = function()
  counter = counter + 1
  local r = requests[(counter %% #requests) + 1]
  return wrk.format(r.method, r.path, r.headers, r.body)
end
done = function(summary, latency, requests)
  io.write(string.format("WRK %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def wrk_script(requests: list[dict[str, Any]]) -> str:
    items = []
    for r in requests:
        headers = ", ".join(
            f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in r["headers"].items()
        )
        body = _lua_string(r["body"]) if r["body"] is not None else "nil"
        items.append(
            f"{{method = {_lua_string(r['method'])}, path = {_lua_string(r['path'])}, "
            f"headers = {{{headers}}}, body = {body}}}"
        )
    return LUA % {"requests": ",\n".join(items)}


def load_wrk(server: str, base: str, kind: str, clients: int, seconds: float) -> Result:
    requests = warm_up(base, kind)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(requests))
    try:
        command = [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            script.name,
            base,
        ]
        output = subprocess.run(
            pinned(command, CLIENT_CORE), capture_output=True, text=True, check=False
        )
    finally:
        os.unlink(script.name)
    if output.returncode != 0:
        raise SystemExit(f"wrk failed: {output.stderr or output.stdout}")
    line = next((x for x in output.stdout.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output.stdout}\n{output.stderr}")
    count, duration_us, p50, p95, errors = (int(v) for v in line.split()[1:])
    return Result(server, kind, clients, count, duration_us / 1e6, p50 / 1000, p95 / 1000, errors)


async def load_python(server: str, base: str, kind: str, clients: int, seconds: float) -> Result:
    """In-process httpx clients (the previous load generator), for comparison."""
    warm_up(base, kind)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        deadline = time.perf_counter() + seconds
        issued = 0

        async def worker() -> None:
            nonlocal issued, errors
            while time.perf_counter() < deadline:
                issued += 1
                method, path, kwargs = request_for(kind, issued % PAGES + 1)
                started = time.perf_counter()
                response = await client.request(method, path, **kwargs)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code >= 400

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return Result(server, kind, clients, len(latencies), elapsed, pct(0.5), pct(0.95), errors)


def check_same_rows(base: str, kinds: list[str]) -> None:
    """The endpoints return the same offers in the same order (apples to apples)."""
    pages = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for kind in kinds:
            if kind == "graphql-304":
                continue
            method, path, kwargs = request_for(kind, 3)
            response = client.request(method, path, **kwargs)
            response.raise_for_status()
            pages[kind] = ids_of(kind, response.json())
    first = next(iter(pages.values()))
    assert all(ids == first for ids in pages.values()), "endpoints disagree"
    assert len(first) == PAGE_SIZE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per cell")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds per cell (medians are reported)"
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "18510")))
    parser.add_argument("--servers", default="uvicorn")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--kinds", default="baseline,rest,graphql,graphql-cached,graphql-304")
    parser.add_argument("--offer-cache", default="off", help="off, on or off,on")
    parser.add_argument("--load", default="wrk" if shutil.which("wrk") else "python")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database (e.g. postgres://…/gb_iss16)")
    if args.load == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: `make bench-tools` (Debian package wrk)")
    if args.duration > 60:
        raise SystemExit("bounded: at most 60 s per cell")
    seed(args.offers)
    kinds = args.kinds.split(",")
    clients = [int(c) for c in args.clients.split(",")]
    results: list[tuple[str, Result]] = []
    for offer_cache_label in args.offer_cache.split(","):
        offer_seconds = 30 if offer_cache_label == "on" else 0
        for server in args.servers.split(","):
            for phase, response_seconds in (("uncached", 0), ("cached", 30)):
                phase_kinds = [k for k in kinds if (k in CACHED_KINDS) == (phase == "cached")]
                if not phase_kinds:
                    continue
                process = start_server(server, args.port, offer_seconds, response_seconds)
                base = f"http://{HOST}:{args.port}"
                try:
                    check_same_rows(base, phase_kinds)
                    for n in clients:
                        # Rounds interleave the kinds, so a load spike on the shared machine
                        # hits every kind alike; the table reports medians over the rounds.
                        for round_ in range(args.repeat):
                            for kind in phase_kinds:
                                if args.load == "wrk":
                                    result = load_wrk(server, base, kind, n, args.duration)
                                else:
                                    result = asyncio.run(
                                        load_python(server, base, kind, n, args.duration)
                                    )
                                result.round = round_
                                results.append((offer_cache_label, result))
                                print(
                                    f"offer cache {offer_cache_label:3} {server:8} {kind:14} "
                                    f"{n:2} clients, round {round_ + 1}: {result.rps:7.1f} req/s"
                                    f"  p50 {result.p50_ms:6.1f} ms  p95 {result.p95_ms:6.1f} ms"
                                    + (f"  ERRORS {result.errors}" if result.errors else ""),
                                    flush=True,
                                )
                finally:
                    stop_server(process)
    print_table(results, args)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def print_table(results: list[tuple[str, Result]], args: argparse.Namespace) -> None:
    """Medians over the rounds; the ratios are medians of each round's ratio to the bare view
    measured in the same round (paired, so a load spike during one round cancels out)."""
    print()
    print(
        f"page of {PAGE_SIZE} offers out of {args.offers}; one server process pinned to core "
        f"{SERVER_CORE}, load ({args.load}) on core {CLIENT_CORE}; {args.duration:g} s per cell, "
        f"{args.repeat} round(s), medians; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        "| offer cache | server | endpoint | clients | req/s | p50 ms | p95 ms "
        "| req/s ÷ bare | p95 ÷ bare |"
    )
    print("|" + "---|" * 9)
    cells: dict[tuple[str, str, str, int], list[Result]] = {}
    for cache, r in results:
        cells.setdefault((cache, r.server, r.kind, r.clients), []).append(r)
    for (cache, server, kind, clients), runs in cells.items():
        bases = {b.round: b for b in cells.get((cache, server, "baseline", clients), [])}
        paired = [(r, bases[r.round]) for r in runs if r.round in bases]
        ratio = f"{_median([r.rps / b.rps for r, b in paired]):.2f}" if paired else "-"
        p95 = (
            f"{_median([r.p95_ms / b.p95_ms for r, b in paired if b.p95_ms]):.2f}"
            if paired
            else "-"
        )
        errors = sum(r.errors for r in runs)
        note = f" ({errors} errors)" if errors else ""
        print(
            f"| {cache} | {server} | {kind}{note} | {clients} "
            f"| {_median([r.rps for r in runs]):.1f} | {_median([r.p50_ms for r in runs]):.1f} "
            f"| {_median([r.p95_ms for r in runs]):.1f} | {ratio} | {p95} |"
        )


if __name__ == "__main__":
    main()
