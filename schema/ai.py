"""GraphQL: the AI assistant over ``apps.ai_assistant.services`` — the functions REST calls too.

* Mutations ``chat`` (signed in) and ``parseWorkload`` go through the one mutation pipeline:
  payloads carry ``errors: [AssistantError!]!`` (``AssistantErrorCode``); not signed in and rate
  limits stay request-level errors.
* Queries: ``chatHistory`` (about the viewer: the caller's own sessions; another user's session
  is a ``NotFoundError``), ``aiTools`` and ``aiHealth`` (public: the same for every caller).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.conf import settings
from strawberry.scalars import JSON
from strawberry.types import Info

from apps.ai_assistant import services
from apps.ai_assistant.citations import OfferCitation
from apps.ai_assistant.errors import AssistantErrorCode
from apps.ai_assistant.models import ChatMessage
from apps.ai_assistant.tools import TOOLS
from apps.core.errors import NotFound

from . import cost, offer_links
from .errors import NotFoundError
from .mutations import mutation, payload_error
from .permissions import IsAuthenticated, require_user
from .privacy import PRIVATE
from .recommendation_types import catalogue_offer_field

#: Declared list sizes (query cost): offers one answer cites, tool calls it makes (rounds x calls),
#: notes, errors, ids per tool call.
MAX_RESULTS = settings.AI_TOOL_MAX_RESULTS
MAX_CITED = settings.AI_MAX_CITED_OFFERS
MAX_CALLS = settings.AI_TOOL_MAX_CALLS
MAX_NOTES = 10
MAX_ERRORS = 1


@payload_error(AssistantErrorCode)
@strawberry.type(description="A problem with an assistant request.", directives=[PRIVATE])
class AssistantError:
    field: str | None
    message: str
    code: AssistantErrorCode


@strawberry.type(
    description="An offer an answer cites, as the catalogue had it when the answer was given.",
    directives=[PRIVATE],
)
class CitedOffer:
    offer_id: strawberry.ID
    provider: str
    gpu_model: str
    gpu_count: int
    vram_gb: int
    price_per_hour: Decimal
    price_per_gpu_hour: Decimal
    observed_at: datetime = strawberry.field(description="When this price was last observed.")
    region: str
    country: str
    is_spot: bool
    availability: str
    is_sample_data: bool
    offer = catalogue_offer_field()

    @classmethod
    def of(cls, citation: OfferCitation) -> CitedOffer:
        return cls(**{**vars(citation), "offer_id": strawberry.ID(citation.offer_id)})


@strawberry.type(
    description="A tool call the assistant made while answering.", directives=[PRIVATE]
)
class ToolCall:
    name: str
    arguments: JSON
    ok: bool
    error: str | None
    offer_ids: list[strawberry.ID] = strawberry.field(metadata=cost.list_size(MAX_RESULTS))
    duration_ms: float


def _calls(records: list[dict[str, Any]]) -> list[ToolCall]:
    return [
        ToolCall(
            name=r["name"],
            arguments=r["arguments"],
            ok=r["ok"],
            error=r["error"],
            offer_ids=[strawberry.ID(i) for i in r["offer_ids"]],
            duration_ms=r["duration_ms"],
        )
        for r in records
    ]


@strawberry.type(description="The assistant's answer to one message.", directives=[PRIVATE])
class ChatReply:
    session_id: strawberry.ID
    message_id: strawberry.ID
    text: str
    mode: str = strawberry.field(description="local, remote or local_fallback.")
    model: str | None = strawberry.field(description="The agent's model (remote modes).")
    offers: list[CitedOffer] = strawberry.field(metadata=cost.list_size(MAX_CITED))
    tool_calls: list[ToolCall] = strawberry.field(metadata=cost.list_size(MAX_CALLS))
    notes: list[str] = strawberry.field(metadata=cost.list_size(MAX_NOTES))
    created_at: datetime | None


@strawberry.type(directives=[PRIVATE])
class ChatPayload:
    reply: ChatReply | None = None
    errors: list[AssistantError] = strawberry.field(
        default_factory=list, metadata=cost.list_size(MAX_ERRORS)
    )


@strawberry.type(
    description="Free text read as an estimate-workload body and offer filters.",
    directives=[PRIVATE],
)
class ParsedWorkload:
    workload: JSON = strawberry.field(
        description="estimate-workload fields found (a valid body when `complete`)."
    )
    filters: JSON = strawberry.field(description="Offer-filter fields found.")
    confidence: JSON = strawberry.field(description="Per field, 0-1 (`workload.tokens` …).")
    unparsed: list[str] = strawberry.field(metadata=cost.list_size(MAX_NOTES))
    missing: list[str] = strawberry.field(metadata=cost.list_size(MAX_NOTES))
    complete: bool
    mode: str = strawberry.field(description="rules, or agent when the agent refined it.")
    notes: list[str] = strawberry.field(metadata=cost.list_size(MAX_NOTES))


@strawberry.type(directives=[PRIVATE])
class ParseWorkloadPayload:
    result: ParsedWorkload | None = None
    errors: list[AssistantError] = strawberry.field(
        default_factory=list, metadata=cost.list_size(MAX_ERRORS)
    )


@strawberry.type(description="One message of a chat session.", directives=[PRIVATE])
class ChatMessageType:
    id: strawberry.ID
    role: str
    content: str
    mode: str
    offers: list[CitedOffer] = strawberry.field(metadata=cost.list_size(MAX_CITED))
    tool_calls: list[ToolCall] = strawberry.field(metadata=cost.list_size(MAX_CALLS))
    created_at: datetime

    @classmethod
    def of(cls, m: ChatMessage) -> ChatMessageType:
        return cls(
            id=strawberry.ID(str(m.pk)),
            role=m.role,
            content=m.content,
            mode=m.mode,
            offers=[CitedOffer.of(OfferCitation.from_json(o)) for o in m.offers],
            tool_calls=_calls(m.tool_calls),
            created_at=m.created_at,
        )


@strawberry.type(
    description="A page of a chat session's messages, oldest first.", directives=[PRIVATE]
)
class ChatHistory:
    session_id: strawberry.ID
    title: str
    total: int
    page: int
    per_page: int
    has_next: bool
    messages: list[ChatMessageType] = strawberry.field(
        metadata=cost.list_size(
            settings.AI_HISTORY_PAGE_SIZE,
            argument="perPage",
            maximum=settings.AI_HISTORY_MAX_PAGE_SIZE,
        )
    )


ChatHistoryResult = Annotated[ChatHistory | NotFoundError, strawberry.union("ChatHistoryResult")]


@strawberry.type(
    description="A tool the assistant can call, with its JSON schema.", directives=[PRIVATE]
)
class AiTool:
    name: str
    description: str
    parameters: JSON


@strawberry.type(
    description="The assistant's mode and, in remote mode, its agent's health.",
    directives=[PRIVATE],
)
class AiHealth:
    mode: str
    model: str | None
    agent_url: str | None
    reachable: bool | None
    latency_ms: float | None
    error: str | None
    circuit: JSON | None
    tools: int
    max_tool_rounds: int
    probed_at: datetime | None = strawberry.field(description="When the agent probe ran.")
    probe_age_seconds: float | None = strawberry.field(
        description="Age of the reported probe (reused for AI_HEALTH_PROBE_CACHE_SECONDS)."
    )


@strawberry.input
class ChatInput:
    message: str
    session_id: strawberry.ID | None = None


@strawberry.input
class ParseWorkloadInput:
    text: str


def _reply(info: Info, answer: services.ChatAnswer) -> ChatReply:
    offer_links.register_offers(info, (o.offer_id for o in answer.offers))
    return ChatReply(
        session_id=strawberry.ID(answer.session_id),
        message_id=strawberry.ID(str(answer.message_id)),
        text=answer.text,
        mode=answer.mode,
        model=answer.model,
        offers=[CitedOffer.of(o) for o in answer.offers],
        tool_calls=_calls(answer.tool_calls),
        notes=answer.notes,
        created_at=answer.created_at,
    )


@strawberry.type(directives=[PRIVATE])
class Query:
    @strawberry_django.field(
        description="A page of one of your chat sessions (about the viewer; another user's "
        "session is a NotFoundError).",
    )
    def chat_history(
        self, info: Info, session_id: strawberry.ID, page: int = 1, per_page: int | None = None
    ) -> ChatHistoryResult:
        user = require_user(info)
        try:
            found = services.history(user=user, session_id=session_id, page=page, per_page=per_page)
        except NotFound as exc:
            return NotFoundError.from_domain(exc)
        return ChatHistory(
            session_id=strawberry.ID(str(found.session.pk)),
            title=found.session.title,
            total=found.total,
            page=found.page,
            per_page=found.per_page,
            has_next=found.has_next,
            messages=[ChatMessageType.of(m) for m in found.messages],
        )

    @strawberry_django.field(
        description="The assistant's tools and their JSON schemas (public).",
        metadata=cost.list_size(len(TOOLS)),
    )
    def ai_tools(self) -> list[AiTool]:
        return [AiTool(**tool) for tool in services.tool_catalogue()]

    @strawberry_django.field(
        description="Assistant mode; in remote mode the agent's reachability, latency, circuit "
        "state and model (public)."
    )
    def ai_health(self) -> AiHealth:
        return AiHealth(**vars(services.health()))


@strawberry.type(directives=[PRIVATE])
class Mutation:
    @mutation("Send a message to the assistant (a new session without sessionId).", IsAuthenticated)
    def chat(self, info: Info, input: ChatInput) -> ChatPayload:
        answer = services.chat(
            user=require_user(info), message=input.message, session_id=input.session_id
        )
        return ChatPayload(reply=_reply(info, answer))

    @mutation("Read free text as a workload (estimate-workload body) and offer filters.")
    def parse_workload(self, info: Info, input: ParseWorkloadInput) -> ParseWorkloadPayload:
        parsed = services.parse_workload(text=input.text)
        return ParseWorkloadPayload(result=ParsedWorkload(**vars(parsed)))
