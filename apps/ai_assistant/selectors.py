"""Reads of chat sessions, always scoped to their owner: a session of another user (or of the
user's former tenant) is "not found", never "forbidden", so ids cannot be probed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from apps.auth_app.models import User
from apps.core.errors import NotFound, ValidationFailed

from .errors import AssistantErrorCode
from .models import ChatMessage, ChatSession


def parse_session_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationFailed(
            "session_id must be a session id (a UUID)",
            field="session_id",
            reason=AssistantErrorCode.INVALID_SESSION_ID,
        ) from exc


def sessions_of(user: User) -> QuerySet[ChatSession]:
    if user.tenant_id is None:
        return ChatSession.objects.filter(user=user, tenant__isnull=True)
    return ChatSession.objects.filter(user=user, tenant_id=user.tenant_id)


def session_of(user: User, session_id: object) -> ChatSession:
    found = sessions_of(user).filter(pk=parse_session_id(session_id)).first()
    if found is None:
        raise NotFound(
            "No such chat session.", field="session_id", reason=AssistantErrorCode.SESSION_NOT_FOUND
        )
    return found


@dataclass(frozen=True)
class HistoryPage:
    session: ChatSession
    messages: list[ChatMessage]
    total: int
    page: int
    per_page: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def history(
    user: User, session_id: object, *, page: int = 1, per_page: int | None = None
) -> HistoryPage:
    """One page of a session's messages, oldest first (page 1 holds the first messages)."""
    size = settings.AI_HISTORY_PAGE_SIZE if per_page is None else per_page
    largest = settings.AI_HISTORY_MAX_PAGE_SIZE
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= largest:
        raise ValidationFailed(
            f"per_page must be between 1 and {largest}",
            field="per_page",
            reason=AssistantErrorCode.INVALID_PAGE,
        )
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= 1_000_000:
        raise ValidationFailed(
            "page must be between 1 and 1000000",
            field="page",
            reason=AssistantErrorCode.INVALID_PAGE,
        )
    session = session_of(user, session_id)
    messages = ChatMessage.objects.filter(session=session).order_by("id")
    start = (page - 1) * size
    rows = list(messages[start : start + size])
    return HistoryPage(session, rows, session.message_count, page, size)


def recent_messages(session: ChatSession, count: int) -> list[ChatMessage]:
    """The session's last ``count`` messages, oldest first (the agent's context)."""
    if count <= 0:
        return []
    rows = list(ChatMessage.objects.filter(session=session).order_by("-id")[:count])
    return rows[::-1]
