"""Price changes through the real path (demo ticker, publish_price_change, bench)."""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.core.errors import NotFound, ValidationFailed
from apps.providers.models import GPUOffer, PriceHistory
from apps.providers.services import PriceMove, change_offer_prices
from apps.websocket_gateway.demo_market import (
    simulate_price_moves,
)
from apps.websocket_gateway.ticker import DemoTickerStarter, run_ticker
from tests.realtime.helpers import make_offers

pytestmark = pytest.mark.django_db


def test_change_writes_offer_and_history_and_publishes_after_commit(
    django_capture_on_commit_callbacks, monkeypatch
):
    offer = make_offers(1)[0]
    published = []
    monkeypatch.setattr(
        "apps.websocket_gateway.services.publish_price_changes",
        lambda **kwargs: published.append(kwargs),
    )
    from apps.providers import events

    sent = []
    events.catalogue_changed.connect(
        lambda sender, **kw: sent.append(kw), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            changes = change_offer_prices(
                moves=[PriceMove(str(offer.pk), Decimal("1.23456"), "limited")], source="test"
            )
    finally:
        events.catalogue_changed.disconnect(dispatch_uid="t")
    (change,) = changes
    assert change.old_price_per_hour == Decimal("1.5000")
    assert change.new_price_per_hour == Decimal("1.2346")
    assert (change.old_availability, change.new_availability) == ("available", "limited")
    offer.refresh_from_db()
    assert offer.price_per_hour == Decimal("1.2346") and offer.availability_status == "limited"
    assert PriceHistory.objects.filter(offer=offer).count() == 1
    assert sent[0]["provider"] == "demo-cloud" and sent[0]["changes"] == changes


def test_a_move_that_changes_nothing_writes_and_publishes_nothing(
    django_capture_on_commit_callbacks,
):
    offer = make_offers(1)[0]
    with django_capture_on_commit_callbacks() as callbacks:
        assert (
            change_offer_prices(moves=[PriceMove(str(offer.pk), Decimal("1.5"))], source="t") == []
        )
    assert callbacks == [] and not PriceHistory.objects.exists()


@pytest.mark.parametrize(
    ("move", "error"),
    [
        (PriceMove("00000000-0000-0000-0000-000000000000", Decimal("1")), NotFound),
        (PriceMove("{offer}", Decimal("0")), ValidationFailed),
        (PriceMove("{offer}", Decimal("NaN")), ValidationFailed),
        (PriceMove("{offer}", Decimal("1"), "sold-out"), ValidationFailed),
    ],
)
def test_bad_moves_are_domain_errors_and_change_nothing(move, error):
    offer = make_offers(1)[0]
    move = PriceMove(
        move.offer_id.format(offer=offer.pk), move.new_price_per_hour, move.new_availability
    )
    with pytest.raises(error):
        change_offer_prices(moves=[move], source="t")
    offer.refresh_from_db()
    assert offer.price_per_hour == Decimal("1.5000")


def test_simulation_moves_only_sample_data_offers_by_a_few_per_cent():
    sample = make_offers(6)
    live = make_offers(3, provider_name="live-cloud", sample=False)
    before = {str(o.pk): o.price_per_hour for o in GPUOffer.objects.all()}
    changes = simulate_price_moves(count=4, rng=random.Random(7))
    assert len(changes) == 4
    assert {c.offer_id for c in changes} <= {str(o.pk) for o in sample}
    for change in changes:
        old = before[change.offer_id]
        assert change.old_price_per_hour == old
        assert abs(change.new_price_per_hour - old) <= old * Decimal("0.05")
    assert all(GPUOffer.objects.get(pk=o.pk).price_per_hour == o.price_per_hour for o in live)


class _NoDrift(random.Random):
    """A drift of zero, availability never flipped."""

    def uniform(self, a: float, b: float) -> float:
        return 0.0

    def random(self) -> float:
        return 0.99


def test_a_drift_that_rounds_to_nothing_still_moves_the_price_one_step():
    # publish_price_change --random N and the ticker promise N changes: a drift under half a
    # cent-hundredth used to round to the same price and the move was dropped
    offers = make_offers(3)
    changes = simulate_price_moves(count=3, rng=_NoDrift(1))
    assert len(changes) == 3
    by_id = {str(o.pk): o.price_per_hour for o in offers}
    for change in changes:
        assert change.new_price_per_hour == by_id[change.offer_id] + Decimal("0.0001")


def test_simulation_without_sample_offers_does_nothing():
    make_offers(2, provider_name="live-cloud", sample=False)
    assert simulate_price_moves() == []


def test_publish_price_change_command(capsys):
    offer = make_offers(1)[0]
    out = StringIO()
    call_command("publish_price_change", offer=str(offer.pk), price="1.9900", stdout=out)
    (change,) = json.loads(out.getvalue())["changes"]
    assert change["offer_id"] == str(offer.pk) and change["new_price_per_hour"] == "1.9900"
    with pytest.raises(CommandError, match="does not exist"):
        # an id no offer has (the last hex digit flipped, never equal to the original)
        other = str(offer.pk)[:-1] + ("1" if str(offer.pk)[-1] == "0" else "0")
        call_command("publish_price_change", offer=other, price="1")
    with pytest.raises(CommandError, match="decimal"):
        call_command("publish_price_change", offer=str(offer.pk), price="cheap")
    with pytest.raises(CommandError):
        call_command("publish_price_change")


async def test_ticker_calls_the_configured_function_repeatedly(settings):
    calls = []
    settings.DEMO_TICKER_INTERVAL = 0.01
    settings.DEMO_TICKER_FUNCTION = "tests.realtime.test_demo_market.record_tick"
    RECORDED.clear()
    task = asyncio.create_task(run_ticker(0.01, settings.DEMO_TICKER_FUNCTION))
    await asyncio.sleep(0.2)
    task.cancel()
    assert len(RECORDED) >= 3

    # The ASGI wrapper starts one ticker, whatever the number of connections.
    async def app(scope, receive, send):
        calls.append(scope)

    starter = DemoTickerStarter(app)
    await starter({"type": "http"}, None, None)
    first = starter.task
    await starter({"type": "websocket"}, None, None)
    assert first is not None and starter.task is first and len(calls) == 2
    first.cancel()


RECORDED: list[int] = []


def record_tick() -> None:
    RECORDED.append(1)
