"""``sync_offers`` and ``load_demo_data``, and the replay feed for live-update demos."""

from __future__ import annotations

import io

import httpx
import pytest
from django.core.management import CommandError, call_command

from apps.providers.models import GPUOffer, PriceHistory, Provider
from apps.providers.services import load_demo_data, replay_tick
from apps.providers.sync_sources import use_transport

from .helpers import FakeProvider, fixture, ok

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("sync_offers", *args, stdout=out)
    return out.getvalue()


def test_replay_twice_in_a_row_writes_history_only_for_real_changes(benchmarks):
    first = run("--source", "replay", "--snapshot", "1")
    assert "syncing 13 provider(s) from replay snapshot 1" in first
    header = "provider    status  fetched new   changed unchanged vanished rejected unknown seconds"
    assert header in first
    assert "13/13 providers synced (0 failed, 0 skipped)" in first
    after_first = PriceHistory.objects.count()
    assert after_first == GPUOffer.objects.count()  # one initial row per new offer

    second = run("--source", "replay")  # the latest snapshot: prices moved, offers came and went
    assert (
        "vastai: ok, 30 offers from 30 records (2 new, 6 changed, 2 vanished, 0 rejected)" in second
    )
    after_second = PriceHistory.objects.count()
    changes = after_second - after_first
    assert changes > 0

    third = run("--source", "replay")
    assert PriceHistory.objects.count() == after_second  # nothing changed, nothing written
    assert "0 new, 0 changed, 0 vanished, 0 rejected" in third
    assert set(Provider.objects.values_list("is_sample_data", flat=True)) == {True}
    linked = GPUOffer.objects.filter(benchmark__isnull=False).count()
    assert linked > GPUOffer.objects.count() * 0.8  # demo offers join the benchmark table


def test_every_provider_failing_exits_non_zero():
    broken = FakeProvider().on("POST", "/api/v0/bundles/", httpx.Response(200, text="<html>"))
    with use_transport("vastai", broken.transport), pytest.raises(CommandError, match="every"):
        run("--provider", "vastai")
    # lambda and shadeform need keys: with none configured both fail
    with pytest.raises(CommandError, match=r"no provider synced: every provider failed \(2\)"):
        run("--provider", "lambda", "--provider", "shadeform")


def test_no_provider_synced_when_the_others_failed_and_one_was_locked(monkeypatch):
    """Issue 14: every provider failed but one was skipped (locked): nothing was refreshed, so
    the exit status is non-zero and the summary counts each outcome."""
    from contextlib import contextmanager

    from apps.providers import sync

    @contextmanager
    def locked_for_tensordock(name):
        yield name != "tensordock"

    monkeypatch.setattr(sync, "provider_sync_lock", locked_for_tensordock)
    out = io.StringIO()
    with pytest.raises(CommandError, match="no provider synced: 2 failed, 1 skipped"):
        call_command(
            "sync_offers",
            "--provider", "lambda", "--provider", "shadeform", "--provider", "tensordock",
            stdout=out,
        )  # fmt: skip
    text = out.getvalue()
    assert "tensordock: skipped: another process is syncing this provider" in text
    assert "0/3 providers synced (2 failed, 1 skipped); 0 new, 0 changed" in text


def test_unknown_gpu_names_are_counted_per_provider_in_the_summary(benchmarks):
    payload = fixture("vastai/bundles.json")
    payload["offers"][0]["gpu_name"] = "Radeon Pro W7900"
    good = FakeProvider().on("POST", "/api/v0/bundles/", httpx.Response(200, json=payload))
    with use_transport("vastai", good.transport):
        out = run("--provider", "vastai")
    assert "GPU names not in the normaliser (kept): Radeon Pro W7900×1" in out
    row = next(line for line in out.splitlines() if line.startswith("vastai "))
    assert row.split()[-2] == "1"  # the unknown column
    assert "1/1 providers synced (0 failed, 0 skipped)" in out
    assert out.rstrip().endswith("1 with unknown GPU names")


def test_one_provider_succeeding_is_success_and_the_failure_is_reported():
    good = FakeProvider().on("POST", "/api/v0/bundles/", ok("vastai/bundles.json"))
    with use_transport("vastai", good.transport):
        out = run("--provider", "vastai", "--provider", "lambda")
    assert "vastai: ok, 3 offers" in out
    assert "lambda: FAILED [auth_failed]" in out and "previous offers kept" in out
    assert "1/2 providers synced (1 failed, 0 skipped)" in out


def test_bad_arguments_are_command_errors():
    with pytest.raises(CommandError, match=r"Unknown provider: 'nosuch'.*known providers"):
        run("--provider", "nosuch")
    with pytest.raises(CommandError, match="no snapshot 99"):
        run("--source", "replay", "--snapshot", "99")
    with pytest.raises(CommandError, match="only applies to --source replay"):
        run("--snapshot", "1")
    with pytest.raises(CommandError, match="positive"):
        run("--watch", "0")


