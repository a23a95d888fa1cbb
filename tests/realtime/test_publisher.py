"""The one publisher: group naming, coalescing, batching, after-commit delivery, loop safety."""

from __future__ import annotations

import asyncio
import logging
import uuid
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers, get_channel_layer
from django.db import transaction
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.providers.events import publish_offer_changes
from apps.websocket_gateway.groups import (
    ALL_PRICES_GROUP,
    PRICE_BATCH_TYPE,
    gpu_model_group,
    is_valid_group_name,
)
from apps.websocket_gateway.services import (
    coalesce_changes,
    price_batch_messages,
    publish_price_changes,
)
from tests.realtime.helpers import offer_change


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_every_gpu_model_maps_to_a_valid_channels_group_name(model):
    group = gpu_model_group(model)
    assert is_valid_group_name(group)
    assert get_channel_layer().require_valid_group_name(group)
    assert gpu_model_group(model) == group  # stable


def test_group_names_stay_readable_and_distinct():
    assert gpu_model_group("H100_SXM5") == "prices.gpu.H100_SXM5"
    assert gpu_model_group("H100 SXM 80GB").startswith("prices.gpu.H100_SXM_80GB.")
    # Names that sanitise alike still get their own groups.
    assert gpu_model_group("RTX/4090") != gpu_model_group("RTX 4090")
    assert len(gpu_model_group("X" * 500)) < 100


def test_coalescing_keeps_the_first_old_and_the_last_new_values():
    merged = coalesce_changes(
        [
            offer_change("a", old="3.0000", new="2.5000", new_availability="limited"),
            offer_change("b", old="1.0000", new="1.1000"),
            offer_change("a", old="2.5000", new="2.0000", old_availability="limited"),
        ]
    )
    assert [c.offer_id for c in merged] == ["a", "b"]
    assert merged[0].old_price_per_hour == Decimal("3.0000")
    assert merged[0].new_price_per_hour == Decimal("2.0000")
    assert merged[0].old_availability == "available"


def test_a_large_sync_becomes_few_bounded_batches_per_group():
    models = ["H100 SXM 80GB", "A100 SXM 80GB", "RTX 4090"]
    changes = [offer_change(f"o{i}", gpu_model=models[i % 3]) for i in range(4500)]
    messages = price_batch_messages(
        provider="vastai", changes=changes, published_at=1.5, batch_size=200
    )
    by_group: dict[str, list[int]] = {}
    for group, message in messages:
        assert message["type"] == PRICE_BATCH_TYPE and message["group"] == group
        assert message["published_at"] == 1.5 and message["provider"] == "vastai"
        by_group.setdefault(group, []).append(len(message["changes"]))
    assert sum(by_group.pop(ALL_PRICES_GROUP)) == 4500
    assert len(messages) == 23 + 3 * 8  # ceil(4500/200) + 3 × ceil(1500/200)
    assert sorted(by_group) == sorted(gpu_model_group(m) for m in models)
    assert all(sum(sizes) == 1500 and max(sizes) <= 200 for sizes in by_group.values())


def _receiving_layer():
    """channels-redis binds receive buffers to the first loop that receives: each sync drain
    (a new loop) takes a fresh instance; the in-memory layer must stay the process's one."""
    layer = get_channel_layer()
    if type(layer).__name__ == "InMemoryChannelLayer":
        return layer
    return channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)


def _drain(channel: str) -> list[dict]:
    layer = _receiving_layer()

    async def drain() -> list[dict]:
        received = []
        while True:
            try:
                received.append(await asyncio.wait_for(layer.receive(channel), timeout=0.3))
            except TimeoutError:
                return received

    return async_to_sync(drain)()


@pytest.fixture
def listener() -> str:
    channel = f"test.listener{uuid.uuid4().hex}"  # a plain channel: any layer instance reads it
    async_to_sync(get_channel_layer().group_add)(ALL_PRICES_GROUP, channel)
    return channel


@pytest.mark.django_db(transaction=True)
def test_changes_go_out_after_commit_and_never_for_rolled_back_work(listener):
    """Through the real event: publish_offer_changes → catalogue_changed → our receiver."""

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        publish_offer_changes("runpod", [offer_change("rolled-back")])
        raise Boom
    assert _drain(listener) == []

    with transaction.atomic():
        publish_offer_changes("runpod", [offer_change("committed")])
        assert _drain(listener) == []  # not before commit
    (message,) = _drain(listener)
    assert [c["offer_id"] for c in message["changes"]] == ["committed"]


async def test_publishing_from_a_thread_already_running_an_event_loop(listener):
    # Sync code called straight from async code: async_to_sync would refuse to run here.
    assert publish_price_changes(provider="runpod", changes=[offer_change("in-loop")]) == 2
    message = await asyncio.wait_for(_receiving_layer().receive(listener), timeout=3)
    assert message["changes"][0]["offer_id"] == "in-loop"


def test_a_channel_layer_failure_is_logged_not_raised(monkeypatch, caplog):
    layer = get_channel_layer()

    async def broken(group, message):
        raise ConnectionError("redis down")

    monkeypatch.setattr(layer, "group_send", broken)
    with caplog.at_level(logging.ERROR, logger="gpubroker.live"):
        publish_price_changes(provider="runpod", changes=[offer_change()])
    assert "live price publish failed" in caplog.text


def test_nothing_is_sent_for_an_empty_event(listener):
    assert publish_price_changes(provider="runpod", changes=[]) == 0
    assert _drain(listener) == []
