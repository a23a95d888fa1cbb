"""No delivery is lost in the fan-out, counted (not timed), at a moderate subscriber count.

The regression behind these tests: a 1,000-subscriber run of ``bench/live_bench.py`` received
about a fifth of the expected deliveries. Every ``subscribe`` counts against the tenant's request
rate (``apps/websocket_gateway/admission.py``); the bench's tenant kept the default 10 requests/s,
so most subscriptions were refused with ``RATE_LIMITED`` and the bench counted what they never
received as lost. Here:

* every admitted subscriber of a tenant whose rate admits them receives *every* matching change,
  exactly once (GraphQL ``priceUpdates``, ``priceUpdateBatches`` and the legacy ``/ws/`` feed,
  filtered and not, through the process's hub and the channel layer);
* a subscriber refused by the rate limit is *told* (``RATE_LIMITED`` with ``retryAfter``), and
  once it subscribes again it receives everything too: nobody is dropped silently;
* across processes (``services``: the Redis channel layer): subscribers spread over two server
  processes receive every change committed by a third, exactly once each.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from apps.websocket_gateway.groups import ALL_PRICES_GROUP, gpu_model_group
from apps.websocket_gateway.hub import price_hub
from tests.realtime.helpers import (
    GraphQLTransportClient,
    make_offers,
    offer_change,
    publish,
    wait_for_group,
)
from tests.realtime.live_servers import DaphneServer, manage

MODELS = ["H100 SXM 80GB", "A100 SXM 80GB", "RTX 4090"]
FIELDS = "offerId gpuModel newPricePerHour"
SINGLE = (
    f"subscription P($filter: PriceUpdateFilter) {{ priceUpdates(filter: $filter) {{ {FIELDS} }} }}"
)
BATCHES = (
    "subscription B($filter: PriceUpdateFilter) "
    f"{{ priceUpdateBatches(filter: $filter) {{ updates {{ {FIELDS} }} }} }}"
)
#: How long a scenario may wait for its counts before it fails (a bound, not the measure).
SETTLE_SECONDS = 30.0
QUIET_SECONDS = 5.0


def _token(user: Any) -> str:
    from apps.auth_app.services import issue_tokens

    return str(issue_tokens(user)["access_token"])


def _tenant_user(make_user: Any, *, rps: int, ws_limit: int) -> Any:
    user = make_user(tenant=f"fanout-{rps}")
    user.tenant.rate_limit_rps = rps
    user.tenant.ws_limit = ws_limit
    user.tenant.save(update_fields=["rate_limit_rps", "ws_limit"])
    return user


def _model_of(index: int) -> str | None:
    """Half the subscribers take everything, the others one of three GPU models."""
    return None if index % 2 == 0 else MODELS[(index // 2) % 3]


def _bursts(count: int, size: int) -> list[list[Any]]:
    """``count`` bursts of ``size`` changes over the three models, every (offer, price) unique."""
    bursts = []
    for burst in range(count):
        changes = []
        for i in range(size):
            n = burst * size + i
            changes.append(
                offer_change(
                    f"00000000-0000-0000-0000-{n:012d}",
                    gpu_model=MODELS[n % 3],
                    new=f"{1 + n / 100:.4f}",
                )
            )
        bursts.append(changes)
    return bursts


def _keys_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(offer id, new price) of every update a ``next`` or ``price_update`` message carries."""
    if message.get("type") == "price_update":
        return [(message["data"]["offer_id"], message["data"]["new_price_per_hour"])]
    data = message["payload"]["data"]
    updates = (
        data["priceUpdateBatches"]["updates"]
        if "priceUpdateBatches" in data
        else [data["priceUpdates"]]
    )
    return [(u["offerId"], u["newPricePerHour"]) for u in updates]


