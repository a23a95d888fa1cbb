"""The shared provider HTTP client: timeouts, retries with backoff honouring Retry-After, and
strict decoding (HTML error pages, truncated JSON) — exercised at the network edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from apps.providers.adapters import (
    ProviderAuthError,
    ProviderPayloadError,
    ProviderRateLimited,
    ProviderRequestError,
    ProviderUnavailable,
    RetryPolicy,
)
from apps.providers.adapters.http import DEFAULT_TIMEOUT, ProviderHTTPClient, parse_retry_after

from .helpers import FakeProvider, Sleeps, fixture_text, ok


def client(fake: FakeProvider, sleeps: Sleeps, **kwargs) -> ProviderHTTPClient:
    return ProviderHTTPClient(
        provider="vastai",
        base_url="https://console.example",
        transport=fake.transport,
        sleep=sleeps,
        **kwargs,
    )


def test_default_timeouts_are_explicit_and_bounded():
    assert DEFAULT_TIMEOUT.connect == 5.0
    assert DEFAULT_TIMEOUT.read == 30.0
    assert DEFAULT_TIMEOUT.pool == 5.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0", 0.0), ("1.5", 1.5), ("-4", 0.0), ("", None), ("soon", None), (None, None)],
)
def test_parse_retry_after_seconds(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date():
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(7.0)
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0


async def test_429_waits_exactly_retry_after_then_succeeds():
    fake = FakeProvider().on(
        "POST",
        "/api/v0/bundles/",
        httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "slow down"}),
        ok("vastai/empty.json"),
    )
    sleeps = Sleeps()
    body = await client(fake, sleeps).request_json("POST", "/api/v0/bundles/", json_body={})
    assert body == {"offers": []}
    assert sleeps.delays == [3.0]
    assert len(fake.requests) == 2


async def test_retry_after_beyond_the_cap_fails_fast_with_the_delay():
    fake = FakeProvider().on(
        "GET", "/x", httpx.Response(429, headers={"Retry-After": "600"}, json={"msg": "quota"})
    )
    sleeps = Sleeps()
    with pytest.raises(ProviderRateLimited) as caught:
        await client(fake, sleeps).request_json("GET", "/x")
    assert caught.value.retry_after == 600.0
    assert caught.value.status_code == 429
    assert "quota" in str(caught.value)
    assert sleeps.delays == [] and len(fake.requests) == 1


async def test_5xx_are_retried_with_growing_backoff_then_succeed():
    fake = FakeProvider().on(
        "GET",
        "/x",
        httpx.Response(500),
        httpx.Response(502, text=fixture_text("common/cloudflare_502.html")),
        httpx.Response(503),
        httpx.Response(200, json={"fine": True}),
    )
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0)
    assert await client(fake, sleeps, retry=policy).request_json("GET", "/x") == {"fine": True}
    assert len(sleeps.delays) == 3
    for n, delay in enumerate(sleeps.delays):
        assert 0.5 * 2**n <= delay <= 0.5 * 2**n * 1.25
    assert sleeps.delays == sorted(sleeps.delays)


async def test_persistent_500_gives_up_after_the_attempts():
    fake = FakeProvider().on("GET", "/x", httpx.Response(500, json={"msg": "database is down"}))
    sleeps = Sleeps()
    with pytest.raises(ProviderUnavailable) as caught:
        await client(fake, sleeps, retry=RetryPolicy(attempts=3)).request_json("GET", "/x")
    assert caught.value.status_code == 500
    assert "database is down" in str(caught.value)
    assert len(fake.requests) == 3 and len(sleeps.delays) == 2


async def test_timeouts_and_connection_errors_are_retried_for_reads():
    request = httpx.Request("GET", "https://console.example/x")
    fake = FakeProvider().on(
        "GET",
        "/x",
        httpx.ReadTimeout("read timed out", request=request),
        httpx.ConnectError("connection refused", request=request),
        httpx.Response(200, json=[]),
    )
    sleeps = Sleeps()
    assert await client(fake, sleeps).request_json("GET", "/x") == []
    assert len(sleeps.delays) == 2


async def test_a_timeout_that_persists_is_provider_unavailable():
    request = httpx.Request("GET", "https://console.example/x")
    fake = FakeProvider().on("GET", "/x", httpx.ReadTimeout("read timed out", request=request))
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await client(fake, Sleeps(), retry=RetryPolicy(attempts=2)).request_json("GET", "/x")
    assert len(fake.requests) == 2


async def test_bookings_are_not_retried_when_the_provider_may_have_processed_them():
    request = httpx.Request("PUT", "https://console.example/book")
    fake = FakeProvider().on("PUT", "/book", httpx.Response(503))
    with pytest.raises(ProviderUnavailable):
        await client(fake, Sleeps()).request_json("PUT", "/book", json_body={}, idempotent=False)
    assert len(fake.requests) == 1

    fake = FakeProvider().on("PUT", "/book", httpx.ReadTimeout("slow", request=request))
    with pytest.raises(ProviderUnavailable):
        await client(fake, Sleeps()).request_json("PUT", "/book", json_body={}, idempotent=False)
    assert len(fake.requests) == 1


async def test_bookings_are_retried_when_provably_not_processed():
    request = httpx.Request("PUT", "https://console.example/book")
    fake = FakeProvider().on(
        "PUT",
        "/book",
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.ConnectError("refused", request=request),
        httpx.Response(200, json={"success": True}),
    )
    sleeps = Sleeps()
    answer = await client(fake, sleeps).request_json("PUT", "/book", json_body={}, idempotent=False)
    assert answer == {"success": True}
    assert sleeps.delays[0] == 1.0 and len(fake.requests) == 3


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures_carry_the_providers_message(status):
    fake = FakeProvider().on("GET", "/x", ok("lambda/invalid_key.json", status=status))
    with pytest.raises(ProviderAuthError) as caught:
        await client(fake, Sleeps()).request_json("GET", "/x")
    assert "API key was invalid" in str(caught.value)
    assert caught.value.status_code == status
    assert len(fake.requests) == 1


async def test_other_4xx_is_a_refused_request_and_410_a_retired_api():
    fake = FakeProvider().on("GET", "/x", ok("vastai/error_body.json", status=400))
    with pytest.raises(ProviderRequestError, match="Human readable explanation"):
        await client(fake, Sleeps()).request_json("GET", "/x")
    fake = FakeProvider().on("GET", "/x", httpx.Response(410, json={"message": "use REST v2"}))
    with pytest.raises(ProviderUnavailable, match="retired"):
        await client(fake, Sleeps()).request_json("GET", "/x")


async def test_an_html_page_with_status_200_is_a_payload_error():
    page = fixture_text("common/cloudflare_502.html")
    fake = FakeProvider().on("GET", "/x", httpx.Response(200, text=page))
    with pytest.raises(ProviderPayloadError, match="HTML page"):
        await client(fake, Sleeps()).request_json("GET", "/x")


async def test_truncated_json_and_empty_bodies_are_payload_errors():
    fake = FakeProvider().on(
        "GET", "/x", httpx.Response(200, text=fixture_text("common/truncated_bundles.json"))
    )
    with pytest.raises(ProviderPayloadError, match="truncated"):
        await client(fake, Sleeps()).request_json("GET", "/x")
    fake = FakeProvider().on("GET", "/x", httpx.Response(200, content=b"  "))
    with pytest.raises(ProviderPayloadError, match="empty"):
        await client(fake, Sleeps()).request_json("GET", "/x")


async def test_headers_and_user_agent_are_sent():
    fake = FakeProvider().on("GET", "/x", httpx.Response(200, json={}))
    http = ProviderHTTPClient(
        provider="lambda",
        base_url="https://cloud.example",
        transport=fake.transport,
        headers={"Authorization": "Bearer k-123"},
    )
    await http.request_json("GET", "/x", params={"a": 1})
    sent = fake.requests[0]
    assert sent.headers["Authorization"] == "Bearer k-123"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["User-Agent"].startswith("gpubroker-ingest/")
    assert str(sent.url) == "https://cloud.example/x?a=1"
