"""``python -m gpubroker.web.announce http://127.0.0.1:8000``: wait until the server answers
``/health``, then print where everything is. ``make run`` starts it beside the server, so the
URLs appear once the server is ready (and the first request starts the demo ticker)."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request

PAGES = (
    ("Start page (market snapshot)", "/"),
    ("GraphiQL (queries, mutations, subscriptions)", "/graphql/"),
    ("REST API docs (Swagger UI)", "/api/v2/docs"),
    ("Admin", "/admin/"),
    ("Health", "/health"),
    ("Metrics (Prometheus)", "/metrics"),
)


def wait_until_ready(base: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    return False


def banner(base: str) -> str:
    width = max(len(label) for label, _ in PAGES)
    lines = [f"GPUBROKER is ready on {base}"]
    lines += [f"  {label.ljust(width)}  {base}{path}" for label, path in PAGES]
    lines.append(f"  {'GraphQL WebSocket'.ljust(width)}  {base.replace('http', 'ws', 1)}/graphql/")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    base = (argv[1] if len(argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
    timeout = float(argv[2]) if len(argv) > 2 else 120.0
    if not wait_until_ready(base, timeout):
        print(f"GPUBROKER did not answer {base}/health within {timeout:.0f} s", file=sys.stderr)
        return 1
    print(banner(base), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
