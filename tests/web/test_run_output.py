"""What ``make run`` prints: the URLs once the server answers, and one INFO line per demo tick."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from apps.providers.sync import SyncReport
from apps.websocket_gateway import ticker
from gpubroker.web import announce


def test_tick_summary_sums_the_providers_reports():
    reports = [
        SyncReport(provider="lambda", source="replay", offers=12, changed=3, history_rows=3),
        SyncReport(provider="runpod", source="replay", offers=76, new=1, changed=5, rejected=2),
        SyncReport(provider="vastai", source="replay", status="failed", error="timeout"),
    ]
    summary = ticker.summarise_tick(reports, 0.41234)
    assert summary == {
        "seconds": 0.412,
        "providers": 3,
        "offers": 88,
        "new": 1,
        "changed": 8,
        "vanished": 0,
        "rejected": 2,
        "history_rows": 3,
        "failed": ["vastai"],
    }
    assert ticker.summarise_tick([object(), object()], 0.1) == {"seconds": 0.1, "changes": 2}


def test_provider_info_lines_are_held_back_inside_a_tick_only():
    hold = ticker.HoldBackDuringTick()

    def record(name: str, level: int) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "msg", None, None)

    sync_info = record("gpubroker.providers.sync", logging.INFO)
    assert hold.filter(sync_info)  # outside a tick (cron syncs): kept
    token = ticker._in_tick.set(True)
    try:
        assert not hold.filter(sync_info)
        assert not hold.filter(record("gpubroker.providers.vastai", logging.INFO))
        assert hold.filter(record("gpubroker.providers.sync", logging.WARNING))
        assert hold.filter(record("gpubroker.request", logging.INFO))
        ticker.logger.setLevel(logging.DEBUG)
        assert hold.filter(sync_info)  # details wanted: shown
    finally:
        ticker.logger.setLevel(logging.NOTSET)
        ticker._in_tick.reset(token)


def test_announce_waits_for_health_then_lists_the_urls(capsys):
    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert announce.main(["announce", base, "10"]) == 0
    finally:
        server.shutdown()
    out = capsys.readouterr().out
    assert out.startswith(f"GPUBROKER is ready on {base}")
    for path in ("/graphql/", "/api/v2/docs", "/admin/", "/health", "/metrics"):
        assert f"{base}{path}" in out
    assert announce.main(["announce", base, "0.5"]) == 1  # nothing listens any more
