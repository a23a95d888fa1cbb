"""The assistant's tools: thin, read-only wrappers over the existing services, each with ONE input
definition — a pydantic model built from the service's own input types (``OfferFilters``,
``Workload``, ``Preferences``) — whose ``model_json_schema()`` is the tool's JSON schema and
whose validation checks the arguments an agent sends. The service's own validation then runs
as for any other caller, so neither a prompt nor an agent can get past it.

``execute(name, arguments, context)`` never raises for bad input: an unknown tool, arguments that
are not JSON, or arguments the model or the service refuse become a ``ToolRun`` with ``error``
(the agent is told, the answer goes on). Handlers live in ``tool_handlers``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from pydantic import BaseModel, ValidationError

from apps.auth_app.models import User
from apps.core.errors import DomainError, RateLimited

from . import kpi_tool
from . import tool_handlers as handlers
from .citations import OfferCitation, cite

logger = logging.getLogger("gpubroker.ai.tools")
MAX_ARGUMENT_CHARS = 20_000


@dataclass(frozen=True)
class ToolContext:
    """Who is asking: tools act with the caller's identity and limits, never more."""

    user: User | None = None
    max_results: int = 10


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    arguments: type[BaseModel]
    handler: Callable[[Any, ToolContext], handlers.ToolOutput]

    def parameters(self) -> dict[str, Any]:
        return inline_refs(self.arguments.model_json_schema())

    def definition(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry (also what ``GET /api/v2/ai/tools`` lists)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters(),
            },
        }


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every ``$ref`` to ``$defs`` replaced by its definition (some compatible
    servers ignore ``$defs``); the input types are not recursive."""
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                target = dict(definitions[ref.rsplit("/", 1)[1]])
                extra = {k: v for k, v in node.items() if k != "$ref"}
                return resolve({**target, **extra})
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    result: dict[str, Any] = resolve(schema)
    return result


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "search_offers",
            "Search the live GPU offer catalogue with the catalogue's offer filter (GPU model "
            "in any spelling, gpu_type substring such as 'H100', VRAM, price caps, region, "
            "country, spot, compliance tags). Without an availability filter only available "
            "and limited offers are searched. Returns offers with ids, prices per hour and per "
            "GPU-hour and when each price was observed.",
            handlers.SearchOffersArgs,
            handlers.search_offers,
        ),
        Tool(
            "estimate_workload",
            "Memory, duration and total cost of a job (inference, training, full/LoRA/QLoRA "
            "fine-tuning, image generation, embeddings) on every candidate offer, cheapest "
            "feasible first, and per GPU model; says why when nothing fits.",
            handlers.EstimateWorkloadArgs,
            handlers.estimate_workload,
        ),
        Tool(
            "recommend_offers",
            "Ranked offer recommendations (TOPSIS + collaborative + content ensemble) for an "
            "optional workload and preferences, each with an explanation.",
            handlers.RecommendOffersArgs,
            handlers.recommend_offers,
        ),
        Tool(
            "compare_gpus",
            "Compare 2-4 GPU models: datasheet figures, the cheapest available offer of each "
            "and, given a workload, the GPUs each needs, its duration and the cheapest "
            "feasible offer's total cost.",
            handlers.CompareGpusArgs,
            handlers.compare_gpus,
        ),
        Tool(
            "fits_in_vram",
            "Which model sizes and precisions fit in a given amount of GPU memory for a task, "
            "and the cheapest offers with at least that much memory per GPU.",
            handlers.FitsInVramArgs,
            handlers.fits_in_vram,
        ),
        Tool(
            "lookup_model",
            "Look up an open model in the model catalogue by any alias (Hugging Face id, Ollama "
            "tag, common spelling): parameters (total and active), attention kind, layers, KV "
            "heads, KV-cache bytes per token, maximum context, native dtype, and the source.",
            handlers.LookupModelArgs,
            handlers.lookup_model,
        ),
        Tool(
            "gpu_kpis",
            "Market KPIs of a GPU model or family from the KPI engine: per-GPU-hour price "
            "distribution of the listed offers (price anomalies left out), availability, spot "
            "discount, cost per million tokens and per TFLOP-hour at the median, the trends "
            "over 24 h, 7 d and 30 d (median then and now, change, the price index's change and "
            "volatility where the index exists), the cheapest providers and offers.",
            kpi_tool.GpuKpisArgs,
            kpi_tool.gpu_kpis,
        ),
        Tool(
            "price_trend",
            "How the per-GPU-hour price of a GPU model has moved in the catalogue's price "
            "history over the last N days.",
            handlers.PriceTrendArgs,
            handlers.price_trend,
        ),
    )
}


def definitions() -> list[dict[str, Any]]:
    return [tool.definition() for tool in TOOLS.values()]


@dataclass
class ToolRun:
    """One tool call as executed: what was asked, what came back (or the error)."""

    name: str
    arguments: Any
    call_id: str | None = None
    ok: bool = False
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    offers: list[OfferCitation] = field(default_factory=list)
    duration_ms: float = 0.0

    def message_content(self) -> str:
        """What the agent receives as the ``tool`` message."""
        if not self.ok:
            return json.dumps({"error": self.error}, ensure_ascii=False)
        return json.dumps(self.data, ensure_ascii=False, default=str)

    def summary(self) -> dict[str, Any]:
        """The record an answer carries in ``tool_calls``."""
        return {
            "name": self.name,
            "arguments": self.arguments,
            "ok": self.ok,
            "error": self.error,
            "offer_ids": [o.offer_id for o in self.offers],
            "duration_ms": round(self.duration_ms, 2),
        }


def _decode(arguments: Any) -> dict[str, Any]:
    """Arguments as sent: a JSON string (OpenAI, vLLM), an object (Ollama), or nothing."""
    if arguments is None or arguments == "":
        return {}
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, str):
        if len(arguments) > MAX_ARGUMENT_CHARS:
            raise ValueError(f"arguments longer than {MAX_ARGUMENT_CHARS} characters")
        try:
            decoded = json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise ValueError(f"arguments are not valid JSON ({exc.msg} at {exc.pos})") from exc
        if decoded is None:
            return {}
        if isinstance(decoded, dict):
            return decoded
    raise ValueError("arguments must be a JSON object")


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "invalid arguments: " + "; ".join(parts)


def execute(
    name: str, arguments: Any, context: ToolContext, *, call_id: str | None = None
) -> ToolRun:
    started = time.perf_counter()
    run = ToolRun(name=str(name), arguments=arguments, call_id=call_id)
    tool = TOOLS.get(str(name))
    try:
        if tool is None:
            raise LookupError(f"unknown tool {name!r}; the tools are: {', '.join(sorted(TOOLS))}")
        decoded = _decode(arguments)
        run.arguments = decoded
        parsed = tool.arguments.model_validate(decoded)
        output = tool.handler(parsed, context)
        run.data = output.data
        run.offers = cite(output.offer_ids)
        run.ok = True
    except RateLimited:
        raise
    except (LookupError, ValueError) as exc:
        run.error = _validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
    except DomainError as exc:
        run.error = f"{exc.field + ': ' if exc.field else ''}{exc.message}"
    except Exception:
        logger.exception("tool %s failed", name)
        run.error = "the tool failed unexpectedly"
    run.duration_ms = (time.perf_counter() - started) * 1000
    return run


def context_for(user: User | None) -> ToolContext:
    return ToolContext(user=user, max_results=settings.AI_TOOL_MAX_RESULTS)
