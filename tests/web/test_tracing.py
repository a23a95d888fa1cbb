"""Tracing (seed D11): W3C Trace Context accepted, OpenTelemetry switched on by the environment,
spans exported over OTLP/HTTP, and the trace id in the JSON log lines and ``X-Trace-Id`` equal to
the span's. The collector is a local OTLP/HTTP receiver decoding the real protobuf payloads."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.realtime.live_servers import DaphneServer, free_port

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def test_a_valid_traceparent_sets_the_trace_id_without_opentelemetry(client, db):
    response = client.get("/api/v2/math/benchmarks/NOPE", HTTP_TRACEPARENT=TRACEPARENT)
    assert response.status_code == 404
    assert response["X-Trace-Id"] == TRACE_ID
    assert response.json()["error"]["trace_id"] == TRACE_ID


@pytest.mark.parametrize(
    "header",
    [f"00-{'0' * 32}-{PARENT_ID}-01", f"00-{TRACE_ID}-{'0' * 16}-01", "01-x-y-z", "garbage"],
)
def test_an_invalid_traceparent_is_ignored(client, db, header):
    response = client.get("/api/v2/math/benchmarks/NOPE", HTTP_TRACEPARENT=header)
    assert response["X-Trace-Id"] != TRACE_ID and len(response["X-Trace-Id"]) == 32


class Collector(BaseHTTPRequestHandler):
    spans: list[Any] = []
    paths: list[str] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        Collector.paths.append(self.path)
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    Collector.spans.append((service, span))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_spans_exported_over_otlp_with_the_log_trace_id(transactional_db):
    collector = HTTPServer(("127.0.0.1", free_port()), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    server = DaphneServer(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_port}",
        OTEL_SERVICE_NAME="gpubroker-test",
        OTEL_BSP_SCHEDULE_DELAY=100,
        DEMO_TICKER=0,
        # INFO request lines (test settings log warnings only); DEBUG stays off (no ticker).
        DJANGO_SETTINGS_MODULE="gpubroker.settings.development",
    ).start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/v2/math/benchmarks/NOPE",
            headers={"traceparent": TRACEPARENT},
        )
        try:
            urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as error:
            assert error.code == 404
            assert error.headers["X-Trace-Id"] == TRACE_ID
        fresh = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=10)
        fresh_id = fresh.headers["X-Trace-Id"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(Collector.spans) < 2:
            time.sleep(0.1)
    finally:
        server.stop()
        collector.shutdown()
    assert Collector.paths and set(Collector.paths) == {"/v1/traces"}
    by_trace = {span.trace_id.hex(): (service, span) for service, span in Collector.spans}
    service, span = by_trace[TRACE_ID]  # the incoming W3C context was continued ...
    assert span.parent_span_id.hex() == PARENT_ID
    assert service["service.name"] == "gpubroker-test"
    assert span.name.startswith("GET")
    assert fresh_id in by_trace  # ... and a request without one got a new trace
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    requests = {line["trace_id"] for line in lines if line.get("message") == "request"}
    assert {TRACE_ID, fresh_id} <= requests  # the log lines carry the spans' trace ids
