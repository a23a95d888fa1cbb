"""Load and fault test (issue 17): PostgreSQL + Redis + two server processes behind nginx, a
headless Locust run mixing GraphQL queries, REST calls, a writing mutation and live GraphQL
subscribers; then faults during load. Everything runs on 127.0.0.1, on private ports, started and
stopped by this script:

* a PostgreSQL cluster of its own (Debian's ``initdb``/``pg_ctl``, run as the ``postgres`` user
  when started as root), a Redis of its own, two servers (the redacting entry point, production
  settings), Debian's nginx with deploy/nginx.conf (upstreams and port replaced), and a provider
  stub that accepts connections and never answers;
* CPUs: by default the stack and Locust share every CPU of the machine, as a deployment on it
  would (Locust's own CPU use is printed for each phase: 10-30 % of one CPU). ``--pin`` (with
  ``taskset`` and two or more CPUs) runs the stack on all but the last CPU and Locust on the
  last: on a two-CPU machine that puts two servers, PostgreSQL, Redis and nginx on one CPU, where
  every database or Redis round trip waits for the other server's time slice (measured: the same
  CPU per request, but p50 three to four times higher at half the saturation rate);
* the mix (``MIX`` below, ``bench/locustfile.py``) is printed with the load average of each phase;
* **saturation**: Locust users without wait time → the throughput the stack sustains;
* **load at 50 % of saturation** (``constant_throughput``): p50/p95/p99 and the error rate;
* **faults during load** at that rate: Redis killed and restarted, PostgreSQL stopped with
  ``-m immediate`` (a crash) and restarted, a provider sync against the stub that times out.
  For each: what requests got (statuses, error codes) while it lasted, how long until
  ``/health`` answered 200 again and until each kind of request (and a subscriber update)
  succeeded again;
* **data intact**: counts of stored rows before and after, every acknowledged write (the id
  each ``recordInteraction`` and ``createInvitation`` answered) a stored row, every
  acknowledged invitation in the audit log, and ``verify_audit_chain``.

    .venv/bin/python bench/load_fault.py [--quick] [--base-port 19750]

Requires ``make bench-load`` (Locust) and ``make browser`` (nginx); prints a report. Bounded:
about four minutes (``--quick``: about two).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOCUST = str(Path(PYTHON).with_name("locust"))


#: CPU pinning (``taskset``): the stack (PostgreSQL, Redis, nginx, both servers) on every CPU but
#: the last, Locust on the last one, so the load generator does not take the servers' core.
#: Empty lists (the default): no pinning.
STACK_CPUS: list[str] = []
LOCUST_CPUS: list[str] = []
#: How paced users spread their requests (``bench/locustfile.py``: poisson | constant).
ARRIVALS = "poisson"


def pinned(command: list[str], cpus: list[str]) -> list[str]:
    return ["taskset", "-c", ",".join(cpus), *command] if cpus else command


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


def http_status(url: str, timeout: float = 3) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return 0


# --- the services ---------------------------------------------------------------------------


class Postgres:
    def __init__(self, root: Path, port: int) -> None:
        self.data = root / "pg"
        self.port = port
        self.log = root / "pg.log"
        self.as_postgres = os.geteuid() == 0

    def _run(self, *argv: str) -> None:
        command = pinned(list(argv), STACK_CPUS)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if self.as_postgres:
            shutil.chown(self.data.parent, "postgres")
            shutil.chown(self.data, "postgres")
        self._run(
            shutil.which("initdb") or "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c max_connections=200"
        )
        self._run(
            shutil.which("pg_ctl") or "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.log),
            "-w",
            "start",
        )

    def crash(self) -> None:
        self._run(
            shutil.which("pg_ctl") or "pg_ctl",
            "-D",
            str(self.data),
            "-m",
            "immediate",
            "-w",
            "stop",
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(
                shutil.which("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"
            )

    def url(self, database: str = "gpubroker") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


class Redis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            pinned(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                STACK_CPUS,
            ),
            stdout=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    stop = kill


class Server:
    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                pinned(
                    [
                        PYTHON,
                        "-m",
                        "apps.websocket_gateway.serve",
                        "--proxy-headers",
                        "-b",
                        "127.0.0.1",
                        "-p",
                        str(self.port),
                        "gpubroker.asgi:application",
                    ],
                    STACK_CPUS,
                ),
                cwd=BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_port(self.port, 60)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def nginx_config(root: Path, upstreams: list[int], port: int) -> Path:
    """deploy/nginx.conf with the upstream addresses, listen port and paths replaced."""
    text = (BASE_DIR / "deploy" / "nginx.conf").read_text()
    for name, upstream in zip(("web1", "web2"), upstreams, strict=True):
        text = re.sub(rf"server {name}:8000\b", f"server 127.0.0.1:{upstream}", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    text = text.replace("pid /tmp/nginx.pid;", f"pid {root}/nginx.pid;")
    text = text.replace("error_log /dev/stderr warn;", f"error_log {root}/nginx-error.log warn;")
    # What nginx measured of each request (the server side of the latency Locust reports).
    text = text.replace(
        "access_log /dev/stdout noquery;",
        "log_format timing '$msec $request_time $upstream_response_time $status $uri "
        "$upstream_addr';\n"
        f"    access_log {root}/access.log timing;",
    )
    temp = "".join(
        f"    {k}_temp_path {root}/nginx-{k};\n"
        for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = text.replace("http {\n", "http {\n" + temp, 1)
    if os.geteuid() == 0:
        text = "user root;\n" + text
    target = root / "nginx.conf"
    target.write_text(text)
    return target


class HangingProvider:
    """A provider API that accepts connections and never answers (a stuck upstream)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.held: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(connection)

    def close(self) -> None:
        self.sock.close()
        for connection in self.held:
            connection.close()


