"""Live subscribers are told when price events cannot reach them, and when they flow again.

When a server process cannot reach the channel layer (Redis), its hub
(``apps/websocket_gateway/hub.py``) sends every local subscriber a notice:

* GraphQL ``priceUpdates`` / ``priceUpdateBatches``: a ``next`` message with ``data: null`` and one
  error, code ``LIVE_UPDATES_DEGRADED``; then ``LIVE_UPDATES_RESUMED`` once the hub has joined its
  groups again. The subscription stays open throughout.
* ``/ws/``: ``{"type": "status", "status": "degraded" | "recovered", "code": …}``.

In-process with a channel layer made to fail on demand, and against a real server process with a
private ``redis-server`` (a port from ``LIVE_PORTS``) that the test kills and restarts.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from apps.websocket_gateway import hub as hub_module
from apps.websocket_gateway.groups import ALL_PRICES_GROUP
from tests.realtime.helpers import (
    SUBSCRIBE_PRICES,
    GraphQLTransportClient,
    make_offers,
    offer_change,
    publish,
    wait_for_group,
)
from tests.realtime.live_servers import DaphneServer, PrivateRedis, manage

pytestmark = pytest.mark.django_db(transaction=True)

BATCHES = "subscription { priceUpdateBatches { updates { offerId newPricePerHour } } }"


class SwitchableLayer:
    """The real channel layer, except that while ``down`` is set every call fails as an
    unreachable Redis does (a pending ``receive`` is interrupted with ConnectionError)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.down = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.layer, name)

    def _check(self) -> None:
        if self.down.is_set():
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def group_add(self, group: str, channel: str) -> None:
        self._check()
        await self.layer.group_add(group, channel)

    async def receive(self, channel: str) -> Any:
        self._check()
        reading = asyncio.ensure_future(self.layer.receive(channel))
        failing = asyncio.ensure_future(self.down.wait())
        try:
            done, _ = await asyncio.wait({reading, failing}, return_when=asyncio.FIRST_COMPLETED)
        finally:  # cancelled too (the hub restarts its reader): no orphan receive
            failing.cancel()
            if not reading.done():
                reading.cancel()
        if reading in done:
            return reading.result()
        self._check()


@pytest.fixture
def switchable_layer(monkeypatch):
    layer = SwitchableLayer(get_channel_layer())
    monkeypatch.setattr(hub_module, "get_channel_layer", lambda: layer)
    return layer


def _error_code(message: dict[str, Any]) -> str:
    assert message["type"] == "next", message
    payload = message["payload"]
    assert payload["data"] is None, payload
    (error,) = payload["errors"]
    return str(error["extensions"]["code"])


async def _feed_status(feed: WebsocketCommunicator) -> dict[str, Any]:
    while True:
        message = await feed.receive_json_from(timeout=10)
        if message["type"] == "status":
            return message
        assert message["type"] == "heartbeat", message


