"""``publish_price_change`` says plainly when its events cannot reach a running server (the
in-memory channel layer of the embedded default) and retries a locked SQLite database."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from apps.websocket_gateway.management.commands import publish_price_change as command
from tests.realtime.helpers import make_offers

pytestmark = pytest.mark.django_db

REDIS_LAYER = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {}}}
MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def run(**options):
    out, err = StringIO(), StringIO()
    call_command("publish_price_change", stdout=out, stderr=err, **options)
    return json.loads(out.getvalue()), err.getvalue()


def test_the_embedded_default_says_events_stay_in_this_process(settings):
    settings.CHANNEL_LAYERS = MEMORY_LAYER
    offer = make_offers(1)[0]
    body, err = run(offer=str(offer.pk), price="1.2300")
    assert body["delivery"] == "this-process-only"
    assert body["changes"][0]["new_price_per_hour"] == "1.2300"
    assert "never a running server" in err and "REDIS_URL" in err


def test_a_shared_channel_layer_reaches_every_process(settings, monkeypatch):
    settings.CHANNEL_LAYERS = REDIS_LAYER
    monkeypatch.setattr(command, "change_offer_prices", lambda **kwargs: [])
    body, err = run(offer="00000000-0000-0000-0000-000000000001", price="1")
    assert body == {"changes": [], "delivery": "all-processes"} and err == ""


def test_a_locked_database_is_retried_with_growing_pauses(monkeypatch):
    offer = make_offers(1)[0]
    real = command.change_offer_prices
    attempts: list[int] = []
    pauses: list[float] = []

    def flaky(**kwargs):
        attempts.append(1)
        if len(attempts) < 3:
            raise OperationalError("database is locked")
        return real(**kwargs)

    monkeypatch.setattr(command, "change_offer_prices", flaky)
    monkeypatch.setattr(command.time, "sleep", pauses.append)
    body, _ = run(offer=str(offer.pk), price="2.0000")
    assert len(attempts) == 3 and pauses == [0.1, 0.2]
    assert body["changes"][0]["offer_id"] == str(offer.pk)
    offer.refresh_from_db()
    assert str(offer.price_per_hour) == "2.0000"


def test_a_database_locked_for_good_is_a_clear_error_and_other_errors_propagate(monkeypatch):
    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(command, "change_offer_prices", locked)
    monkeypatch.setattr(command.time, "sleep", lambda seconds: None)
    with pytest.raises(CommandError, match=r"locked through 8 attempts; nothing was changed"):
        run(offer="00000000-0000-0000-0000-000000000001", price="1")

    def broken(**kwargs):
        raise OperationalError("no such table: gpu_offers")

    monkeypatch.setattr(command, "change_offer_prices", broken)
    with pytest.raises(OperationalError, match="no such table"):
        run(offer="00000000-0000-0000-0000-000000000001", price="1")