# --- where the time goes -------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _cpu_seconds(root: int, tree: dict[int, list[int]]) -> float:
    """User + system CPU seconds of ``root`` and its live descendants (threads included)."""
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        todo.extend(tree.get(pid, []))
    return total


def cpu_times() -> dict[str, tuple[float, float]]:
    """(busy, total) jiffies per CPU from /proc/stat."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *values = line.split()
            numbers = [float(v) for v in values[:8]]
            idle = numbers[3] + numbers[4]  # idle + iowait
            times[name] = (sum(numbers) - idle, sum(numbers))
    return times


def cpu_busy(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]) -> str:
    """How busy each CPU was between two readings (whoever used it: the stack, Locust, others)."""
    parts = []
    for name in sorted(after):
        busy = after[name][0] - before.get(name, (0, 0))[0]
        total = after[name][1] - before.get(name, (0, 0))[1]
        parts.append(f"{name} {busy / total:.0%}" if total else f"{name} -")
    return ", ".join(parts)


def component_pids(stack: Stack) -> dict[str, int]:
    pids = {
        f"web{i}": server.process.pid
        for i, server in enumerate(stack.servers, 1)
        if server.process is not None
    }
    if stack.nginx is not None:
        pids["nginx"] = stack.nginx.pid
    if stack.redis.process is not None:
        pids["redis"] = stack.redis.process.pid
    with contextlib.suppress(OSError, ValueError):
        pids["postgres"] = int((stack.pg.data / "postmaster.pid").read_text().split()[0])
    return pids


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    tree = _children()
    return {name: _cpu_seconds(pid, tree) for name, pid in pids.items()}


def py_spy(pid: int, seconds: int, output: Path) -> subprocess.Popen[bytes] | None:
    spy = Path(PYTHON).with_name("py-spy")
    if not spy.exists():
        return None
    return subprocess.Popen(
        pinned(
            [
                *(str(spy), "record", "--pid", str(pid), "--duration", str(seconds)),
                *("--rate", "50", "--format", "raw", "--nonblocking", "--output", str(output)),
            ],
            LOCUST_CPUS,  # the sampler stays off the stack's CPU, like the load generator
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def print_profile(title: str, raw: Path, top: int = 14) -> None:
    """Inclusive share of samples per function of ours (apps/, schema/, gpubroker/) and per
    library package, from py-spy's collapsed stacks."""
    if not raw.exists():
        return
    ours: dict[str, int] = {}
    packages: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        seen_ours: set[str] = set()
        seen_packages: set[str] = set()
        for frame in stack_text.split(";"):
            match = re.match(r"(.+) \((.+):\d+\)", frame)
            if not match:
                continue
            function, path = match.groups()
            path = path.split("site-packages/", 1)[-1].split(str(BASE_DIR) + "/", 1)[-1]
            if path.startswith(("apps/", "schema/", "gpubroker/")):
                seen_ours.add(f"{path}:{function}")
            else:  # py-spy names library files from their package: django/db/...
                seen_packages.add(path.split("/", 1)[0] if "/" in path else "stdlib")
        for key in seen_ours:
            ours[key] = ours.get(key, 0) + count
        for key in seen_packages:
            packages[key] = packages.get(key, 0) + count
    if not total:
        return
    print(f"\n### {title}: {total} samples")
    print(
        "library packages (inclusive): "
        + ", ".join(
            f"{name} {n / total:.0%}"
            for name, n in sorted(packages.items(), key=lambda x: -x[1])[:10]
        )
    )
    for name, n in sorted(ours.items(), key=lambda x: -x[1])[:top]:
        print(f"{n / total:>6.1%}  {name}")


# --- the run --------------------------------------------------------------------------------


@dataclass
class Stack:
    root: Path
    ports: dict[str, int]
    env: dict[str, str]
    pg: Postgres
    redis: Redis
    servers: list[Server]
    nginx: subprocess.Popen[bytes] | None = None
    token: str = ""
    offer_ids: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['nginx']}"

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)}:\n{result.stderr[-3000:]}")
        return result.stdout

    def shell(self, code: str, timeout: float = 120) -> str:
        return self.manage("shell", "-c", code, timeout=timeout)


METRICS_TOKEN = "bench-" + os.urandom(16).hex()