def test_watch_repeats_rounds():
    out = run(
        "--source", "replay", "--provider", "tensordock", "--watch", "0.01", "--max-runs", "3"
    )
    assert out.count("syncing 1 provider(s)") == 3
    assert out.count("1/1 providers synced") == 3


def test_load_demo_data_is_idempotent_and_marks_sample_data(benchmarks):
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    text = out.getvalue()
    assert "vastai: loaded (sample data) — 30 offers, 40 price-history rows written" in text
    providers = Provider.objects.filter(is_sample_data=True)
    assert providers.count() == 13  # twelve or more providers in the demo (issue 14)
    assert GPUOffer.objects.count() >= 100
    assert GPUOffer.objects.values("provider").distinct().count() >= 3
    history = PriceHistory.objects.count()
    assert history > GPUOffer.objects.count()  # the second snapshot left history to show

    again = io.StringIO()
    call_command("load_demo_data", stdout=again)
    assert (
        "vastai: refreshed (sample data) — 30 offers, 0 price-history rows written"
        in again.getvalue()
    )
    assert PriceHistory.objects.count() == history


def test_load_demo_data_leaves_live_providers_alone():
    good = FakeProvider().on("POST", "/api/v0/bundles/", ok("vastai/bundles.json"))
    with use_transport("vastai", good.transport):
        run("--provider", "vastai")
    loads = {load.provider: load for load in load_demo_data()}
    assert loads["vastai"].action == "kept live data" and loads["vastai"].reports == ()
    assert loads["runpod"].action == "loaded"
    assert GPUOffer.objects.filter(provider__name="vastai").count() == 3
    assert Provider.objects.get(name="vastai").is_sample_data is False


def test_replay_tick_produces_deterministic_price_changes_every_step(
    django_capture_on_commit_callbacks,
):
    from apps.providers.events import catalogue_changed

    received = []

    def receiver(sender, provider, changes, **kwargs):
        received.extend(changes)

    catalogue_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for step in range(4):
                reports = replay_tick(step)
                assert all(r.ok for r in reports)
                if step >= 1:
                    assert sum(r.changed + r.new + r.vanished for r in reports) > 0, step
    finally:
        catalogue_changed.disconnect(receiver)
    assert {c.kind for c in received} >= {"new", "changed"}
    prices = dict(GPUOffer.objects.values_list("external_id", "price_per_hour"))
    replay_tick(3)  # the same step again: the same prices, no change
    assert dict(GPUOffer.objects.values_list("external_id", "price_per_hour")) == prices
    with pytest.raises(ValueError, match="step"):
        replay_tick(-1)


@pytest.mark.django_db(transaction=True)
def test_demo_ticker_tick_replays_through_the_sync_engine_and_publishes_changes(monkeypatch):
    """The development ticker's default tick is a real replay sync: each call moves prices,
    writes price history for exactly those changes and publishes them after commit."""
    from django.conf import settings

    from apps.providers import services
    from apps.providers.events import catalogue_changed
    from apps.providers.models import GPUOffer, PriceHistory

    assert settings.DEMO_TICKER_FUNCTION == "apps.providers.services.replay_demo_tick"
    services.load_demo_data()
    monkeypatch.setattr(services, "_demo_steps", None)
    published: list = []

    def receiver(sender, provider, changes, **kwargs):
        published.extend(changes)

    catalogue_changed.connect(receiver)
    try:
        history_before = PriceHistory.objects.count()
        reports = services.replay_demo_tick()
        services.replay_demo_tick()
    finally:
        catalogue_changed.disconnect(receiver)
    changed = sum(r.changed for r in reports)
    assert changed > 0
    price_changes = [c for c in published if c.kind == "changed"]
    assert price_changes, "the tick published no price change"
    assert PriceHistory.objects.count() - history_before == len(
        [c for c in published if c.kind in ("changed", "vanished", "new")]
    )
    moved = GPUOffer.objects.get(pk=price_changes[-1].offer_id)
    assert moved.price_per_hour == price_changes[-1].new_price_per_hour


def test_demo_offers_are_marked_as_sample_data_on_both_facades(client, benchmarks):
    from tests.graphql_client import execute

    load_demo_data()
    rest = client.get("/api/v2/providers", {"per_page": 100})
    assert rest.status_code == 200
    items = rest.json()["items"]
    assert items and all(item["is_sample_data"] is True for item in items)
    gql = execute(client, "{ providers { name isSampleData } }")
    providers = gql["data"]["providers"]
    assert len(providers) == 13 and all(p["isSampleData"] for p in providers)
    # a live provider's offers are not marked
    Provider.objects.filter(name="vastai").update(is_sample_data=False)
    live = client.get("/api/v2/providers", {"provider_name": "vastai", "per_page": 5}).json()
    assert live["items"] and not any(item["is_sample_data"] for item in live["items"])
