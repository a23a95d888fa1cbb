"""The replay source: recorded answers served to the real adapters."""

from __future__ import annotations

import httpx
import pytest

from apps.providers.adapters import ProviderRegistry, ProviderRequestError
from apps.providers.replay import (
    PRICE_KEYS,
    ReplayTransport,
    available_snapshots,
    perturbed_cassette,
    snapshot_cassettes,
)

CASSETTE = {
    "provider": "vastai",
    "interactions": [
        {
            "request": {"method": "POST", "path": "/api/v0/bundles/", "json": {"type": "bid"}},
            "response": {"status": 200, "json": {"offers": []}},
        },
        {
            "request": {"method": "POST", "path": "/api/v0/bundles/"},
            "response": {"status": 429, "headers": {"Retry-After": "2"}, "text": "slow"},
            "times": 1,
        },
        {
            "request": {"method": "POST", "path": "/api/v0/bundles/"},
            "response": {"status": 200, "json": {"offers": [{"id": 1}]}},
        },
    ],
}


def test_matching_by_method_path_and_json_subset_with_times():
    transport = ReplayTransport(CASSETTE)
    with httpx.Client(transport=transport, base_url="https://x") as client:
        assert client.post("/api/v0/bundles/", json={"type": "bid", "limit": 5}).json() == {
            "offers": []
        }
        first = client.post("/api/v0/bundles/", json={"type": "on-demand"})
        assert (first.status_code, first.headers["Retry-After"]) == (429, "2")
        again = client.post("/api/v0/bundles/", json={"type": "on-demand"})
        assert again.json() == {"offers": [{"id": 1}]}  # "times": 1 consumed
        missing = client.get("/api/v0/other")
        assert missing.status_code == 404 and "no recorded response" in missing.json()["error"]
    assert [r.url.path for r in transport.requests][-1] == "/api/v0/other"


async def test_a_gap_in_a_recording_fails_loudly():
    adapter = ProviderRegistry.get_adapter(
        "tensordock", transport=ReplayTransport({"interactions": []})
    )
    with pytest.raises(ProviderRequestError, match="no recorded response"):
        await adapter.fetch_offers()


async def test_shipped_snapshots_parse_cleanly_through_the_real_adapters():
    snapshots = available_snapshots()
    assert snapshots[:2] == [1, 2]
    totals = {}
    for snapshot in snapshots:
        for name, cassette in snapshot_cassettes(snapshot).items():
            adapter_class = ProviderRegistry.adapter_class(name)
            key = adapter_class.REPLAY_API_KEY if adapter_class.REQUIRES_CREDENTIALS else None
            result = await adapter_class(
                api_key=key, transport=ReplayTransport(cassette)
            ).fetch_offers()
            assert result.rejected == 0, (snapshot, name, result.rejection_reasons)
            totals[(snapshot, name)] = len(result.offers)
    assert {name for _, name in totals} == set(ProviderRegistry.list_adapters())
    assert len(ProviderRegistry.list_adapters()) >= 12  # issue 14: twelve or more providers
    assert all(count >= 3 for count in totals.values())
    assert sum(v for (s, _), v in totals.items() if s == 1) >= 200


def test_perturbation_is_deterministic_relative_and_changes_every_step():
    cassette = snapshot_cassettes(2)["vastai"]
    a, b = perturbed_cassette(cassette, 7), perturbed_cassette(cassette, 7)
    assert a == b and a is not cassette
    original = cassette["interactions"][0]["response"]["json"]["offers"]
    moved = a["interactions"][0]["response"]["json"]["offers"]
    ratios = [
        m["dph_total"] / o["dph_total"]
        for o, m in zip(original, moved, strict=True)
        if m["dph_total"] != o["dph_total"]
    ]
    assert ratios and all(0.93 <= r <= 1.07 for r in ratios)
    assert all(m["dph_base"] == o["dph_base"] for o, m in zip(original, moved, strict=True))
    assert perturbed_cassette(cassette, 8) != a
    assert "dph_total" in PRICE_KEYS and "dph_base" not in PRICE_KEYS
