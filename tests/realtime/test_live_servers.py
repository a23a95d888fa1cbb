"""Against real server processes: daphne on 127.0.0.1 (ports 18700-18799) with a real WebSocket
client library (``websockets``), sharing the test database (and Redis when configured).

* one server with the demo ticker: end-to-end GraphQL subscription and ``/ws/`` feed fed by real
  committed changes, in-process fan-out, abrupt client drops, token redaction in the access log;
* ``services`` tests (two servers + a publisher process, a killed server): need the Redis channel
  layer, since the in-memory layer cannot cross processes. They run whenever ``REDIS_URL`` is
  set and always under ``REQUIRE_SERVICES=1`` (failing if Redis is down); on the embedded default
  they are deselected (see conftest).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from apps.providers.models import PriceHistory
from apps.websocket_gateway.groups import ALL_PRICES_GROUP, gpu_model_group
from tests.realtime.helpers import SUBSCRIBE_PRICES, make_offers, wait_for_group
from tests.realtime.live_servers import DaphneServer, manage, ticking

PRESENCE_TTL = 3.0
GRAPHQL_WS = [Subprotocol("graphql-transport-ws")]
LIVE_ENV = {"WS_PRESENCE_TTL_SECONDS": PRESENCE_TTL, "WS_ALLOW_ANONYMOUS": 0}


@pytest.fixture
def ticker_server(transactional_db):
    # Per test, and set up after the test database: it stops before the database is flushed
    # (a ticker still writing deadlocks the flush on PostgreSQL) and before other servers'
    # tests run (its demo changes would reach their unfiltered subscribers). The ticker
    # mechanism is tested with the light in-place tick; the replay tick (the development
    # default) is tested in tests/providers/test_commands.py.
    server = DaphneServer(
        **ticking(0.3),
        **LIVE_ENV,
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def two_servers(django_db_setup):
    servers = [DaphneServer(DEMO_TICKER=0, **LIVE_ENV).start() for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def tenant_token(transactional_db, make_user):
    """An access token of a user whose tenant's plan allows 3 open WebSocket connections."""
    from apps.auth_app.services import issue_tokens

    user = make_user("live@acme.example", tenant="Live Acme")
    user.tenant.ws_limit = 3
    user.tenant.save(update_fields=["ws_limit"])
    return issue_tokens(user)["access_token"]


async def graphql_subscribe(
    server: DaphneServer, token: str, variables: dict[str, Any] | None = None
) -> ClientConnection:
    ws = await connect(
        f"{server.url}/graphql/",
        subprotocols=GRAPHQL_WS,
        open_timeout=10,
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "connection_ack"}
    await ws.send(
        json.dumps(
            {
                "id": "prices",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE_PRICES, "variables": variables or {}},
            }
        )
    )
    return ws


