"""Live-price fan-out benchmark: N concurrent GraphQL subscribers spread over two server
processes (``--server uvicorn``, the product's, or ``daphne``) with the Redis channel layer;
bursts of committed price changes published by a third process
(``manage.py publish_price_change --random``, the real after-commit path).

Prints, per subscriber count: deliveries expected/received (lost), latency commit→delivery
(``publishedAt`` is stamped when the change is published right after commit) p50/p95/max, and
the CPU used by each server process (from /proc). Target: 1,000 subscribers, p95 ≤ 500 ms, zero
loss. Half the subscribers take every change, half filter by one of three GPU models.

    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/live_bench.py
        [--subscribers 100,500,1000] [--bursts 10] [--burst-size 5] [--interval 2.0]

Loopback only (127.0.0.1, ports 18700-18799 or ``LIVE_PORTS=low-high``); bounded in
subscribers, bursts and time.
Without DATABASE_URL it uses a scratch SQLite file under var/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
MODELS = ["H100 SXM 80GB", "A100 SXM 80GB", "RTX 4090"]
FIELDS = "offerId gpuModel newPricePerHour publishedAt"
QUERIES = {
    "priceUpdates": "subscription P($filter: PriceUpdateFilter) "
    f"{{ priceUpdates(filter: $filter) {{ {FIELDS} }} }}",
    "priceUpdateBatches": "subscription B($filter: PriceUpdateFilter) "
    f"{{ priceUpdateBatches(filter: $filter) {{ updates {{ {FIELDS} }} }} }}",
}
MAX_SUBSCRIBERS = 2000


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "gpubroker.settings.development")
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{BASE_DIR / 'var' / 'bench-live.sqlite3'}"
    env.update(DEMO_TICKER="0", WS_ALLOW_ANONYMOUS="0", PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    return env


def prepare_database(env: dict[str, str]) -> str:
    """Migrate, seed sample offers and a tenant allowed enough connections; returns a token."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})
    import django

    django.setup()
    from decimal import Decimal

    from apps.auth_app.models import PLAN_LIMITS, Plan, Tenant, User
    from apps.auth_app.services import issue_tokens
    from apps.providers.models import GPUOffer, Provider

    provider, _ = Provider.objects.get_or_create(
        name="bench-cloud",
        defaults={
            "display_name": "Bench",
            "api_base_url": "https://bench.invalid/",
            "is_sample_data": True,
        },
    )
    for i in range(60 - provider.offers.count()):
        GPUOffer.objects.create(
            provider=provider,
            external_id=f"bench-{i}-{time.time_ns()}",
            gpu_type=MODELS[i % 3],
            gpu_memory_gb=80,
            price_per_hour=Decimal("2.0000"),
            region="US-TX-3",
        )
    # An enterprise tenant at its plan's request rate (every ``subscribe`` counts against it, as
    # over HTTP: apps/websocket_gateway/admission.py), allowed enough open connections. Before
    # this was set the tenant kept the default 10 requests/s: ~80 % of the subscribes were
    # refused (RATE_LIMITED) and the bench counted their deliveries as lost.
    tenant, _ = Tenant.objects.update_or_create(
        name="Bench tenant",
        defaults={
            "plan": Plan.ENTERPRISE,
            "rate_limit_rps": PLAN_LIMITS[Plan.ENTERPRISE][0],
            "ws_limit": MAX_SUBSCRIBERS + 10,
        },
    )
    user = User.objects.filter(email="bench@gpubroker.example").first() or User.objects.create_user(
        email="bench@gpubroker.example", password=None, full_name="Bench", tenant=tenant
    )
    return str(issue_tokens(user)["access_token"])


def port_range() -> range:
    """``LIVE_PORTS=18900-18999`` moves the servers to another private port block."""
    low, _, high = os.environ.get("LIVE_PORTS", "18700-18799").partition("-")
    return range(int(low), int(high) + 1)


def free_ports(count: int) -> list[int]:
    ports = []
    for port in port_range():
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"no free ports in {port_range()}")


