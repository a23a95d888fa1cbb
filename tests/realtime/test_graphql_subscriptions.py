"""GraphQL subscriptions over Channels (``graphql-transport-ws``) through the real ASGI app."""

from __future__ import annotations

import asyncio

import pytest

from apps.websocket_gateway.groups import ALL_PRICES_GROUP, gpu_model_group
from tests.realtime.helpers import (
    GraphQLTransportClient,
    group_size,
    offer_change,
    publish,
    wait_for_group,
)

# Channels closes stale DB connections on every consumer dispatch: these tests need DB access,
# from the consumer's threads, so transactional.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


@pytest.fixture
def anonymous_allowed(settings):
    settings.WS_ALLOW_ANONYMOUS = True


async def test_subscribe_receives_each_change_with_prices_as_decimals(anonymous_allowed):
    client = GraphQLTransportClient()
    assert (await client.init()) == {"type": "connection_ack"}
    await client.subscribe("1")
    await wait_for_group(ALL_PRICES_GROUP, 1)
    await publish(offer_change("o-1", gpu_count=8, old="24.0000", new="20.0000"))
    message = await client.receive()
    assert message["id"] == "1" and message["type"] == "next"
    update = message["payload"]["data"]["priceUpdates"]
    assert update["offerId"] == "o-1"
    assert update["kind"] == "CHANGED"
    assert update["gpuCount"] == 8
    assert update["oldPricePerHour"] == "24.0000"
    assert update["newPricePerHour"] == "20.0000"
    assert update["oldPricePerGpuHour"] == "3.0000"
    assert update["newPricePerGpuHour"] == "2.5000"
    assert update["oldAvailability"] == update["newAvailability"] == "AVAILABLE"  # as queries
    assert update["changedAt"] == "2025-01-02T03:04:05+00:00"
    assert update["publishedAt"].endswith("+00:00")
    await client.close()


async def test_filters_select_changes_and_gpu_model_filter_joins_only_its_group(
    anonymous_allowed,
):
    client = GraphQLTransportClient()
    await client.init()
    # Any spelling of the model is normalised to the canonical name.
    await client.subscribe(
        "h100",
        variables={
            "filter": {
                "gpuModel": "h100 sxm5",
                "provider": "RunPod",
                "region": "us-tx-3",
                "maxPricePerGpuHour": "2.50",
                "spot": False,
            }
        },
    )
    await wait_for_group(gpu_model_group("H100 SXM 80GB"), 1)
    assert await group_size(ALL_PRICES_GROUP) == 0
    await publish(
        offer_change("other-model", gpu_model="A100 SXM 80GB", new="1.0000"),
        offer_change("too-expensive", new="2.5100"),
        offer_change("other-region", region="EU-RO-1", new="2.0000"),
        offer_change("spot", is_spot=True, new="2.0000"),
        offer_change("match-1", new="2.5000"),
        offer_change("match-2", gpu_count=2, new="4.0000"),
    )
    await publish(offer_change("other-provider", provider="vastai", new="2.0"), provider="vastai")
    received = [(await client.receive())["payload"]["data"]["priceUpdates"] for _ in range(2)]
    assert [u["offerId"] for u in received] == ["match-1", "match-2"]
    assert await client.nothing_more()
    await client.close()


async def test_two_subscriptions_on_one_connection_get_no_duplicates(anonymous_allowed):
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe("all")
    await client.subscribe("a100", variables={"filter": {"gpuModel": "A100 SXM 80GB"}})
    await wait_for_group(ALL_PRICES_GROUP, 1)
    await wait_for_group(gpu_model_group("A100 SXM 80GB"), 1)
    await publish(offer_change("x", gpu_model="A100 SXM 80GB"), offer_change("y"))
    received = sorted(
        (m["id"], m["payload"]["data"]["priceUpdates"]["offerId"])
        for m in [await client.receive() for _ in range(3)]
    )
    assert received == [("a100", "x"), ("all", "x"), ("all", "y")]
    assert await client.nothing_more()
    await client.close()


async def test_complete_stops_the_subscription_and_leaves_the_group(anonymous_allowed):
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe("1")
    await wait_for_group(ALL_PRICES_GROUP, 1)
    await client.send({"id": "1", "type": "complete"})
    for _ in range(200):
        if await group_size(ALL_PRICES_GROUP) == 0:
            break
        await client.nothing_more(0.01)
    assert await group_size(ALL_PRICES_GROUP) == 0
    await publish(offer_change())
    assert await client.nothing_more()
    # The id is free again.
    await client.subscribe("1")
    await wait_for_group(ALL_PRICES_GROUP, 1)
    await publish(offer_change("again"))
    assert (await client.receive())["payload"]["data"]["priceUpdates"]["offerId"] == "again"
    await client.close()