def gc_figures(port: int) -> dict[str, float]:
    """One server's garbage-collector figures so far (its ``/metrics``): per generation
    ``count``/``seconds``/``longest``, and ``tracked``/``frozen`` objects."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            text = answer.read().decode()
    except (urllib.error.URLError, OSError):
        return {}
    names = {
        "gpubroker_gc_pauses_total": "count",
        "gpubroker_gc_pause_seconds_total": "seconds",
        "gpubroker_gc_pause_max_seconds": "longest",
    }
    figures: dict[str, float] = {}
    for name, generation, value in re.findall(
        r'^(gpubroker_gc_\w+)\{generation="(\d)"\} (\S+)$', text, flags=re.M
    ):
        if name in names:
            figures[f"{names[name]}{generation}"] = float(value)
    for name in ("tracked", "frozen"):
        found = re.search(rf"^gpubroker_gc_{name}_objects (\S+)$", text, flags=re.M)
        figures[name] = float(found.group(1)) if found else 0.0
    return figures


def gc_report(before: dict[str, float], after: dict[str, float]) -> str:
    if not after:
        return "unavailable"
    parts = [f"{after['tracked']:,.0f} objects tracked, {after['frozen']:,.0f} frozen"]
    for g in "012":
        count = after.get(f"count{g}", 0) - before.get(f"count{g}", 0)
        seconds = after.get(f"seconds{g}", 0) - before.get(f"seconds{g}", 0)
        mean = 1000 * seconds / count if count else 0.0
        parts.append(
            f"gen {g}: {count:.0f} collections, {1000 * seconds:.0f} ms, mean {mean:.1f} ms"
        )
    return "; ".join(parts)


def app_environment(root: Path, pg: Postgres, redis_port: int) -> dict[str, str]:
    sys.path.insert(0, str(BASE_DIR))
    from cryptography.fernet import Fernet

    from apps.auth_app.keys import generate_private_pem

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="gpubroker.settings.production",
        SECRET_KEY="bench-" + os.urandom(24).hex(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        JWT_PRIVATE_KEY=generate_private_pem(2048),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        JWT_ACCESS_TOKEN_LIFETIME="7200",
        DATABASE_URL=pg.url(),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        GPUBROKER_VAR_DIR=str(root / "var"),
        # The general per-tenant/IP request limits would measure the limiter, not the service.
        RATE_LIMIT_REQUESTS_ENABLED="0",
        WS_ALLOW_ANONYMOUS="0",
        TRUSTED_PROXY_COUNT="1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        DB_POOL_MAX_SIZE=os.environ.get("DB_POOL_MAX_SIZE", "20"),
        METRICS_TOKEN=METRICS_TOKEN,
    )
    if os.environ.get("HTTP_WORKER_THREADS"):  # a pool size to compare (gpubroker/http_handler)
        env["HTTP_WORKER_THREADS"] = os.environ["HTTP_WORKER_THREADS"]
    return env


def build_stack(base_port: int) -> Stack:
    root = Path(tempfile.mkdtemp(prefix="gpubroker-load-", dir="/tmp"))
    os.chmod(root, 0o755)
    ports = {
        "pg": base_port,
        "redis": base_port + 1,
        "web1": base_port + 2,
        "web2": base_port + 3,
        "nginx": base_port + 4,
        "stub": base_port + 5,
    }
    pg = Postgres(root, ports["pg"])
    redis = Redis(ports["redis"])
    env = app_environment(root, pg, ports["redis"])
    stack = Stack(root, ports, env, pg, redis, [])
    log(f"PostgreSQL cluster in {root}/pg on :{ports['pg']}, Redis on :{ports['redis']}")
    pg.init()
    pg.start()
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(ports["pg"]),
            "-U",
            "postgres",
            "-q",
            "-c",
            "CREATE DATABASE gpubroker",
        ],
        check=True,
        capture_output=True,
    )
    redis.start()
    log("migrate, load benchmarks and the demo catalogue")
    stack.manage("migrate", "--noinput", "-v", "0")
    stack.manage("load_benchmarks")
    stack.manage("load_demo_data")
    out = stack.shell(
        "from apps.auth_app.models import Tenant, User\n"
        "from apps.auth_app.services import issue_tokens\n"
        "from apps.providers.models import GPUOffer\n"
        "t = Tenant.objects.create(name='load', plan='enterprise', rate_limit_rps=100000,"
        " ws_limit=1000)\n"
        "u = User.objects.create_user(email='load@bench.example', password='a long bench pw',"
        " full_name='Load', organization='load', tenant=t, role='tenant_admin')\n"
        "print(issue_tokens(u)['access_token'])\n"
        "print(','.join(str(i) for i in GPUOffer.objects.values_list('id', flat=True)[:50]))\n"
    )
    stack.token, ids = out.strip().splitlines()[-2:]
    stack.offer_ids = ids.split(",")
    ticking = {
        **env,
        "DEMO_TICKER": "1",
        "DEMO_TICKER_INTERVAL": "1",
        "DEMO_TICKER_FUNCTION": "apps.websocket_gateway.demo_market.simulate_price_moves",
    }
    stack.servers = [
        Server(ports["web1"], ticking, root / "web1.log"),
        Server(ports["web2"], {**env, "DEMO_TICKER": "0"}, root / "web2.log"),
    ]
    for server in stack.servers:
        server.start()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = nginx_config(root, [ports["web1"], ports["web2"]], ports["nginx"])
    stack.nginx = subprocess.Popen(
        pinned([nginx, "-p", str(root), "-c", str(conf), "-g", "daemon off;"], STACK_CPUS)
    )
    wait_port(ports["nginx"])
    # the first request starts the ticker on web1
    for port in (ports["web1"], ports["web2"]):
        http_status(f"http://127.0.0.1:{port}/health", timeout=10)
    log(f"two servers (:{ports['web1']}, :{ports['web2']}) behind nginx at {stack.url}")
    return stack


def teardown(stack: Stack) -> None:
    if stack.nginx and stack.nginx.poll() is None:
        stack.nginx.terminate()
        stack.nginx.wait(10)
    for server in stack.servers:
        server.stop()
    stack.redis.stop()
    stack.pg.stop()
    shutil.rmtree(stack.root, ignore_errors=True)


#: Seconds at the start of a run with subscribers that the steady-state line leaves out.
RAMP_UP_SECONDS = 5


@dataclass
class LoadResult:
    users: int
    seconds: float
    rate: float
    rows: dict[str, dict[str, str]]
    events: list[dict[str, Any]]
    acked: list[dict[str, str]] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    locust_cpu: float = 0.0
    root: Path | None = None
    cpu_busy: str = ""
    stack_cpu: dict[str, float] = field(default_factory=dict)
    subscribers: int = 0
    ports: dict[str, int] = field(default_factory=dict)
    restarted: list[str] = field(default_factory=list)

    def _http_log(self) -> list[list[str]]:
        """nginx's access-log lines of HTTP requests (not /health, not WebSocket upgrades), split:
        end time, request time, upstream time(s), status, path, upstream address(es)."""
        if self.root is None or not (self.root / "access.log").exists():
            return []
        lines = (line.split() for line in (self.root / "access.log").read_text().splitlines())
        return [p for p in lines if len(p) >= 5 and p[4] != "/health" and p[3] != "101"]

    def nginx_times(self) -> list[tuple[float, float, str]]:
        """(request time, upstream time, upstream address) in ms of the HTTP requests nginx
        logged in this run."""
        times = []
        for parts in self._http_log():
            with contextlib.suppress(ValueError):
                moment, total = float(parts[0]), float(parts[1])
                upstream = float(parts[2].split(",")[-1])
                if self.started <= moment <= self.ended and total < 30:
                    server = parts[5].split(",")[-1].strip() if len(parts) > 5 else "-"
                    times.append((1000 * total, 1000 * upstream, server))
        return times

    def arrivals(self) -> list[float]:
        """When nginx received each HTTP request of this run (seconds since 1970, sorted)."""
        moments = []
        for parts in self._http_log():
            with contextlib.suppress(ValueError):
                moment = float(parts[0]) - float(parts[1])
                if self.started <= moment <= self.ended:
                    moments.append(moment)
        return sorted(moments)

    @property
    def total(self) -> dict[str, str]:
        return self.rows["Aggregated"]


def run_locust(
    stack: Stack, *, users: int, seconds: int, user_rate: float, subscribers: int, tag: str
) -> LoadResult:
    prefix = stack.root / f"locust-{tag}"
    events_file = stack.root / f"events-{tag}.jsonl"
    acked_file = stack.root / f"acked-{tag}.jsonl"
    acked_file.touch()
    env = {
        **os.environ,
        "LOAD_TOKEN": stack.token,
        "LOAD_OFFER_IDS": ",".join(stack.offer_ids),
        "LOAD_USER_RATE": str(user_rate),
        "LOAD_ARRIVALS": ARRIVALS,
        "LOAD_SUBSCRIBERS": str(subscribers),
        "LOAD_EVENTS": str(events_file),
        "LOAD_ACKED": str(acked_file),
    }
    command = pinned(
        [
            LOCUST,
            "-f",
            str(BASE_DIR / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(users + subscribers),
            "-r",
            str(max(5, users + subscribers)),
            "-t",
            f"{seconds}s",
            "--host",
            stack.url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "3",
            "--loglevel",
            "WARNING",
        ],
        LOCUST_CPUS,
    )
    pids = component_pids(stack)
    started, cpus_before, stack_before = time.time(), cpu_times(), cpu_snapshot(pids)
    with subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as locust:
        cpu = 0.0
        deadline = time.monotonic() + seconds + 60
        while locust.poll() is None and time.monotonic() < deadline:
            # its CPU, sampled until it exits (children included)
            cpu = max(cpu, _cpu_seconds(locust.pid, _children()))
            with contextlib.suppress(subprocess.TimeoutExpired):
                locust.wait(0.5)
        if locust.poll() is None:
            locust.kill()
    ended, busy = time.time(), cpu_busy(cpus_before, cpu_times())
    stack_after, pids_after = cpu_snapshot(pids), component_pids(stack)
    # A component restarted by a fault has a new process: its CPU over the run is unknown.
    restarted = sorted(name for name in pids if pids_after.get(name) != pids[name])
    stack_cpu = {
        name: stack_after[name] - stack_before[name] for name in pids if name not in restarted
    }
    with open(f"{prefix}_stats.csv") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line]
    acked = [json.loads(line) for line in acked_file.read_text().splitlines() if line]
    return LoadResult(
        users,
        seconds,
        user_rate,
        rows,
        events,
        acked,
        started,
        ended,
        cpu,
        stack.root,
        busy,
        stack_cpu,
        subscribers,
        {k: v for k, v in stack.ports.items() if k.startswith("web")},
        restarted,
    )


#: Width of the bins the arrivals are counted in for :func:`burstiness`.
ARRIVAL_BIN_SECONDS = 0.025


def burstiness(arrivals: list[float]) -> str:
    """How bunched the requests arrived at nginx: the variance-to-mean ratio of arrivals per
    25 ms bin (1 for independent, Poisson arrivals; far above 1 when users fire together)."""
    first = arrivals[0]
    bins: dict[int, int] = {}
    for moment in arrivals:
        key = int((moment - first) / ARRIVAL_BIN_SECONDS)
        bins[key] = bins.get(key, 0) + 1
    counts = [bins.get(k, 0) for k in range(max(bins) + 1)]
    mean = statistics.fmean(counts)
    ratio = statistics.pvariance(counts) / mean if mean else 0.0
    return (
        f"arrivals at nginx per {1000 * ARRIVAL_BIN_SECONDS:.0f} ms: mean {mean:.2f}, max"
        f" {max(counts)}, variance/mean {ratio:.2f} (1 = independent arrivals)"
    )


def percentiles(events: list[dict[str, Any]]) -> tuple[float, float, float]:
    times = sorted(e["ms"] for e in events)
    if not times:
        return (float("nan"),) * 3  # type: ignore[return-value]
    q = statistics.quantiles(times, n=100, method="inclusive")
    return q[49], q[94], q[98]


def http_events(result: LoadResult) -> list[dict[str, Any]]:
    return [e for e in result.events if not e["name"].startswith("ws:")]


def print_load(title: str, result: LoadResult) -> None:
    events = http_events(result)
    ok = [e for e in events if e["ok"]]
    p50, p95, p99 = percentiles(events)
    rate = len(events) / result.seconds
    errors = (len(events) - len(ok)) / len(events) if events else float("nan")
    print(f"\n## {title}")
    print(f"{'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}")
    print(f"{len(events):>9} {rate:>7.1f} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f} {errors:>7.2%}")
    if events and result.subscribers:
        # Locust starts every user and opens every subscription in the first second; the steady
        # state is what follows. Both are printed.
        start = min(e["t"] for e in events)
        steady = [e for e in events if e["t"] >= start + RAMP_UP_SECONDS]
        s50, s95, s99 = percentiles(steady)
        failed = sum(1 for e in steady if not e["ok"]) / max(len(steady), 1)
        print(
            f"{len(steady):>9} {len(steady) / max(result.seconds - RAMP_UP_SECONDS, 1):>7.1f}"
            f" {s50:>7.1f} {s95:>7.1f} {s99:>7.1f} {failed:>7.2%}"
            f"  ← after the {RAMP_UP_SECONDS} s ramp-up ({result.users} users and"
            f" {result.subscribers} subscriptions starting)"
        )
    print(f"\n{'operation':<28} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'fail':>5}")
    for name in sorted({e["name"] for e in result.events}):
        rows = [e for e in result.events if e["name"] == name]
        a, b, c = percentiles(rows)
        failed = sum(1 for e in rows if not e["ok"])
        print(f"{name:<28} {len(rows):>6} {a:>7.1f} {b:>7.1f} {c:>7.1f} {failed:>5}")
    print("(ws:priceUpdates: delivery latency publishedAt → subscriber, one row per update)")
    if events:
        start = min(e["t"] for e in events)
        slices: dict[int, list[dict[str, Any]]] = {}
        for e in events:
            slices.setdefault(int((e["t"] - start) // 5), []).append(e)
        print(
            "over time (5 s slices: req/s, p50/p95 ms): "
            + "; ".join(
                f"{5 * k}s {len(v) / 5:.0f} {percentiles(v)[0]:.0f}/{percentiles(v)[1]:.0f}"
                for k, v in sorted(slices.items())
            )
        )
    served = result.nginx_times()
    if served:
        for label, column in (("nginx request time", 0), ("upstream (server) time", 1)):
            a, b, c = percentiles([{"ms": t[column]} for t in served])
            print(f"{label + ' (server side)':<40} p50 {a:7.1f}  p95 {b:7.1f}  p99 {c:7.1f} ms")
        ports = {str(v): k for k, v in (result.ports or {}).items()}
        for server in sorted({t[2] for t in served}):
            mine = [{"ms": t[1]} for t in served if t[2] == server]
            a, b, c = percentiles(mine)
            name = ports.get(server.rpartition(":")[2], server)
            print(
                f"{'  upstream ' + name:<40} p50 {a:7.1f}  p95 {b:7.1f}  p99 {c:7.1f} ms"
                f"  ({len(mine)} requests)"
            )
    arrivals = result.arrivals()
    if len(arrivals) > 100:
        print(burstiness(arrivals))
    wall = max(result.ended - result.started, 1e-9)
    if result.stack_cpu:
        served_count = max(len(events), 1)
        print(
            "stack CPU per HTTP request: "
            + ", ".join(
                f"{k} {1000 * v / served_count:.1f} ms" for k, v in result.stack_cpu.items()
            )
            + f" (total {1000 * sum(result.stack_cpu.values()) / served_count:.1f} ms)"
            + (
                f"; restarted during the run, not counted: {', '.join(result.restarted)}"
                if result.restarted
                else ""
            )
        )
    print(
        f"Locust used {result.locust_cpu:.1f} CPU s over {wall:.0f} s"
        f" ({result.locust_cpu / wall:.0%} of a CPU); CPUs busy (anyone's use): {result.cpu_busy}"
    )


@dataclass
class Fault:
    name: str
    started: float = 0.0
    ended: float = 0.0  # the dependency is back (restarted) / the sync returned
    healthy_after: float | None = None
    notes: list[str] = field(default_factory=list)


def health_of(port: int) -> str:
    """One server's ``/health`` (directly, not through nginx): status and failing parts."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return str(answer.status)
    except urllib.error.HTTPError as error:
        try:
            return f"{error.code} {','.join(json.loads(error.read())['failing'])}"
        except (ValueError, KeyError):
            return str(error.code)
    except (urllib.error.URLError, OSError) as error:
        return f"no answer ({type(error).__name__})"


