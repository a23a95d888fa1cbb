"""Remote mode against a real OpenAI-compatible HTTP server on loopback: full tool-call round
trips in each dialect, and every failure mode ending in a graceful answer (never a 500)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from apps.ai_assistant.tools import definitions
from apps.providers.models import GPUOffer

from .grounding_checks import assert_grounded
from .stub_agent import Call, StubAgent, _json

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def stub():
    agent = StubAgent().start()
    yield agent
    agent.stop()


@pytest.fixture
def agent(stub, settings):
    stub.reset()
    settings.AI_AGENT_BASE_URL = stub.url
    settings.AI_AGENT_MODEL = "stub-model"
    settings.AI_AGENT_API_KEY = "sk-test-key"
    settings.AI_AGENT_TIMEOUT_SECONDS = 2.0
    settings.AI_AGENT_RETRIES = 1
    settings.AI_AGENT_BACKOFF_SECONDS = 0.01
    settings.AI_CIRCUIT_FAILURES = 3
    settings.AI_CIRCUIT_RESET_SECONDS = 30.0
    return stub


def chat(client, auth_header, message: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v2/ai/chat",
        {"message": message, **extra},
        content_type="application/json",
        **auth_header,
    )
    assert response.status_code == 200, response.content
    return response.json()


def assert_cited_from_catalogue(answer: dict[str, Any]) -> None:
    for offer in answer["offers"]:
        row = GPUOffer.objects.select_related("provider").get(pk=offer["offer_id"])
        assert offer["provider"] == row.provider.name
        assert offer["gpu_model"] == row.gpu_type
        assert offer["price_per_hour"] == f"{row.price_per_hour:.4f}"
        assert offer["price_per_gpu_hour"] == f"{row.price_per_gpu_hour:.4f}"


@pytest.mark.parametrize("dialect", ["openai", "vllm", "ollama", "legacy"])
def test_tool_round_trip_in_each_dialect(client, auth_header, demo_catalogue, agent, dialect):
    agent.reset(dialect=dialect)
    answer = chat(client, auth_header, "cheapest H100 right now")

    assert answer["mode"] == "remote"
    assert answer["model"] == "stub-model"
    [call] = answer["tool_calls"]
    assert call["name"] == "search_offers" and call["ok"] and call["offer_ids"]
    assert answer["offers"], answer["text"]
    assert_cited_from_catalogue(answer)
    best = answer["offers"][0]
    assert best["provider"] in answer["text"] and best["offer_id"] in answer["text"]

    first, second = agent.chat_requests
    assert first["headers"]["Authorization"] == "Bearer sk-test-key"
    assert first["json"]["model"] == "stub-model"
    assert first["json"]["tools"] == definitions()
    assert first["json"]["messages"][0]["role"] == "system"
    assert first["json"]["messages"][-1] == {"role": "user", "content": "cheapest H100 right now"}
    echoed, tool_message = second["json"]["messages"][-2:]
    assert echoed["role"] == "assistant"
    call_id = echoed["tool_calls"][0]["id"]
    assert call_id == ("call_1" if dialect in ("openai", "vllm") else "call_0")
    assert json.loads(echoed["tool_calls"][0]["function"]["arguments"])["filter"] == {
        "gpu_type": "H100"
    }
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == call_id
    result = json.loads(tool_message["content"])
    assert [o["offer_id"] for o in result["offers"]] == call["offer_ids"]


def test_tool_calls_without_ids_get_ids(client, auth_header, demo_catalogue, agent):
    def brain(stub: StubAgent, body: dict[str, Any]):
        if body["messages"][-1]["role"] == "tool":
            return stub.think(body)
        calls = [
            Call("search_offers", {"filter": {"gpu_type": "A100"}, "limit": 1}, id=None),
            Call("search_offers", {"filter": {"gpu_type": "L40S"}, "limit": 1}, id=None),
        ]
        return stub.tool_reply(calls)

    agent.reset(behaviour=brain)
    answer = chat(client, auth_header, "A100 or L40S?")
    assert answer["mode"] == "remote" and len(answer["tool_calls"]) == 2
    messages = agent.chat_requests[1]["json"]["messages"]
    assert [m["tool_call_id"] for m in messages if m["role"] == "tool"] == ["call_0", "call_1"]


def test_estimate_round_trip_cites_total_from_the_service(
    client, auth_header, demo_catalogue, agent
):
    answer = chat(client, auth_header, "what would fine-tuning Llama 3 8B with LoRA cost")
    assert answer["mode"] == "remote"
    assert answer["tool_calls"][0]["name"] == "estimate_workload"
    assert "[unverified" not in answer["text"] and "in total" in answer["text"]
    assert_cited_from_catalogue(answer)


def failing(status: int, headers: dict[str, str] | None = None):
    return lambda stub, body: _json(status, {"error": {"message": "boom"}}, headers)


def assert_fallback(answer: dict[str, Any], reason: str) -> None:
    assert answer["mode"] == "local_fallback"
    assert any(reason in note for note in answer["notes"]), answer["notes"]
    assert "cheapest available H100" in answer["text"]  # the local assistant answered
    assert answer["offers"]


def test_agent_timeout_falls_back(client, auth_header, demo_catalogue, agent, settings):
    settings.AI_AGENT_TIMEOUT_SECONDS = 0.2

    def slow(stub, body):
        time.sleep(0.6)
        return stub.think(body)

    agent.reset(behaviour=slow)
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert_fallback(answer, "did not answer within 0.2 s")
    assert len(agent.chat_requests) == 2  # the first try and one retry


def test_http_500_is_retried_then_falls_back(client, auth_header, demo_catalogue, agent):
    agent.reset(behaviour=failing(500))
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert_fallback(answer, "HTTP 500")
    assert len(agent.chat_requests) == 2


def test_429_with_retry_after_is_retried(client, auth_header, demo_catalogue, agent):
    seen = []

    def limited_once(stub, body):
        seen.append(1)
        if len(seen) == 1:
            return _json(429, {"error": "slow down"}, {"Retry-After": "0"})
        return stub.think(body)

    agent.reset(behaviour=limited_once)
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert answer["mode"] == "remote"
    assert len(agent.chat_requests) == 3


def test_client_error_is_not_retried(client, auth_header, demo_catalogue, agent):
    agent.reset(behaviour=failing(401))
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert_fallback(answer, "HTTP 401")
    assert len(agent.chat_requests) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"error": {"message": "model overloaded"}}', "model overloaded"),
        (b'{"choices": []}', "neither choices nor message"),
        (b'{"choices": [{"message": {"role": "assistant", "content": ""}}]}', "empty answer"),
    ],
)
def test_malformed_replies_fall_back(client, auth_header, demo_catalogue, agent, body, reason):
    agent.reset(behaviour=lambda stub, b: (200, {"Content-Type": "application/json"}, body))
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert_fallback(answer, reason)


def test_invalid_tool_arguments_are_answered_as_tool_errors(
    client, auth_header, demo_catalogue, agent
):
    def brain(stub, body):
        if body["messages"][-1]["role"] == "tool":
            return stub.think(body)
        return stub.tool_reply([Call("search_offers", '{"filter": {"gpu_type": "H100"')])

    agent.reset(behaviour=brain)
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert answer["mode"] == "remote"
    [call] = answer["tool_calls"]
    assert not call["ok"] and "not valid JSON" in call["error"]
    tool_message = agent.chat_requests[1]["json"]["messages"][-1]
    assert "not valid JSON" in json.loads(tool_message["content"])["error"]
    assert answer["text"].startswith("The tool said")


def test_unknown_tool_is_answered_as_a_tool_error(client, auth_header, demo_catalogue, agent):
    def brain(stub, body):
        if body["messages"][-1]["role"] == "tool":
            return stub.think(body)
        return stub.tool_reply([Call("delete_all_offers", {})])

    agent.reset(behaviour=brain)
    before = GPUOffer.objects.count()
    answer = chat(client, auth_header, "clean up the catalogue")
    assert answer["mode"] == "remote"
    assert "unknown tool 'delete_all_offers'" in answer["tool_calls"][0]["error"]
    assert GPUOffer.objects.count() == before


def test_endless_tool_loop_is_bounded(client, auth_header, demo_catalogue, agent, settings):
    settings.AI_TOOL_ROUNDS = 2
    agent.reset(
        behaviour=lambda stub, body: stub.tool_reply(
            [Call("search_offers", {"filter": {"gpu_type": "H100"}, "limit": 1})]
        )
    )
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert_fallback(answer, "kept calling tools after 2 rounds")
    requests = agent.chat_requests
    assert len(requests) == 4  # first, two tool rounds, then one final call without tools
    assert requests[-1]["json"]["tool_choice"] == "none"


def test_length_and_content_filter_finish_reasons(client, auth_header, demo_catalogue, agent):
    agent.reset(behaviour=lambda stub, body: stub.text_reply("Partial answer", "length"))
    answer = chat(client, auth_header, "hello")
    assert answer["mode"] == "remote" and answer["text"] == "Partial answer"
    assert any("cut off" in note for note in answer["notes"])

    agent.reset(behaviour=lambda stub, body: stub.text_reply("", "content_filter"))
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert_fallback(answer, "content filter")


def test_circuit_opens_and_closes(client, auth_header, demo_catalogue, agent, settings):
    from apps.ai_assistant.agent_client import AgentConfig
    from apps.ai_assistant.circuit import breaker_for

    settings.AI_CIRCUIT_FAILURES = 2
    settings.AI_CIRCUIT_RESET_SECONDS = 30.0
    settings.AI_AGENT_RETRIES = 0
    agent.reset(behaviour=failing(503))
    for _ in range(2):
        assert_fallback(chat(client, auth_header, "cheapest H100 right now"), "HTTP 503")
    assert len(agent.chat_requests) == 2
    health = client.get("/api/v2/ai/health").json()
    assert health["circuit"]["state"] == "open"
    assert 0 < health["circuit"]["retry_in_seconds"] <= 30

    answer = chat(client, auth_header, "cheapest H100 right now")
    assert_fallback(answer, "circuit is open")
    assert len(agent.chat_requests) == 2  # the open circuit did not call the agent

    agent.reset()  # the agent recovers; the reset timeout passes (pybreaker's half-open state)
    config = AgentConfig.from_settings()
    assert config is not None
    breaker_for(config).half_open()
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert answer["mode"] == "remote"  # the trial call succeeded
    assert client.get("/api/v2/ai/health").json()["circuit"]["state"] == "closed"


def _another_process() -> None:
    """What a second server process has: no breaker object of its own yet (the shared state, if
    any, is where it was)."""
    from apps.ai_assistant import circuit

    circuit._breakers.clear()


def _open_the_circuit(client, auth_header, agent, settings) -> None:
    settings.AI_CIRCUIT_FAILURES = 2
    settings.AI_AGENT_RETRIES = 0
    agent.reset(behaviour=failing(503))
    for _ in range(2):
        assert_fallback(chat(client, auth_header, "cheapest H100 right now"), "HTTP 503")
    assert len(agent.chat_requests) == 2


def test_circuit_state_is_shared_through_redis(
    client, auth_header, demo_catalogue, agent, settings
):
    """With REDIS_URL another process finds the circuit open and does not call the dead agent."""
    from tests.conftest import services_required

    if not settings.REDIS_URL:
        if services_required():
            pytest.fail("REQUIRE_SERVICES=1 needs REDIS_URL (the circuit is shared in Redis)")
        pytest.skip("the circuit is shared through Redis: set REDIS_URL")
    _open_the_circuit(client, auth_header, agent, settings)
    _another_process()
    health = client.get("/api/v2/ai/health").json()["circuit"]
    assert health["shared"] is True and health["state"] == "open" and health["failures"] >= 2
    assert_fallback(chat(client, auth_header, "cheapest H100 right now"), "circuit is open")
    assert len(agent.chat_requests) == 2  # the other process did not call the agent

    agent.reset()  # the agent recovers; one process's trial call closes it for every process
    from apps.ai_assistant.agent_client import AgentConfig
    from apps.ai_assistant.circuit import breaker_for

    config = AgentConfig.from_settings()
    assert config is not None
    breaker_for(config).half_open()
    assert chat(client, auth_header, "cheapest H100 right now")["mode"] == "remote"
    _another_process()
    assert client.get("/api/v2/ai/health").json()["circuit"]["state"] == "closed"


def test_circuit_per_process_when_not_shared(client, auth_header, demo_catalogue, agent, settings):
    settings.AI_CIRCUIT_SHARED = False
    _open_the_circuit(client, auth_header, agent, settings)
    _another_process()
    health = client.get("/api/v2/ai/health").json()["circuit"]
    assert health == {"state": "closed", "failures": 0, "shared": False}
    assert_fallback(chat(client, auth_header, "cheapest H100 right now"), "HTTP 503")
    assert len(agent.chat_requests) == 3  # this process had to find out for itself


def test_unreachable_agent_falls_back(client, auth_header, demo_catalogue, settings):
    from tests.realtime.live_servers import free_port

    settings.AI_AGENT_BASE_URL = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens
    settings.AI_AGENT_MODEL = "stub-model"
    settings.AI_AGENT_RETRIES = 0
    answer = chat(client, auth_header, "cheapest H100 right now")
    assert_fallback(answer, "unreachable")
    health = client.get("/api/v2/ai/health").json()
    assert health["mode"] == "remote" and health["reachable"] is False


def test_health_reports_the_agent(client, agent):
    health = client.get("/api/v2/ai/health").json()
    assert health["mode"] == "remote"
    assert health["model"] == "stub-model"
    assert health["agent_url"] == f"http://127.0.0.1:{agent.port}"
    assert health["reachable"] is True and health["latency_ms"] >= 0
    assert health["circuit"]["state"] == "closed"
    assert "sk-test-key" not in json.dumps(health)


def test_health_reuses_its_probe_for_the_configured_time(client, agent, settings):
    settings.AI_HEALTH_PROBE_CACHE_SECONDS = 3600.0
    probes = lambda: [r for r in agent.requests if r["path"].endswith("/models")]  # noqa: E731
    first = client.get("/api/v2/ai/health").json()
    second = client.get("/api/v2/ai/health").json()
    graphql = client.post(
        "/graphql/",
        {"query": "{ aiHealth { reachable probedAt probeAgeSeconds } }"},
        content_type="application/json",
    ).json()["data"]["aiHealth"]
    assert len(probes()) == 1  # one probe served all three
    assert first["probed_at"] == second["probed_at"] and first["reachable"] is True
    assert 0 <= first["probe_age_seconds"] <= second["probe_age_seconds"]
    assert graphql["reachable"] is True and graphql["probeAgeSeconds"] >= 0
    assert graphql["probedAt"].replace("+00:00", "Z")[:19] == first["probed_at"][:19]

    settings.AI_HEALTH_PROBE_CACHE_SECONDS = 0
    client.get("/api/v2/ai/health")
    client.get("/api/v2/ai/health")
    assert len(probes()) == 3  # 0: probed on every call


def test_history_is_sent_to_the_agent(client, auth_header, demo_catalogue, agent):
    first = chat(client, auth_header, "cheapest H100 right now")
    agent.reset()
    chat(client, auth_header, "and the A100?", session_id=first["session_id"])
    messages = agent.chat_requests[0]["json"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "cheapest H100 right now"
    assert messages[2]["content"] == first["text"]


def test_tool_call_budget_per_message(client, auth_header, demo_catalogue, agent, settings):
    settings.AI_TOOL_MAX_CALLS = 3

    def greedy(stub, body):
        if body["messages"][-1]["role"] == "tool":
            return stub.text_reply("Done.")
        calls = [Call("search_offers", {"limit": 1}, id=f"c{i}") for i in range(5)]
        return stub.tool_reply(calls)

    agent.reset(behaviour=greedy)
    answer = chat(client, auth_header, "everything")
    assert len(answer["tool_calls"]) == 3
    tool_messages = [m for m in agent.chat_requests[1]["json"]["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["c0", "c1", "c2", "c3", "c4"]
    assert "budget of 3 used up" in tool_messages[-1]["content"]


def test_gpu_kpis_round_trip_is_grounded(client, auth_header, h100_history, agent):
    """The agent asks the KPI engine, quotes its figures and the cheapest offer it cites, and
    adds a forecast of its own: the engine's figures stay, the invented one is removed."""

    def analyst(stub: StubAgent, body: dict[str, Any]):
        messages = body["messages"]
        if messages[-1]["role"] != "tool":
            return stub.tool_reply([Call("gpu_kpis", {"gpu_model": "H100", "tier": None})])
        kpis = json.loads(messages[-1]["content"])
        month = next(t for t in kpis["trends"] if t["window"] == "30d")
        best = kpis["cheapest_offers"][0]
        return stub.text_reply(
            f"The H100 median went from ${month['median_price_then']} to "
            f"${month['median_price_now']} per GPU-hour over 30 days "
            f"({month['change_percent']} %, index {month['index_change_percent']} %). "
            f"Cheapest now: {best['provider']} at ${best['price_per_gpu_hour']} per GPU-hour. "
            "Expect $0.42 next month."
        )

    agent.reset(behaviour=analyst)
    answer = chat(client, auth_header, "is the H100 getting cheaper")
    assert answer["mode"] == "remote"
    [call] = answer["tool_calls"]
    assert call["name"] == "gpu_kpis" and call["ok"] and call["offer_ids"]
    assert "$0.42" not in answer["text"] and "[unverified figure removed]" in answer["text"]
    assert answer["text"].count("$") == 3  # the engine's two medians and the cited offer
    assert answer["offers"] and answer["offers"][0]["offer_id"] == call["offer_ids"][0]
    assert_cited_from_catalogue(answer)
    assert_grounded(answer)


def test_gpu_kpis_unknown_gpu_is_a_tool_error(client, auth_header, demo_catalogue, agent):
    def asks(stub: StubAgent, body: dict[str, Any]):
        if body["messages"][-1]["role"] == "tool":
            return stub.think(body)
        return stub.tool_reply([Call("gpu_kpis", {"gpu_model": "Quantum 9000", "bucket": "week"})])

    agent.reset(behaviour=asks)
    answer = chat(client, auth_header, "KPIs of the Quantum 9000")
    [call] = answer["tool_calls"]
    assert not call["ok"] and "bucket: Input should be 'hour' or 'day'" in call["error"]

    def unknown(stub: StubAgent, body: dict[str, Any]):
        if body["messages"][-1]["role"] == "tool":
            return stub.think(body)
        return stub.tool_reply([Call("gpu_kpis", {"gpu_model": "Quantum 9000"})])

    agent.reset(behaviour=unknown)
    answer = chat(client, auth_header, "KPIs of the Quantum 9000")
    [call] = answer["tool_calls"]
    assert not call["ok"] and "Unknown GPU 'Quantum 9000'" in call["error"]
    assert answer["mode"] == "remote" and answer["offers"] == []
