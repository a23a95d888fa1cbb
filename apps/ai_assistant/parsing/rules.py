"""Rule-based workload parsing: free text → the slots of an ``estimate-workload`` body and of the
catalogue's offer filter, each with a confidence, and the words that were not understood.

Pure Python (no Django). Rules run in a fixed order and each claims the characters it matched,
so a later rule never reads the same words again ("50M tokens" is a volume, never a model size;
"A100 80GB" is a GPU, never a VRAM figure). What is left unclaimed, minus filler words, is
returned as ``unparsed``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from apps.math_core.algorithms.gpu_names import (
    canonical_gpu_name,
    family_members,
    family_named,
    gpu_family,
)

from .numbers import MAGNITUDE, NUMBER, WORD_NUMBER, WORD_NUMBERS, scaled
from .vocabulary import (
    COMPLIANCE,
    COUNTRIES,
    DEADLINE_LEAD,
    DURATION_HOURS,
    DURATION_UNIT,
    EMBEDDING_FAMILIES,
    FILLER,
    GPU_NAME,
    IMAGE_FAMILIES,
    MODEL_FAMILIES,
    MODEL_VARIANTS,
    PERIOD,
    PERIOD_HOURS,
    PRECISION_PATTERNS,
    QTY,
    REGION_GROUPS,
    TASK_PATTERNS,
)

MAX_TEXT_CHARS = 2000
_FLAGS = re.IGNORECASE | re.UNICODE


@dataclass
class Slots:
    """Parsed values keyed ``workload.<field>`` / ``filters.<field>``, with confidences."""

    values: dict[str, Any] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def set(self, key: str, value: Any, confidence: float, *, replace: bool = False) -> None:
        if key in self.values and not replace:
            return
        self.values[key] = value
        self.confidence[key] = round(confidence, 2)

    def add_to_list(self, key: str, item: Any, confidence: float) -> None:
        items = self.values.setdefault(key, [])
        if item not in items:
            items.append(item)
        self.confidence[key] = round(min(self.confidence.get(key, 1.0), confidence), 2)


class Text:
    """The normalised text, lower-cased for matching, with the characters already claimed."""

    def __init__(self, raw: str) -> None:
        cleaned = raw.replace("\u2013", "-").replace("\u2014", "-").replace("\u00d7", "x")
        cleaned = cleaned.replace("\u2019", "'").replace("\u2264", "<").replace("\u2265", ">")
        self.original = cleaned
        self.lower = cleaned.lower()
        self.claimed = [False] * len(cleaned)

    def free(self, start: int, end: int) -> bool:
        return not any(self.claimed[start:end])

    def claim(self, start: int, end: int) -> None:
        for i in range(start, end):
            self.claimed[i] = True

    def matches(self, pattern: str, *, claim: bool = True) -> Iterator[re.Match[str]]:
        """Unclaimed whole-word matches of ``pattern`` (claimed as they are yielded)."""
        regex = re.compile(rf"(?<![\w$€£]){pattern}(?![\w])", _FLAGS)
        for match in regex.finditer(self.lower):
            if match.end() == match.start() or not self.free(match.start(), match.end()):
                continue
            if claim:
                self.claim(match.start(), match.end())
            yield match

    def leftovers(self) -> list[str]:
        """Unclaimed fragments (split at punctuation and joining words) that hold more than
        filler words."""
        chars = [
            c if not taken else "\0" for c, taken in zip(self.original, self.claimed, strict=True)
        ]
        rest = "".join(chars)
        fragments = re.split(r"[\0,;:!?()\[\]{}\"/|]+|\.(?!\d)|\s-\s", rest)
        out = []
        for fragment in fragments:
            words = re.findall(r"[\w$€£%+'.-]+", fragment)
            meaningful = [w for w in words if w.lower().strip(".'-") not in FILLER]
            if meaningful:
                out.append(" ".join(words))
        return out


def _quantity(match: re.Match[str]) -> float:
    return scaled(match.group("num"), match.group("mag"))


def _period_hours(match: re.Match[str]) -> float | None:
    period = match.groupdict().get("period") or match.groupdict().get("adverb")
    if not period:
        return None
    return PERIOD_HOURS[
        period.lower().rstrip("s") if period.lower() not in PERIOD_HOURS else period
    ]


# --- rules, in the order they run ---------------------------------------------------------------


def _gpus(text: Text, slots: Slots) -> None:
    """GPU names → ``filters.gpu_model`` by the catalogue's family rule: a family name ("H100",
    "A100") matches every variant; memory without a form factor ("A100 80GB") every variant of
    that family with that memory; anything more specific the one variant it normalises to."""
    count = rf"(?:(?P<count>\d{{1,4}}|{WORD_NUMBER})\s*(?:x|\*)?\s*)?"
    after = r"(?:\s*(?:x|\*)\s*(?P<count2>\d{1,4}))?"
    for m in text.matches(rf"{count}(?P<gpu>{GPU_NAME})(?:'?s)?{after}"):
        spelled = m.group("gpu")
        canonical = canonical_gpu_name(spelled)
        if canonical is None:
            continue
        family = family_named(spelled)
        variants = family_members(gpu_family(canonical) or "")
        if family is not None:
            names = [family]
        elif len(variants) > 1 and not re.search(r"sxm|pci|nvl", spelled, _FLAGS):
            size = canonical.split()[-1]
            names = [v for v in variants if v.endswith(size)] or [canonical]
        else:
            names = [canonical]
        for name in names:
            slots.add_to_list("filters.gpu_model", name, 0.95 if family is None else 0.9)
        number = m.group("count") or m.group("count2")
        if number and scaled(number, None) > 1:
            slots.set("filters.gpu_count_min", int(scaled(number, None)), 0.9)


def _vram(text: Text, slots: Slots) -> None:
    lead = r"(?:at\s+least\s+|min(?:imum)?\s+|>=?\s*|with\s+)?"
    pattern = (
        rf"{lead}(?P<gb>\d{{1,4}})\s*(?:gb|gib|g)\b(?:\s+(?:of\s+)?(?:v?ram|gpu\s+memory|"
        r"memory|cards?|gpus?|vram))?"
    )
    for m in text.matches(pattern):
        slots.set("filters.vram_gb_min", int(m.group("gb")), 0.85)


_CURRENCY = r"(?:\$|usd|us\$|dollars?|bucks)"
_CAP = (
    r"(?:under|below|less\s+than|max(?:imum)?|at\s+most|up\s+to|<=?|no\s+more\s+than|"
    r"cap(?:ped)?\s+at|budget\s+of|budget|for|around|about|~|unter|moins\s+de|menos\s+de|sotto)"
)


def _hourly_price(text: Text, slots: Slots) -> None:
    per_gpu = r"(?:per|/|a|an)\s*gpu(?:[\s-]*(?:per|/|an?)?\s*(?:h|hr|hour)s?)?"
    hour = r"(?:per|/|an?|pro|par|por)\s*(?P<gpu1>gpu[\s-]*)?(?:h|hr|hour|stunde|heure|hora)s?"
    pattern = (
        rf"(?:{_CAP}\s*)?(?:{_CURRENCY}\s*)?(?P<num>{NUMBER})\s*(?:{_CURRENCY})?\s*"
        rf"(?:{hour}(?:\s*(?P<gpu2>per\s+gpu|/\s*gpu))?|(?P<gpu3>{per_gpu}))"
    )
    for m in text.matches(pattern):
        if not re.search(r"\$|usd|dollar|buck|under|below|max|most|<|cap", m.group(0), _FLAGS):
            continue  # "8 per hour" without money words is not a price
        key = (
            "filters.price_per_gpu_hour_max"
            if m.group("gpu1") or m.group("gpu2") or m.group("gpu3")
            else "filters.price_max"
        )
        slots.set(key, _money_text(m.group("num")), 0.9)


def _money_text(numeral: str) -> str:
    value = scaled(numeral, None)
    return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _budget(text: Text, slots: Slots) -> None:
    lead = (
        rf"(?:(?:budget|total|spend(?:ing)?|cap|limit|presupuesto)\s*(?:of|is|:|=|de)?\s*"
        rf"(?:{_CAP}\s*)?|{_CAP}\s*)?"
    )
    patterns = (
        rf"{lead}(?P<cur>\$|usd|us\$|€|eur|£|gbp)\s*{QTY}",
        rf"{lead}{QTY}\s*(?P<cur>\$|usd|dollars?|bucks|€|eur(?:os?)?|£|gbp)",
    )
    for pattern in patterns:
        for m in text.matches(pattern):
            currency = m.group("cur").lower()
            if currency in ("€", "eur", "euro", "euros", "£", "gbp"):
                slots.notes.append(f"amount {m.group(0).strip()!r} is not in USD; not converted")
                text.claimed[m.start() : m.end()] = [False] * (m.end() - m.start())
                continue
            slots.set("workload.budget_usd", _quantity(m), 0.85)


def _context(text: Text, slots: Slots) -> None:
    ctx = (
        r"(?:ctx|context(?:[\s_-]*(?:window|length|len|size))?|seq(?:uence)?[\s_-]*len(?:gth)?|"
        r"max[\s_-]*len|kontext|contexte|contexto)"
    )
    num = rf"(?P<num>{NUMBER})\s*(?P<k>k)?"
    patterns = (
        rf"{num}\s*(?:tokens?\s+|toks?\s+)?(?:of\s+)?{ctx}",
        rf"{ctx}\s*(?:of|=|:|is)?\s*{num}(?:\s*tokens?)?",
    )
    for pattern in patterns:
        for m in text.matches(pattern):
            value = scaled(m.group("num"), None) * (1024 if m.group("k") else 1)
            slots.set("workload.context_length", int(value), 0.95)


def _output_tokens(text: Text, slots: Slots) -> None:
    each = (
        r"(?:(?:per|each|/|an?|every)\s*(?:request|reply|replies|response|answer|completion|"
        r"generation|query|message|call|output)|each)"
    )
    patterns = (
        rf"(?P<num>{NUMBER})\s*(?P<k>k)?\s*(?:output|new|generated|completion)?\s*tokens?\s*"
        rf"(?:of\s+output\s+)?{each}",
        rf"(?:max[\s_-]*(?:new[\s_-]*)?tokens|outputs?\s+of|output[\s_-]*(?:length|len)|"
        rf"replies\s+of|answers\s+of|responses\s+of)\s*(?:=|:|of)?\s*(?P<num>{NUMBER})\s*"
        r"(?P<k>k)?(?:\s*tokens?)?",
    )
    for pattern in patterns:
        for m in text.matches(pattern):
            value = scaled(m.group("num"), None) * (1000 if m.group("k") else 1)
            slots.set("workload.output_tokens_per_request", int(value), 0.9)


def _volume(text: Text, slots: Slots, unit: str, key: str, confidence: float) -> None:
    for m in text.matches(rf"{QTY}\s*(?:(?:of|de|di)\s+)?{unit}(?:\s*{PERIOD})?"):
        amount = _quantity(m)
        hours = _period_hours(m)
        if hours is not None and hours < 1:  # "50 requests per second": an hour's worth
            amount, hours = amount / hours, 1.0
        slots.set(key, amount, confidence)
        if hours is not None:
            slots.set("workload.deadline_hours", hours, 0.7)
            slots.notes.append(f"a rate per {hours:g} h is read as that volume within {hours:g} h")


def _tokens(text: Text, slots: Slots) -> None:
    _volume(text, slots, r"(?:tokens?|toks?|tok)", "workload.tokens", 0.9)


def _requests(text: Text, slots: Slots) -> None:
    units = (
        r"(?:requests?|reqs?|queries|query|prompts?|calls?|chats|conversations?|messages|"
        r"completions?|generations?|documents?|docs?|chunks?|passages?|sentences?|records?|"
        r"rows?|pages?|texts?|anfragen|requêtes|requetes|solicitudes|peticiones|consultas|"
        r"richieste)"
    )
    for m in text.matches(rf"{QTY}\s*(?:rps|qps|req/s|requests?\s+(?:per|a|/)\s*s(?:ec(?:ond)?)?)"):
        slots.set("workload.requests", _quantity(m) * 3600, 0.8)
        slots.set("workload.deadline_hours", 1.0, 0.7)
        slots.notes.append("a rate per second is read as an hour's volume within 1 h")
    _volume(text, slots, units, "workload.requests", 0.85)
    for m in text.matches(
        rf"{QTY}\s*(?:images?|pictures?|pics|renders?|photos?|bilder|imágenes)"
        rf"(?:\s*{PERIOD})?"
    ):
        slots.set("workload.requests", _quantity(m), 0.9)
        slots.set("workload.workload_type", "image_generation", 0.85)
        hours = _period_hours(m)
        if hours is not None:
            slots.set("workload.deadline_hours", hours, 0.7)


def _batch(text: Text, slots: Slots) -> None:
    num = rf"(?P<num>\d{{1,6}}|{WORD_NUMBER})"
    patterns = (
        rf"(?:batch(?:[\s_-]*size)?|bs|micro[\s_-]*batch(?:[\s_-]*size)?)\s*(?:of|=|:|is)?\s*{num}",
        rf"{num}\s*(?:concurrent|parallel|simultaneous)(?:\s+(?:users|requests|sequences|"
        r"streams|sessions|clients|chats|conversations))?",
        rf"(?:concurrency|parallelism)\s*(?:of|=|:|is)?\s*{num}",
        rf"{num}\s*(?:users|sequences|streams|sessions|clients)\s*(?:at\s+(?:once|a\s+time)|"
        r"in\s+parallel|concurrently|simultaneously)?",
        rf"batches\s+of\s+{num}",
        rf"{num}\s*(?:batch[\s_-]*size|bs)",
    )
    for pattern in patterns:
        for m in text.matches(pattern):
            slots.set("workload.batch_size", int(scaled(m.group("num"), None)), 0.9)


def _deadline(text: Text, slots: Slots) -> None:
    num = rf"(?P<num>{NUMBER}|{WORD_NUMBER})?"
    patterns = (
        rf"{DEADLINE_LEAD}\s*(?:the\s+next\s+|about\s+|around\s+)?{num}\s*{DURATION_UNIT}",
        rf"{num}\s*{DURATION_UNIT}\s*(?:deadline|max|or\s+less|tops|turnaround|sla)",
        rf"(?:deadline|turnaround)\s*(?:of|is|:)?\s*{num}\s*{DURATION_UNIT}",
        rf"(?P<num>{NUMBER}|{WORD_NUMBER})\s*(?P<unit>hours?|hrs|days?|weeks?|months?|tagen?|"
        r"jours|días|dias)",
    )
    for pattern in patterns:
        for m in text.matches(pattern):
            number = m.group("num") or "1"
            hours = scaled(number, None) * DURATION_HOURS[m.group("unit").lower()]
            slots.set("workload.deadline_hours", hours, 0.9, replace=True)


def _lora_rank(text: Text, slots: Slots) -> None:
    for m in text.matches(r"(?:rank\s*(?:=|:|of)?|r\s*=)\s*(?P<r>\d{1,4})"):
        slots.set("workload.lora_rank", int(m.group("r")), 0.9)


def _image_settings(text: Text, slots: Slots) -> None:
    for m in text.matches(r"(?P<w>\d{3,5})\s*[x\*]\s*(?P<h>\d{3,5})(?:\s*px)?|(?P<p>\d{3,5})\s*px"):
        side = max(int(m.group("w") or 0), int(m.group("h") or 0), int(m.group("p") or 0))
        slots.set("workload.image_resolution", side, 0.9)
    steps = r"(?P<n>\d{1,4})\s*(?:diffusion\s+|denoising\s+|sampling\s+|inference\s+)?steps?"
    for m in text.matches(steps):
        slots.set("workload.diffusion_steps", int(m.group("n")), 0.9)


def _precision(text: Text, slots: Slots) -> None:
    for pattern, precision, quantisation in PRECISION_PATTERNS:
        for _ in text.matches(pattern):
            if quantisation:
                slots.set("workload.quantization", quantisation, 0.95)
            if precision:
                slots.set("workload.precision", precision, 0.95)
            elif quantisation:
                slots.notes.append(
                    f"{quantisation} has no matching precision in the estimator; precision unset"
                )


def _size_value(number: str, unit: str) -> float:
    value = scaled(number, None)
    return value / 1000 if unit.lower() in ("m", "million") else value


def _model(text: Text, slots: Slots) -> None:
    before = r"(?:(?P<pre>\d+(?:[.,]\d+)?)\s*(?P<preunit>b|m)[\s-]+)?"
    version = r"(?:[\s-]*(?P<ver>\d+(?:\.\d+)?(?![\d.,]*\s*[bm]\b)))?"
    variant = rf"(?:[\s:-]*(?:{MODEL_VARIANTS}))*"
    size = r"(?:[\s:-]*(?P<moe>\d+x)?(?P<size>\d+(?:[.,]\d+)?)\s*(?P<unit>b|m)(?![\w]))?"
    for pattern, family in MODEL_FAMILIES:
        full = rf"{before}(?P<fam>{pattern}){version}{variant}{size}{variant}"
        for m in text.matches(full):
            parts = [family]
            sub = m.groupdict().get("sub")
            if sub:
                parts.append(sub.upper() if re.fullmatch(r"[a-z]\d.*", sub) else sub.title())
            if m.group("ver"):
                parts.append(m.group("ver"))
            number, unit = m.group("size") or m.group("pre"), m.group("unit") or m.group("preunit")
            if number:
                parts.append(f"{m.group('moe') or ''}{number}{unit.upper()}")
                if not m.group("moe"):
                    slots.set("workload.params_billion", _size_value(number, unit), 0.95)
            slots.set("workload.model", " ".join(parts), 0.9)
            if family in IMAGE_FAMILIES:
                slots.set("workload.workload_type", "image_generation", 0.8)
            if family in EMBEDDING_FAMILIES:
                slots.set("workload.workload_type", "embeddings", 0.8)


def _bare_size(text: Text, slots: Slots) -> None:
    unit = r"(?P<unit>b|bn|billion|m|million)"
    pattern = (
        rf"(?P<num>{NUMBER})\s*{unit}(?:[\s-]*(?:param(?:eter)?s?|model|llm|dense))*"
        r"(?:[\s-]*(?:param(?:eter)?s?|model|llm))?"
    )
    for m in text.matches(pattern):
        params = _size_value(m.group("num"), m.group("unit").replace("bn", "b"))
        slots.set("workload.params_billion", params, 0.85)


def _tasks(text: Text, slots: Slots) -> None:
    for pattern, task, confidence in TASK_PATTERNS:
        for _ in text.matches(pattern):
            current = slots.values.get("workload.workload_type")
            stronger = confidence > slots.confidence.get("workload.workload_type", 0.0)
            if current is None or (stronger and current != "image_generation"):
                slots.set("workload.workload_type", task, confidence, replace=True)


def _places(text: Text, slots: Slots) -> None:
    for m in text.matches(r"(?:[a-z]{2,}-){1,2}[a-z]*\d{1,2}"):
        slots.add_to_list("filters.region", m.group(0), 0.8)
    groups = "|".join(sorted((re.escape(k) for k in REGION_GROUPS), key=len, reverse=True))
    names = "|".join(sorted((re.escape(k) for k in COUNTRIES), key=len, reverse=True))
    for m in text.matches(rf"(?P<g>{groups})(?:[\s-]*(?:only|based|region|hosted))?"):
        for code in REGION_GROUPS[m.group("g").lower()]:
            slots.add_to_list("filters.country", code, 0.8)
    for m in text.matches(rf"(?P<c>{names})(?:[\s-]*(?:only|based|region|hosted))?"):
        slots.add_to_list("filters.country", COUNTRIES[m.group("c").lower()], 0.85)
    # "US" only in capitals: lower-case "us" is the pronoun.
    for m in re.finditer(
        r"(?<![\w-])US(?:[\s-]*(?:only|based|region|hosted))?(?![\w-])", text.original
    ):
        if text.free(m.start(), m.end()):
            text.claim(m.start(), m.end())
            slots.add_to_list("filters.country", "US", 0.8)


def _spot(text: Text, slots: Slots) -> None:
    interrupt = r"(?:spot|interruptible|preemptible|pre-emptible)"
    refused = (
        rf"(?:no|not|without|avoid|don'?t\s+want|non)[\s-]*{interrupt}(?:\s+instances?)?|"
        r"on[\s-]*demand(?:\s+only)?|(?:can'?t|cannot|must\s+not|mustn'?t|shouldn'?t|can\s+not)\s+"
        r"be\s+(?:interrupted|preempted)|no\s+interruptions?|kein\s+spot|pas\s+de\s+spot|sin\s+spot"
    )
    for _ in text.matches(refused):
        slots.set("filters.is_spot", False, 0.9)
    tolerated = (
        rf"{interrupt}\s+(?:is\s+|are\s+|instances\s+are\s+)?(?:ok|okay|fine|allowed|acceptable|"
        r"works|welcome)|(?:interruptions?|preemptions?)\s+(?:is\s+|are\s+)?(?:ok|okay|fine|"
        rf"acceptable)|(?:ok|okay|fine)\s+with\s+(?:{interrupt}|interruptions?)|"
        rf"don'?t\s+mind\s+(?:{interrupt}|interruptions?)|{interrupt}\s+or\s+on[\s-]*demand"
    )
    for _ in text.matches(tolerated):
        pass  # tolerance: both spot and on-demand offers qualify (no filter)
    wanted = rf"{interrupt}(?:\s+(?:only|instances?|pricing|market|gpus?))?|only\s+{interrupt}"
    for _ in text.matches(wanted):
        slots.set("filters.is_spot", True, 0.85)


def _compliance_and_hosting(text: Text, slots: Slots) -> None:
    for pattern, tag in COMPLIANCE:
        for _ in text.matches(rf"{pattern}(?:[\s-]*(?:compliant|compliance|certified))?"):
            slots.add_to_list("filters.compliance_tags", tag, 0.9)
    datacenter = (
        r"(?:data[\s-]?cent(?:er|re)s?|dc)[\s-]*(?:only|grade|gpus?|hosts?|hosted)|"
        r"no\s+(?:community|consumer|home|marketplace|peer)(?:\s+(?:hosts?|gpus?|machines?|"
        r"cloud))?|secure\s+cloud|tier\s*[34](?:\s+data\s*cent(?:er|re))?"
    )
    for _ in text.matches(datacenter):
        slots.set("filters.datacenter_only", True, 0.85)


def _gpu_count(text: Text, slots: Slots) -> None:
    for m in text.matches(rf"(?P<num>\d{{1,4}}|{WORD_NUMBER})\s*(?:x\s*)?gpus?"):
        word = m.group("num").lower()
        if word in ("a", "an"):
            continue
        count = WORD_NUMBERS.get(word) or scaled(m.group("num"), None)
        slots.set("filters.gpu_count_min", int(count), 0.85)


RULES: tuple[Callable[[Text, Slots], None], ...] = (
    _gpus,
    _model,
    _context,
    _output_tokens,
    _hourly_price,
    _budget,
    _tokens,
    _requests,
    _batch,
    _deadline,
    _lora_rank,
    _image_settings,
    _precision,
    _vram,
    _bare_size,
    _gpu_count,
    _compliance_and_hosting,
    _spot,
    _tasks,
    _places,
)


def parse_slots(raw: str) -> tuple[Slots, list[str]]:
    """The slots found in ``raw`` and the fragments no rule understood."""
    text = Text(raw[:MAX_TEXT_CHARS])
    slots = Slots()
    for rule in RULES:
        rule(text, slots)
    return slots, text.leftovers()


__all__ = ["MAGNITUDE", "Slots", "parse_slots"]