def health_recovery(stack: Stack, since: float, limit: float = 60) -> float | None:
    """Seconds from ``since`` until both servers' ``/health`` answer 200 (each polled directly,
    5 s timeout), or None after ``limit``."""
    deadline = time.time() + limit
    ports = [stack.ports["web1"], stack.ports["web2"]]
    while time.time() < deadline:
        if all(health_of(port) == "200" for port in ports):
            return time.time() - since
        time.sleep(0.2)
    return None


def outage_health(stack: Stack) -> str:
    return "; ".join(f"web{i} {health_of(stack.ports[f'web{i}'])}" for i in (1, 2))


def fault_schedule(stack: Stack, faults: list[Fault], outage: float, gap: float) -> None:
    time.sleep(gap)
    redis = Fault("Redis killed (SIGKILL), restarted after the outage")
    redis.started = time.time()
    stack.redis.kill()
    time.sleep(outage)
    redis.notes.append(f"/health during the outage: {outage_health(stack)}")
    stack.redis.start()
    redis.ended = time.time()
    redis.healthy_after = health_recovery(stack, redis.ended)
    faults.append(redis)

    time.sleep(gap)
    pg = Fault("PostgreSQL crashed (pg_ctl -m immediate), restarted after the outage")
    pg.started = time.time()
    stack.pg.crash()
    time.sleep(outage)
    pg.notes.append(f"/health during the outage: {outage_health(stack)}")
    stack.pg.start()
    pg.ended = time.time()
    pg.healthy_after = health_recovery(stack, pg.ended)
    faults.append(pg)

    time.sleep(gap)
    stuck = Fault("provider API that never answers (sync of 'vastai' against the stub)")
    stub = HangingProvider(stack.ports["stub"])
    stuck.started = time.time()
    code = (
        "import httpx\n"
        "from apps.providers.adapters.vastai import VastAIAdapter\n"
        "from apps.providers.adapters.http import RetryPolicy\n"
        "from apps.providers.models import GPUOffer\n"
        "from apps.providers.sync import sync_provider\n"
        "before = GPUOffer.objects.filter(provider__name='vastai').count()\n"
        f"a = VastAIAdapter(api_key='stub', base_url='http://127.0.0.1:{stack.ports['stub']}',"
        " timeout=httpx.Timeout(3.0, connect=2.0), retry=RetryPolicy(attempts=2))\n"
        "r = sync_provider('vastai', adapter=a)\n"
        "after = GPUOffer.objects.filter(provider__name='vastai').count()\n"
        "print(r.status, r.error_code, round(r.seconds, 1), before, after)\n"
    )
    try:
        out = stack.shell(code, timeout=120).strip().splitlines()[-1]
        status, error_code, seconds, before, after = out.split()
        stuck.notes.append(
            f"sync status {status} ({error_code}) after {seconds} s; "
            f"vastai offers before/after: {before}/{after}; "
            f"stub saw {stub.accepted} connection(s)"
        )
    except Exception as exc:  # reported, not fatal: the other results still print
        stuck.notes.append(f"sync could not run: {exc}")
    stuck.ended = time.time()
    stub.close()
    faults.append(stuck)


