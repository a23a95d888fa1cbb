"""Grounding: every figure an answer states must come from the catalogue.

``money_figures(text)`` finds the dollar amounts an answer writes ("$1.50", "1.5 USD",
"$12,345.67"). ``allowed_figures(runs)`` collects every amount the tools returned: the cited
offers' prices per hour and per GPU-hour (read from the catalogue by ``citations.cite``) and the
money figures in the tool results (totals, costs). A figure is grounded when it equals an
allowed amount at the precision written (``$1.5`` matches 1.5000; ``$1.52`` matches 1.5178 only
if written rounded from it). ``ground(text, runs)`` removes every ungrounded figure and every
offer id the catalogue does not know, and says so — so an agent cannot put a price in front of
a user that GPUBROKER did not compute.

``mentioned_offers(text, runs)`` are the cited offers the text refers to: by id, or by provider
name together with one of that offer's prices."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .citations import OfferCitation
from .tools import ToolRun

_MONEY = re.compile(
    r"(?:\$|US\$|USD\s?)\s?(?P<a>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"|(?P<b>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?(?:USD|US\$|dollars?)\b",
    re.I,
)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
REMOVED = "[unverified figure removed]"
_MONEY_KEYS = re.compile(r"price|cost|budget|total|usd|dollar", re.I)


@dataclass(frozen=True)
class Figure:
    text: str
    value: Decimal
    decimals: int
    start: int
    end: int


def money_figures(text: str) -> list[Figure]:
    figures = []
    for match in _MONEY.finditer(text):
        number = (match.group("a") or match.group("b")).replace(",", "")
        try:
            value = Decimal(number)
        except InvalidOperation:
            continue
        decimals = len(number.split(".", 1)[1]) if "." in number else 0
        figures.append(Figure(match.group(0), value, decimals, match.start(), match.end()))
    return figures


def _money_values(node: Any, key: str = "") -> Iterable[Decimal]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _money_values(v, str(k))
    elif isinstance(node, list):
        for item in node:
            yield from _money_values(item, key)
    elif _MONEY_KEYS.search(key) and isinstance(node, (str, int, float, Decimal)):
        if isinstance(node, bool):
            return
        try:
            yield Decimal(str(node))
        except InvalidOperation:
            return


def allowed_figures(runs: Iterable[ToolRun]) -> set[Decimal]:
    allowed: set[Decimal] = set()
    for run in runs:
        if not run.ok:
            continue
        for offer in run.offers:
            allowed.update((offer.price_per_hour, offer.price_per_gpu_hour))
        allowed.update(_money_values(run.data))
    return allowed


def _grounded(figure: Figure, allowed: set[Decimal]) -> bool:
    step = Decimal(1).scaleb(-figure.decimals)
    for amount in allowed:
        if amount.quantize(step, rounding=ROUND_HALF_UP) == figure.value:
            return True
        if figure.decimals >= 2 and amount == figure.value:
            return True
    return False


def ungrounded(text: str, runs: Iterable[ToolRun]) -> list[Figure]:
    allowed = allowed_figures(runs)
    return [f for f in money_figures(text) if not _grounded(f, allowed)]


def unknown_offer_ids(text: str, runs: Iterable[ToolRun]) -> list[str]:
    known = {o.offer_id.lower() for run in runs for o in run.offers}
    return [m.group(0) for m in _UUID.finditer(text) if m.group(0).lower() not in known]


@dataclass(frozen=True)
class Grounded:
    text: str
    removed_figures: list[str]
    removed_offer_ids: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.removed_figures or self.removed_offer_ids)


def ground(text: str, runs: list[ToolRun]) -> Grounded:
    """``text`` with ungrounded money figures and unknown offer ids replaced by a marker."""
    bad = ungrounded(text, runs)
    out = text
    for figure in sorted(bad, key=lambda f: f.start, reverse=True):
        out = out[: figure.start] + REMOVED + out[figure.end :]
    unknown = unknown_offer_ids(out, runs)
    for offer_id in unknown:
        out = out.replace(offer_id, "[unknown offer removed]")
    return Grounded(out, [f.text for f in bad], unknown)


def mentioned_offers(text: str, runs: Iterable[ToolRun]) -> list[OfferCitation]:
    figures = money_figures(text)
    lowered = text.lower()
    found: dict[str, OfferCitation] = {}
    for run in runs:
        for offer in run.offers:
            if offer.offer_id.lower() in lowered:
                found.setdefault(offer.offer_id, offer)
                continue
            if offer.provider.lower() not in lowered:
                continue
            prices = {offer.price_per_hour, offer.price_per_gpu_hour}
            if any(_grounded(f, prices) for f in figures):
                found.setdefault(offer.offer_id, offer)
    return list(found.values())
