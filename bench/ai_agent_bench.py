"""What a dead agent costs a chat request: the agent client against a loopback server that never
answers in time, with the circuit closed (every call waits for the timeout and its retries)
versus open (the breaker refuses at once), and against a healthy server as the baseline.

    .venv/bin/python bench/ai_agent_bench.py [--port 19699]
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/ai_agent_bench.py  # shared state

Prints where the circuit's state lives (process memory, or Redis with ``REDIS_URL``: what the
sharing costs per call), the median and p95 per call and the ratios. Loopback only (the server
uses ``--port`` and the port below it); runs in about ten seconds."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpubroker.settings.test")

import django  # noqa: E402

django.setup()

from apps.ai_assistant.agent_client import AgentClient, AgentConfig  # noqa: E402
from apps.ai_assistant.agent_errors import AgentError  # noqa: E402
from apps.ai_assistant.circuit import breaker_for, reset_breakers, shared  # noqa: E402

REPLY = json.dumps(
    {"choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
).encode()


def serve(port: int, delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(delay)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(REPLY)))
                self.end_headers()
                self.wfile.write(REPLY)
            except (BrokenPipeError, ConnectionResetError):
                return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed(client: AgentClient, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        with contextlib.suppress(AgentError):
            client.complete([{"role": "user", "content": "hi"}])
        out.append((time.perf_counter() - start) * 1000)
    return out


def line(name: str, samples: list[float]) -> float:
    median = statistics.median(samples)
    p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
    print(f"| {name} | {len(samples)} | {median:.3f} | {p95:.3f} |")
    return median


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=19699)
    port = parser.parse_args().port
    healthy = serve(port, 0.0)
    dead = serve(port - 1, 5.0)
    base: dict[str, Any] = {"model": "bench", "timeout": 0.2, "retries": 1, "backoff": 0.05}
    where = "shared in Redis" if shared() else "process memory"
    print(f"circuit state: {where}\n")
    print("| agent | calls | median ms | p95 ms |\n|---|---:|---:|---:|")
    ok = line("healthy", timed(AgentClient(AgentConfig(f"http://127.0.0.1:{port}", **base)), 50))
    config = AgentConfig(
        f"http://127.0.0.1:{port - 1}", circuit_failures=3, circuit_reset=60.0, **base
    )
    breaker_for(config)
    reset_breakers()  # a closed circuit to start from (in Redis too, whatever a last run left)
    closed = line("dead, circuit closed (timeout + 1 retry)", timed(AgentClient(config), 3))
    opened = line("dead, circuit open", timed(AgentClient(config), 200))
    print(
        f"\nopen circuit vs closed: {closed / opened:,.0f}x faster; vs a healthy agent's "
        f"round trip: {opened / ok:.3f}x"
    )
    reset_breakers()
    healthy.shutdown()
    dead.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