SUBSCRIBERS_IN_FAULT_RUN = 20


def print_faults(result: LoadResult, faults: list[Fault]) -> None:
    print("\n## Faults during load")
    events = result.events
    for fault in faults:
        during = [e for e in events if fault.started <= e["t"] <= fault.ended + 0.5]
        http_during = [e for e in during if not e["name"].startswith("ws:")]
        outcomes: dict[str, int] = {}
        for e in http_during:
            key = "ok" if e["ok"] else f"{e['status']} {e['code'] or ''}".strip()
            outcomes[key] = outcomes.get(key, 0) + 1
        print(f"\n### {fault.name}")
        print(
            f"window {fault.ended - fault.started:.1f} s; requests in it: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
        )
        for note in fault.notes:
            print(f"- {note}")
        if fault.name.startswith("Redis"):
            told = [e for e in during if e["name"] == "ws:notice"]
            resumed = [
                e
                for e in events
                if e["name"] == "ws:notice"
                and e["code"] == "LIVE_UPDATES_RESUMED"
                and fault.ended <= e["t"] <= fault.ended + 30
            ]
            codes = [e["code"] for e in told]
            print(
                f"- subscribers told: {codes.count('LIVE_UPDATES_DEGRADED')} LIVE_UPDATES_DEGRADED"
                f" notices during the outage, {len(resumed)} LIVE_UPDATES_RESUMED within 30 s"
                f" of the restart (subscribers: {SUBSCRIBERS_IN_FAULT_RUN})"
            )
        if fault.healthy_after is not None:
            print(f"- /health 200 again {fault.healthy_after:.1f} s after the restart")
        elif fault.name.startswith(("Redis", "PostgreSQL")):
            print("- /health did NOT recover within 60 s")
        # Until the next fault starts (or the run ends)
        later = [f.started for f in faults if f.started > fault.ended]
        until = min(later) if later else float("inf")
        since = "the restart" if fault.name.startswith(("Redis", "PostgreSQL")) else "it ended"
        for name in sorted({e["name"] for e in events} - {"ws:notice"}):
            mine = [e for e in events if e["name"] == name and fault.ended < e["t"] < until]
            after = [e for e in mine if e["ok"]]
            failed_after = [e for e in mine if e["t"] > fault.ended + 5 and not e["ok"]]
            if after:
                first = after[0]["t"] - fault.ended
                print(
                    f"- {name}: first success {first:.1f} s after {since}; "
                    f"failures from 5 s after it until the next fault: {len(failed_after)}"
                    f" of {sum(1 for e in mine if e['t'] > fault.ended + 5)}"
                )
            else:
                print(f"- {name}: no success after {since}")