SERVER = "uvicorn"  # --server: the product's default; daphne for comparison


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apps.websocket_gateway.serve",
            "--server",
            SERVER,
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "-v",
            "0",
            # daphne refuses (HTTP 403) a WebSocket the application has not accepted within
            # --websocket_connect_timeout (5 s by default): on a loaded machine, 50 connecting at
            # once can take longer. uvicorn has no such limit; give daphne as long as the bench's
            # own open timeout so both are compared on fan-out, not on handshakes.
            *(["--websocket_connect_timeout", "30"] if SERVER == "daphne" else []),
            "gpubroker.asgi:application",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120  # a loaded 2-core machine can take a minute to import
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server on {port} did not start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Subscriber:
    def __init__(self, url: str, token: str, gpu_model: str | None, mode: str) -> None:
        self.url, self.token, self.gpu_model, self.mode = url, token, gpu_model, mode
        self.latencies: list[float] = []
        self.keys: set[tuple[str, str]] = set()
        self.ready = asyncio.Event()
        #: The first protocol message that was not a ``next`` (an ``error`` refusing the
        #: subscription, a ``complete``), or the close/exception that ended the connection.
        self.failure: str | None = None
        self.retries = 0  # subscribes refused with RATE_LIMITED and sent again
        self.settled = asyncio.Event()  # cleared while a refused subscribe waits to be resent
        self.subscribed_at = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._run(stop)
        except Exception as error:  # a refused or dropped connection is reported, not hidden
            self.failure = self.failure or f"{type(error).__name__}: {error}"[:300]
            self.ready.set()
            raise

    async def _run(self, stop: asyncio.Event) -> None:
        from websockets.asyncio.client import connect
        from websockets.typing import Subprotocol

        async with connect(
            self.url,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            open_timeout=30,
            max_queue=None,
        ) as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"Authorization": f"Bearer {self.token}"},
                    }
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await self._subscribe(ws)
            self.ready.set()
            closer = asyncio.create_task(self._close_when(stop, ws))
            async for raw in ws:
                now = time.time()
                message = json.loads(raw)
                retry_after = _rate_limited(message)
                if retry_after is not None and self.retries < 20:
                    # What a well-behaved client does with RATE_LIMITED: wait, subscribe again.
                    self.retries += 1
                    self.settled.clear()
                    await asyncio.sleep(retry_after)
                    await self._subscribe(ws)
                    continue
                if message.get("type") != "next" or "data" not in message.get("payload", {}):
                    self.failure = self.failure or json.dumps(message)[:300]
                    continue
                data = message["payload"]["data"][self.mode]
                for update in data.get("updates", [data]):
                    published = datetime.fromisoformat(update["publishedAt"]).timestamp()
                    self.latencies.append(now - published)
                    self.keys.add((update["offerId"], update["newPricePerHour"]))
            await closer

    async def _subscribe(self, ws: Any) -> None:
        variables = {"filter": {"gpuModel": self.gpu_model}} if self.gpu_model else {}
        await ws.send(
            json.dumps(
                {
                    "id": str(self.retries + 1),
                    "type": "subscribe",
                    "payload": {"query": QUERIES[self.mode], "variables": variables},
                }
            )
        )
        self.subscribed_at = time.monotonic()
        self.settled.set()

    @staticmethod
    async def _close_when(stop: asyncio.Event, ws: Any) -> None:
        await stop.wait()
        await ws.close()


def _rate_limited(message: dict[str, Any]) -> float | None:
    """``retryAfter`` seconds of a RATE_LIMITED ``error`` message, else None."""
    if message.get("type") != "error":
        return None
    for error in message.get("payload") or []:
        extensions = error.get("extensions") or {}
        if extensions.get("code") == "RATE_LIMITED":
            return float(extensions.get("retryAfter") or 1)
    return None


async def group_members(redis_url: str, groups: list[str]) -> int:
    import redis.asyncio as redis_asyncio

    client = redis_asyncio.Redis.from_url(redis_url)
    try:
        return sum([int(await client.zcard(f"asgi:group:{g}")) for g in groups])
    finally:
        await client.aclose()


