"""What OpenAI-compatible servers really send back, normalised to one ``AgentReply``.

* OpenAI / vLLM / LM Studio: ``choices[0].message`` with ``tool_calls[].function.arguments`` as
  a JSON **string**, ``finish_reason`` ``"tool_calls"`` or ``"stop"``.
* Ollama's native ``/api/chat`` shape: a top-level ``message`` whose ``arguments`` is an
  **object**, ``done_reason`` instead of ``finish_reason``, tool calls without ``id``.
* Older OpenAI: a single ``function_call`` and ``finish_reason: "function_call"``.
* Variants seen in the wild: ``finish_reason`` ``"tool_call"``, ``"eos"``, ``"end_turn"``,
  ``null`` with tool calls present, ``"length"``, ``"content_filter"``; tool calls with ``name``
  and ``arguments`` beside ``function`` rather than inside it; ``arguments`` missing or ``null``.

Tool calls decide over ``finish_reason`` (a reply that carries tool calls is a tool round
whatever its finish reason says). A call without an id gets ``call_<n>``. Arguments are passed on
as they came (string or object) for ``tools.execute`` to decode, so malformed JSON reaches the
model as a tool error instead of failing the reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .agent_errors import AgentError

STOP = "stop"
TOOL_CALLS = "tool_calls"
LENGTH = "length"
CONTENT_FILTER = "content_filter"
OTHER = "other"
_FINISH = {
    "stop": STOP,
    "eos": STOP,
    "end_turn": STOP,
    "end": STOP,
    "stop_sequence": STOP,
    "tool_calls": TOOL_CALLS,
    "tool_call": TOOL_CALLS,
    "function_call": TOOL_CALLS,
    "tool_use": TOOL_CALLS,
    "length": LENGTH,
    "max_tokens": LENGTH,
    "model_length": LENGTH,
    "content_filter": CONTENT_FILTER,
    "safety": CONTENT_FILTER,
}


class MalformedReply(ValueError):
    pass


@dataclass(frozen=True)
class AgentToolCall:
    id: str
    name: str
    arguments: Any  # str (JSON), dict, or None: decoded by tools.execute


@dataclass(frozen=True)
class AgentReply:
    content: str | None
    tool_calls: list[AgentToolCall] = field(default_factory=list)
    finish_reason: str = STOP
    raw_finish_reason: str | None = None
    model: str | None = None

    def assistant_message(self) -> dict[str, Any]:
        """The reply as the ``assistant`` message to send back (OpenAI's canonical form)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content or ""}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": _as_text(call.arguments)},
                }
                for call in self.tool_calls
            ]
        return message


def _as_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)


def _message_of(payload: Any) -> tuple[dict[str, Any], Any]:
    if not isinstance(payload, dict):
        raise MalformedReply("the reply is not a JSON object")
    choices = payload.get("choices")
    if isinstance(choices, list) and choices:
        choice = choices[0]
        if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
            raise MalformedReply("choices[0].message is missing")
        return choice["message"], choice.get("finish_reason")
    if isinstance(payload.get("message"), dict):  # Ollama native
        return payload["message"], payload.get("done_reason") or payload.get("finish_reason")
    if "error" in payload:
        error = payload["error"]
        text = error.get("message") if isinstance(error, dict) else error
        raise MalformedReply(f"the agent reported an error: {str(text)[:200]}")
    raise MalformedReply("the reply has neither choices nor message")


def _calls(message: dict[str, Any]) -> list[AgentToolCall]:
    raw = message.get("tool_calls")
    if raw is None and isinstance(message.get("function_call"), dict):
        raw = [{"function": message["function_call"]}]
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise MalformedReply("tool_calls is not a list")
    calls = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise MalformedReply("a tool call is not an object")
        nested = item.get("function")
        function: dict[str, Any] = nested if isinstance(nested, dict) else item
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise MalformedReply("a tool call has no function name")
        call_id = item.get("id")
        calls.append(
            AgentToolCall(
                id=str(call_id) if call_id else f"call_{index}",
                name=name,
                arguments=function.get("arguments", function.get("parameters")),
            )
        )
    return calls


def normalise_reply(payload: Any) -> AgentReply:
    """One ``AgentReply`` from any of the dialects above; ``AgentError`` when it is none."""
    try:
        message, finish = _message_of(payload)
        calls = _calls(message)
    except MalformedReply as exc:
        raise AgentError(str(exc)) from exc
    content = message.get("content")
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    if content is not None and not isinstance(content, str):
        content = str(content)
    raw = str(finish).lower() if finish is not None else None
    normalised = TOOL_CALLS if calls else _FINISH.get(raw or "stop", OTHER)
    model = payload.get("model") if isinstance(payload.get("model"), str) else None
    return AgentReply(content or None, calls, normalised, raw, model)