class InProcessSubscriber:
    """One GraphQL subscriber over Channels' communicator; retries RATE_LIMITED refusals."""

    def __init__(self, token: str, gpu_model: str | None, query: str) -> None:
        self.client = GraphQLTransportClient()
        self.token, self.gpu_model, self.query = token, gpu_model, query
        self.received: Counter[tuple[str, str]] = Counter()
        self.refusals = 0

    async def start(self) -> None:
        answer = await self.client.init({"Authorization": f"Bearer {self.token}"})
        assert answer == {"type": "connection_ack"}, answer
        await self.subscribe()

    async def subscribe(self) -> None:
        variables = {"filter": {"gpuModel": self.gpu_model}} if self.gpu_model else {}
        await self.client.subscribe(str(self.refusals), query=self.query, variables=variables)

    async def admitted(self) -> None:
        """Wait until the subscription runs: a refusal comes back at once, as an ``error``."""
        while not await self.client.nothing_more(timeout=0.3):
            message = await self.client.receive()
            assert message["type"] == "error", message
            (error,) = message["payload"]
            assert error["extensions"]["code"] == "RATE_LIMITED", error
            assert error["extensions"]["retryAfter"] >= 1
            self.refusals += 1
            assert self.refusals < 30, "refused again and again"
            await asyncio.sleep(float(error["extensions"]["retryAfter"]))
            await self.subscribe()

    async def drain(self, expected: int) -> None:
        """Read until ``expected`` updates came, or none came for ``QUIET_SECONDS`` (lost ones
        never come: the caller's count comparison then shows which are missing)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while sum(self.received.values()) < expected and time.monotonic() < deadline:
            try:
                message = await self.client.receive(timeout=QUIET_SECONDS)
            except TimeoutError:
                return
            assert message["type"] == "next", message
            self.received.update(_keys_of(message))


def _expected(gpu_model: str | None, bursts: list[list[Any]]) -> Counter[tuple[str, str]]:
    return Counter(
        (c.offer_id, f"{c.new_price_per_hour:.4f}")
        for burst in bursts
        for c in burst
        if gpu_model is None or c.gpu_model == gpu_model
    )


async def _fan_out(subscribers: list[InProcessSubscriber], bursts: list[list[Any]]) -> None:
    await asyncio.gather(*(s.start() for s in subscribers))
    await asyncio.gather(*(s.admitted() for s in subscribers))
    await wait_for_group(ALL_PRICES_GROUP, 1)
    for model in MODELS:
        await wait_for_group(gpu_model_group(model), 1)
    # Every subscription is registered with this process's hub before the first publish (counted,
    # not waited for: on a loaded machine an operation task can start late).
    hub = price_hub()
    groups = [ALL_PRICES_GROUP, *(gpu_model_group(m) for m in MODELS)]
    deadline = time.monotonic() + SETTLE_SECONDS
    while sum(hub.subscriber_count(g) for g in groups) < len(subscribers):
        assert time.monotonic() < deadline, "subscriptions never reached the hub"
        await asyncio.sleep(0.02)
    for burst in bursts:
        await publish(*burst, batch_size=3)  # several channel messages per burst and group
    await asyncio.gather(
        *(s.drain(sum(_expected(s.gpu_model, bursts).values())) for s in subscribers)
    )
    for s in subscribers:
        await s.client.close()


@pytest.mark.django_db(transaction=True)
async def test_sixty_admitted_subscribers_receive_every_matching_change_exactly_once(
    make_user, settings
):
    settings.RATE_LIMIT_REQUESTS_ENABLED = True  # as in production: subscribes are counted
    user = await sync_to_async(_tenant_user)(make_user, rps=200, ws_limit=100)
    token = await sync_to_async(_token)(user)
    subscribers = [
        InProcessSubscriber(token, _model_of(i), SINGLE if i % 4 < 2 else BATCHES)
        for i in range(60)
    ]
    bursts = _bursts(10, 5)
    await _fan_out(subscribers, bursts)
    assert sum(s.refusals for s in subscribers) == 0
    for s in subscribers:
        assert s.received == _expected(s.gpu_model, bursts), (s.gpu_model, s.query)
    assert sum(sum(s.received.values()) for s in subscribers) == 30 * 50 + 30 * 50 // 3


@pytest.mark.django_db(transaction=True)
async def test_subscribers_refused_by_the_rate_limit_are_told_and_then_receive_everything(
    make_user, settings
):
    settings.RATE_LIMIT_REQUESTS_ENABLED = True
    # 10 subscribes per second for 24 subscribers sent at once: most are refused at first.
    user = await sync_to_async(_tenant_user)(make_user, rps=10, ws_limit=30)
    token = await sync_to_async(_token)(user)
    subscribers = [InProcessSubscriber(token, _model_of(i), SINGLE) for i in range(24)]
    bursts = _bursts(4, 6)
    await _fan_out(subscribers, bursts)
    assert sum(s.refusals for s in subscribers) >= 24 - 10
    for s in subscribers:
        assert s.received == _expected(s.gpu_model, bursts)


@pytest.mark.django_db(transaction=True)
async def test_legacy_feed_subscribers_receive_every_matching_change_exactly_once(make_user):
    from gpubroker.asgi import application

    user = await sync_to_async(_tenant_user)(make_user, rps=200, ws_limit=100)
    token = await sync_to_async(_token)(user)
    feeds = []
    for i in range(30):
        model = _model_of(i)
        query = f"&gpu_model={quote(model)}" if model else ""
        feed = WebsocketCommunicator(application, f"/ws/?token={token}{query}")
        assert (await feed.connect())[0]
        assert (await feed.receive_json_from(timeout=5))["type"] == "subscribed"
        feeds.append((feed, model))
    bursts = _bursts(6, 5)
    for burst in bursts:
        await publish(*burst, batch_size=2)
    for feed, model in feeds:
        expected = _expected(model, bursts)
        received: Counter[tuple[str, str]] = Counter()
        while sum(received.values()) < sum(expected.values()):
            try:
                message = await feed.receive_json_from(timeout=QUIET_SECONDS)
            except TimeoutError:
                break
            if message["type"] == "price_update":
                received.update(_keys_of(message))
        assert received == expected
        assert await feed.receive_nothing(timeout=0.1)
        await feed.disconnect()


# --- across processes ----------------------------------------------------------------------


@pytest.fixture
def two_fresh_servers(transactional_db):
    servers = [
        DaphneServer(DEMO_TICKER=0, WS_ALLOW_ANONYMOUS=0, LOG_LEVEL="WARNING").start()
        for _ in range(2)
    ]
    yield servers
    for server in servers:
        server.stop()


class RemoteSubscriber:
    def __init__(self, url: str, token: str, gpu_model: str | None) -> None:
        self.url, self.token, self.gpu_model = url, token, gpu_model
        self.received: Counter[tuple[str, str]] = Counter()
        self.errors: list[dict[str, Any]] = []
        self.ws: Any = None

    async def start(self) -> None:
        self.ws = await connect(
            self.url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=30
        )
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
        await self.ws.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(self.ws.recv(), 30))["type"] == "connection_ack"
        variables = {"filter": {"gpuModel": self.gpu_model}} if self.gpu_model else {}
        subscribe = {"query": SINGLE, "variables": variables}
        await self.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))

    async def read(self, stop: asyncio.Event) -> None:
        reader = asyncio.ensure_future(self.ws.recv())
        stopper = asyncio.ensure_future(stop.wait())
        while True:
            done, _ = await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if reader not in done:
                reader.cancel()
                await self.ws.close()
                return
            message = json.loads(reader.result())
            if message["type"] == "next" and "data" in message["payload"]:
                self.received.update(_keys_of(message))
            else:
                self.errors.append(message)
            reader = asyncio.ensure_future(self.ws.recv())


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_hundred_subscribers_on_two_servers_receive_every_committed_change(
    two_fresh_servers, make_user
):
    user = _tenant_user(make_user, rps=200, ws_limit=150)
    token = _token(user)
    make_offers(12)  # sample-data offers over the three models: publish_price_change --random
    urls = [f"{server.url}/graphql/" for server in two_fresh_servers]
    subscribers = [RemoteSubscriber(urls[i % 2], token, _model_of(i // 2)) for i in range(100)]

    async def scenario() -> list[dict[str, Any]]:
        for start in range(0, len(subscribers), 20):
            await asyncio.gather(*(s.start() for s in subscribers[start : start + 20]))
        stop = asyncio.Event()
        readers = [asyncio.create_task(s.read(stop)) for s in subscribers]
        # Each server's hub joins each group once.
        await wait_for_group(ALL_PRICES_GROUP, 2, timeout=30)
        for model in MODELS:
            await wait_for_group(gpu_model_group(model), 2, timeout=30)
        await asyncio.sleep(1)  # the last subscribes are past admission
        output = await asyncio.to_thread(
            manage, "publish_price_change", "--random", "5", "--bursts", "6", "--interval", "0.3"
        )
        published = [c for line in output.splitlines() for c in json.loads(line)["changes"]]
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline and any(
            sum(s.received.values()) < _remote_expected(s, published) for s in subscribers
        ):
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # any duplicate would arrive now
        stop.set()
        await asyncio.gather(*readers)
        return published

    published = asyncio.run(scenario())
    assert len(published) == 30
    assert [s.errors for s in subscribers if s.errors] == []
    for s in subscribers:
        expected = Counter(
            (c["offer_id"], c["new_price_per_hour"])
            for c in published
            if s.gpu_model is None or c["gpu_model"] == s.gpu_model
        )
        assert s.received == expected, s.url


def _remote_expected(subscriber: RemoteSubscriber, published: list[dict[str, Any]]) -> int:
    return sum(
        1
        for c in published
        if subscriber.gpu_model is None or c["gpu_model"] == subscriber.gpu_model
    )
