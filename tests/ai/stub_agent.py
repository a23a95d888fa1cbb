"""A real HTTP server on 127.0.0.1 (a port of the private ``LIVE_PORTS`` block) that speaks the
OpenAI chat-completions protocol, for driving the remote mode end to end.

Its "brain" reads the conversation it is sent, like a tool-using model would: to a user message it
answers with a tool call chosen from the message (search offers for the GPU it names, estimate
the workload it describes); to tool results it answers in words that quote the figures of the
first offer in them. ``dialect`` picks the wire shape (``openai``, ``vllm``, ``ollama`` native,
``legacy`` ``function_call``); ``behaviour`` replaces the brain for failure modes. Every request is
recorded (method, path, headers, JSON body) for assertions."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.realtime.live_servers import free_port

Reply = tuple[int, dict[str, str], bytes]
Behaviour = Callable[["StubAgent", dict[str, Any]], Reply]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


@dataclass
class Call:
    name: str
    arguments: Any
    id: str | None = "call_1"


@dataclass
class StubAgent:
    dialect: str = "openai"
    behaviour: Behaviour | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def reset(self, *, dialect: str = "openai", behaviour: Behaviour | None = None) -> None:
        self.dialect = dialect
        self.behaviour = behaviour
        self.requests.clear()

    # --- wire shapes ----------------------------------------------------------------------
    def tool_reply(self, calls: list[Call], content: str = "") -> Reply:
        message: dict[str, Any]
        if self.dialect == "ollama":
            message = {
                "role": "assistant",
                "content": content,
                "tool_calls": [
                    {"function": {"name": c.name, "arguments": _as_object(c.arguments)}}
                    for c in calls
                ],
            }
            return _json(
                200,
                {"model": "stub-model", "message": message, "done": True, "done_reason": "stop"},
            )
        if self.dialect == "legacy":
            call = calls[0]
            message = {
                "role": "assistant",
                "content": None,
                "function_call": {"name": call.name, "arguments": _as_text(call.arguments)},
            }
            return _json(200, _choices(message, "function_call"))
        tool_calls = []
        for c in calls:
            entry: dict[str, Any] = {
                "type": "function",
                "function": {"name": c.name, "arguments": _as_text(c.arguments)},
            }
            if c.id is not None:
                entry["id"] = c.id
            tool_calls.append(entry)
        message = {"role": "assistant", "content": content or None, "tool_calls": tool_calls}
        # vLLM's tool parser has been seen to report "stop" although it returns tool calls.
        finish = "stop" if self.dialect == "vllm" else "tool_calls"
        return _json(200, _choices(message, finish))

    def text_reply(self, text: str, finish: str = "stop") -> Reply:
        if self.dialect == "ollama":
            message = {"role": "assistant", "content": text}
            return _json(
                200,
                {"model": "stub-model", "message": message, "done": True, "done_reason": finish},
            )
        return _json(200, _choices({"role": "assistant", "content": text}, finish))

    # --- the default brain -------------------------------------------------------------------
    def think(self, body: dict[str, Any]) -> Reply:
        messages = body.get("messages", [])
        last = messages[-1]
        if last["role"] == "tool":
            return self.text_reply(answer_from_tools(messages))
        text = last["content"]
        gpu = re.search(r"H100|A100|L40S|RTX 4090|4090", text)
        if "cost" in text or "fine-tun" in text:
            workload = {"workload_type": "fine_tune_lora", "params_billion": 8, "tokens": 5e7}
            return self.tool_reply([Call("estimate_workload", {"workload": workload, "limit": 3})])
        if gpu:
            args = {
                "filter": {"gpu_type": gpu.group(0)},
                "order_by": "price_per_gpu_hour",
                "limit": 3,
            }
            return self.tool_reply([Call("search_offers", args)])
        return self.text_reply("I can search offers and estimate workloads.")

    # --- server ----------------------------------------------------------------------------
    def start(self) -> StubAgent:
        self.port = free_port()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _record(self, body: Any) -> dict[str, Any]:
                entry = {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "json": body,
                }
                stub.requests.append(entry)
                return entry

            def _send(self, reply: Reply) -> None:
                status, headers, payload = reply
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    return

            def do_GET(self) -> None:
                self._record(None)
                self._send(_json(200, {"object": "list", "data": [{"id": "stub-model"}]}))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                self._record(body)
                brain = stub.behaviour
                self._send(brain(stub, body) if brain else stub.think(body))

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _choices(message: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "model": "stub-model",
        "created": int(time.time()),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }


def _as_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _as_object(arguments: Any) -> Any:
    return json.loads(arguments) if isinstance(arguments, str) else arguments


def answer_from_tools(messages: list[dict[str, Any]]) -> str:
    """Words quoting the first offer of the last tool result, as a model would."""
    result = json.loads(messages[-1]["content"])
    if "error" in result:
        return f"The tool said: {result['error']}"
    offers = result.get("offers") or []
    if not offers:
        return "The catalogue has nothing that matches."
    best = offers[0]
    price = best.get("price_per_gpu_hour") or best.get("price_per_hour")
    total = f", about ${best['total_cost']} in total" if best.get("total_cost") else ""
    return (
        f"The best option is {best['gpu_model']} at {best['provider']} for "
        f"${float(price):.2f} per GPU-hour{total} (offer {best['offer_id']})."
    )
