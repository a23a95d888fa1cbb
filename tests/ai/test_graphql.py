"""The assistant over GraphQL: the named operations of ``graphql/operations/ai.graphql`` over
real HTTP, the same service answers as REST, pipeline errors and privacy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.auth_app.services import issue_tokens
from tests.graphql_client import run_operation

pytestmark = pytest.mark.django_db


def test_chat_history_tools_and_health(client, demo_catalogue, user, user_token, make_user):
    data = run_operation(
        client, "Chat", {"input": {"message": "cheapest H100 right now"}}, token=user_token
    )
    payload = data["data"]["chat"]
    assert payload["errors"] == []
    reply = payload["reply"]
    assert reply["mode"] == "local" and reply["toolCalls"][0]["name"] == "search_offers"
    offer = reply["offers"][0]
    assert offer["offer"]["id"] == offer["offerId"]  # the catalogue link resolves
    assert Decimal(offer["pricePerGpuHour"]) > 0 and offer["observedAt"]

    rest = client.post(
        "/api/v2/ai/chat",
        {"message": "cheapest H100 right now"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {user_token}",
    ).json()
    assert [o["offer_id"] for o in rest["offers"]] == [o["offerId"] for o in reply["offers"]]
    assert rest["text"] == reply["text"]

    session = reply["sessionId"]
    history = run_operation(
        client, "ChatHistory", {"sessionId": session, "perPage": 1, "page": 2}, token=user_token
    )["data"]["chatHistory"]
    assert history["__typename"] == "ChatHistory" and history["total"] == 2
    assert history["hasNext"] is False
    [message] = history["messages"]
    assert message["role"] == "assistant" and message["offers"][0]["offerId"] == offer["offerId"]

    stranger = issue_tokens(make_user("stranger@acme.example", tenant=user.tenant))
    hidden = run_operation(
        client, "ChatHistory", {"sessionId": session}, token=stranger["access_token"]
    )["data"]["chatHistory"]
    assert hidden == {
        "__typename": "NotFoundError",
        "message": "No such chat session.",
        "code": "NOT_FOUND",
    }

    tools = run_operation(client, "AiTools")["data"]["aiTools"]
    rest_tools = client.get("/api/v2/ai/tools").json()
    assert tools == rest_tools
    health = run_operation(client, "AiHealth")["data"]["aiHealth"]
    assert health["mode"] == "local" and health["tools"] == len(tools)


def test_chat_needs_a_signed_in_user(client):
    data = run_operation(client, "Chat", {"input": {"message": "hi"}})
    assert data["data"] is None or data["data"]["chat"] is None
    assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_chat_errors_are_typed(client, demo_catalogue, user_token):
    data = run_operation(client, "Chat", {"input": {"message": "  "}}, token=user_token)
    assert data["data"]["chat"] == {
        "reply": None,
        "errors": [
            {"field": "message", "message": "message must not be empty", "code": "EMPTY_MESSAGE"}
        ],
    }
    bad = run_operation(
        client, "Chat", {"input": {"message": "hi", "sessionId": "nope"}}, token=user_token
    )["data"]["chat"]
    assert bad["errors"][0]["code"] == "INVALID_SESSION_ID"


def test_parse_workload_mutation_matches_rest(client, model_catalogue):
    text = "QLoRA Llama 3 8B on 10M tokens, under $1/hr, EU only"
    result = run_operation(client, "ParseWorkload", {"input": {"text": text}})["data"]
    payload = result["parseWorkload"]
    assert payload["errors"] == []
    rest = client.post(
        "/api/v2/ai/parse-workload", {"text": text}, content_type="application/json"
    ).json()
    assert payload["result"] == rest
    empty = run_operation(client, "ParseWorkload", {"input": {"text": ""}})["data"]
    assert empty["parseWorkload"]["errors"][0]["code"] == "EMPTY_TEXT"
