"""The agent's circuit breaker (pybreaker), one per agent and breaker settings.

**Where its state lives.** With ``REDIS_URL`` set (the scale-out configuration: N server
processes behind nginx) and ``AI_CIRCUIT_SHARED`` on (the default), the state — open or closed,
consecutive failures, when it opened — is kept in Redis through pybreaker's own
``CircuitRedisStorage`` on the cache's connection, so the ``AI_CIRCUIT_FAILURES`` failures that
open it are counted across every process and, once open, every process answers at once without
calling the agent: N processes pay for a dead agent ``AI_CIRCUIT_FAILURES`` times in all, not N
times that. When the reset timeout has passed each process may send one trial call (at most N
in all); the first success closes the circuit for everyone. If Redis fails, pybreaker treats the
circuit as closed (the agent is still tried: a Redis outage never silences a healthy agent) and
logs it; a breaker whose Redis state cannot be set up at all falls back to process memory for
that request only.

Without Redis (the embedded default: one process, the local-memory cache) the state is in
process memory, which is the same thing there. ``AI_CIRCUIT_SHARED=0`` keeps it per process
even with Redis."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import pybreaker
from django.conf import settings
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from .agent_client import AgentConfig

logger = logging.getLogger("gpubroker.ai.circuit")
NAMESPACE = "v2:ai-circuit"

_breakers: dict[tuple[str, int, float], pybreaker.CircuitBreaker] = {}
_lock = threading.Lock()


def shared() -> bool:
    """Is the circuit state kept in Redis (shared by every process)?"""
    backend = str(settings.CACHES["default"]["BACKEND"])
    return bool(settings.AI_CIRCUIT_SHARED and settings.REDIS_URL and "django_redis" in backend)


def namespace(config: AgentConfig) -> str:
    """The Redis key prefix of one agent's breaker (its URL and breaker settings, hashed)."""
    identity = f"{config.base_url}|{config.circuit_failures}|{config.circuit_reset}"
    return f"{NAMESPACE}:{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def _storage(config: AgentConfig) -> pybreaker.CircuitBreakerStorage | None:
    if not shared():
        return None
    from django_redis import get_redis_connection

    return pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED, get_redis_connection("default"), namespace=namespace(config)
    )


def _new(config: AgentConfig, storage: pybreaker.CircuitBreakerStorage | None) -> Any:
    return pybreaker.CircuitBreaker(
        fail_max=max(1, config.circuit_failures),
        reset_timeout=config.circuit_reset,
        throw_new_error_on_trip=False,
        state_storage=storage,
        name=config.base_url,
    )


def breaker_for(config: AgentConfig) -> pybreaker.CircuitBreaker:
    """The breaker of this agent and these breaker settings, kept for the process; its state
    in Redis when ``shared()``."""
    key = (config.base_url, config.circuit_failures, config.circuit_reset)
    with _lock:
        breaker = _breakers.get(key)
        if breaker is not None:
            return breaker
        try:
            storage = _storage(config)
        except RedisError:
            logger.exception("the shared circuit state is unavailable; per process this time")
            return _new(config, None)
        breaker = _new(config, storage)
        _breakers[key] = breaker
        return breaker


def reset_breakers() -> None:
    """Forget every breaker of this process, and the shared state of each (tests)."""
    with _lock:
        for breaker in _breakers.values():
            storage = breaker._state_storage
            if isinstance(storage, pybreaker.CircuitRedisStorage):
                prefix = f"{storage._namespace_name}:{storage.BASE_NAMESPACE}:"
                storage._redis.delete(*(prefix + k for k in ("fail_counter", "state", "opened_at")))
                storage._redis.delete(prefix + "success_counter")
        _breakers.clear()


def circuit_state(config: AgentConfig) -> dict[str, Any]:
    """State, consecutive failures, whether it is shared, and when open how long until a trial
    call is allowed."""
    breaker = breaker_for(config)
    state = breaker.current_state
    info: dict[str, Any] = {
        "state": state,
        "failures": breaker.fail_counter,
        "shared": isinstance(breaker._state_storage, pybreaker.CircuitRedisStorage),
    }
    opened_at = breaker._state_storage.opened_at
    if state == pybreaker.STATE_OPEN and opened_at is not None:
        elapsed = time.time() - opened_at.timestamp()
        info["retry_in_seconds"] = round(max(0.0, config.circuit_reset - elapsed), 2)
    return info
