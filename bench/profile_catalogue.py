"""Profile the uncached catalogue page in-process (pyinstrument): where a GraphQL request's time
goes, with the fast field path on or off, next to the bare Django view on the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gb_iss16 \\
        .venv/bin/python bench/profile_catalogue.py [--fast on|off] [--requests 100] [--tree]

Uses the catalogue bench's database (``bench/catalogue_bench.py`` seeds it), its settings (the
bench URLconf with the bare view) and its query; the response cache and the offer cache are off,
so every request does all the work. Prints ms per request for the bare view, GraphQL with the
fast path off and on (alternating rounds, so machine noise hits all three alike), then the
profile of GraphQL requests (``--tree``: the call tree; default: the functions with most
self-time). Needs the bench extra (``make bench-tools``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.catalogue_settings"
os.environ["OFFER_CACHE_SECONDS"] = "0"
os.environ["GRAPHQL_RESPONSE_CACHE_SECONDS"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", choices=("on", "off"), default="on")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tree", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    import catalogue_bench as bench
    from django.conf import settings
    from django.test import Client
    from pyinstrument import Profiler

    client = Client()

    def request(kind: str, page: int) -> None:
        method, path, kwargs = bench.request_for(kind, page)
        if method == "POST":
            body = json.dumps(kwargs["json"])
            response = client.post(path, data=body, content_type="application/json")
        else:
            response = client.get(path, kwargs["params"])
        assert response.status_code == 200, response.content[:300]

    from unittest import mock

    from schema import fast_rows

    def timed(kind: str, fast: bool, count: int, rows: bool = True) -> float:
        settings.GRAPHQL_FAST_EXECUTION = fast
        with mock.patch.object(fast_rows, "enabled_for", fast_rows.enabled_for if rows else no):
            for page in range(1, 3):
                request(kind, page)
            started = time.perf_counter()
            for n in range(count):
                request(kind, n % bench.PAGES + 1)
            return (time.perf_counter() - started) / count * 1000

    def no(*_: object) -> bool:
        return False

    rounds: dict[str, list[float]] = {
        "bare view": [],
        "graphql, fast off": [],
        "graphql, fields only": [],
        "graphql, fast on": [],
    }
    for _ in range(args.rounds):
        rounds["bare view"].append(timed("baseline", True, args.requests // args.rounds))
        rounds["graphql, fast off"].append(timed("graphql", False, args.requests // args.rounds))
        per_round = args.requests // args.rounds
        rounds["graphql, fields only"].append(timed("graphql", True, per_round, rows=False))
        rounds["graphql, fast on"].append(timed("graphql", True, per_round))
    for label, values in rounds.items():
        median = sorted(values)[len(values) // 2]
        print(f"{label:20} best {min(values):6.2f} ms/request  median {median:6.2f}")

    settings.GRAPHQL_FAST_EXECUTION = args.fast == "on"
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for n in range(args.requests):
        request("graphql", n % bench.PAGES + 1)
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=False, flat=not args.tree))


if __name__ == "__main__":
    main()
