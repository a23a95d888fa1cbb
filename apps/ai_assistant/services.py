"""The AI assistant's services, behind both facades.

* ``chat`` — one message in a session (a new session when none is given): remote mode when an
  agent is configured, local mode otherwise; when the agent fails (timeout, HTTP error, bad
  reply, open circuit, endless tool loop) the local assistant answers instead and the answer
  says so. Messages are limited in size and rate by the tenant's plan; sessions in length.
* ``history`` — a session's messages, paginated (``selectors``).
* ``parse_workload`` — text → workload and filters (rules; refined by the agent when one is
  configured and answers).
* ``tool_catalogue`` and ``health``.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from limits import RateLimitItemPerMinute

from apps.auth_app import ratelimit
from apps.auth_app.models import Plan, User
from apps.core.errors import Conflict, ValidationFailed
from apps.core.text import is_blank, trimmed

from . import agent_probe
from .agent_client import AgentClient, AgentConfig
from .agent_errors import AgentError
from .circuit import circuit_state
from .citations import OfferCitation
from .errors import AssistantErrorCode
from .local_assistant import answer_locally
from .models import ChatMessage, ChatSession, MessageRole
from .remote_assistant import answer_remotely
from .selectors import HistoryPage, recent_messages, session_of
from .selectors import history as session_history
from .tools import TOOLS, ToolRun, context_for
from .workload_parser import MODE_AGENT, ParsedWorkload, parse_workload_text, validate

logger = logging.getLogger("gpubroker.ai")

MODE_LOCAL = "local"
MODE_REMOTE = "remote"
MODE_FALLBACK = "local_fallback"
TITLE_CHARS = 80

__all__ = ["ChatAnswer", "HistoryPage", "chat", "health", "history", "parse_workload"]


@dataclass(frozen=True)
class PlanLimits:
    plan: str
    message_chars: int
    messages_per_minute: int
    session_messages: int


def plan_limits(user: User | None) -> PlanLimits:
    tenant = getattr(user, "tenant", None) if user is not None else None
    plan = tenant.plan if tenant is not None else Plan.FREE
    table = settings.AI_PLAN_LIMITS
    limits = table.get(str(plan), table[Plan.FREE])
    return PlanLimits(str(plan), **limits)


@dataclass
class ChatAnswer:
    session_id: str
    message_id: int
    text: str
    mode: str
    offers: list[OfferCitation]
    tool_calls: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    model: str | None = None
    created_at: datetime | None = None


def _check_message(message: Any, limits: PlanLimits) -> str:
    if not isinstance(message, str) or is_blank(message):
        raise ValidationFailed(
            "message must not be empty", field="message", reason=AssistantErrorCode.EMPTY_MESSAGE
        )
    if len(message) > limits.message_chars:
        raise ValidationFailed(
            f"message must be at most {limits.message_chars} characters on the {limits.plan} plan",
            field="message",
            reason=AssistantErrorCode.MESSAGE_TOO_LONG,
        )
    return trimmed(message)


def _count_message(user: User, limits: PlanLimits) -> None:
    owner = ("tenant", str(user.tenant_id)) if user.tenant_id else ("user", str(user.pk))
    ratelimit.hit(RateLimitItemPerMinute(max(1, limits.messages_per_minute)), "ai-chat", *owner)


def _open_session(user: User, session_id: Any, message: str, limits: PlanLimits) -> ChatSession:
    if session_id is None:
        return ChatSession.objects.create(
            user=user, tenant_id=user.tenant_id, title=message[:TITLE_CHARS]
        )
    session = session_of(user, session_id)
    if session.message_count + 2 > limits.session_messages:
        raise Conflict(
            f"this session holds {session.message_count} messages, the most the "
            f"{limits.plan} plan allows ({limits.session_messages}); start a new session",
            field="session_id",
            reason=AssistantErrorCode.SESSION_FULL,
        )
    return session


def _context_messages(session: ChatSession) -> list[dict[str, str]]:
    return [
        {"role": m.role, "content": m.content}
        for m in recent_messages(session, settings.AI_CONTEXT_MESSAGES)
    ]


@dataclass
class _Reply:
    text: str
    mode: str
    runs: list[ToolRun]
    offers: list[OfferCitation]
    notes: list[str]
    model: str | None


def _reply(user: User, message: str, history: list[dict[str, str]]) -> _Reply:
    context = context_for(user)
    config = AgentConfig.from_settings()
    if config is not None:
        try:
            remote = answer_remotely(message, history, context, AgentClient(config))
            return _Reply(
                remote.text, MODE_REMOTE, remote.runs, remote.offers, remote.notes, remote.model
            )
        except AgentError as exc:
            logger.warning("agent failed; answering locally", extra={"reason": exc.message})
            local = answer_locally(message, context)
            note = f"the agent is unavailable ({exc.message}); the local assistant answered"
            text = local.text if local.understood else f"The agent is unavailable. {local.text}"
            return _Reply(text, MODE_FALLBACK, local.runs, local.offers, [note], config.model)
    local = answer_locally(message, context)
    return _Reply(local.text, MODE_LOCAL, local.runs, local.offers, local.notes, None)


def chat(*, user: User, message: Any, session_id: Any = None) -> ChatAnswer:
    limits = plan_limits(user)
    text = _check_message(message, limits)
    _count_message(user, limits)
    session = _open_session(user, session_id, text, limits)
    history = _context_messages(session)
    reply = _reply(user, text, history)
    tool_calls = [run.summary() for run in reply.runs]
    reply.offers = reply.offers[: settings.AI_MAX_CITED_OFFERS]
    with transaction.atomic():
        ChatMessage.objects.create(session=session, role=MessageRole.USER, content=text)
        answer = ChatMessage.objects.create(
            session=session,
            role=MessageRole.ASSISTANT,
            content=reply.text,
            mode=reply.mode,
            offers=[o.as_json() for o in reply.offers],
            tool_calls=tool_calls,
        )
        ChatSession.objects.filter(pk=session.pk).update(
            message_count=F("message_count") + 2, updated_at=timezone.now()
        )
    return ChatAnswer(
        session_id=str(session.pk),
        message_id=answer.pk,
        text=reply.text,
        mode=reply.mode,
        offers=reply.offers,
        tool_calls=tool_calls,
        notes=reply.notes,
        model=reply.model,
        created_at=answer.created_at,
    )


def history(
    *, user: User, session_id: Any, page: int = 1, per_page: int | None = None
) -> HistoryPage:
    return session_history(user, session_id, page=page, per_page=per_page)


# --- parse-workload -----------------------------------------------------------------------------

REFINE_PROMPT = (
    "Extract a GPU workload from the user's text. Reply with one JSON object only: "
    '{"workload": {...}, "filters": {...}} using exactly the field names of the draft below '
    "(workload: workload_type, params_billion, precision, context_length, batch_size, tokens, "
    "requests, output_tokens_per_request, deadline_hours, budget_usd, lora_rank, "
    "image_resolution, diffusion_steps, model, quantization; filters: the offer-filter fields). "
    "Correct the draft where it misread the text; keep fields you cannot improve; add nothing "
    "the text does not say."
)
WORKLOAD_FIELDS = frozenset(
    {
        "workload_type",
        "params_billion",
        "precision",
        "context_length",
        "batch_size",
        "tokens",
        "requests",
        "output_tokens_per_request",
        "deadline_hours",
        "budget_usd",
        "lora_rank",
        "image_resolution",
        "diffusion_steps",
        "model",
        "quantization",
    }
)
AGENT_CONFIDENCE = 0.8


def _refine(parsed: ParsedWorkload, text: str, config: AgentConfig) -> ParsedWorkload:
    from apps.providers.offer_filters import OfferFilters

    draft = json.dumps({"workload": parsed.workload, "filters": parsed.filters})
    messages = [
        {"role": "system", "content": REFINE_PROMPT},
        {"role": "user", "content": f"Text: {text}\nDraft: {draft}"},
    ]
    reply = AgentClient(config).complete(messages, response_format={"type": "json_object"})
    try:
        proposal = json.loads((reply.content or "").strip().removeprefix("```json").strip("`"))
    except json.JSONDecodeError as exc:
        raise AgentError("the agent's parse is not JSON") from exc
    if not isinstance(proposal, dict):
        raise AgentError("the agent's parse is not a JSON object")
    filter_fields = set(OfferFilters.__dataclass_fields__)
    workload: dict[str, Any] = proposal.get("workload") or {}
    filters: dict[str, Any] = proposal.get("filters") or {}
    if not isinstance(workload, dict) or not isinstance(filters, dict):
        raise AgentError("the agent's parse has no workload and filters objects")
    confidence = dict(parsed.confidence)
    for group, values, allowed, target in (
        ("workload", workload, WORKLOAD_FIELDS, parsed.workload),
        ("filters", filters, filter_fields, parsed.filters),
    ):
        for name, value in values.items():
            if name in allowed and value is not None and target.get(name) != value:
                target[name] = value
                confidence[f"{group}.{name}"] = AGENT_CONFIDENCE
    parsed.confidence = dict(sorted(confidence.items()))
    parsed.mode = MODE_AGENT
    return validate(parsed)


def parse_workload(*, text: Any) -> ParsedWorkload:
    if isinstance(text, str) and len(text) > settings.AI_PARSE_MAX_CHARS:
        raise ValidationFailed(
            f"text must be at most {settings.AI_PARSE_MAX_CHARS} characters",
            field="text",
            reason=AssistantErrorCode.TEXT_TOO_LONG,
        )
    parsed = parse_workload_text(text)
    config = AgentConfig.from_settings()
    if config is None:
        return parsed
    rules_result = copy.deepcopy(parsed)
    try:
        return _refine(parsed, text, config)
    except AgentError as exc:
        rules_result.notes.append(f"the agent could not refine the parse ({exc.message})")
        return rules_result


# --- tools and health ---------------------------------------------------------------------------


def tool_catalogue() -> list[dict[str, Any]]:
    return [
        {"name": t.name, "description": t.description, "parameters": t.parameters()}
        for t in TOOLS.values()
    ]


@dataclass(frozen=True)
class Health:
    mode: str
    model: str | None
    agent_url: str | None
    reachable: bool | None
    latency_ms: float | None
    error: str | None
    circuit: dict[str, Any] | None
    tools: int
    max_tool_rounds: int
    probed_at: datetime | None = None
    probe_age_seconds: float | None = None


def health(*, probe: bool = True) -> Health:
    """Mode, tools and rounds; in remote mode the agent's model and host, the circuit's state
    (read live) and the agent probe (reused for ``AI_HEALTH_PROBE_CACHE_SECONDS``, its time and
    age reported; ``probe=False`` skips it)."""
    config = AgentConfig.from_settings()
    rounds = settings.AI_TOOL_ROUNDS
    if config is None:
        return Health(MODE_LOCAL, None, None, None, None, None, None, len(TOOLS), rounds)
    found = agent_probe.probe(config) if probe else None
    return Health(
        MODE_REMOTE,
        config.model,
        config.host,
        found.reachable if found else None,
        found.latency_ms if found else None,
        found.error if found else None,
        circuit_state(config),
        len(TOOLS),
        rounds,
        found.probed_at if found else None,
        found.age_seconds() if found else None,
    )
