"""Hardened public API benchmark (issue 11). Prints three tables:

1. **Worst queries, before / after**: the issue's attacks (20 aliased ``estimateWorkload(limit:
   200)`` with the nested offer; 50 aliased ``priceHistory`` lists on a 100-offer page) run
   in-process with every limit lifted ("before") and with the defaults ("after"): time, response
   size, refused or not.
2. **Overhead of costing and limits** on the catalogue page (the ``OfferSearch`` operation,
   20 offers): the same document through the product schema and through a baseline schema of the
   same types without ``GatewayValidation``/``CostExtension`` (Strawberry's ``ValidationCache``
   instead), interleaved, median per request; plus the cost computation alone.
3. **Concurrent writers on SQLite**: 12 threads × 50 write requests against a real daphne on a
   fresh SQLite file, with ``BEGIN`` deferred and rollback journal (the old settings) and with WAL
   + ``BEGIN IMMEDIATE`` (the new ones): requests, 5xx, wall time.

Usage (SQLite, nothing else needed; ports from ``LIVE_PORTS``, default 19200-19299):

    .venv/bin/python bench/hardening_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="gb-hardening-bench-"))
os.environ["GPUBROKER_VAR_DIR"] = str(WORK)
os.environ["DJANGO_SETTINGS_MODULE"] = "gpubroker.settings.test"
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings, setup_test_environment  # noqa: E402

LIFTED = {
    "GRAPHQL_MAX_DEPTH": 10**6,
    "GRAPHQL_MAX_ALIASES": 10**6,
    "GRAPHQL_MAX_ROOT_MUTATIONS": 10**6,
    "GRAPHQL_MAX_TOKENS": 10**7,
    "GRAPHQL_MAX_DIRECTIVES": 10**6,
    "GRAPHQL_COST_MAX_PER_OPERATION": 10**12,
}

WORKLOAD = "{workloadType: LLM_INFERENCE, paramsBillion: 8, requests: 20000, numKvHeads: 8}"
ATTACKS = {
    "20 x estimateWorkload(limit: 200)": "{ "
    + " ".join(
        f"e{i}: estimateWorkload(workload: {WORKLOAD}, limit: 200) "
        "{ offers { feasible totalCost offer { id gpuType provider { name displayName } } } }"
        for i in range(20)
    )
    + " }",
    "50 x priceHistory(first: 100)": "{ offers(first: 100) { edges { node { "
    + " ".join(f"h{i}: priceHistory(first: 100) {{ pricePerHour recordedAt }}" for i in range(50))
    + " } } } }",
}


def seed(offers: int, history: int) -> None:
    from apps.math_core.benchmark_loader import load_benchmarks
    from tests.catalogue_factories import make_history, make_offer, make_provider

    call_command("migrate", verbosity=0)
    load_benchmarks()
    providers = [make_provider(name=f"p{i}", display_name=f"Provider {i}") for i in range(5)]
    gpus = [
        ("NVIDIA H100 80GB HBM3", 80),
        ("NVIDIA A100-SXM4-80GB", 80),
        ("NVIDIA GeForce RTX 4090", 24),
        ("NVIDIA L40S", 48),
        ("NVIDIA A10", 24),
    ]
    for n in range(offers):
        gpu, memory = gpus[n % 5]
        offer = make_offer(
            providers[n % 5],
            gpu=gpu,
            gpu_memory_gb=memory,
            price_per_hour=Decimal(f"{1 + (n % 37) / 10:.4f}"),
        )
        make_history(offer, [f"{1 + (k % 9) / 10:.4f}" for k in range(history)])


def post(client: Client, query: str, variables: dict | None = None) -> tuple[float, int, dict]:
    started = time.perf_counter()
    response = client.post(
        "/graphql/",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
    )
    elapsed = time.perf_counter() - started
    return elapsed, len(response.content), response.json()


def worst_queries() -> None:
    client = Client()
    print("\n## 1. Worst queries (in-process, SQLite)\n")
    print("| query | limits | time | response | refused (code) |")
    print("| --- | --- | ---: | ---: | --- |")
    for name, query in ATTACKS.items():
        for label, overrides in (("before (lifted)", LIFTED), ("after (defaults)", {})):
            with override_settings(**overrides):
                elapsed, size, body = post(client, query)
            errors = body.get("errors") or []
            code = errors[0]["extensions"].get("code") if errors else None
            refused = body.get("data") is None and bool(errors)
            print(
                f"| {name} | {label} | {elapsed * 1000:,.0f} ms | {size / 1024:,.0f} KiB | "
                f"{'yes (' + str(code) + ')' if refused else 'no'} |"
            )


def overhead(rounds: int) -> None:
    import strawberry
    from django.test import RequestFactory
    from strawberry.extensions import ParserCache, ValidationCache
    from strawberry_django.optimizer import DjangoOptimizerExtension

    from graphql import parse
    from schema import Mutation, Query, Subscription, schema
    from schema.cost import operation_cost
    from schema.errors import ErrorFormatter
    from schema.live_execution import SharedEventExecutionContext
    from schema.permissions import RateLimitExtension
    from schema.trusted_documents import operation_documents

    baseline = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            DjangoOptimizerExtension,
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            RateLimitExtension,
            ErrorFormatter,
        ],
        execution_context_class=SharedEventExecutionContext,
    )
    docs = [parse(p.read_text()) for p in sorted((ROOT / "graphql/operations").glob("*.graphql"))]
    page = operation_documents(docs)["OfferSearch"]
    variables = {"first": 20}
    # the request the view would pass (the rate-limit extension reads the middleware's verdict)
    context = {"request": RequestFactory().post("/graphql/", REMOTE_ADDR="203.0.113.9")}
    for target in (schema, baseline):  # warm both caches
        result = target.execute_sync(page, variable_values=variables, context_value=context)
        assert not result.errors, result.errors
    timings: dict[str, list[float]] = {"baseline": [], "product": []}
    for _ in range(rounds):
        for label, target in (("baseline", baseline), ("product", schema)):
            started = time.perf_counter()
            target.execute_sync(page, variable_values=variables, context_value=context)
            timings[label].append(time.perf_counter() - started)
    document = parse(page)
    started = time.perf_counter()
    for _ in range(rounds * 10):
        operation_cost(schema._schema, document, None, variables, 1000)
    cost_us = (time.perf_counter() - started) / (rounds * 10) * 1e6
    base = statistics.median(timings["baseline"]) * 1000
    product = statistics.median(timings["product"]) * 1000
    print(f"\n## 2. Costing + limits overhead, catalogue page (20 offers, {rounds} rounds)\n")
    print("| schema | median per request | ratio |")
    print("| --- | ---: | ---: |")
    print(f"| baseline (ValidationCache, no cost/limits) | {base:.2f} ms | 1.00 |")
    print(
        f"| product (GatewayValidation + CostExtension) | {product:.2f} ms | {product / base:.2f} |"
    )
    print(
        f"\noverhead per request: {product - base:+.3f} ms (median difference); "
        f"cost computation alone: {cost_us:.0f} µs"
    )


def _free_port() -> int:
    low, _, high = os.environ.get("LIVE_PORTS", "19200-19299").partition("-")
    for port in range(int(low), int(high) + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def writers(threads: int, per_thread: int) -> None:
    from tests.catalogue_factories import make_offer

    offer_id = str(make_offer().id)
    print(f"\n## 3. Concurrent writers on SQLite ({threads} threads x {per_thread} requests)\n")
    print("| settings | requests | 5xx | other non-2xx | wall time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    variants = {
        "before: BEGIN deferred, rollback journal": {
            "SQLITE_TRANSACTION_MODE": "DEFERRED",
            "SQLITE_INIT_COMMAND": "PRAGMA journal_mode=DELETE",
            "SQLITE_BUSY_TIMEOUT": "20",
        },
        "after: WAL + BEGIN IMMEDIATE + busy timeout": {},
    }
    for run, (label, env) in enumerate(variants.items()):
        port = _free_port()
        server_env = {**os.environ, **env, "DEMO_TICKER": "0", "LOG_LEVEL": "ERROR"}
        log = open(WORK / f"daphne-{run}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apps.websocket_gateway.serve",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "gpubroker.asgi:application",
            ],
            cwd=ROOT,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.1)
            statuses, elapsed = _hammer(port, threads, per_thread, offer_id, f"r{run}")
        finally:
            process.terminate()
            process.wait(10)
            log.close()
        total = sum(statuses.values())
        five = sum(c for s, c in statuses.items() if s >= 500)
        other = sum(c for s, c in statuses.items() if 300 <= s < 500)
        print(f"| {label} | {total} | {five} | {other} | {elapsed:.1f} s |")


def _hammer(port: int, threads: int, per_thread: int, offer_id: str, tag: str):
    import httpx

    password = "correct horse battery staple 42"
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def writer(index: int) -> None:
        email = f"{tag}-writer{index}@bench.example"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:

            def record(response: httpx.Response) -> httpx.Response:
                with lock:
                    statuses[response.status_code] += 1
                return response

            record(
                http.post(
                    "/api/v2/auth/register",
                    json={"email": email, "password": password, "full_name": "W"},
                )
            )
            login = record(
                http.post("/api/v2/auth/login", json={"email": email, "password": password})
            )
            token = login.json().get("access_token") if login.status_code == 200 else None
            # a failed sign-in (the old settings' 500) still sends its writes, unauthenticated
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            for n in range(per_thread - 2):
                if n % 4 == 0:
                    record(http.post("/api/v2/math/topsis-offers", json={"limit": 5}))
                else:
                    record(
                        http.post(
                            "/api/v2/math/interactions",
                            headers=headers,
                            json={"offer_id": offer_id, "kind": "view"},
                        )
                    )

    started = time.perf_counter()
    pool = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return statuses, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer offers and rounds")
    args = parser.parse_args()
    setup_test_environment()
    offers, history, rounds = (120, 20, 50) if args.quick else (300, 30, 200)
    seed(offers, history)
    print(f"catalogue: {offers} offers x {history} history rows (SQLite, {WORK})")
    worst_queries()
    overhead(rounds)
    writers(12, 50)


if __name__ == "__main__":
    main()
