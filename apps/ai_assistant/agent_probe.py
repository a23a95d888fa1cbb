"""The agent probe ``/ai/health`` reports, reused for ``AI_HEALTH_PROBE_CACHE_SECONDS``.

Health is public and cheap to call, a probe is an HTTP round trip to the agent (up to two
seconds when it is down): without reuse, every health check — a load balancer's, a dashboard's —
would also hit the agent. The result is kept in the cache (Redis when ``REDIS_URL`` is set, so
every process shares one probe), keyed by the agent's identity; the report says when the probe
ran and how old it is. ``0`` probes on every call. Cache trouble is logged and the agent probed
directly."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache

from .agent_client import AgentClient, AgentConfig
from .circuit import namespace

logger = logging.getLogger("gpubroker.ai.health")
KEY_PREFIX = "ai-health-probe:"


@dataclass(frozen=True)
class Probe:
    reachable: bool
    latency_ms: float
    error: str | None
    probed_at: datetime

    def age_seconds(self, now: datetime | None = None) -> float:
        return round(max(0.0, ((now or datetime.now(UTC)) - self.probed_at).total_seconds()), 3)


def _run(config: AgentConfig) -> Probe:
    reachable, latency, error = AgentClient(config).probe()
    return Probe(reachable, round(latency, 2), error, datetime.now(UTC))


def probe(config: AgentConfig) -> Probe:
    """The agent's last probe if younger than ``AI_HEALTH_PROBE_CACHE_SECONDS``, else a new one."""
    seconds = float(settings.AI_HEALTH_PROBE_CACHE_SECONDS)
    if seconds <= 0:
        return _run(config)
    key = KEY_PREFIX + namespace(config).rsplit(":", 1)[-1]
    try:
        hit = cache.get(key)
    except Exception:
        logger.exception("reading the agent probe from the cache failed")
        return _run(config)
    if isinstance(hit, dict):
        try:
            return Probe(**hit)
        except TypeError:
            pass  # an entry of another version: probe again
    fresh = _run(config)
    try:
        cache.set(key, asdict(fresh), timeout=seconds)
    except Exception:
        logger.exception("storing the agent probe in the cache failed")
    return fresh
