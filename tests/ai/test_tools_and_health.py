"""The tool list (schemas derived from the services' input types), health in local mode, the
agent client's reply normalisation, and parse-workload refined by a (stub) agent."""

from __future__ import annotations

import json

import pytest
from pydantic import TypeAdapter

from apps.ai_assistant.agent_errors import AgentError
from apps.ai_assistant.dialects import normalise_reply
from apps.ai_assistant.tools import TOOLS, inline_refs
from apps.math_core.algorithms.workload_mapper import Workload
from apps.math_core.recommendations import Preferences
from apps.providers.offer_filters import OfferFilters

from .stub_agent import StubAgent, _json

EXPECTED_TOOLS = {
    "search_offers",
    "estimate_workload",
    "recommend_offers",
    "compare_gpus",
    "fits_in_vram",
    "price_trend",
    "gpu_kpis",
    "lookup_model",
}


def _strip(schema):
    """A schema without the forbid-extra marker pydantic adds for the tool wrapper."""
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k != "additionalProperties"}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def _kinds(schema):
    """The non-null types (and enums) a property schema allows."""
    options = schema.get("anyOf", [schema])
    return [
        {k: v for k, v in option.items() if k in ("type", "enum")}
        for option in options
        if option.get("type") != "null"
    ]


@pytest.mark.django_db
def test_tools_are_listed_with_schemas_of_the_service_inputs(client):
    tools = {t["name"]: t for t in client.get("/api/v2/ai/tools").json()}
    assert set(tools) == EXPECTED_TOOLS
    for tool in tools.values():
        assert "$ref" not in json.dumps(tool["parameters"]) and tool["description"]
    estimate = tools["estimate_workload"]["parameters"]["properties"]
    service = inline_refs(TypeAdapter(Workload).json_schema())["properties"]
    mine = estimate["workload"]["properties"]
    assert set(mine) == set(Workload.__dataclass_fields__) - {"defaults"}
    for name, prop in mine.items():
        if name == "model":  # a catalogue name: build_workload looks the architecture up
            assert prop["anyOf"][0] == {"maxLength": 200, "type": "string"}
        else:
            assert _kinds(prop) == _kinds(service[name]), name
    assert estimate["workload"]["required"] == ["workload_type"]
    filter_schema = tools["search_offers"]["parameters"]["properties"]["filter"]["anyOf"][0]
    assert _strip(filter_schema) == _strip(inline_refs(TypeAdapter(OfferFilters).json_schema()))
    prefs = tools["recommend_offers"]["parameters"]["properties"]["preferences"]["anyOf"][0]
    assert _strip(prefs) == _strip(inline_refs(TypeAdapter(Preferences).json_schema()))
    assert tools["search_offers"]["parameters"]["properties"]["limit"]["maximum"] == 10


@pytest.mark.django_db
def test_gpu_kpis_schema_is_the_kpi_engines_signature(client):
    """One definition: the KPI engine's parameters (less ``now``), its defaults, and its own
    choices for tier and bucket."""
    import inspect

    from apps.kpi import services as kpi
    from apps.kpi.models import Granularity, Tier

    tools = {t["name"]: t for t in client.get("/api/v2/ai/tools").json()}
    schema = tools["gpu_kpis"]["parameters"]
    parameters = inspect.signature(kpi.gpu_metrics).parameters
    assert set(schema["properties"]) == set(parameters) - {"now"}
    assert schema["required"] == ["gpu_model"]
    assert _kinds(schema["properties"]["tier"]) == [{"type": "string", "enum": Tier.values}]
    assert schema["properties"]["tier"]["default"] is parameters["tier"].default
    assert schema["properties"]["bucket"]["enum"] == Granularity.values
    assert schema["properties"]["bucket"]["default"] == parameters["bucket"].default
    graphql = client.post(
        "/graphql/", {"query": "{ aiTools { name parameters } }"}, content_type="application/json"
    ).json()["data"]["aiTools"]
    assert {t["name"]: t["parameters"] for t in graphql}["gpu_kpis"] == schema


def test_tool_definitions_are_the_openai_shape():
    for tool in TOOLS.values():
        definition = tool.definition()
        assert definition["type"] == "function"
        assert definition["function"]["parameters"]["type"] == "object"


@pytest.mark.django_db
def test_health_in_local_mode(client):
    assert client.get("/api/v2/ai/health").json() == {
        "mode": "local",
        "model": None,
        "agent_url": None,
        "reachable": None,
        "latency_ms": None,
        "error": None,
        "circuit": None,
        "tools": 8,
        "max_tool_rounds": 5,
        "probed_at": None,
        "probe_age_seconds": None,
    }


