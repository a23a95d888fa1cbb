"""What can go wrong in the assistant's requests (GraphQL: ``AssistantErrorCode``). Agent
failures are not among them: the chat falls back to the local assistant instead of failing."""

from __future__ import annotations

from enum import Enum


class AssistantErrorCode(Enum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    BAD_REQUEST = "BAD_REQUEST"
    EMPTY_MESSAGE = "EMPTY_MESSAGE"
    MESSAGE_TOO_LONG = "MESSAGE_TOO_LONG"
    INVALID_SESSION_ID = "INVALID_SESSION_ID"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    SESSION_FULL = "SESSION_FULL"
    INVALID_PAGE = "INVALID_PAGE"
    EMPTY_TEXT = "EMPTY_TEXT"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