async def run_round(
    n: int,
    mode: str,
    urls: list[str],
    token: str,
    args: argparse.Namespace,
    env: dict[str, str],
    pids: list[int],
) -> dict[str, Any]:
    from apps.websocket_gateway.groups import ALL_PRICES_GROUP, gpu_model_group

    subscribers = [
        Subscriber(urls[i % 2], token, None if (i // 2) % 2 == 0 else MODELS[(i // 4) % 3], mode)
        for i in range(n)
    ]
    stop = asyncio.Event()
    gate = asyncio.Semaphore(50)  # bounded connection rate

    async def start(sub: Subscriber) -> None:
        async with gate:
            task = asyncio.create_task(sub.run(stop))
            await asyncio.wait(
                [task, asyncio.create_task(sub.ready.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            tasks.append(task)

    tasks: list[asyncio.Task[None]] = []
    await asyncio.gather(*(start(s) for s in subscribers))
    groups = [ALL_PRICES_GROUP, *(gpu_model_group(m) for m in MODELS)]
    deadline = time.monotonic() + 30
    # Each server process's hub joins every group its subscribers need once: 2 × 4 members.
    while await group_members(env["REDIS_URL"], groups) < 2 * len(groups):
        if time.monotonic() > deadline:
            raise RuntimeError("subscribers did not all join their groups")
        await asyncio.sleep(0.1)
    # Every subscribe sent (refused ones resent) and none refused for 2 s: an admission refusal
    # comes back within milliseconds of the subscribe, so the subscriptions are all running.
    while True:
        await asyncio.gather(*(s.settled.wait() for s in subscribers if not s.failure))
        last = max(s.subscribed_at for s in subscribers)
        waiting = [s for s in subscribers if not s.failure and not s.settled.is_set()]
        if time.monotonic() - last >= 2 and not waiting:
            break
        if time.monotonic() > deadline + 120:
            raise RuntimeError("subscribes were still being refused after two minutes")
        await asyncio.sleep(0.2)

    cpu_before = [cpu_seconds(pid) for pid in pids]
    client_cpu_before = time.process_time()
    started = time.monotonic()
    publisher = await asyncio.create_subprocess_exec(
        sys.executable,
        "manage.py",
        "publish_price_change",
        "--random",
        str(args.burst_size),
        "--bursts",
        str(args.bursts),
        "--interval",
        str(args.interval),
        cwd=BASE_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await publisher.communicate()
    published = [c for line in out.decode().splitlines() for c in json.loads(line)["changes"]]
    expected = sum(
        1
        for sub in subscribers
        for c in published
        if sub.gpu_model is None or sub.gpu_model == c["gpu_model"]
    )
    settle = time.monotonic() + 10
    while sum(len(s.latencies) for s in subscribers) < expected and time.monotonic() < settle:
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    client_cpu = time.process_time() - client_cpu_before
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(x for s in subscribers for x in s.latencies)
    received = len(latencies)
    failed = [s.failure for s in subscribers if s.failure]
    if failed:
        print(f"{len(failed)} of {n} subscribers failed; first: {failed[0]}", file=sys.stderr)
    return {
        "subscribers": n,
        "mode": mode,
        "changes": len(published),
        "expected": expected,
        "received": received,
        "lost": expected - received,
        "failed": len(failed),
        "retried": sum(s.retries for s in subscribers),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": 1000 * latencies[int(0.95 * (received - 1))] if latencies else float("nan"),
        "max_ms": 1000 * latencies[-1] if latencies else float("nan"),
        "cpu": [100 * c / elapsed for c in cpu],
        "client_cpu": 100 * client_cpu / elapsed,
        "window_s": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", default="100,500,1000")
    parser.add_argument("--bursts", type=int, default=10)
    parser.add_argument("--burst-size", type=int, default=5)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--modes", default="priceUpdates,priceUpdateBatches")
    parser.add_argument("--server", default="uvicorn", choices=("uvicorn", "daphne"))
    args = parser.parse_args()
    global SERVER
    SERVER = args.server
    counts = [int(x) for x in args.subscribers.split(",")]
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is required: the bench measures fan-out across processes via Redis")
    if max(counts) > MAX_SUBSCRIBERS or args.bursts > 100 or args.burst_size > 500:
        sys.exit(f"bounded: ≤{MAX_SUBSCRIBERS} subscribers, ≤100 bursts of ≤500 changes")
    env = environment()
    token = prepare_database(env)
    rows = []
    for mode in args.modes.split(","):
        for n in counts:
            # Fresh server processes per round: a round never inherits another's garbage.
            ports = free_ports(2)
            servers: list[subprocess.Popen[bytes]] = []
            urls = [f"ws://127.0.0.1:{port}/graphql/" for port in ports]
            try:
                for port in ports:  # inside try: a server that fails to start stops the other
                    servers.append(start_server(port, env))
                pids = [server.pid for server in servers]
                rows.append(asyncio.run(run_round(n, mode, urls, token, args, env, pids)))
            finally:
                for server in servers:
                    server.terminate()
                    try:
                        server.wait(20)
                    except subprocess.TimeoutExpired:
                        server.kill()
                        server.wait(10)
    print(
        f"\nlive_bench: 2 {SERVER} processes + Redis, {args.bursts} bursts × {args.burst_size} "
        f"changes every {args.interval}s; half the subscribers unfiltered, half by GPU model"
    )
    print(
        "| subscription | subscribers | failed | subscribes retried | changes "
        "| deliveries expected | received | lost "
        "| p50 ms | p95 ms | max ms | server CPU % (A / B) | bench clients CPU % |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        print(
            f"| {r['mode']} | {r['subscribers']} | {r['failed']} | {r['retried']} | "
            f"{r['changes']} | {r['expected']} | {r['received']} | "
            f"{r['lost']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['max_ms']:.1f} | "
            f"{r['cpu'][0]:.0f} / {r['cpu'][1]:.0f} | {r['client_cpu']:.0f} |"
        )
    # A failed subscriber or a lost delivery fails the run (exit status 1), so CI or a script
    # running the bench cannot mistake a broken fan-out for a slow one.
    if any(r["lost"] or r["failed"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
