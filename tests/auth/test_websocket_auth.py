"""The same identity over a GraphQL WebSocket: ``user_from_access_token`` from async code, and
``current_user`` reading the connection's ``scope["gpubroker_user"]`` (the consumer sets it from
``connection_init``; issue 7 owns that side)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from strawberry.channels import GraphQLWSConsumer
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from apps.auth_app import services
from apps.core.errors import Unauthenticated
from schema import schema
from schema.permissions import WS_USER_SCOPE_KEY


@pytest.fixture(autouse=True)
async def _close_executor_connections():
    """ORM calls made through sync_to_async run in asgiref's executor thread; close its
    connection so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


def _app_with_user(user):
    consumer = GraphQLWSConsumer.as_asgi(
        schema=schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,)
    )

    async def app(scope, receive, send):
        scope = dict(scope)
        if user is not None:
            scope[WS_USER_SCOPE_KEY] = user
        return await consumer(scope, receive, send)

    return app


async def _me_over_websocket(user) -> dict:
    communicator = WebsocketCommunicator(
        _app_with_user(user), "/graphql/", subprotocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to({"type": "connection_init", "payload": {}})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to(
        {"id": "1", "type": "subscribe", "payload": {"query": "{ me { email tenant { name } } }"}}
    )
    message = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    return message


@pytest.mark.django_db(transaction=True)
async def test_access_token_resolves_from_async_code(user):
    token = (await sync_to_async(services.issue_tokens)(user))["access_token"]
    resolved = await sync_to_async(services.user_from_access_token)(token)
    assert resolved.pk == user.pk
    assert (
        resolved.tenant is not None and resolved.tenant.name == "Acme"
    )  # loaded with the user: no lazy query in async code
    with pytest.raises(Unauthenticated):
        await sync_to_async(services.user_from_access_token)(token + "x")


@pytest.mark.django_db(transaction=True)
async def test_me_over_graphql_websocket_uses_the_connection_user(user):
    token = (await sync_to_async(services.issue_tokens)(user))["access_token"]
    connection_user = await sync_to_async(services.user_from_access_token)(token)
    message = await _me_over_websocket(connection_user)
    assert message["type"] == "next", message
    assert message["payload"]["data"]["me"] == {"email": user.email, "tenant": {"name": "Acme"}}


@pytest.mark.django_db(transaction=True)
async def test_anonymous_websocket_gets_unauthenticated():
    message = await asyncio.wait_for(_me_over_websocket(None), timeout=10)
    assert message["type"] in {"next", "error"}
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