async def test_invalid_query_is_an_error_message_not_a_crash(anonymous_allowed):
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe("bad", query="subscription { priceUpdates { noSuchField } }")
    message = await client.receive()
    assert message["id"] == "bad" and message["type"] == "error"
    assert "noSuchField" in message["payload"][0]["message"]
    # The connection stays usable.
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"
    await client.close()


async def test_syntax_error_closes_with_4400(anonymous_allowed):
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe("bad", query="subscription { priceUpdates { ")
    await client.expect_close(4400)


async def test_invalid_filter_is_a_validation_error(anonymous_allowed):
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe("neg", variables={"filter": {"maxPricePerGpuHour": "-1"}})
    message = await client.receive()
    assert message["id"] == "neg"
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert await group_size(ALL_PRICES_GROUP) == 0
    await client.close()


async def test_subscriptions_per_connection_are_limited(anonymous_allowed, settings):
    settings.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION = 2
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe("1")
    await client.subscribe("2")
    await client.subscribe("3")
    message = await client.receive()
    assert message == {
        "id": "3",
        "type": "error",
        "payload": [{"message": "Subscription limit reached"}],
    }
    await client.close()


async def test_legacy_graphql_ws_protocol_is_refused(anonymous_allowed):
    client = GraphQLTransportClient(subprotocols=("graphql-ws",))
    connected, _ = await client.open()
    assert connected
    await client.expect_close(4406)


async def test_subscribe_before_connection_init_closes_4401(anonymous_allowed):
    client = GraphQLTransportClient()
    assert (await client.open())[0]
    await client.subscribe("1")
    await client.expect_close(4401)


async def test_no_token_closes_4401_when_anonymous_connections_are_off(settings):
    settings.WS_ALLOW_ANONYMOUS = False
    client = GraphQLTransportClient()
    answer = await client.init({})
    assert answer["type"] == "websocket.close" and answer["code"] == 4401


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwdw==", "Bearer", "Bearer    ", "token"])
async def test_malformed_authorization_closes_4401(anonymous_allowed, authorization):
    client = GraphQLTransportClient()
    answer = await client.init({"Authorization": authorization})
    assert answer["type"] == "websocket.close" and answer["code"] == 4401


async def test_connection_init_timeout_closes_4408(anonymous_allowed, settings):
    settings.WS_CONNECTION_INIT_TIMEOUT = 0.2
    client = GraphQLTransportClient()
    assert (await client.open())[0]
    await client.expect_close(4408)


async def test_cross_site_origin_is_refused_at_the_handshake(anonymous_allowed, settings):
    settings.WS_ALLOWED_ORIGINS = ["https://app.gpubroker.example"]
    evil = GraphQLTransportClient(
        headers=[(b"origin", b"https://evil.example"), (b"host", b"api.gpubroker.example")]
    )
    connected, _ = await evil.open()
    assert not connected
    for origin in (b"https://app.gpubroker.example", b"https://api.gpubroker.example"):
        allowed = GraphQLTransportClient(
            headers=[(b"origin", origin), (b"host", b"api.gpubroker.example")]
        )
        assert (await allowed.open())[0]
        await allowed.close()
    # Non-browser clients send no Origin: allowed (they still have to authenticate).
    no_origin = GraphQLTransportClient(headers=[(b"host", b"api.gpubroker.example")])
    assert (await no_origin.open())[0]
    await no_origin.close()


async def test_anonymous_connections_are_limited_per_client_and_slots_come_back(
    anonymous_allowed, settings
):
    settings.WS_ANONYMOUS_LIMIT = 2
    first, second, third = (GraphQLTransportClient() for _ in range(3))
    assert (await first.init()) == {"type": "connection_ack"}
    assert (await second.init()) == {"type": "connection_ack"}
    refused = await third.init()
    assert refused["type"] == "websocket.close" and refused["code"] == 4429
    assert "limit" in refused["reason"].lower()
    await first.close()
    again = GraphQLTransportClient()
    assert (await again.init()) == {"type": "connection_ack"}
    await second.close()
    await again.close()


