"""Cost of the issue-14 normalisation step (plausibility gate, nominal VRAM, regions) per fetch.

    .venv/bin/python bench/normalise_bench.py

Generates a deterministic Vast.ai-style payload of N offers (the ``sync_bench`` shape), then
times ``VastAIAdapter.fetch_offers()`` through ``httpx.MockTransport`` with the real
``normalise`` step and, in the same run, with ``normalise`` replaced by a no-op (the baseline).
Prints seconds (median of 5) and the ratio. No database is used.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpubroker.settings.test")

from sync_bench import adapter_for, make_offers  # noqa: E402

from apps.providers.adapters.base import BaseProviderAdapter  # noqa: E402

RUNS = 5


def timed(payload: bytes) -> float:
    adapter = adapter_for(payload)
    started = time.perf_counter()
    result = asyncio.run(adapter.fetch_offers())
    elapsed = time.perf_counter() - started
    assert result.offers, "the payload produced no offers"
    return elapsed


def main() -> None:
    real = BaseProviderAdapter.normalise
    print(f"{'offers':>8} {'no-op (s)':>10} {'normalise (s)':>14} {'ratio':>6}")
    for n in (2_000, 20_000):
        payload = json.dumps({"offers": make_offers(n)}).encode()
        BaseProviderAdapter.normalise = lambda self, result: None  # type: ignore[method-assign]
        baseline = statistics.median(timed(payload) for _ in range(RUNS))
        BaseProviderAdapter.normalise = real  # type: ignore[method-assign]
        measured = statistics.median(timed(payload) for _ in range(RUNS))
        print(f"{n:>8} {baseline:>10.3f} {measured:>14.3f} {measured / baseline:>6.2f}")


if __name__ == "__main__":
    main()
