"""Slot accuracy of the workload parser against a labelled corpus (pure Python).

A corpus line is ``{"text", "workload": {...}, "filters": {...}}`` with the expected slots. A
description's slots are the union of the expected and the parsed ones (``workload.<f>`` and
``filters.<f>``): an expected slot parsed with the right value is right; a missing one, a wrong
value, or a slot parsed that the label does not have (a false reading) is wrong. Numbers compare
with a relative tolerance of 1e-6, lists as sets, money strings as decimals."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "ai"
CORPUS = FIXTURES / "workload_corpus.jsonl"
HOLDOUT = FIXTURES / "workload_corpus_holdout.jsonl"


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


#: Slots the parser derives from other slots, not from the text (not scored): the catalogue row
#: a named model resolves to (``model_catalogue.find_model``; the bench reports how many do).
DERIVED = frozenset({"catalogue_model"})


def flatten(workload: dict[str, Any], filters: dict[str, Any]) -> dict[str, Any]:
    slots = {f"workload.{k}": v for k, v in workload.items() if k not in DERIVED}
    slots.update({f"filters.{k}": v for k, v in filters.items()})
    return slots


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, list) and isinstance(actual, list):
        return sorted(map(str, expected)) == sorted(map(str, actual))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(float(expected), float(actual), rel_tol=1e-6)
    if isinstance(expected, str) and isinstance(actual, str):
        try:
            return Decimal(expected) == Decimal(actual)
        except InvalidOperation:
            return expected.strip().lower() == actual.strip().lower()
    return bool(expected == actual)


@dataclass
class Score:
    right: int = 0
    total: int = 0
    per_slot: Counter[str] = field(default_factory=Counter)
    per_slot_total: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, Any, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    def add(self, text: str, expected: dict[str, Any], actual: dict[str, Any]) -> None:
        for slot in sorted(set(expected) | set(actual)):
            self.total += 1
            self.per_slot_total[slot.split(".", 1)[1]] += 1
            if slot in expected and slot in actual and same(expected[slot], actual[slot]):
                self.right += 1
                self.per_slot[slot.split(".", 1)[1]] += 1
            else:
                self.failures.append((text, slot, expected.get(slot), actual.get(slot)))


def score(pairs: Iterable[tuple[str, dict[str, Any], dict[str, Any]]]) -> Score:
    result = Score()
    for text, expected, actual in pairs:
        result.add(text, expected, actual)
    return result
