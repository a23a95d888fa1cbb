"""Typo tolerance: words close to a keyword the rules know ("infrence", "tokns", "lama") are read
as that keyword before the rules run (difflib's ratio, stdlib). Only words of four letters or
more that are neither a keyword nor a filler word are candidates, so correct text is untouched."""

from __future__ import annotations

import difflib
import re

from .vocabulary import FILLER

KEYWORDS = (
    "tokens",
    "requests",
    "inference",
    "finetuning",
    "finetune",
    "training",
    "pretraining",
    "llama",
    "mistral",
    "mixtral",
    "qwen",
    "gemma",
    "falcon",
    "deepseek",
    "context",
    "budget",
    "deadline",
    "images",
    "embeddings",
    "concurrent",
    "interruptible",
    "preemptible",
    "serving",
    "deploy",
    "precision",
    "documents",
    "datacenter",
    "quantized",
)
CUTOFF = 0.85
_WORD = re.compile(r"(?<![\w-])[A-Za-z]{4,}(?![\w])")


def correct_typos(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with near-miss keywords replaced, and the (typed, read as) pairs."""
    corrections: list[tuple[str, str]] = []

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        if lower in KEYWORDS or lower in FILLER:
            return word
        close = difflib.get_close_matches(lower, KEYWORDS, n=1, cutoff=CUTOFF)
        if not close or close[0].startswith(lower) or lower.startswith(close[0]):
            return word
        corrections.append((word, close[0]))
        return close[0]

    return _WORD.sub(replace, text), corrections
