"""Where the circuit's state lives (``apps.ai_assistant.circuit``): Redis when the cache is Redis
and sharing is on, process memory otherwise, and process memory for the moment when Redis fails."""

from __future__ import annotations

import pybreaker
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.ai_assistant import circuit
from apps.ai_assistant.agent_client import AgentConfig

CONFIG = AgentConfig(base_url="http://127.0.0.1:9/v1", model="m")


def test_embedded_default_keeps_the_state_in_process_memory(settings):
    settings.REDIS_URL = None
    assert circuit.shared() is False
    breaker = circuit.breaker_for(CONFIG)
    assert isinstance(breaker._state_storage, pybreaker.CircuitMemoryStorage)
    assert circuit.breaker_for(CONFIG) is breaker  # one per process
    assert circuit.circuit_state(CONFIG) == {"state": "closed", "failures": 0, "shared": False}


def test_sharing_needs_redis_and_the_setting(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/4"
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache"}}
    assert circuit.shared() is True
    settings.AI_CIRCUIT_SHARED = False
    assert circuit.shared() is False
    settings.AI_CIRCUIT_SHARED = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert circuit.shared() is False


def test_redis_failing_at_set_up_falls_back_for_this_call_only(monkeypatch):
    calls = []

    def broken(config):
        calls.append(config)
        raise RedisConnectionError("refused")

    monkeypatch.setattr(circuit, "_storage", broken)
    first = circuit.breaker_for(CONFIG)
    assert isinstance(first._state_storage, pybreaker.CircuitMemoryStorage)
    assert circuit.breaker_for(CONFIG) is not first  # not kept: Redis is tried again next time
    assert len(calls) == 2


def test_namespaces_differ_per_agent_and_breaker_settings():
    other_url = AgentConfig(base_url="http://127.0.0.1:10/v1", model="m")
    other_reset = AgentConfig(base_url=CONFIG.base_url, model="m", circuit_reset=5.0)
    names = {circuit.namespace(c) for c in (CONFIG, other_url, other_reset)}
    assert len(names) == 3 and all(n.startswith("v2:ai-circuit:") for n in names)
    assert "127.0.0.1" not in "".join(names)  # no URL (or credentials in it) in Redis keys


@pytest.fixture(autouse=True)
def _forget():
    yield
    circuit._breakers.clear()
