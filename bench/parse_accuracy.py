"""Workload-parser accuracy on the labelled corpora under ``tests/fixtures/ai/``: the development
corpus (the rules were tuned on it) and a held-out one (written afterwards, never tuned on).
For each: slot accuracy overall and per slot, the descriptions that parse completely, the parse
time per description, and with ``--failures`` every wrong slot.

    .venv/bin/python bench/parse_accuracy.py [--failures]

Target (issue #15): >= 95 % of slots right. Scoring rules: ``apps/ai_assistant/parsing/scoring``.
The bench creates and destroys its own test database holding the model catalogue
(``load_models``), so named models resolve as they do in the service; it also prints how many
named models the catalogue knows."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpubroker.settings.test")

import django  # noqa: E402

django.setup()

from apps.ai_assistant.parsing.scoring import CORPUS, HOLDOUT, flatten, load_corpus, score  # noqa: E402
from apps.ai_assistant.workload_parser import parse_workload_text  # noqa: E402

TARGET = 0.95


def report(name: str, path: Path) -> float:
    corpus = load_corpus(path)
    pairs = []
    timings = []
    complete = 0
    named = resolved = 0
    for row in corpus:
        start = time.perf_counter()
        parsed = parse_workload_text(row["text"])
        timings.append((time.perf_counter() - start) * 1000)
        complete += parsed.complete
        named += "model" in parsed.workload
        resolved += "catalogue_model" in parsed.workload
        expected = flatten(row.get("workload", {}), row.get("filters", {}))
        pairs.append((row["text"], expected, flatten(parsed.workload, parsed.filters)))
    result = score(pairs)
    print(f"\n## {name} ({path.name})\n")
    print(f"descriptions: {len(corpus)}   slots: {result.total}")
    print(
        f"slot accuracy: {result.right}/{result.total} = {result.accuracy:.1%} "
        f"(target {TARGET:.0%}: {'met' if result.accuracy >= TARGET else 'NOT met'})"
    )
    print(f"complete parses (a valid estimate-workload body): {complete}/{len(corpus)}")
    print(f"named models found in the model catalogue: {resolved}/{named}")
    print(
        f"parse time per description: median {statistics.median(timings):.2f} ms, "
        f"max {max(timings):.2f} ms"
    )
    print("\n| slot | right | total | accuracy |\n|---|---:|---:|---:|")
    for slot, total in sorted(result.per_slot_total.items(), key=lambda kv: -kv[1]):
        right = result.per_slot[slot]
        print(f"| {slot} | {right} | {total} | {right / total:.1%} |")
    if "--failures" in sys.argv:
        print("\nfailures (text | slot | expected | parsed):")
        for text, slot, expected, actual in result.failures:
            print(f"- {text} | {slot} | {expected!r} | {actual!r}")
    return result.accuracy


def main() -> int:
    from django.db import connection

    from apps.math_core.model_catalogue import load_models

    original = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":  # its own file: never the one a running `make test` uses
        connection.settings_dict["TEST"]["NAME"] = str(ROOT / "var" / "bench-parse.sqlite3")
    else:
        connection.settings_dict["TEST"]["NAME"] = f"bench_parse_{original}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        load_models()
        development = report("development corpus (the rules were tuned on it)", CORPUS)
        held_out = report("held-out corpus (written after the rules, never tuned on)", HOLDOUT)
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
    print(f"\nsummary: development {development:.1%}, held-out {held_out:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
