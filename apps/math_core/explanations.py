"""What the recommenders say about each recommended offer: per-component scores and the
deciding criteria, as data (for clients) and as one readable sentence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .algorithms.content_based import ContentScores
from .algorithms.ensemble import BlendResult, content_drivers, topsis_drivers
from .algorithms.topsis import TopsisResult
from .offer_criteria import OfferCriterion

UNITS = {
    OfferCriterion.PRICE_PER_HOUR: "${:,.4f}/h",
    OfferCriterion.PRICE_PER_GPU_HOUR: "${:,.4f}/GPU-h",
    OfferCriterion.TOTAL_VRAM_GB: "{:,.0f} GB",
    OfferCriterion.VRAM_PER_GPU_GB: "{:,.0f} GB per GPU",
    OfferCriterion.GPU_COUNT: "{:,.0f} GPUs",
    OfferCriterion.TOTAL_TFLOPS: "{:,.1f} TFLOPS",
    OfferCriterion.MEMORY_BANDWIDTH_GBPS: "{:,.0f} GB/s",
    OfferCriterion.TOKENS_PER_SECOND: "{:,.0f} tokens/s",
    OfferCriterion.COST_PER_MILLION_TOKENS: "${:,.4f} per M tokens",
    OfferCriterion.COST_PER_TFLOP_HOUR: "${:,.6f} per TFLOP-h",
    OfferCriterion.RELIABILITY: "{:.2f} reliability",
    OfferCriterion.TOTAL_COST: "${:,.4f} total",
    OfferCriterion.DURATION_HOURS: "{:,.2f} h",
    OfferCriterion.THROUGHPUT: "{:,.1f} per s",
}
FEATURE_LABELS = {
    "vram": "VRAM",
    "compute": "compute",
    "bandwidth": "memory bandwidth",
    "reliability": "reliability",
    "price": "price",
    "region": "region",
    "spot": "no spot",
}


def describe(criterion: OfferCriterion, value: float) -> str:
    return UNITS[criterion].format(value)


@dataclass(frozen=True)
class ComponentScore:
    name: str
    raw_score: float
    normalized_score: float
    weight: float
    contribution: float
    note: str


@dataclass(frozen=True)
class DecidingCriterion:
    source: str  # topsis | content | collaborative
    criterion: str
    effect: str  # strength | weakness | met | missed | over_provisioned | similar
    value: float | None
    detail: str


@dataclass(frozen=True)
class Explanation:
    components: list[ComponentScore]
    deciding_criteria: list[DecidingCriterion]
    summary: str


def _collaborative_note(source: str) -> str:
    if source == "item_item":
        return "similarity to offers you interacted with (item-item cosine)"
    if source == "popularity_for_workload":
        return "popularity among users who ran this kind of workload (no personal history yet)"
    if source == "popularity":
        return "popularity among users (no personal history to compare with)"
    return "no interactions recorded yet"


def explain(
    *,
    rows: np.ndarray,
    blend: BlendResult,
    raw: dict[str, np.ndarray],
    topsis: TopsisResult,
    criteria: tuple[OfferCriterion, ...],
    values: np.ndarray,
    content: ContentScores,
    collaborative_source: str,
    neighbours: Callable[[int], list[tuple[str, float]]],
    offer_label: Callable[[str], str],
    total: int,
) -> list[Explanation]:
    """Explanations for the ranked rows ``rows`` (indices into the ranked candidates)."""
    notes = {
        "topsis": f"closeness to the ideal offer on {len(criteria)} criteria",
        "collaborative": _collaborative_note(collaborative_source),
        "content": "fit to the workload's requirement profile",
    }
    names = tuple(c.value for c in criteria)
    drivers = topsis_drivers(topsis, names, rows)
    fits = content_drivers(content, rows)
    out = []
    for n, row in enumerate(rows):
        components = []
        for name in ("topsis", "collaborative", "content"):
            weight = blend.effective_weights[name]
            note = notes[name]
            if name in blend.no_signal:
                note += "; no signal among these offers, weight redistributed"
            components.append(
                ComponentScore(
                    name,
                    float(raw[name][row]),
                    float(blend.normalised[name][row]),
                    weight,
                    weight * float(blend.normalised[name][row]),
                    note,
                )
            )
        deciding: list[DecidingCriterion] = []
        strengths, weaknesses = drivers[n]
        for effect, group in (("strength", strengths), ("weakness", weaknesses)):
            for driver in group:
                j = names.index(driver.criterion)
                value = float(values[row, j])
                deciding.append(
                    DecidingCriterion(
                        "topsis",
                        driver.criterion,
                        effect,
                        value,
                        f"{describe(criteria[j], value)} "
                        f"({driver.position:.0%} of the way from worst to best)",
                    )
                )
        met, missed, over = fits[n]
        for feature in met:
            deciding.append(
                DecidingCriterion(
                    "content",
                    feature,
                    "met",
                    None,
                    f"meets the {FEATURE_LABELS[feature]} requirement",
                )
            )
        for driver in missed:
            deciding.append(
                DecidingCriterion(
                    "content",
                    driver.criterion,
                    "missed",
                    driver.position,
                    f"short of the {FEATURE_LABELS[driver.criterion]} requirement "
                    f"(log-ratio distance {driver.position:.2f})",
                )
            )
        for driver in over:
            deciding.append(
                DecidingCriterion(
                    "content",
                    driver.criterion,
                    "over_provisioned",
                    driver.position,
                    f"more {FEATURE_LABELS[driver.criterion]} than the workload needs "
                    f"(log-ratio distance {driver.position:.2f})",
                )
            )
        for offer_id, similarity in neighbours(int(row)):
            deciding.append(
                DecidingCriterion(
                    "collaborative",
                    "similar_offer",
                    "similar",
                    similarity,
                    f"similar to {offer_label(offer_id)} you used (cosine {similarity:.2f})",
                )
            )
        out.append(
            Explanation(components, deciding, _summary(int(blend.ranks[row]), total, deciding))
        )
    return out


def _summary(rank: int, total: int, deciding: list[DecidingCriterion]) -> str:
    parts = [f"Ranked {rank} of {total}"]
    strong = [d.detail.split(" (")[0] for d in deciding if d.effect == "strength"]
    weak = [d.detail.split(" (")[0] for d in deciding if d.effect == "weakness"]
    met = [FEATURE_LABELS[d.criterion] for d in deciding if d.effect == "met"]
    missed = [FEATURE_LABELS[d.criterion] for d in deciding if d.effect == "missed"]
    over = [FEATURE_LABELS[d.criterion] for d in deciding if d.effect == "over_provisioned"]
    similar = [d for d in deciding if d.effect == "similar"]
    if strong:
        parts.append("strongest on " + " and ".join(strong))
    if weak:
        parts.append("weakest on " + weak[0])
    if met:
        parts.append("meets " + ", ".join(met))
    if missed:
        parts.append("short of the " + ", ".join(missed) + " requirement")
    if over:
        parts.append("more " + ", ".join(over) + " than needed")
    if similar:
        parts.append(f"similar to {len(similar)} offer(s) you used")
    return "; ".join(parts) + "."
