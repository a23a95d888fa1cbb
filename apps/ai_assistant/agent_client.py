"""The remote agent: an OpenAI-compatible ``/chat/completions`` server (a hosted API, vLLM, Ollama's
``/v1``, LM Studio, llama.cpp's server …) spoken to with httpx.

* Timeouts on connect and read; retries with exponential backoff (``RetryPolicy`` of the
  provider client, jittered) on 429, 5xx, timeouts and refused connections, honouring
  ``Retry-After`` up to ``AI_AGENT_MAX_RETRY_AFTER_SECONDS``.
* A circuit breaker (pybreaker) per agent (``circuit``: its state in Redis, shared by every
  process, when ``REDIS_URL`` is set): after ``AI_CIRCUIT_FAILURES`` failed calls in a row it
  opens and every call fails at once (``AgentUnavailable``) until ``AI_CIRCUIT_RESET_SECONDS``
  have passed; then one trial call closes it again or re-opens it. A dead agent costs
  microseconds per request, not a timeout.
* Replies are normalised across dialects (``dialects.normalise_reply``): ``arguments`` as a
  JSON string (OpenAI, vLLM) or an object (Ollama), tool calls without ids, the legacy
  ``function_call``, Ollama's native ``message``/``done_reason`` shape and ``finish_reason``
  variants.
"""

from __future__ import annotations

import functools
import random
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpx
import orjson
import pybreaker
from django.conf import settings

from apps.providers.adapters.http import RetryPolicy, parse_retry_after

from .agent_errors import AgentError, AgentUnavailable
from .circuit import breaker_for
from .dialects import AgentReply, normalise_reply

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "gpubroker-assistant/1.0"
__all__ = ["AgentClient", "AgentConfig", "AgentError", "AgentUnavailable"]


@dataclass(frozen=True)
class AgentConfig:
    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 30.0
    connect_timeout: float = 3.0
    retries: int = 2
    backoff: float = 0.5
    max_retry_after: float = 5.0
    circuit_failures: int = 3
    circuit_reset: float = 30.0

    @classmethod
    def from_settings(cls) -> AgentConfig | None:
        """The configured agent, or None (local mode) when base URL or model is missing."""
        if not settings.AI_AGENT_BASE_URL or not settings.AI_AGENT_MODEL:
            return None
        return cls(
            base_url=settings.AI_AGENT_BASE_URL.rstrip("/"),
            model=settings.AI_AGENT_MODEL,
            api_key=settings.AI_AGENT_API_KEY,
            timeout=settings.AI_AGENT_TIMEOUT_SECONDS,
            connect_timeout=settings.AI_AGENT_CONNECT_TIMEOUT_SECONDS,
            retries=settings.AI_AGENT_RETRIES,
            backoff=settings.AI_AGENT_BACKOFF_SECONDS,
            max_retry_after=settings.AI_AGENT_MAX_RETRY_AFTER_SECONDS,
            circuit_failures=settings.AI_CIRCUIT_FAILURES,
            circuit_reset=settings.AI_CIRCUIT_RESET_SECONDS,
        )

    @property
    def host(self) -> str:
        """Where the agent is, for health output (no credentials, no path secrets)."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process (httpx's default trust store, certifi): building it per
    request cost ~300 ms on a loaded machine (``bench/ai_agent_bench.py``)."""
    return ssl.create_default_context(cafile=certifi.where())


class AgentClient:
    def __init__(
        self,
        config: AgentConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Any = time.sleep,
    ) -> None:
        self.config = config
        self.transport = transport
        self.sleep = sleep
        self.retry = RetryPolicy(
            attempts=1 + max(0, config.retries),
            base_delay=config.backoff,
            max_delay=max(config.backoff * 8, config.backoff),
            max_retry_after=config.max_retry_after,
        )
        self.rng = random.Random()  # noqa: S311 - jitter, not cryptography
        self.breaker = breaker_for(config)

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return headers

    def _client(self, timeout: float | None = None) -> httpx.Client:
        read = timeout if timeout is not None else self.config.timeout
        return httpx.Client(
            base_url=self.config.base_url,
            transport=self.transport,
            verify=tls_context(),
            timeout=httpx.Timeout(read, connect=min(self.config.connect_timeout, read)),
            headers=self._headers(),
            follow_redirects=False,
        )

    def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> AgentReply:
        """One chat completion through the circuit breaker; ``AgentError`` when it fails."""
        body: dict[str, Any] = {"model": self.config.model, "messages": messages, "stream": False}
        if tools:
            body["tools"] = tools
            body["tool_choice"] = tool_choice or "auto"
        if response_format:
            body["response_format"] = response_format
        try:
            reply: AgentReply = self.breaker.call(self._post_with_retries, body)
        except pybreaker.CircuitBreakerError as exc:
            raise AgentUnavailable("the agent's circuit is open after repeated failures") from exc
        return reply

    def _post_with_retries(self, body: dict[str, Any]) -> AgentReply:
        last: AgentError | None = None
        with self._client() as client:
            for attempt in range(self.retry.attempts):
                wait: float | None = None
                try:
                    response = client.post("/chat/completions", content=orjson.dumps(body))
                except httpx.TimeoutException:
                    last = AgentError(f"the agent did not answer within {self.config.timeout:g} s")
                except httpx.TransportError as exc:
                    last = AgentError(f"the agent is unreachable ({exc.__class__.__name__})")
                else:
                    if response.status_code in RETRY_STATUSES:
                        last = AgentError(
                            f"the agent answered HTTP {response.status_code}",
                            status_code=response.status_code,
                        )
                        wait = parse_retry_after(response.headers.get("Retry-After"))
                        if wait is not None and wait > self.retry.max_retry_after:
                            raise last
                    elif response.status_code >= 400:
                        raise AgentError(
                            f"the agent refused the request (HTTP {response.status_code})",
                            status_code=response.status_code,
                        )
                    else:
                        return normalise_reply(_json(response))
                if attempt + 1 < self.retry.attempts:
                    self.sleep(wait if wait is not None else self.retry.backoff(attempt, self.rng))
        assert last is not None
        raise last

    def probe(self, timeout: float = 2.0) -> tuple[bool, float, str | None]:
        """Is the agent reachable? ``GET /models`` outside the breaker: (ok, latency ms, error)."""
        started = time.perf_counter()
        try:
            with self._client(timeout) as client:
                response = client.get("/models")
        except httpx.HTTPError as exc:
            return False, (time.perf_counter() - started) * 1000, exc.__class__.__name__
        latency = (time.perf_counter() - started) * 1000
        if response.status_code >= 400:
            return False, latency, f"HTTP {response.status_code}"
        return True, latency, None


def _json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise AgentError("the agent's reply is not valid JSON") from exc
