"""Shared steps of the browser tests."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.conftest import Traffic


def assert_stayed_local(traffic: Traffic) -> None:
    assert traffic.requests, "the page made no request at all"
    assert traffic.blocked == [], f"requests tried to leave 127.0.0.1: {traffic.blocked}"
    assert traffic.outside() == []


def editor(page: Any, selector: str) -> Any:
    """Set a GraphiQL editor's text through CodeMirror, as typing would; then give GraphiQL
    the moment it takes (debounced) to re-read the document and its operation name."""

    def set_text(text: str) -> None:
        page.evaluate(
            "([selector, text]) => document.querySelector(selector).CodeMirror.setValue(text)",
            [selector, text],
        )
        page.wait_for_timeout(800)

    return set_text


def run_and_read(page: Any, expect: str) -> dict[str, Any]:
    page.click(".graphiql-execute-button")
    result = page.locator(".result-window")
    result.get_by_text(expect).first.wait_for()
    text = page.evaluate(
        "() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"
    )
    return json.loads(text)


def backdated_hourly_index() -> None:
    """Five hourly prices ending two hours ago for every demo offer, then the KPI engine's hourly
    index over them (the demo data alone has only the current, incomplete hour)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from apps.kpi.index_engine import update_price_index
    from apps.providers.models import GPUOffer
    from tests.catalogue_factories import make_history

    end = timezone.now() - timedelta(hours=2)
    for offer in GPUOffer.objects.all():
        factors = ("1.06", "1.03", "1", "0.98", "1")
        prices = [(offer.price_per_hour * Decimal(f)).quantize(Decimal("0.0001")) for f in factors]
        make_history(offer, prices, start=end)
    report = update_price_index(bucket="hour", backfill_days=1)
    assert report.series
