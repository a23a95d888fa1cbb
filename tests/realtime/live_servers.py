"""Real server processes for the live-price tests: daphne (through our redacting entry point) and
management commands, on 127.0.0.1 ports 18700-18799 (or
``LIVE_PORTS=low-high``), sharing the test database and Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