async def test_batch_subscription_sends_one_message_per_published_batch(anonymous_allowed):
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe(
        "batches",
        query="subscription B($filter: PriceUpdateFilter) { priceUpdateBatches(filter: $filter) "
        "{ publishedAt updates { offerId newPricePerGpuHour } } }",
        variables={"filter": {"maxPricePerGpuHour": "2.5"}},
    )
    await wait_for_group(ALL_PRICES_GROUP, 1)
    await publish(
        offer_change("a", new="2.0000"), offer_change("dear", new="9.0000"), offer_change("b")
    )
    await publish(offer_change("dear-only", new="9.0000"))  # nothing matches: no message
    await publish(offer_change("c", new="1.0000"))
    first = (await client.receive())["payload"]["data"]["priceUpdateBatches"]
    assert [u["offerId"] for u in first["updates"]] == ["a", "b"]
    assert first["updates"][1]["newPricePerGpuHour"] == "2.4900"
    second = (await client.receive())["payload"]["data"]["priceUpdateBatches"]
    assert [u["offerId"] for u in second["updates"]] == ["c"]
    assert second["publishedAt"] >= first["publishedAt"]
    assert await client.nothing_more()
    await client.close()


@pytest.mark.parametrize("operation", ["PriceUpdates", "PriceUpdateBatches"])
async def test_frontend_operations_run_over_the_websocket(anonymous_allowed, operation):
    from tests.graphql_client import operation_document

    client = GraphQLTransportClient()
    await client.init()
    await client.send(
        {
            "id": "op",
            "type": "subscribe",
            "payload": {
                "query": operation_document(operation),
                "operationName": operation,
                "variables": {"filter": {"gpuModel": "RTX 4090"}},
            },
        }
    )
    await wait_for_group(gpu_model_group("RTX 4090"), 1)
    await publish(offer_change("r", gpu_model="RTX 4090", gpu_count=2, new="1.0000"))
    data = (await client.receive())["payload"]["data"]
    update = (
        data["priceUpdates"]
        if operation == "PriceUpdates"
        else data["priceUpdateBatches"]["updates"][0]
    )
    assert update["offerId"] == "r" and update["newPricePerGpuHour"] == "0.5000"
    await client.close()


async def test_one_group_membership_per_process_however_many_subscribers(anonymous_allowed):
    from apps.websocket_gateway.hub import price_hub

    clients = [GraphQLTransportClient() for _ in range(3)]
    for i, client in enumerate(clients):
        await client.init()
        await client.subscribe(str(i))
    for _ in range(300):
        if price_hub().subscriber_count(ALL_PRICES_GROUP) == 3:
            break
        await clients[0].nothing_more(0.01)
    assert price_hub().subscriber_count(ALL_PRICES_GROUP) == 3
    assert await group_size(ALL_PRICES_GROUP) == 1
    await publish(offer_change("fan-out"))
    for client in clients:
        message = await client.receive()
        assert message["payload"]["data"]["priceUpdates"]["offerId"] == "fan-out"
        await client.close()
    # Disconnecting (without "complete") unregisters the subscriptions and leaves the group.
    for _ in range(300):
        if await group_size(ALL_PRICES_GROUP) == 0:
            break
        await asyncio.sleep(0.01)
    assert price_hub().subscriber_count(ALL_PRICES_GROUP) == 0
    assert await group_size(ALL_PRICES_GROUP) == 0


OFFER_LINK = "offer { id gpuType provider { name } benchmark { gpuModel } }"


async def wait_for_subscribers(group: str, count: int) -> None:
    from apps.websocket_gateway.hub import price_hub

    for _ in range(300):
        if price_hub().subscriber_count(group) == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{group} never had {count} subscribers")


@pytest.fixture
def offer_reads(monkeypatch):
    """Calls of the subscription's offer read (it runs only when ``offer`` is selected)."""
    from apps.providers import selectors

    calls: list[list[str]] = []
    read = selectors.offers_by_ids

    def counted(ids):
        calls.append(list(ids))
        return read(calls[-1])

    monkeypatch.setattr(selectors, "offers_by_ids", counted)
    return calls