def data_counts(stack: Stack) -> dict[str, int]:
    out = stack.shell(
        "import json\n"
        "from apps.auth_app.models import AuditLog, Invitation, User\n"
        "from apps.math_core.models import OfferInteraction\n"
        "from apps.providers.models import GPUOffer, PriceHistory, Provider\n"
        "print(json.dumps({'providers': Provider.objects.count(),"
        " 'offers': GPUOffer.objects.count(),"
        " 'price_history': PriceHistory.objects.count(), 'users': User.objects.count(),"
        " 'invitations': Invitation.objects.count(),"
        " 'audit_log': AuditLog.objects.count(),"
        " 'interactions': OfferInteraction.objects.count()}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


def missing_acknowledged(stack: Stack, acked: list[dict[str, str]]) -> dict[str, int]:
    """How many acknowledged writes (ids the clients were given) are not stored, per kind; and
    how many acknowledged invitations have no ``invitation.created`` audit entry."""
    path = stack.root / "acked-all.json"
    path.write_text(json.dumps(acked))
    out = stack.shell(
        "import json\n"
        "from apps.auth_app.models import AuditLog, Invitation\n"
        "from apps.math_core.models import OfferInteraction\n"
        f"acked = json.load(open({str(path)!r}))\n"
        "ids = lambda name: {a['id'] for a in acked if a['name'] == name}\n"
        "i, v = ids('recordInteraction'), ids('createInvitation')\n"
        "stored_i = {str(x) for x in OfferInteraction.objects.filter(pk__in=i)"
        ".values_list('pk', flat=True)}\n"
        "stored_v = {str(x) for x in Invitation.objects.filter(pk__in=v)"
        ".values_list('pk', flat=True)}\n"
        "audited = {str(x) for x in AuditLog.objects.filter(action='invitation.created',"
        " resource_id__in=v).values_list('resource_id', flat=True)}\n"
        "print(json.dumps({'interactions': len(i - stored_i), 'invitations': len(v - stored_v),"
        " 'invitation audit entries': len(v - audited)}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


MIX = (
    "mix per 19 requests: 8 GraphQL offer searches (5 GPU filters), 6 REST offer listings"
    " (5 GPU filters), 2 REST benchmark reads, 2 recordInteraction and 1 createInvitation"
    " mutations (writes; the invitation is audited); the demo ticker on web1 moves 3 prices a"
    " second (each move publishes to the subscribers and makes every cached page and response"
    " unreachable, so the caches mostly miss)"
)


def main() -> int:
    global STACK_CPUS, LOCUST_CPUS, ARRIVALS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (about two minutes)")
    parser.add_argument("--base-port", type=int, default=19750)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy both servers during the 50 %% run"
    )
    parser.add_argument(
        "--no-faults", action="store_true", help="stop after the 50 %% run (for tuning)"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin the stack to all CPUs but the last and Locust to the last",
    )
    parser.add_argument(
        "--arrivals",
        choices=("poisson", "constant"),
        default="poisson",
        help="paced users' request times: independent (poisson, the default) or a fixed period"
        " per user (constant: Locust's constant_throughput, which lets users fall into step)",
    )
    args = parser.parse_args()
    ARRIVALS = args.arrivals
    for tool in ("initdb", "pg_ctl", "psql", "redis-server"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed")
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        sys.exit("nginx is not installed: make browser")
    if not Path(LOCUST).exists():
        sys.exit("Locust is not installed: make bench-load")
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin and len(cpus) >= 2 and shutil.which("taskset"):
        STACK_CPUS, LOCUST_CPUS = [str(c) for c in cpus[:-1]], [str(cpus[-1])]
    saturation_s, load_s = (12, 20) if args.quick else (20, 30)
    outage, gap = (6, 8) if args.quick else (10, 12)
    users, subscribers = 16, SUBSCRIBERS_IN_FAULT_RUN
    print(MIX)
    print(f"paced users' arrivals: {ARRIVALS}")
    print(
        f"CPUs: stack on {','.join(STACK_CPUS) or 'any'},"
        f" Locust on {','.join(LOCUST_CPUS) or 'any'} (of {len(cpus)}); {load_average()}"
    )

    stack = build_stack(args.base_port)
    try:
        before = data_counts(stack)
        log(f"one user without wait, 8 s (the latency of a lone request); {load_average()}")
        alone = run_locust(stack, users=1, seconds=8, user_rate=0, subscribers=0, tag="alone")
        print_load(f"One user, no wait time ({load_average()})", alone)
        log(f"saturation: {users} users without wait, {saturation_s} s; {load_average()}")
        saturation = run_locust(
            stack, users=users, seconds=saturation_s, user_rate=0, subscribers=0, tag="saturation"
        )
        measured = len(http_events(saturation)) / saturation_s
        print_load(f"Saturation: {users} users, no wait time ({load_average()})", saturation)
        target = measured / 2
        log(
            f"load at 50 % of {measured:.0f} req/s = {target:.0f} req/s, +{subscribers} subscribers"
        )
        pids = component_pids(stack)
        spies = [
            py_spy(pids[name], load_s - 4, stack.root / f"spy-{name}.txt") if args.profile else None
            for name in ("web1", "web2")
        ]
        gc_before = {name: gc_figures(stack.ports[name]) for name in ("web1", "web2")}
        cpu_before, wall_before = cpu_snapshot(pids), time.time()
        load = run_locust(
            stack,
            users=users,
            seconds=load_s,
            user_rate=target / users,
            subscribers=subscribers,
            tag="half",
        )
        cpu_after, wall = cpu_snapshot(pids), time.time() - wall_before
        for spy in spies:
            if spy is not None:
                spy.wait(30)
        print_load(
            f"Load at 50 % of saturation ({target:.1f} req/s offered) with {subscribers}"
            f" live subscribers ({load_average()})",
            load,
        )
        served = len(http_events(load))
        print(f"\nCPU during that run ({wall:.0f} s wall, {served} HTTP requests):")
        for name in pids:
            used = cpu_after[name] - cpu_before[name]
            print(
                f"  {name:<9} {used:6.1f} CPU s  {used / wall:5.0%} of a CPU"
                f"  {1000 * used / max(served, 1):6.1f} ms per request"
            )
        print("\nGarbage collection during that run (CPU time of the collections, /metrics):")
        for name in ("web1", "web2"):
            print(f"  {name}: {gc_report(gc_before[name], gc_figures(stack.ports[name]))}")
        for name in ("web1", "web2"):
            print_profile(f"py-spy, {name}", stack.root / f"spy-{name}.txt")

        if args.no_faults:
            return 0
        faults: list[Fault] = []
        fault_seconds = int(3 * (outage + gap) + gap + 25)
        log(f"faults during load at {target:.0f} req/s, {fault_seconds} s")
        scheduler = threading.Thread(target=fault_schedule, args=(stack, faults, outage, gap))
        scheduler.start()
        faulty = run_locust(
            stack,
            users=users,
            seconds=fault_seconds,
            user_rate=target / users,
            subscribers=subscribers,
            tag="faults",
        )
        scheduler.join()
        print_load(f"Load during the faults (whole run; {load_average()})", faulty)
        print_faults(faulty, faults)

        after = data_counts(stack)
        runs = (alone, saturation, load, faulty)
        acked = [a for run in runs for a in run.acked]
        print("\n## Data intact")
        print(f"{'rows':<16} {'before':>8} {'after':>8}")
        for key in before:
            print(f"{key:<16} {before[key]:>8} {after[key]:>8}")
        for name, table in (
            ("recordInteraction", "interactions"),
            ("createInvitation", "invitations"),
        ):
            count = sum(1 for a in acked if a["name"] == name)
            print(f"acknowledged {name}: {count}; new {table} rows: {after[table] - before[table]}")
        missing = missing_acknowledged(stack, acked)
        print(
            "acknowledged writes not stored: "
            + ", ".join(f"{k} {v}" for k, v in missing.items())
            + (
                " — every acknowledged write is stored"
                if not any(missing.values())
                else " — WRITES LOST"
            )
        )
        audit = subprocess.run(
            [PYTHON, "manage.py", "verify_audit_chain"],
            cwd=BASE_DIR,
            env=stack.env,
            capture_output=True,
            text=True,
            check=False,
        )
        print(
            f"verify_audit_chain: exit {audit.returncode} — "
            f"{(audit.stdout or audit.stderr).strip().splitlines()[-1:]}"
        )
    finally:
        teardown(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
