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

from apps.math_core.workloads import build_workload
from apps.providers.offer_filters import OfferFilters
from gpubroker.errors import DomainError, ValidationFailed

from .parsing.rules import MAX_TEXT_CHARS, Slots, parse_slots
from .parsing.typos import correct_typos

MODE_RULES = "rules"
MODE_AGENT = "agent"
#: Fields of ``workload`` that are descriptive, not inputs of ``estimate-workload`` (yet).
DESCRIPTIVE_FIELDS = ("model", "quantization")
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
        """The ``workload`` fields ``build_workload`` takes (descriptive ones removed)."""
        return {k: v for k, v in self.workload.items() if k not in DESCRIPTIVE_FIELDS}


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
    if "params_billion" not in workload:
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


def validate(parsed: ParsedWorkload) -> ParsedWorkload:
    """Check ``workload`` with ``build_workload`` when complete and ``filters`` with
    ``OfferFilters``; a refused workload is reported incomplete with the service's message."""
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
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("text must be a non-empty description", field="text")
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationFailed(f"text must be at most {MAX_TEXT_CHARS} characters", field="text")
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