async def next_update(
    ws: ClientConnection, timeout: float = 10, offer_id: str | None = None
) -> dict[str, Any]:
    """The next update (for ``offer_id`` only, when given: other servers of this module, such as
    the ticker server, publish through the same Redis)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert message["type"] == "next", message
        update = message["payload"]["data"]["priceUpdates"]
        if offer_id is None or update["offerId"] == offer_id:
            return update


async def open_feed(server: DaphneServer, token: str, query: str = "") -> ClientConnection:
    ws = await connect(f"{server.url}/ws/?token={token}{query}", open_timeout=10)
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "subscribed"
    return ws


async def next_feed_update(
    ws: ClientConnection, timeout: float = 10, offer_id: str | None = None
) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == "price_update" and offer_id in (None, message["data"]["offer_id"]):
            return message["data"]


async def refused_code(feed: Any) -> int | None:
    """Await an ``open_feed(...)``: the close code the server refused it with, or ``None`` when
    it was admitted (then closed again)."""
    try:
        ws = await feed
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    await ws.close()
    return None


async def graphql_init(server: DaphneServer, token: str) -> ClientConnection:
    ws = await connect(
        f"{server.url}/graphql/",
        subprotocols=GRAPHQL_WS,
        open_timeout=10,
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    return ws


@pytest.mark.django_db(transaction=True)
def test_live_subscription_and_feed_receive_committed_demo_changes(ticker_server, tenant_token):
    """End to end on one server: the demo ticker commits real changes; a GraphQL subscriber and a
    /ws/ subscriber on the same process both receive them (in-process fan-out)."""
    make_offers(6)

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        gql = await graphql_subscribe(ticker_server, tenant_token)
        feed = await open_feed(ticker_server, tenant_token)
        updates = [await next_update(gql) for _ in range(9)]
        feed_updates = [await next_feed_update(feed) for _ in range(9)]
        await gql.close()
        await feed.close()
        return updates, feed_updates

    updates, feed_updates = asyncio.run(scenario())
    for update in updates:
        # Committed before it was published: the history row with this price exists.
        assert PriceHistory.objects.filter(
            offer_id=update["offerId"], price_per_hour=Decimal(update["newPricePerHour"])
        ).exists()
    seen_by_gql = {(u["offerId"], u["newPricePerHour"]) for u in updates}
    seen_by_feed = {(u["offer_id"], u["new_price_per_hour"]) for u in feed_updates}
    assert seen_by_gql & seen_by_feed


@pytest.mark.django_db(transaction=True)
def test_abrupt_client_drop_frees_the_slot(ticker_server, tenant_token):
    async def scenario() -> None:
        held = [
            await graphql_subscribe(ticker_server, tenant_token),
            await open_feed(ticker_server, tenant_token),
            await open_feed(ticker_server, tenant_token),
        ]
        assert await refused_code(open_feed(ticker_server, tenant_token)) == 4429
        held[0].transport.abort()  # TCP gone, no close frame
        deadline = time.monotonic() + 10
        while (code := await refused_code(open_feed(ticker_server, tenant_token))) == 4429:
            assert time.monotonic() < deadline, "the dropped connection's slot was never freed"
            await asyncio.sleep(0.1)
        assert code is None
        for ws in held[1:]:
            await ws.close()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_bad_tokens_close_4401_and_are_never_logged(ticker_server, tenant_token):
    secret = "SECRET-" + "x" * 40

    async def scenario() -> None:
        assert await refused_code(open_feed(ticker_server, secret)) == 4401
        ws = await graphql_init(ticker_server, secret)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    asyncio.run(scenario())
    # A plain HTTP request to the feed URL (no upgrade) goes through daphne's HTTP access log.
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(
            f"http://127.0.0.1:{ticker_server.port}/ws/?token={secret}", timeout=5
        )
    time.sleep(0.3)
    log = ticker_server.log_text()
    assert "/ws/" in log and "token=[redacted]" in log
    assert secret not in log


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_change_committed_by_another_process_reaches_subscribers_on_both_servers(
    two_servers, tenant_token
):
    server_a, server_b = two_servers
    offer = make_offers(3, sample=False)[0]

    async def scenario() -> list[Any]:
        # Each server process joins a group once (its hub), whatever its local subscribers.
        gql_b = await graphql_subscribe(server_b, tenant_token)
        await wait_for_group(ALL_PRICES_GROUP, 1, timeout=10)  # B's hub, for gql_b
        feed_b = await open_feed(server_b, tenant_token)  # "subscribed" = registered
        variant = {"filter": {"gpuModel": "h100 sxm"}}  # a family name would join all prices
        gql_a = await graphql_subscribe(server_a, tenant_token, variant)
        await wait_for_group(gpu_model_group(offer.gpu_type), 1, timeout=10)  # A's hub
        output = await asyncio.to_thread(
            manage, "publish_price_change", "--offer", str(offer.pk), "--price", "3.1415"
        )
        assert json.loads(output)["changes"][0]["offer_id"] == str(offer.pk)
        received = [
            await next_update(gql_a, offer_id=str(offer.pk)),
            await next_update(gql_b, offer_id=str(offer.pk)),
            await next_feed_update(feed_b, offer_id=str(offer.pk)),
        ]
        for ws in (gql_a, gql_b, feed_b):
            await ws.close()
        return received

    on_a, on_b, on_feed_b = asyncio.run(scenario())
    assert on_a["offerId"] == on_b["offerId"] == on_feed_b["offer_id"] == str(offer.pk)
    assert on_a["newPricePerHour"] == on_b["newPricePerHour"] == "3.1415"
    assert on_feed_b["new_price_per_hour"] == "3.1415"
    assert on_a["oldPricePerHour"] == "1.5000"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_limit_counts_across_servers_and_a_killed_servers_slots_expire(two_servers, tenant_token):
    _, server_b = two_servers
    doomed = DaphneServer(DEMO_TICKER=0, **LIVE_ENV).start()
    try:

        async def scenario() -> None:
            await open_feed(doomed, tenant_token)
            await graphql_subscribe(doomed, tenant_token)
            held_b = await open_feed(server_b, tenant_token)
            # 3 open over two processes: the tenant's limit.
            assert await refused_code(open_feed(server_b, tenant_token)) == 4429
            doomed.kill()  # SIGKILL: no disconnect handlers run, nothing is released
            killed_at = time.monotonic()
            assert await refused_code(open_feed(server_b, tenant_token)) == 4429
            while (code := await refused_code(open_feed(server_b, tenant_token))) == 4429:
                assert time.monotonic() - killed_at < PRESENCE_TTL + 5, "slots leaked"
                await asyncio.sleep(0.2)
            assert code is None
            assert time.monotonic() - killed_at > PRESENCE_TTL / 3
            await held_b.close()

        asyncio.run(scenario())
    finally:
        doomed.stop()
