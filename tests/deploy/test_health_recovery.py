"""``/health`` after its Redis is killed and restarted: a private ``redis-server`` (its own port
from ``LIVE_PORTS``) behind a real server process with live GraphQL subscribers and the demo ticker
publishing. While Redis is down ``/health`` is 503 naming the cache and the channel layer (the
database still answers); once it is back, ``/health`` is 200 again by itself within
``RECOVERY_BOUND`` seconds (a bound for a loaded machine: bench/load_fault.py prints the measured
time; it used to stay 503 for a minute) and a new subscriber gets price updates again."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.realtime.live_servers import DaphneServer, PrivateRedis, ticking

RECOVERY_BOUND = 20.0
SUBSCRIPTION = "subscription { priceUpdates { offerId newPricePerHour } }"


def health(port: int) -> tuple[int, list[str]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return answer.status, json.loads(answer.read())["failing"]
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["failing"]
    except (urllib.error.URLError, OSError):
        return 0, []


def first_update(port: int) -> dict[str, Any]:
    with connect(
        f"ws://127.0.0.1:{port}/graphql/",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        open_timeout=10,
    ) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=15))
            assert message["type"] == "next", message
            if message["payload"].get("data"):
                return message["payload"]["data"]["priceUpdates"]
            # a notice (LIVE_UPDATES_DEGRADED / _RESUMED, data null) while the server rejoins
            codes = [e["extensions"]["code"] for e in message["payload"]["errors"]]
            assert set(codes) <= {"LIVE_UPDATES_DEGRADED", "LIVE_UPDATES_RESUMED"}, message
        raise AssertionError("no price update within 20 s")


@pytest.fixture
def server_on_private_redis(transactional_db) -> Iterator[tuple[DaphneServer, PrivateRedis]]:
    from tests.realtime.helpers import make_offers

    make_offers(6)
    redis = PrivateRedis()
    redis.start()
    server = DaphneServer(
        REDIS_URL=redis.url,
        **ticking(0.3),
        WS_ALLOW_ANONYMOUS=1,
    ).start()
    try:
        yield server, redis
    finally:
        server.stop()
        redis.kill()


def wait_for(predicate: Any, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def test_health_recovers_by_itself_after_redis_is_killed_and_restarted(server_on_private_redis):
    server, redis = server_on_private_redis
    assert wait_for(lambda: health(server.port) == (200, []), 30) is not None, server.log_text()
    assert first_update(server.port)["offerId"]  # live path through Redis works

    redis.kill()
    assert wait_for(lambda: health(server.port)[0] == 503, 15) is not None
    status, failing = health(server.port)
    assert status == 503 and set(failing) == {"cache", "channel_layer"}  # database still fine
    # Probes keep coming while Redis is down (each one fails and gives up)
    for _ in range(5):
        assert health(server.port)[0] == 503
        time.sleep(0.3)

    redis.start()
    recovered = wait_for(lambda: health(server.port) == (200, []), RECOVERY_BOUND)
    assert recovered is not None, f"/health still {health(server.port)} after {RECOVERY_BOUND}s"
    assert first_update(server.port)["offerId"]  # and subscribers get prices again
