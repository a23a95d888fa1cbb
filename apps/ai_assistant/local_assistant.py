"""Local mode: a deterministic assistant that understands the common requests, calls the same
tools an agent would, and answers in plain language with the figures those tools returned.

Requests it understands (``intent``): the cheapest offer for a GPU or for a model, comparing two
to four GPUs (optionally for a workload), what a job would cost, a recommendation for a workload,
the price trend of a GPU, and what fits in a given amount of VRAM. Anything else gets an answer
that says what it cannot do and what it can — never an invented figure. Every price it writes
comes from a cited offer or a tool's figure (``grounding`` checks this for remote answers)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .citations import OfferCitation, money_text
from .grounding import ground, mentioned_offers
from .tools import ToolContext, ToolRun, execute
from .trend_answer import trend_text
from .workload_parser import ParsedWorkload, parse_workload_text

CAPABILITIES = (
    'find the cheapest offer for a GPU ("cheapest H100 right now") or for a model',
    'compare GPUs ("compare L40S and A100 80GB for serving a 13B model")',
    'estimate what a job costs ("fine-tuning Llama 3 8B with LoRA on 50M tokens")',
    "recommend offers for a workload",
    'show the price trend of a GPU ("is the H100 getting cheaper")',
    'say what fits in an amount of VRAM ("what fits on 24 GB")',
)
ASSUMED_TOKENS = 1e6
_TREND = re.compile(
    r"getting\s+(?:cheaper|more\s+expensive|pricier)|cheaper\s+over\s+time|price\s+trend|"
    r"\btrend|going\s+(?:down|up)|price\s+history|dropping|rising|falling|increas|decreas",
    re.I,
)
_COMPARE = re.compile(r"\bcompare\b|\bvs\.?\b|\bversus\b|\bdifference\s+between\b", re.I)
_FITS = re.compile(r"\bfits?\b|\bfit\s+(?:on|in|into)\b|\brun\s+on\s+\d+\s*gb", re.I)
_RECOMMEND = re.compile(
    r"recommend|suggest|which\s+offer|what\s+should\s+i\s+rent|best\s+offer", re.I
)
_COST = re.compile(r"\bcost|how\s+much|price\s+(?:of|for)|estimate|how\s+long|budget", re.I)
_CHEAPEST = re.compile(r"cheapest|lowest\s+price|least\s+expensive|\bcheap\b|best\s+price", re.I)
_OUT_OF_SCOPE = re.compile(
    r"\bbook\b|\breserve\b|\bdelete\b|\bcancel\b|\blaunch\b|\bdeploy\s+it\b|\bbuy\b|"
    r"\bpay\b|\bignore\s+(?:all\s+)?(?:previous|prior|your)\b|\bsystem\s+prompt\b|"
    r"\bcall\s+(?:the\s+)?(?:tool|function)\b",
    re.I,
)


@dataclass
class LocalAnswer:
    text: str
    intent: str
    understood: bool
    runs: list[ToolRun] = field(default_factory=list)
    offers: list[OfferCitation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _offer_line(offer: OfferCitation) -> str:
    count = f"{offer.gpu_count}x " if offer.gpu_count > 1 else ""
    spot = ", spot" if offer.is_spot else ""
    per_gpu = (
        f" ({money_text(offer.price_per_gpu_hour)} per GPU-hour)" if offer.gpu_count > 1 else ""
    )
    return (
        f"{count}{offer.gpu_model} at {offer.provider} ({offer.region}{spot}): "
        f"{money_text(offer.price_per_hour)}/h{per_gpu}, price observed "
        f"{offer.observed_at:%Y-%m-%d %H:%M} UTC"
    )


def _gpu_filter(parsed: ParsedWorkload) -> dict[str, Any]:
    keep = ("gpu_model", "gpu_type", "gpu_count_min", "vram_gb_min")
    return {k: v for k, v in parsed.filters.items() if k in keep}


def _gpu_names(parsed: ParsedWorkload) -> list[str]:
    names = list(parsed.filters.get("gpu_model", []))
    if parsed.filters.get("gpu_type"):
        names.insert(0, parsed.filters["gpu_type"])
    return names


class LocalAssistant:
    def __init__(self, context: ToolContext) -> None:
        self.context = context
        self.runs: list[ToolRun] = []

    def tool(self, name: str, arguments: dict[str, Any]) -> ToolRun:
        run = execute(name, arguments, self.context)
        self.runs.append(run)
        return run

    def answer(self, message: str) -> LocalAnswer:
        parsed = _parse(message)
        intent, text, understood = self._dispatch(message, parsed)
        grounded = ground(text, self.runs)  # catalogue strings can carry figures too
        notes = []
        if grounded.changed:
            notes.append(
                "figures in catalogue names that are not catalogue prices were removed: "
                + ", ".join(grounded.removed_figures + grounded.removed_offer_ids)
            )
        offers = mentioned_offers(grounded.text, self.runs)
        return LocalAnswer(grounded.text, intent, understood, self.runs, offers, notes)

    # --- intents ------------------------------------------------------------------------------
    def _dispatch(self, message: str, parsed: ParsedWorkload | None) -> tuple[str, str, bool]:
        if _OUT_OF_SCOPE.search(message):
            return (
                "out_of_scope",
                self._cannot(
                    "I can only read the catalogue: I cannot book, buy, change or delete anything, "
                    "and I only use my own read-only tools."
                ),
                False,
            )
        if parsed is None:
            return "unknown", self._cannot("I did not understand that request."), False
        gpus = _gpu_names(parsed)
        if _TREND.search(message) and gpus:
            return "price_trend", self._trend(gpus[0]), True
        if _COMPARE.search(message) and len(gpus) >= 2:
            return "compare_gpus", self._compare(gpus, parsed), True
        if _FITS.search(message) and parsed.filters.get("vram_gb_min"):
            return "fits_in_vram", self._fits(parsed), True
        if _RECOMMEND.search(message) and (parsed.complete or parsed.filters):
            return "recommend", self._recommend(parsed), True
        if parsed.complete and (_COST.search(message) or not gpus):
            return "estimate", self._estimate(parsed), True
        if _CHEAPEST.search(message) and gpus:
            return "cheapest_gpu", self._cheapest_gpu(parsed), True
        if _CHEAPEST.search(message) and "params_billion" in parsed.workload:
            return "cheapest_for_model", self._cheapest_for_model(parsed), True
        if gpus:
            return "cheapest_gpu", self._cheapest_gpu(parsed), True
        if parsed.workload and parsed.missing:
            missing = ", ".join(parsed.missing)
            return (
                "incomplete",
                self._cannot(
                    f'To estimate that job I still need: {missing} (for example "50M tokens" or '
                    '"a 7B model").'
                ),
                False,
            )
        return "unknown", self._cannot("I did not understand that request."), False

    def _cannot(self, reason: str) -> str:
        return reason + " What I can do: " + "; ".join(CAPABILITIES) + "."

    def _cheapest_gpu(self, parsed: ParsedWorkload) -> str:
        run = self.tool(
            "search_offers",
            {"filter": _gpu_filter(parsed), "order_by": "price_per_gpu_hour", "limit": 3},
        )
        name = " / ".join(_gpu_names(parsed)) or "that GPU"
        if not run.ok:
            return f"I could not search the catalogue: {run.error}."
        if not run.offers:
            return f"The catalogue has no available offer for {name} right now."
        best, rest = run.offers[0], run.offers[1:]
        lines = [f"The cheapest available {name} right now: {_offer_line(best)}."]
        if rest:
            lines.append("Next: " + "; ".join(_offer_line(o) for o in rest) + ".")
        lines.append(f"{run.data['total']} matching offers are available or limited.")
        if any(o.is_sample_data for o in run.offers):
            lines.append("These are sample (demo) prices, not live ones.")
        return " ".join(lines)

    def _cheapest_for_model(self, parsed: ParsedWorkload) -> str:
        workload = dict(parsed.estimate_body())
        workload.setdefault("workload_type", "llm_inference")
        assumed = "tokens" not in workload and "requests" not in workload
        if assumed:
            workload["tokens"] = ASSUMED_TOKENS
        text = self._estimate_text(workload, parsed.filters)
        if assumed:
            text += f" (Priced for {ASSUMED_TOKENS:,.0f} tokens, an assumption: name a volume.)"
        return text

    def _estimate(self, parsed: ParsedWorkload) -> str:
        return self._estimate_text(parsed.estimate_body(), parsed.filters)

    def _estimate_text(self, workload: dict[str, Any], filters: dict[str, Any]) -> str:
        run = self.tool("estimate_workload", {"workload": workload, "filter": filters, "limit": 3})
        if not run.ok:
            return f"I could not estimate that job: {run.error}."
        data = run.data
        what = _describe(data["workload"])
        if not data["feasible"]:
            return f"No offer in the catalogue can run {what}: {data['reason']}"
        feasible = [o for o in data["offers"] if o["feasible"]]
        by_id = {o.offer_id: o for o in run.offers}
        best = feasible[0]
        offer = by_id[best["offer_id"]]
        lines = [
            f"{_sentence(what)} needs about {data['memory_total_gb']:,.1f} GB of GPU memory. "
            f"Cheapest feasible offer: {_offer_line(offer)} — "
            f"{best['min_gpus']} GPU(s), about {best['duration_hours']:,.2f} h, "
            f"total {money_text(Decimal(best['total_cost']))}."
        ]
        others = [o for o in feasible[1:] if o["offer_id"] in by_id]
        if others:
            lines.append(
                "Alternatives: "
                + "; ".join(
                    f"{_offer_line(by_id[o['offer_id']])}, total "
                    f"{money_text(Decimal(o['total_cost']))}"
                    for o in others
                )
                + "."
            )
        lines.append(f"{data['feasible_count']} of {data['candidate_count']} offers can run it.")
        return " ".join(lines)

    def _recommend(self, parsed: ParsedWorkload) -> str:
        arguments: dict[str, Any] = {"filter": parsed.filters, "limit": 3}
        if parsed.complete:
            arguments["workload"] = parsed.estimate_body()
        run = self.tool("recommend_offers", arguments)
        if not run.ok:
            return f"I could not rank offers: {run.error}."
        if not run.data["feasible"] or not run.offers:
            return f"No offer fits: {run.data['reason'] or 'nothing matches the filter'}."
        by_id = {o.offer_id: o for o in run.offers}
        lines = ["My top picks:"]
        for rec in run.data["recommendations"]:
            offer = by_id.get(rec["offer_id"])
            if offer is None:
                continue
            total = f", total {money_text(Decimal(rec['total_cost']))}" if rec["total_cost"] else ""
            lines.append(f"{rec['rank']}. {_offer_line(offer)}{total} — {rec['why']}")
        return " ".join(lines)

    def _compare(self, gpus: list[str], parsed: ParsedWorkload) -> str:
        arguments: dict[str, Any] = {"gpu_models": gpus[:4]}
        workload = dict(parsed.estimate_body())
        if "params_billion" in workload:
            workload.setdefault("workload_type", "llm_inference")
            if "tokens" not in workload and "requests" not in workload:
                workload["tokens"] = ASSUMED_TOKENS
            arguments["workload"] = workload
        run = self.tool("compare_gpus", arguments)
        if not run.ok:
            return f"I could not compare those GPUs: {run.error}."
        by_id = {o.offer_id: o for o in run.offers}
        parts = []
        for gpu in run.data["gpus"]:
            if "error" in gpu:
                parts.append(f"{gpu['gpu']}: {gpu['error']}")
                continue
            line = (
                f"{gpu['gpu_model']}: {gpu['vram_gb']} GB, {gpu['memory_bandwidth_gbps']:,.0f} GB/s"
            )
            if gpu.get("tflops_fp16"):
                line += f", {gpu['tflops_fp16']:,.0f} FP16 TFLOPS"
            cheapest = gpu.get("cheapest_offer")
            if cheapest and cheapest["offer_id"] in by_id:
                line += f"; cheapest: {_offer_line(by_id[cheapest['offer_id']])}"
            else:
                line += "; no available offer"
            fit = gpu.get("workload_fit")
            if fit:
                best = fit["cheapest_feasible_offer"]
                if fit["min_gpus"] is None:
                    line += "; cannot hold the model"
                elif best and best["offer_id"] in by_id:
                    line += (
                        f"; needs {fit['min_gpus']} GPU(s) for the job, cheapest feasible "
                        f"total {money_text(Decimal(best['total_cost']))} "
                        f"({best['duration_hours']:,.2f} h at {best['provider']})"
                    )
                else:
                    line += f"; needs {fit['min_gpus']} GPU(s), no feasible offer listed"
            parts.append(line)
        text = ". ".join(parts) + "."
        if "workload" in arguments:
            text = f"For {_describe(arguments['workload'])}: " + text
            if workload.get("tokens") == ASSUMED_TOKENS and "tokens" not in parsed.workload:
                text += f" (Totals priced for {ASSUMED_TOKENS:,.0f} tokens, an assumption.)"
        return text

    def _trend(self, gpu: str) -> str:
        kpis = self.tool("gpu_kpis", {"gpu_model": gpu})
        history = self.tool("price_trend", {"gpu": gpu, "days": 30})
        return trend_text(gpu, kpis, history)

    def _fits(self, parsed: ParsedWorkload) -> str:
        vram = parsed.filters["vram_gb_min"]
        task = parsed.workload.get("workload_type", "llm_inference")
        arguments = {"vram_gb": vram, "workload_type": task}
        for key in ("context_length", "batch_size"):
            if key in parsed.workload:
                arguments[key] = parsed.workload[key]
        run = self.tool("fits_in_vram", arguments)
        if not run.ok:
            return f"I could not check that: {run.error}."
        d = run.data
        fits = []
        for f in d["fits"]:
            models = f.get("catalogue_models_on_one_gpu")
            size = f["largest_common_size_on_one_gpu"]
            if models:
                names = ", ".join(f"{m['model']} ({m['memory_gb']:,.1f} GB)" for m in models[:3])
                fits.append(f"at {f['precision']}: {names}")
            elif size:
                fits.append(
                    f"at {f['precision']}: up to a {size['params_billion']:g}B model "
                    f"({size['memory_gb']:,.1f} GB)"
                )
        text = (
            f"On one {vram} GB GPU ({task.replace('_', ' ')}, {d['context_length']} context, "
            f"batch {d['batch_size']}) these fit — "
            + ("; ".join(fits) if fits else "nothing I know of")
            + "."
        )
        offers = run.offers
        if offers:
            text += (
                " Cheapest GPUs with at least that memory: "
                + "; ".join(_offer_line(o) for o in offers)
                + "."
            )
        return text


TASK_NAMES = {
    "llm_inference": "serving",
    "llm_training": "training",
    "fine_tune_full": "full fine-tuning",
    "fine_tune_lora": "LoRA fine-tuning",
    "fine_tune_qlora": "QLoRA fine-tuning",
    "image_generation": "image generation",
    "embeddings": "embeddings",
    "generic": "the job",
}


#: Tasks written with a direct object ("serving a 13B model", not "serving of").
DIRECT_OBJECT_TASKS = frozenset({"llm_inference", "llm_training"})


def _describe(workload: dict[str, Any]) -> str:
    kind = str(workload.get("workload_type"))
    task = TASK_NAMES.get(kind, "the job")
    joiner = " " if kind in DIRECT_OBJECT_TASKS else " of "
    size, model = workload.get("params_billion"), workload.get("model")
    if model:
        what = f"{task}{joiner}{model}"
    elif size:
        what = f"{task}{joiner}{_article(size)} {size:g}B model"
    else:
        what = task
    if workload.get("tokens"):
        what += f" on {workload['tokens']:,.0f} tokens"
    elif workload.get("requests"):
        what += f" for {workload['requests']:,.0f} requests"
    return what


def _article(number: float) -> str:
    """ "an 8B", "an 11B", "an 80B" (eight, eleven, eighteen, eighty), "a 7B"."""
    digits = f"{number:g}"
    return "an" if digits.startswith("8") or digits.split(".")[0] in ("11", "18") else "a"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _parse(message: str) -> ParsedWorkload | None:
    try:
        return parse_workload_text(message)
    except Exception:  # a message the parser refuses (too long, empty) is answered, not raised
        return None


def answer_locally(message: str, context: ToolContext) -> LocalAnswer:
    return LocalAssistant(context).answer(message)
