"""WebSocket authentication with the HTTP JWT and the tenant's plan limit, on both endpoints."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from gpubroker.asgi import application
from tests.realtime.helpers import GraphQLTransportClient

pytestmark = pytest.mark.django_db(transaction=True)


def token_for(user) -> str:
    from apps.auth_app.services import issue_tokens

    return issue_tokens(user)["access_token"]


@pytest.fixture
def limited_user(make_user):
    user = make_user("ws@acme.example", tenant="WS Acme")
    user.tenant.ws_limit = 1
    user.tenant.save(update_fields=["ws_limit"])
    return user


async def test_connection_init_token_authenticates_and_current_user_sees_it(limited_user):
    token = await sync_to_async(token_for)(limited_user)
    client = GraphQLTransportClient()
    assert await client.init({"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
    # schema.permissions.current_user reads the connection's user from scope["gpubroker_user"].
    await client.subscribe("me", query="query Me { me { email } }")
    message = await client.receive()
    assert message["type"] == "next"
    assert message["payload"]["data"] == {"me": {"email": "ws@acme.example"}}
    assert (await client.receive())["type"] == "complete"
    await client.close()


async def test_anonymous_connection_is_not_a_user(settings):
    settings.WS_ALLOW_ANONYMOUS = True
    client = GraphQLTransportClient()
    await client.init()
    await client.subscribe("me", query="query Me { me { email } }")
    message = await client.receive()
    errors = message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    await client.close()


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 5000])
async def test_bad_tokens_close_4401_on_both_endpoints(token):
    client = GraphQLTransportClient()
    answer = await client.init({"Authorization": f"Bearer {token}"})
    assert answer["type"] == "websocket.close" and answer["code"] == 4401
    feed = WebsocketCommunicator(application, f"/ws/?token={token}")
    assert (await feed.connect())[0]
    closed = await feed.receive_output()
    assert closed["type"] == "websocket.close" and closed["code"] == 4401
    await feed.disconnect()


async def test_inactive_user_is_refused(limited_user):
    token = await sync_to_async(token_for)(limited_user)
    limited_user.is_active = False
    await sync_to_async(limited_user.save)(update_fields=["is_active"])
    client = GraphQLTransportClient()
    answer = await client.init({"Authorization": f"Bearer {token}"})
    assert answer["type"] == "websocket.close" and answer["code"] == 4401


async def test_tenant_limit_counts_both_endpoints_and_other_tenants_are_unaffected(
    limited_user, make_user
):
    token = await sync_to_async(token_for)(limited_user)
    colleague = await sync_to_async(make_user)("colleague@acme.example", tenant=limited_user.tenant)
    stranger = await sync_to_async(make_user)("x@globex.example", tenant="Globex")
    graphql = GraphQLTransportClient()
    assert await graphql.init({"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
    # The tenant's one connection is taken, whichever user and endpoint asks next.
    colleague_token = await sync_to_async(token_for)(colleague)
    feed = WebsocketCommunicator(application, f"/ws/?token={colleague_token}")
    assert (await feed.connect())[0]
    closed = await feed.receive_output()
    assert closed["type"] == "websocket.close" and closed["code"] == 4429
    await feed.disconnect()
    other = WebsocketCommunicator(
        application, f"/ws/?token={await sync_to_async(token_for)(stranger)}"
    )
    assert (await other.connect())[0]
    assert (await other.receive_json_from())["type"] == "subscribed"
    await other.disconnect()
    # Closing frees the slot.
    await graphql.close()
    again = WebsocketCommunicator(application, f"/ws/?token={colleague_token}")
    assert (await again.connect())[0]
    assert (await again.receive_json_from())["type"] == "subscribed"
    await again.disconnect()