async def test_offer_link_reads_the_catalogue_offer_only_when_selected(
    anonymous_allowed, benchmarks, offer_reads
):
    from asgiref.sync import sync_to_async

    from tests.math_catalogue import make_offer

    offer = await sync_to_async(make_offer)(provider_name="lambda", gpu_type="A100 SXM 80GB")
    linked = GraphQLTransportClient()
    await linked.init()
    await linked.subscribe(
        "linked", query=f"subscription {{ priceUpdates {{ offerId {OFFER_LINK} }} }}"
    )
    plain = GraphQLTransportClient()
    await plain.init()
    await plain.subscribe("plain", query="subscription { priceUpdates { offerId } }")
    await wait_for_subscribers(ALL_PRICES_GROUP, 2)
    await publish(offer_change(str(offer.id), gpu_model="A100 SXM 80GB"))
    update = (await linked.receive())["payload"]["data"]["priceUpdates"]
    assert update["offer"] == {
        "id": str(offer.id),
        "gpuType": "A100 SXM 80GB",
        "provider": {"name": "lambda"},
        "benchmark": {"gpuModel": "A100 SXM 80GB"},
    }
    assert (await plain.receive())["payload"]["data"]["priceUpdates"] == {"offerId": str(offer.id)}
    assert offer_reads == [[str(offer.id)]]  # the plain subscriber read nothing
    await publish(offer_change("00000000-0000-0000-0000-00000000dead"), offer_change("not-a-uuid"))
    gone = [(await linked.receive())["payload"]["data"]["priceUpdates"] for _ in range(2)]
    assert [u["offer"] for u in gone] == [None, None]
    await linked.close()
    await plain.close()


async def test_batch_offer_links_are_one_read_per_batch(anonymous_allowed, benchmarks, offer_reads):
    from asgiref.sync import sync_to_async

    from tests.math_catalogue import make_offer

    offers = [
        await sync_to_async(make_offer)(price=f"{2 + i}.0000", external_id=f"b{i}")
        for i in range(3)
    ]
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe(
        "batches",
        query="subscription { priceUpdateBatches { updates { offerId ... on PriceUpdate { "
        f"{OFFER_LINK} }} }} }} }}",
    )
    await wait_for_group(ALL_PRICES_GROUP, 1)
    await publish(*(offer_change(str(o.id), new=str(o.price_per_hour)) for o in offers))
    updates = (await client.receive())["payload"]["data"]["priceUpdateBatches"]["updates"]
    assert [u["offer"]["id"] for u in updates] == [u["offerId"] for u in updates]
    assert {u["offerId"] for u in updates} == {str(o.id) for o in offers}
    assert all(u["offer"]["provider"]["name"] == "runpod" for u in updates)
    assert len(offer_reads) == 1 and len(offer_reads[0]) == 3  # one query for the batch
    await client.close()


async def test_shared_event_execution_gives_each_operation_its_own_result(anonymous_allowed):
    """One event object per change serves every subscriber of the process; its execution is
    reused only for the same document and variables, so each operation still gets exactly
    the fields and directives it asked for."""
    from schema.live_execution import SharedEvent

    query = (
        "subscription S($detail: Boolean!) { priceUpdates { offerId "
        "newPricePerHour @include(if: $detail) } }"
    )
    clients = {name: GraphQLTransportClient() for name in ("a", "b", "c", "d")}
    for client in clients.values():
        await client.init()
    await clients["a"].subscribe("a", query=query, variables={"detail": True})
    await clients["b"].subscribe("b", query=query, variables={"detail": False})
    await clients["c"].subscribe("c", query="subscription { priceUpdates { gpuModel } }")
    await clients["d"].subscribe("d", query=query, variables={"detail": True})
    await wait_for_subscribers(ALL_PRICES_GROUP, 4)
    await publish(offer_change("o-7", new="3.5000"), offer_change("o-8", new="4.2500"))
    for offer_id, price in (("o-7", "3.5000"), ("o-8", "4.2500")):
        got = {
            name: (await client.receive())["payload"]["data"]["priceUpdates"]
            for name, client in clients.items()
        }
        assert got["a"] == got["d"] == {"offerId": offer_id, "newPricePerHour": price}
        assert got["b"] == {"offerId": offer_id}
        assert set(got["c"]) == {"gpuModel"}
    from schema import subscriptions

    shared = [event for _, event in subscriptions._shared.values()]
    assert shared and all(isinstance(event, SharedEvent) for event in shared)
    # Three distinct (document, variables) pairs executed per event, not four subscribers.
    assert all(len(event._shared_results) == 3 for event in shared[-2:])
    for client in clients.values():
        await client.close()
