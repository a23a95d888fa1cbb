"""In a real browser (headless Chromium): the API docs listing the v2 operations, the admin
styled, the landing page with its market snapshot and chart (GraphiQL: test_graphiql.py). No
request may leave 127.0.0.1 (anything else is stopped and fails the test)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from tests.browser.helpers import assert_stayed_local, backdated_hourly_index


def test_api_docs_list_the_v2_operations(page, traffic, site):
    page.goto(f"{site['url']}/api/v2/docs")
    page.wait_for_selector(".opblock")
    paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.innerText)")
    for expected in ("/api/v2/providers", "/api/v2/auth/login", "/api/v2/math/topsis"):
        assert any(p.replace("\u200b", "") == expected for p in paths), (expected, paths[:20])
    assert_stayed_local(traffic)


def test_admin_login_is_styled(page, traffic, site):
    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r))
    page.goto(f"{site['url']}/admin/login/")
    page.wait_for_selector("#login-form")
    sheets = [r for r in responses if r.url.endswith(".css")]
    assert sheets and all(r.status == 200 for r in sheets), [(r.url, r.status) for r in sheets]
    assert any("admin/css/base" in r.url for r in sheets)
    header = page.evaluate(
        "() => getComputedStyle(document.querySelector('#header')).backgroundColor"
    )
    assert header not in ("rgba(0, 0, 0, 0)", "transparent")  # the admin's dark header
    assert_stayed_local(traffic)


def test_landing_page_shows_the_snapshot(page, traffic, site):
    page.goto(site["url"] + "/")
    table = page.locator("table.offers tbody tr")
    assert table.count() >= 3
    assert page.locator("a[href='/api/v2/docs']").count() >= 1
    assert page.locator("a[href='/graphql/']").count() >= 1  # GRAPHQL_GRAPHIQL is on
    stylesheet = page.evaluate(
        "() => getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )
    assert stylesheet == "rgb(16, 38, 61)"  # site.css loaded
    assert_stayed_local(traffic)


def in_a_thread(work: Callable[[], Any], django_db_blocker: Any) -> None:
    """Run ORM work from this test: Playwright's sync API keeps an event loop running in the
    test's thread, where Django refuses to touch the database."""
    failures: list[BaseException] = []

    def run() -> None:
        from django.db import connection

        try:
            with django_db_blocker.unblock():
                work()
        except BaseException as error:  # re-raised in the test's thread
            failures.append(error)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the database work did not finish"
    if failures:
        raise failures[0]


def test_landing_page_chart_appears_with_kpi_data(page, traffic, site, django_db_blocker):
    # No index periods yet: the page says so and draws nothing.
    page.goto(site["url"] + "/")
    assert page.locator("#no-kpi-data").is_visible()
    assert "No KPI data yet" in page.locator("figure.chart").inner_text()
    assert page.locator("svg.price-chart").count() == 0

    in_a_thread(backdated_hourly_index, django_db_blocker)
    # KPI results are cached per catalogue version; the server's demo ticker moves it on twice a
    # second, so a reload within a few seconds renders from the new index.
    deadline = time.monotonic() + 20
    while page.locator("svg.price-chart").count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.reload()
    chart = page.locator("svg.price-chart")
    assert chart.count() == 1, page.locator("figure.chart").inner_text()
    assert page.locator("#no-kpi-data").count() == 0
    box = chart.bounding_box()
    assert box and box["width"] >= 300 and box["height"] >= 100  # laid out, not collapsed
    # The series as drawn: a line through the hourly medians inside a min-max band, two price
    # gridlines labelled in dollars, the first and last hour on the axis.
    points = chart.locator("polyline.line").get_attribute("points") or ""
    assert len(points.split()) >= 4, points
    assert chart.locator("polygon.band").count() == 1
    labels = chart.locator("text.label").all_text_contents()
    assert sum(label.startswith("$") for label in labels) == 2, labels
    assert sum(label.endswith("UTC") for label in labels) == 2, labels
    model = page.locator("table.offers tbody th").first.inner_text()
    caption = page.locator("figure.chart figcaption").inner_text()
    assert caption.startswith(model) and "median price per GPU-hour" in caption
    stroke = chart.evaluate("svg => getComputedStyle(svg.querySelector('polyline.line')).stroke")
    assert stroke not in ("none", "")  # site.css styles the line
    assert_stayed_local(traffic)
