"""Real server processes for the live-price tests: daphne (through our redacting entry point) and
management commands, on 127.0.0.1 ports 18700-18799 (or
``LIVE_PORTS=low-high``), sharing the test database and Redis."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
_LOW, _, _HIGH = os.environ.get("LIVE_PORTS", "18700-18799").partition("-")
#: ``LIVE_PORTS=18900-18999`` moves the test servers to another private port block.
PORT_RANGE = range(int(_LOW), int(_HIGH) + 1)
_used_ports: set[int] = set()


def free_port() -> int:
    for port in PORT_RANGE:
        if port in _used_ports:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _used_ports.add(port)
        return port
    raise RuntimeError(f"no free port in {PORT_RANGE}")


def test_database_url() -> str:
    """The database the test runs on (pytest-django's test_<name>), for other processes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def server_env(**overrides: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="gpubroker.settings.test",
        DATABASE_URL=test_database_url(),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def ticking(interval: float) -> dict[str, Any]:
    """Server settings for a demo ticker that moves prices every ``interval`` seconds."""
    return {
        "DEMO_TICKER": 1,
        "DEMO_TICKER_INTERVAL": interval,
        "DEMO_TICKER_FUNCTION": "apps.websocket_gateway.demo_market.simulate_price_moves",
    }


class DaphneServer:
    def __init__(self, **env: Any) -> None:
        self.port = free_port()
        self.env = server_env(**env)
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="daphne-", suffix=".log", delete=False
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> DaphneServer:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apps.websocket_gateway.serve",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "--access-log",
                "-",
                "gpubroker.asgi:application",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.log_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not listen in {timeout}s:\n{self.log_text()}")

    def kill(self) -> None:
        """SIGKILL: no close frames, no cleanup — a crashed server."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        _used_ports.discard(self.port)

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")


def manage(*args: str, timeout: float = 60, **env: Any) -> str:
    """Run a management command in its own process against the test database; returns stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=server_env(**env),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stderr.decode()}")
    return result.stdout.decode()


class PrivateRedis:
    """``redis-server`` on a private loopback port, no persistence (a restart comes back empty,
    as a crashed cache does), for the Redis fault tests. Missing ``redis-server`` skips the test on
    the embedded run and fails it under ``REQUIRE_SERVICES=1`` (``make browser`` installs it)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if settings.REQUIRE_SERVICES:
                pytest.fail("redis-server is not installed (required under REQUIRE_SERVICES=1)")
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
