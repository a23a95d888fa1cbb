"""GraphQL over WebSocket goes through the same limits as HTTP (issue 11): rate limits and cost
for operations sent over the socket, oversized results as an error message, malformed frames
closed with 4400 and a warning only."""

from __future__ import annotations

import logging

import pytest

from apps.auth_app import ratelimit
from tests.catalogue_factories import make_provider
from tests.realtime.helpers import GraphQLTransportClient

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


@pytest.fixture
def anonymous_allowed(settings):
    settings.WS_ALLOW_ANONYMOUS = True


async def _next_or_error(client, op_id):
    message = await client.receive()
    assert message["id"] == op_id, message
    return message


async def test_operations_over_the_socket_are_rate_limited(anonymous_allowed, settings):
    """Issue: 200 answers in 1.5 s over the socket for a plan allowed 10 req/s."""
    settings.RATE_LIMIT_REQUESTS_ENABLED = True
    settings.RATE_LIMIT_ANONYMOUS_RPS = 3
    ratelimit.reset()
    client = GraphQLTransportClient()
    await client.init()
    answers = []
    for i in range(10):
        await client.subscribe(f"q{i}", query="query { __typename }")
        first = await _next_or_error(client, f"q{i}")
        answers.append(first)
        if first["type"] == "next":
            assert (await client.receive())["type"] == "complete"
    limited = [a for a in answers if a["type"] == "error"]
    ok = [a for a in answers if a["type"] == "next"]
    assert 3 <= len(ok) <= 6, answers
    assert limited[0]["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert limited[0]["payload"][0]["extensions"]["retryAfter"] >= 1
    await client.close()
    ratelimit.reset()


async def test_operations_over_the_socket_are_costed(anonymous_allowed, settings):
    settings.GRAPHQL_MAX_ALIASES = 100
    client = GraphQLTransportClient()
    await client.init()
    fields = " ".join(f"h{i}: priceHistory(first: 100) {{ pricePerHour }}" for i in range(20))
    query = "query { offers(first: 100) { edges { node { " + fields + " } } } }"
    await client.subscribe("big", query=query)
    message = await _next_or_error(client, "big")
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    # A cheap query answers with its cost.
    await client.subscribe("small", query="query { __typename }")
    small = await _next_or_error(client, "small")
    assert small["type"] == "next" and small["payload"]["extensions"]["cost"]["requested"] == 0
    await client.close()


async def test_subscriptions_over_the_cap_are_refused(anonymous_allowed, settings):
    settings.GRAPHQL_COST_MAX_PER_OPERATION = 100
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe(
        "batches", query="subscription { priceUpdateBatches { updates { gpuModel } } }"
    )
    message = await _next_or_error(client, "batches")
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    await client.close()


async def test_a_result_too_large_for_a_frame_is_an_error_message(anonymous_allowed, settings):
    """Issue: a WebSocket result over 1 MiB was dropped silently (only `complete` arrived)."""
    from asgiref.sync import sync_to_async

    for i in range(5):
        await sync_to_async(make_provider)(name=f"provider-{i}", display_name=f"Provider {i}")
    settings.WS_MAX_MESSAGE_BYTES = 120
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe("p", query="query { providers { name displayName } }")
    message = await _next_or_error(client, "p")
    assert message["type"] == "error", message
    error = message["payload"][0]
    assert error["extensions"]["code"] == "RESULT_TOO_LARGE"
    assert error["extensions"]["maximum"] == 120
    assert await client.nothing_more()  # no `complete` after the error
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"
    await client.close()


@pytest.mark.parametrize(
    "frame",
    [[1, 2], None, "hello", 42, {"no": "type"}, {"type": 7}, {"type": "subscribe"}],
)
async def test_malformed_frames_close_4400_with_only_a_warning(anonymous_allowed, frame, caplog):
    """Issue: frames such as `[1,2]` or `null` raised a TypeError inside the handler."""
    client = GraphQLTransportClient()
    await client.init()
    with caplog.at_level(logging.DEBUG):
        await client.send(frame)  # type: ignore[arg-type]
        await client.expect_close(4400)
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert problems == [], [r.getMessage() for r in problems]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("malformed websocket frame" in r.getMessage() for r in warnings)
