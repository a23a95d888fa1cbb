"""In a real browser (headless Chromium): the API docs listing the v2 operations, the admin
styled, the landing page with its market snapshot and chart (GraphiQL: test_graphiql.py). No
request may leave 127.0.0.1 (anything else is stopped and fails the test)."""

from __future__ import annotations

from typing import Any

from tests.browser.helpers import assert_stayed_local


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
