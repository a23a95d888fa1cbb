"""parse-workload: free text → ``{workload, filters, confidence, unparsed, mode}``.

``workload`` holds the fields of an ``estimate-workload`` body that the text gives (plus
``model``/``quantization`` when named); when ``complete`` it is a valid body (checked with the
math core's own ``build_workload``). ``filters`` are fields of the catalogue's ``OfferFilters``
(checked with ``OfferFilters.validated()``). ``confidence`` is per field, keyed like
``workload.tokens`` / ``filters.gpu_model``. Words no rule understood are in ``unparsed``; what
an estimate still needs is in ``missing``; interpretations the parser made are in ``notes``.

Rule-based offline (``mode: "rules"``); the agent refines the result when one is configured
(``mode: "agent"``, see ``services.parse_workload``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError

from apps.core.errors import DomainError, ValidationFailed
from apps.core.text import is_blank
from apps.math_core.model_catalogue import find_model
from apps.math_core.workloads import build_workload
from apps.providers.offer_filters import OfferFilters

from .errors import AssistantErrorCode
from .parsing.rules import MAX_TEXT_CHARS, Slots, parse_slots
from .parsing.typos import correct_typos

MODE_RULES = "rules"
MODE_AGENT = "agent"
#: Fields of ``workload`` that are descriptive, not inputs of ``estimate-workload``: the model
#: as written (``catalogue_model`` is the catalogue row it resolved to, which is passed on).
DESCRIPTIVE_FIELDS = ("model", "catalogue_model")
DEFAULT_TASK_CONFIDENCE = 0.5


@dataclass
class ParsedWorkload:
    workload: dict[str, Any]
    filters: dict[str, Any]
    confidence: dict[str, float]
    unparsed: list[str]
    missing: list[str]
    complete: bool
    mode: str = MODE_RULES
    notes: list[str] = field(default_factory=list)

    def estimate_body(self) -> dict[str, Any]:
        """The ``workload`` fields ``build_workload`` takes: the catalogue model (when the named
        model resolved) as ``model``, the quantisation as the estimator's format name."""
        body = {k: v for k, v in self.workload.items() if k not in DESCRIPTIVE_FIELDS}
        if self.workload.get("catalogue_model"):
            body["model"] = self.workload["catalogue_model"]
        if "quantization" in body:
            body["quantization"] = str(body["quantization"]).lower()
        return body


def _split(slots: Slots) -> tuple[dict[str, Any], dict[str, Any]]:
    workload: dict[str, Any] = {}
    filters: dict[str, Any] = {}
    for key, value in slots.values.items():
        group, name = key.split(".", 1)
        target = workload if group == "workload" else filters
        target[name] = sorted(value) if isinstance(value, list) else value
    for name in ("params_billion", "tokens", "requests", "budget_usd", "deadline_hours"):
        if name in workload:
            workload[name] = float(workload[name])
    return workload, filters


def _infer(slots: Slots) -> None:
    """Cross-slot readings: LoRA on a 4-bit base is QLoRA; a model with no task is served."""
    values = slots.values
    task = values.get("workload.workload_type")
    if task == "fine_tune_lora" and values.get("workload.precision") == "int4":
        slots.set("workload.workload_type", "fine_tune_qlora", 0.85, replace=True)
        slots.notes.append("LoRA on a 4-bit base model is read as QLoRA")
    if task is None and ("workload.params_billion" in values or "workload.model" in values):
        slots.set("workload.workload_type", "llm_inference", DEFAULT_TASK_CONFIDENCE)
        slots.notes.append("no task named: assumed inference (serving the model)")


def _missing(workload: dict[str, Any]) -> list[str]:
    missing = []
    if "workload_type" not in workload:
        missing.append("workload_type")
    if "params_billion" not in workload and "catalogue_model" not in workload:
        missing.append("params_billion")
    if workload.get("workload_type") == "image_generation":
        if "requests" not in workload:
            missing.append("requests")
    elif "tokens" not in workload and "requests" not in workload:
        missing.append("tokens")
    return missing


def _checked_filters(filters: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Drop (with a note) any filter value the catalogue's own validation refuses."""
    kept = dict(filters)
    for name in list(kept):
        try:
            OfferFilters.from_values({name: kept[name]}).validated()
        except ValidationFailed as exc:
            notes.append(f"filter {name} dropped: {exc.message}")
            del kept[name]
    return kept


def _resolve_model(parsed: ParsedWorkload) -> None:
    """Look the named model up in the model catalogue (``model_catalogue.find_model``): a known
    model sizes the estimate from its published architecture, even when no size was written."""
    name = parsed.workload.get("model")
    parsed.workload.pop("catalogue_model", None)
    parsed.confidence.pop("workload.catalogue_model", None)
    if not isinstance(name, str) or not name:
        return
    try:
        row = find_model(name)
    except DomainError as exc:
        parsed.notes.append(f"model {name!r}: {exc.message}")
        return
    except DatabaseError:  # no catalogue table (a bare pure-parser run): size from the text
        return
    parsed.workload["catalogue_model"] = row.name
    parsed.confidence["workload.catalogue_model"] = parsed.confidence.get("workload.model", 0.9)
    parsed.confidence = dict(sorted(parsed.confidence.items()))


def validate(parsed: ParsedWorkload) -> ParsedWorkload:
    """Resolve the model in the catalogue, check ``workload`` with ``build_workload`` when
    complete and ``filters`` with ``OfferFilters``; a refused workload is reported incomplete
    with the service's message."""
    _resolve_model(parsed)
    parsed.filters = _checked_filters(parsed.filters, parsed.notes)
    parsed.missing = _missing(parsed.workload)
    parsed.complete = not parsed.missing
    if parsed.complete:
        try:
            build_workload(**parsed.estimate_body())
        except DomainError as exc:
            parsed.complete = False
            parsed.notes.append(f"workload not valid for estimate-workload: {exc.message}")
            parsed.missing.append(exc.field or "workload")
    return parsed


def parse_workload_text(text: str) -> ParsedWorkload:
    """The rule-based parse of ``text`` (at most ``MAX_TEXT_CHARS`` characters are read)."""
    if not isinstance(text, str) or is_blank(text):
        raise ValidationFailed(
            "text must be a non-empty description",
            field="text",
            reason=AssistantErrorCode.EMPTY_TEXT,
        )
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationFailed(
            f"text must be at most {MAX_TEXT_CHARS} characters",
            field="text",
            reason=AssistantErrorCode.TEXT_TOO_LONG,
        )
    corrected, corrections = correct_typos(text)
    slots, unparsed = parse_slots(corrected)
    _infer(slots)
    workload, filters = _split(slots)
    notes = [f"read {typed!r} as {meant!r}" for typed, meant in corrections]
    parsed = ParsedWorkload(
        workload=workload,
        filters=filters,
        confidence=dict(sorted(slots.confidence.items())),
        unparsed=unparsed,
        missing=[],
        complete=False,
        notes=notes + slots.notes,
    )
    return validate(parsed)