def _choice(message, finish):
    return {"choices": [{"message": message, "finish_reason": finish}], "model": "m"}


@pytest.mark.parametrize(
    ("payload", "finish", "arguments", "call_id"),
    [
        (
            _choice(
                {"tool_calls": [{"id": "x", "function": {"name": "t", "arguments": "{}"}}]},
                "tool_calls",
            ),
            "tool_calls",
            "{}",
            "x",
        ),
        (
            _choice({"tool_calls": [{"function": {"name": "t", "arguments": {"a": 1}}}]}, None),
            "tool_calls",
            {"a": 1},
            "call_0",
        ),
        (
            _choice({"function_call": {"name": "t", "arguments": '{"a": 1}'}}, "function_call"),
            "tool_calls",
            '{"a": 1}',
            "call_0",
        ),
        (
            _choice({"tool_calls": [{"name": "t", "arguments": "{}", "id": 7}]}, "stop"),
            "tool_calls",
            "{}",
            "7",
        ),
        (
            {
                "message": {"tool_calls": [{"function": {"name": "t", "arguments": {}}}]},
                "done_reason": "stop",
            },
            "tool_calls",
            {},
            "call_0",
        ),
    ],
)
def test_tool_call_dialects(payload, finish, arguments, call_id):
    reply = normalise_reply(payload)
    assert reply.finish_reason == finish
    [call] = reply.tool_calls
    assert (call.name, call.arguments, call.id) == ("t", arguments, call_id)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("stop", "stop"),
        ("eos", "stop"),
        ("end_turn", "stop"),
        (None, "stop"),
        ("length", "length"),
        ("max_tokens", "length"),
        ("content_filter", "content_filter"),
        ("weird", "other"),
    ],
)
def test_finish_reason_variants(raw, normalised):
    reply = normalise_reply(_choice({"content": "hi"}, raw))
    assert reply.finish_reason == normalised and reply.content == "hi"


def test_content_parts_are_joined():
    reply = normalise_reply(
        _choice({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, "stop")
    )
    assert reply.content == "ab"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"choices": [{}]},
        {"choices": [{"message": {"tool_calls": {}}}]},
        {"choices": [{"message": {"tool_calls": [{"function": {}}]}}]},
    ],
)
def test_malformed_payloads_raise_agent_errors(payload):
    with pytest.raises(AgentError):
        normalise_reply(payload)


@pytest.fixture(scope="module")
def stub():
    agent = StubAgent().start()
    yield agent
    agent.stop()


@pytest.mark.django_db
def test_parse_workload_refined_by_the_agent(client, settings, stub):
    def refine(agent, body):
        assert body["response_format"] == {"type": "json_object"}
        draft = json.loads(body["messages"][-1]["content"].split("Draft: ", 1)[1])
        draft["workload"]["params_billion"] = 46.7  # the agent knows Mixtral 8x7B's size
        return agent.text_reply(json.dumps(draft))

    stub.reset(behaviour=refine)
    settings.AI_AGENT_BASE_URL = stub.url
    settings.AI_AGENT_MODEL = "stub-model"
    body = client.post(
        "/api/v2/ai/parse-workload",
        {"text": "serve Mixtral 8x7B, 1M tokens"},
        content_type="application/json",
    ).json()
    assert body["mode"] == "agent" and body["complete"] is True
    assert body["workload"]["params_billion"] == 46.7
    assert body["confidence"]["workload.params_billion"] == 0.8

    stub.reset(behaviour=lambda agent, b: _json(500, {"error": "down"}))
    settings.AI_AGENT_RETRIES = 0
    body = client.post(
        "/api/v2/ai/parse-workload",
        {"text": "serve Mixtral 8x7B, 1M tokens"},
        content_type="application/json",
    ).json()
    assert body["mode"] == "rules" and body["complete"] is False
    assert any("could not refine" in note for note in body["notes"])

    stub.reset(
        behaviour=lambda agent, b: agent.text_reply(
            json.dumps({"workload": {"params_billion": -5}, "filters": {"country": ["Germany"]}})
        )
    )
    body = client.post(
        "/api/v2/ai/parse-workload",
        {"text": "serve Mixtral 8x7B, 1M tokens"},
        content_type="application/json",
    ).json()
    assert body["complete"] is False and "country" not in body["filters"]
    assert any("filter country dropped" in note for note in body["notes"])
