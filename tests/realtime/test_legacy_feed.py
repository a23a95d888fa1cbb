"""The legacy ``/ws/`` price feed (seed D5) through the real ASGI app."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from apps.websocket_gateway.groups import ALL_PRICES_GROUP, gpu_model_group
from gpubroker.asgi import application
from tests.realtime.helpers import offer_change, publish, wait_for_group

# Channels closes stale DB connections on every consumer dispatch: these tests need DB access,
# from the consumer's threads, so transactional.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def anonymous_allowed(settings):
    settings.WS_ALLOW_ANONYMOUS = True


async def open_feed(path: str = "/ws/", headers=None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_price_update_messages_carry_the_offer_data(anonymous_allowed):
    feed = await open_feed()
    subscribed = await feed.receive_json_from()
    assert subscribed["type"] == "subscribed"
    assert subscribed["filter"]["gpu_model"] is None
    await wait_for_group(ALL_PRICES_GROUP, 1)
    await publish(offer_change("o-1", gpu_count=4, old="8.0000", new="6.0000"))
    message = await feed.receive_json_from()
    assert message["type"] == "price_update"
    data = message["data"]
    assert data["offer_id"] == "o-1"
    assert data["provider"] == "runpod"
    assert data["gpu_model"] == "H100 SXM 80GB"
    assert data["old_price_per_hour"] == "8.0000"
    assert data["new_price_per_hour"] == "6.0000"
    assert data["new_price_per_gpu_hour"] == "1.5000"
    assert data["old_price_per_gpu_hour"] == "2.0000"  # computed once, in the change event
    assert data["new_availability"] == "available"
    assert data["published_at"].endswith("+00:00")
    await feed.disconnect()


async def test_query_filters_select_changes(anonymous_allowed):
    feed = await open_feed("/ws/?gpu_model=A100-SXM4-80GB&max_price_per_gpu_hour=2&spot=true")
    subscribed = await feed.receive_json_from()
    assert subscribed["filter"] == {
        "gpu_model": "A100 SXM 80GB",
        "provider": None,
        "region": None,
        "max_price_per_gpu_hour": "2",
        "spot": True,
    }
    await wait_for_group(gpu_model_group("A100 SXM 80GB"), 1)
    await publish(
        offer_change("h100", is_spot=True, new="1.0000"),
        offer_change("on-demand", gpu_model="A100 SXM 80GB", new="1.0000"),
        offer_change("dear", gpu_model="A100 SXM 80GB", is_spot=True, new="2.0100"),
        offer_change("match", gpu_model="A100 SXM 80GB", is_spot=True, new="2.0000"),
    )
    assert (await feed.receive_json_from())["data"]["offer_id"] == "match"
    assert await feed.receive_nothing(0.3)
    await feed.disconnect()


async def test_heartbeat_every_configured_interval(anonymous_allowed, settings):
    settings.WS_HEARTBEAT_SECONDS = 0.1
    feed = await open_feed()
    await feed.receive_json_from()
    beats = [await feed.receive_json_from(timeout=2) for _ in range(2)]
    assert [beat["type"] for beat in beats] == ["heartbeat", "heartbeat"]
    assert beats[0]["timestamp"] < beats[1]["timestamp"]
    await feed.disconnect()


async def test_ping_pong_and_garbage_is_ignored(anonymous_allowed):
    feed = await open_feed()
    await feed.receive_json_from()
    await feed.send_to(text_data="not json")
    await feed.send_json_to({"type": "ping"})
    assert await feed.receive_json_from() == {"type": "pong"}
    await feed.disconnect()


@pytest.mark.parametrize(
    "query",
    [
        "max_price_per_gpu_hour=-1",
        "max_price_per_gpu_hour=abc",
        "spot=maybe",
        "region=" + "x" * 101,
    ],
)
async def test_bad_filter_closes_4400(anonymous_allowed, query):
    feed = await open_feed(f"/ws/?{query}")
    closed = await feed.receive_output()
    assert closed["type"] == "websocket.close" and closed["code"] == 4400
    await feed.disconnect()


async def test_no_token_closes_4401_when_anonymous_connections_are_off(settings):
    settings.WS_ALLOW_ANONYMOUS = False
    feed = await open_feed()
    closed = await feed.receive_output()
    assert closed["type"] == "websocket.close" and closed["code"] == 4401
    await feed.disconnect()


async def test_connection_limit_closes_4429_and_counts_graphql_connections_too(
    anonymous_allowed, settings
):
    from tests.realtime.helpers import GraphQLTransportClient

    settings.WS_ANONYMOUS_LIMIT = 2
    graphql = GraphQLTransportClient()
    assert await graphql.init() == {"type": "connection_ack"}
    feed = await open_feed()
    assert (await feed.receive_json_from())["type"] == "subscribed"
    refused = await open_feed()
    closed = await refused.receive_output()
    assert closed["type"] == "websocket.close" and closed["code"] == 4429
    await refused.disconnect()
    await graphql.close()
    admitted = await open_feed()
    assert (await admitted.receive_json_from())["type"] == "subscribed"
    await admitted.disconnect()
    await feed.disconnect()


async def test_cross_site_origin_is_refused(anonymous_allowed, settings):
    settings.WS_ALLOWED_ORIGINS = ["https://app.gpubroker.example"]
    communicator = WebsocketCommunicator(
        application, "/ws/", headers=[(b"origin", b"https://evil.example"), (b"host", b"x")]
    )
    connected, _ = await communicator.connect()
    assert not connected
    allowed = await open_feed(headers=[(b"origin", b"https://app.gpubroker.example")])
    assert (await allowed.receive_json_from())["type"] == "subscribed"
    await allowed.disconnect()
