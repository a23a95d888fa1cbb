"""Chat sessions: private to their owner, paginated, size- and rate-limited by the plan."""

from __future__ import annotations

import uuid

import pytest

from tests.auth_fixtures import bearer

pytestmark = pytest.mark.django_db


def post_chat(client, headers, message="cheapest H100 right now", **extra):
    return client.post(
        "/api/v2/ai/chat", {"message": message, **extra}, content_type="application/json", **headers
    )


def test_chat_needs_a_token(client):
    response = post_chat(client, {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


def test_history_is_paginated_oldest_first(client, auth_header, demo_catalogue):
    first = post_chat(client, auth_header, "cheapest H100 right now").json()
    sid = first["session_id"]
    for message in ("cheapest L40S", "cheapest RTX 4090"):
        assert post_chat(client, auth_header, message, session_id=sid).json()["session_id"] == sid
    page1 = client.get(f"/api/v2/ai/sessions/{sid}/history?per_page=4", **auth_header).json()
    assert page1["total"] == 6 and page1["has_next"] is True
    assert [m["role"] for m in page1["items"]] == ["user", "assistant"] * 2
    assert page1["items"][0]["content"] == "cheapest H100 right now"
    assert page1["items"][1]["offers"] == first["offers"]
    assert page1["items"][1]["tool_calls"][0]["name"] == "search_offers"
    page2 = client.get(f"/api/v2/ai/sessions/{sid}/history?per_page=4&page=2", **auth_header)
    body = page2.json()
    assert body["items"][0]["content"] == "cheapest RTX 4090"
    assert body["has_next"] is False and len(body["items"]) == 2


def test_another_users_session_is_not_found(client, auth_header, demo_catalogue, make_user, user):
    sid = post_chat(client, auth_header).json()["session_id"]
    colleague = make_user("colleague@acme.example", tenant=user.tenant)
    for headers in (bearer(colleague),):
        history = client.get(f"/api/v2/ai/sessions/{sid}/history", **headers)
        assert history.status_code == 404
        assert history.json()["error"]["code"] == "NOT_FOUND"
        reply = post_chat(client, headers, session_id=sid)
        assert reply.status_code == 404
    unknown = client.get(f"/api/v2/ai/sessions/{uuid.uuid4()}/history", **auth_header)
    assert unknown.status_code == 404
    malformed = client.get("/api/v2/ai/sessions/not-a-uuid/history", **auth_header)
    assert malformed.status_code == 422


def test_bad_pages_are_422(client, auth_header, demo_catalogue):
    sid = post_chat(client, auth_header).json()["session_id"]
    for query in ("per_page=0", "per_page=101", "page=0"):
        response = client.get(f"/api/v2/ai/sessions/{sid}/history?{query}", **auth_header)
        assert response.status_code == 422, query


def test_message_size_is_limited_by_plan(client, auth_header, make_user, demo_catalogue):
    response = post_chat(client, auth_header, "x" * 2001)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "message"
    assert "free plan" in response.json()["error"]["message"]
    pro = make_user("pro@initech.example", tenant="Initech", plan="pro")
    assert post_chat(client, bearer(pro), "cheapest H100 " + "x" * 3000).status_code == 200
    assert post_chat(client, auth_header, "   ").status_code == 422


def test_messages_are_rate_limited_by_plan(client, auth_header, settings, demo_catalogue):
    settings.AI_PLAN_LIMITS = {
        **settings.AI_PLAN_LIMITS,
        "free": {"message_chars": 2000, "messages_per_minute": 2, "session_messages": 200},
    }
    assert post_chat(client, auth_header).status_code == 200
    assert post_chat(client, auth_header).status_code == 200
    limited = post_chat(client, auth_header)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(limited["Retry-After"]) <= 60


def test_a_full_session_is_409(client, auth_header, settings, demo_catalogue):
    settings.AI_PLAN_LIMITS = {
        **settings.AI_PLAN_LIMITS,
        "free": {"message_chars": 2000, "messages_per_minute": 100, "session_messages": 4},
    }
    sid = post_chat(client, auth_header).json()["session_id"]
    assert post_chat(client, auth_header, session_id=sid).status_code == 200
    full = post_chat(client, auth_header, session_id=sid)
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "CONFLICT"
    assert full.json()["error"]["details"][0]["code"] == "SESSION_FULL"
    from apps.ai_assistant.models import ChatSession

    assert ChatSession.objects.get(pk=sid).message_count == 4
