"""deploy/nginx.conf with Debian's nginx (``make browser`` installs it) in front of two real server
processes (seed D10): ``nginx -t`` accepts it, and REST, GraphQL over HTTP, GraphQL subscriptions
and the legacy ``/ws/`` feed all work through it, spread over both processes, with no query string
(the ``/ws/`` token) in nginx's access log and ``/metrics`` not exposed.

Only what cannot work outside compose is replaced in the copy that runs: the upstream addresses
(``web1:8000``/``web2:8000`` → the two test servers), the listen port, log and pid paths."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.conftest import services_required
from tests.realtime.live_servers import BASE_DIR, DaphneServer, free_port, ticking

NGINX_CONF = BASE_DIR / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        if services_required():
            pytest.fail("nginx is not installed (required under REQUIRE_SERVICES=1: make browser)")
        pytest.skip("nginx is not installed")
    return found


def runnable_copy(directory: Path, upstreams: list[int], port: int) -> Path:
    text = NGINX_CONF.read_text()
    for name, upstream in zip(("web1", "web2"), upstreams, strict=True):
        text, count = re.subn(rf"server {name}:8000\b", f"server 127.0.0.1:{upstream}", text)
        assert count == 2, name  # the HTTP pool and the WebSocket pool
    text, count = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    assert count == 1
    text = text.replace("pid /tmp/nginx.pid;", f"pid {directory}/nginx.pid;")
    text = text.replace("error_log /dev/stderr warn;", f"error_log {directory}/error.log warn;")
    text = text.replace(
        "access_log /dev/stdout noquery;", f"access_log {directory}/access.log noquery;"
    )
    temp = "".join(
        f"    {kind}_temp_path {directory}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = text.replace("http {\n", "http {\n" + temp, 1)
    if os.geteuid() == 0:  # workers would otherwise run as nobody, unable to use the temp dirs
        text = "user root;\n" + text
    target = directory / "nginx.conf"
    target.write_text(text)
    return target


def test_nginx_accepts_the_config(tmp_path):
    conf = runnable_copy(tmp_path, [free_port(), free_port()], free_port())
    result = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


@pytest.fixture
def routed(transactional_db, tmp_path, make_user) -> Iterator[dict[str, Any]]:
    from apps.auth_app.services import issue_tokens

    # before any server starts: a skip after it would leave both servers running
    nginx_path = nginx_binary()
    from tests.realtime.helpers import make_offers

    make_offers(6)
    user = make_user("nginx@acme.example", tenant="Nginx Acme")
    user.tenant.ws_limit = 10
    user.tenant.save(update_fields=["ws_limit"])
    token = issue_tokens(user)["access_token"]
    # Both processes tick (the in-memory channel layer of the embedded run does not cross
    # processes; with Redis every event reaches both anyway).
    with ExitStack() as running:  # whatever started stops, however the setup ends
        servers = []
        for _ in range(2):
            server = DaphneServer(
                **ticking(0.4),
                WS_ALLOW_ANONYMOUS=0,
                TRUSTED_PROXY_COUNT=1,
            )
            running.callback(server.stop)
            servers.append(server.start())
        port = free_port()
        conf = runnable_copy(tmp_path, [s.port for s in servers], port)
        nginx = subprocess.Popen(
            [nginx_path, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        running.callback(nginx.wait, 10)
        running.callback(nginx.terminate)
        base = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://{base}/health", timeout=3)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        yield {"base": base, "token": token, "servers": servers, "dir": tmp_path}


def get(url: str, **headers: str) -> tuple[int, Message, bytes]:
    """Status, headers (case-insensitive, as HTTP header names are: uvicorn sends them in lower
    case and nginx passes them on as they came) and body."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


async def graphql_subscription(base: str, token: str) -> dict[str, Any]:
    async with connect(
        f"ws://{base}/graphql/", subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        query = "subscription { priceUpdates { offerId newPricePerHour } }"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 15))
        assert message["type"] == "next", message
        return message["payload"]["data"]["priceUpdates"]


async def legacy_feed(base: str, token: str) -> dict[str, Any]:
    async with connect(f"ws://{base}/ws/?token={token}", open_timeout=10) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "subscribed"
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 15))
            if message["type"] == "price_update":
                return message["data"]


def test_rest_graphql_and_both_websockets_through_nginx(routed):
    base, token = routed["base"], routed["token"]
    trace_ids = []
    for path in ("/api/v2/providers?per_page=2",) * 6 + ("/api/v2/nowhere", "/", "/health"):
        status, headers, body = get(f"http://{base}{path}")
        if path.startswith("/api/v2/providers"):
            assert status == 200 and json.loads(body)["total"] == 6
        # every response carries nginx's $request_id as its trace id (X-Request-ID upstream)
        assert re.match(r"^[0-9a-f]{32}$", headers.get("X-Trace-Id", "")), headers.items()
        trace_ids.append(headers["X-Trace-Id"])
    assert len(set(trace_ids)) == len(trace_ids)
    request = urllib.request.Request(
        f"http://{base}/graphql/",
        data=json.dumps({"query": "{ me { email } }"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["data"]["me"]["email"] == "nginx@acme.example"
        assert re.match(r"^[0-9a-f]{32}$", answer.headers.get("X-Trace-Id", ""))
        trace_ids.append(answer.headers["X-Trace-Id"])
    assert get(f"http://{base}/metrics")[0] == 404
    assert get(f"http://{base}/")[0] == 200

    update = asyncio.run(graphql_subscription(base, token))
    assert update["offerId"] and update["newPricePerHour"]
    change = asyncio.run(legacy_feed(base, token))
    assert change["offer_id"]

    # least_conn spread the requests over both processes
    for server in routed["servers"]:
        assert "/api/v2/providers" in server.log_text()
    access = (routed["dir"] / "access.log").read_text()
    assert '"GET /ws/ HTTP/1.1" 101' in access and '"GET /graphql/ HTTP/1.1" 101' in access
    assert "token=" not in access and token not in access
    # the id in the response is the one nginx logged for that request
    assert all(f" {trace_id}\n" in access for trace_id in trace_ids)
