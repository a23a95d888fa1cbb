"""REST: the AI assistant (``/api/v2/ai/``) — chat, workload parsing, chat history, the tool list
and health, over ``apps.ai_assistant.services`` (the same functions the GraphQL resolvers call).

``chat`` and ``sessions/{id}/history`` need a bearer token (sessions are the caller's own; another
user's session is a 404). ``parse-workload``, ``tools`` and ``health`` are public."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from apps.ai_assistant import services
from apps.ai_assistant.citations import OfferCitation
from apps.core.text import NOT_BLANK

from .derived import schema_of
from .envelope import RequestObject, enforced_by_service
from .security import auth_user, jwt_auth

router = Router()
#: The longest message any plan accepts: beyond it a 422 here (a body of that many characters,
#: even escaped, stays under MAX_REQUEST_BYTES, so the answer is never a 413); the caller's own
#: plan limit (``AI_PLAN_LIMITS``) is checked by the service.
MAX_MESSAGE_CHARS = max(limits["message_chars"] for limits in settings.AI_PLAN_LIMITS.values())


class ChatIn(RequestObject):
    message: str = Field(
        ...,
        max_length=MAX_MESSAGE_CHARS,
        json_schema_extra=enforced_by_service(minLength=1, pattern=NOT_BLANK),
    )
    session_id: UUID | None = None


#: The assistant's citation (``citations.OfferCitation``): its fields are declared once, there.
if TYPE_CHECKING:  # what mypy sees; the fields are generated from the dataclass
    CitedOfferOut = Schema
else:
    CitedOfferOut = schema_of(OfferCitation, name="CitedOfferOut")


class ToolCallOut(Schema):
    name: str
    arguments: Any
    ok: bool
    error: str | None
    offer_ids: list[str]
    duration_ms: float


class ChatOut(Schema):
    session_id: str
    message_id: int
    text: str
    mode: str
    model: str | None
    offers: list[CitedOfferOut]
    tool_calls: list[ToolCallOut]
    notes: list[str]
    created_at: datetime | None


class ParseIn(RequestObject):
    text: str = Field(
        ...,
        max_length=MAX_MESSAGE_CHARS,
        json_schema_extra=enforced_by_service(minLength=1, pattern=NOT_BLANK),
    )


class ParseOut(Schema):
    workload: dict[str, Any]
    filters: dict[str, Any]
    confidence: dict[str, float]
    unparsed: list[str]
    missing: list[str]
    complete: bool
    mode: str
    notes: list[str]


class MessageOut(Schema):
    id: int
    role: str
    content: str
    mode: str
    offers: list[CitedOfferOut]
    tool_calls: list[ToolCallOut]
    created_at: datetime


class HistoryOut(Schema):
    session_id: str
    title: str
    total: int
    page: int
    per_page: int
    has_next: bool
    items: list[MessageOut]


#: A UUID (documented; the service answers anything else with INVALID_SESSION_ID, as GraphQL).
SessionId = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]


class HistoryQuery(Schema):
    page: int = Field(1, json_schema_extra=enforced_by_service(minimum=1, maximum=1_000_000))
    per_page: int | None = Field(
        None,
        json_schema_extra=enforced_by_service(minimum=1, maximum=settings.AI_HISTORY_MAX_PAGE_SIZE),
    )


class ToolOut(Schema):
    name: str
    description: str
    parameters: dict[str, Any]


class HealthOut(Schema):
    mode: str
    model: str | None
    agent_url: str | None
    reachable: bool | None
    latency_ms: float | None
    error: str | None
    circuit: dict[str, Any] | None
    tools: int
    max_tool_rounds: int
    probed_at: datetime | None = Field(None, description="When the agent probe ran.")
    probe_age_seconds: float | None = Field(
        None, description="Age of the reported probe (reused for AI_HEALTH_PROBE_CACHE_SECONDS)."
    )


@router.post("/chat", response=ChatOut, auth=jwt_auth, summary="Chat with the assistant")
def chat(request: HttpRequest, body: ChatIn) -> object:
    return services.chat(user=auth_user(request), message=body.message, session_id=body.session_id)


@router.post("/parse-workload", response=ParseOut, summary="Free text to a workload and filters")
def parse_workload(request: HttpRequest, body: ParseIn) -> object:
    return services.parse_workload(text=body.text)


@router.get(
    "/sessions/{session_id}/history",
    response=HistoryOut,
    auth=jwt_auth,
    summary="A chat session's messages, oldest first",
)
def history(request: HttpRequest, session_id: SessionId, params: Query[HistoryQuery]) -> object:
    page = services.history(
        user=auth_user(request), session_id=session_id, page=params.page, per_page=params.per_page
    )
    return {
        "session_id": str(page.session.pk),
        "title": page.session.title,
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "has_next": page.has_next,
        "items": page.messages,
    }


@router.get("/tools", response=list[ToolOut], summary="The assistant's tools and their schemas")
def tools(request: HttpRequest) -> object:
    return services.tool_catalogue()


@router.get("/health", response=HealthOut, summary="Assistant mode, agent reachability, circuit")
def health(request: HttpRequest) -> object:
    return services.health()