async def test_subscribers_are_told_of_the_outage_and_of_the_recovery(switchable_layer, make_user):
    from apps.auth_app.services import issue_tokens
    from gpubroker.asgi import application

    user = await sync_to_async(make_user)(tenant="Outage Acme")
    token = (await sync_to_async(issue_tokens)(user))["access_token"]
    single = GraphQLTransportClient()
    assert await single.init({"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
    await single.subscribe("prices")
    batches = GraphQLTransportClient()
    assert await batches.init({"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
    await batches.subscribe("batches", query=BATCHES)
    feed = WebsocketCommunicator(application, f"/ws/?token={token}")
    assert (await feed.connect())[0]
    assert (await feed.receive_json_from(timeout=5))["type"] == "subscribed"
    await wait_for_group(ALL_PRICES_GROUP, 1)

    switchable_layer.down.set()  # Redis gone
    assert _error_code(await single.receive(timeout=10)) == "LIVE_UPDATES_DEGRADED"
    assert _error_code(await batches.receive(timeout=10)) == "LIVE_UPDATES_DEGRADED"
    degraded = await _feed_status(feed)
    assert degraded["status"] == "degraded" and degraded["code"] == "LIVE_UPDATES_DEGRADED"
    assert degraded["since"] <= degraded["timestamp"]
    # Told once per outage, not once per retry.
    await asyncio.sleep(2.5)
    assert await single.nothing_more(timeout=0.2)
    # Whoever subscribes during the outage learns it at once.
    late = GraphQLTransportClient()
    assert await late.init({"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
    await late.subscribe("late")
    assert _error_code(await late.receive(timeout=5)) == "LIVE_UPDATES_DEGRADED"

    switchable_layer.down.clear()  # Redis back (the hub rejoins its groups, then tells)
    for client in (single, batches, late):
        assert _error_code(await client.receive(timeout=10)) == "LIVE_UPDATES_RESUMED"
    recovered = await _feed_status(feed)
    assert recovered["status"] == "recovered" and recovered["code"] == "LIVE_UPDATES_RESUMED"
    assert "since" not in recovered

    # The subscriptions stayed open: the next change reaches all of them.
    await publish(offer_change("after-outage", new="1.2345"))
    for client in (single, late):
        message = await client.receive(timeout=10)
        assert message["payload"]["data"]["priceUpdates"]["offerId"] == "after-outage"
    message = await batches.receive(timeout=10)
    assert message["payload"]["data"]["priceUpdateBatches"]["updates"] == [
        {"offerId": "after-outage", "newPricePerHour": "1.2345"}
    ]
    update = await feed.receive_json_from(timeout=10)
    assert update["type"] == "price_update" and update["data"]["offer_id"] == "after-outage"
    for client in (single, batches, late):
        await client.close()
    await feed.disconnect()


# --- a real server and a real Redis, killed and restarted ------------------------------------


@pytest.fixture
def private_redis():
    redis = PrivateRedis().start()
    yield redis
    redis.kill()


async def _next_message(ws: ClientConnection, timeout: float = 15) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def _feed_status_remote(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message = await _next_message(ws)
        if message["type"] == "status":
            return message


def test_real_redis_killed_and_restarted_subscribers_told_both_ways(private_redis, make_user):
    from apps.auth_app.services import issue_tokens

    token = issue_tokens(make_user(tenant="Redis Outage Acme"))["access_token"]
    offer = make_offers(3, sample=False)[0]
    server = DaphneServer(
        REDIS_URL=private_redis.url, DEMO_TICKER=0, WS_ALLOW_ANONYMOUS=0, LOG_LEVEL="WARNING"
    ).start()
    try:

        async def scenario() -> None:
            gql = await connect(
                f"{server.url}/graphql/",
                subprotocols=[Subprotocol("graphql-transport-ws")],
                open_timeout=15,
            )
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await gql.send(json.dumps(init))
            assert (await _next_message(gql))["type"] == "connection_ack"
            subscribe = {"query": SUBSCRIBE_PRICES, "variables": {}}
            await gql.send(json.dumps({"id": "p", "type": "subscribe", "payload": subscribe}))
            feed = await connect(f"{server.url}/ws/?token={token}", open_timeout=15)
            assert (await _next_message(feed))["type"] == "subscribed"

            private_redis.kill()
            assert _error_code(await _next_message(gql)) == "LIVE_UPDATES_DEGRADED"
            assert (await _feed_status_remote(feed))["status"] == "degraded"

            private_redis.start()  # the same port, empty: the hub must join its groups again
            assert _error_code(await _next_message(gql)) == "LIVE_UPDATES_RESUMED"
            assert (await _feed_status_remote(feed))["status"] == "recovered"

            # Events flow again: a change committed by another process reaches both.
            await asyncio.to_thread(
                manage,
                "publish_price_change",
                "--offer",
                str(offer.pk),
                "--price",
                "4.2424",
                REDIS_URL=private_redis.url,
            )
            message = await _next_message(gql)
            assert message["payload"]["data"]["priceUpdates"]["newPricePerHour"] == "4.2424"
            while (update := await _next_message(feed))["type"] != "price_update":
                pass
            assert update["data"]["new_price_per_hour"] == "4.2424"
            await gql.close()
            await feed.close()

        try:
            asyncio.run(scenario())
        except BaseException:
            print(server.log_text()[-6000:])  # shown with the failure
            raise
    finally:
        server.stop()


async def test_a_group_that_cannot_be_joined_degrades_then_recovers_with_a_healthy_reader(
    switchable_layer, make_user, monkeypatch
):
    """Redis answers reads but one group_add fails: the new subscriber is told, and the hub still
    joins the group and recovers although no event wakes its blocked reader."""
    from apps.auth_app.services import issue_tokens

    token = (await sync_to_async(issue_tokens)(await sync_to_async(make_user)()))["access_token"]
    first = GraphQLTransportClient()
    assert await first.init({"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
    await first.subscribe("all")
    await wait_for_group(ALL_PRICES_GROUP, 1)
    real_group_add = switchable_layer.layer.group_add
    failures = iter([ConnectionError("group_add failed")])

    async def flaky_group_add(group: str, channel: str) -> None:
        error = next(failures, None)
        if error is not None:
            raise error
        await real_group_add(group, channel)

    monkeypatch.setattr(switchable_layer, "group_add", flaky_group_add)
    second = GraphQLTransportClient()
    assert await second.init({"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
    await second.subscribe("h100", variables={"filter": {"gpuModel": "H100 SXM 80GB"}})
    assert _error_code(await second.receive(timeout=10)) == "LIVE_UPDATES_DEGRADED"
    assert _error_code(await first.receive(timeout=10)) == "LIVE_UPDATES_DEGRADED"
    assert _error_code(await second.receive(timeout=10)) == "LIVE_UPDATES_RESUMED"
    assert _error_code(await first.receive(timeout=10)) == "LIVE_UPDATES_RESUMED"
    await publish(offer_change("joined-late", gpu_model="H100 SXM 80GB"))
    message = await second.receive(timeout=10)
    assert message["payload"]["data"]["priceUpdates"]["offerId"] == "joined-late"
    await first.close()
    await second.close()
