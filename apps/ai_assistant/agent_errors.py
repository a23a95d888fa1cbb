"""Errors of the remote agent (never shown to a client as such: the chat falls back)."""

from __future__ import annotations


class AgentError(Exception):
    """The agent could not give a usable reply (after retries)."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class AgentUnavailable(AgentError):
    """The circuit is open: the agent is not called at all."""
