"""GraphiQL in a real browser, offline: it loads with no request leaving 127.0.0.1, runs a query,
sends the headers editor's bearer token over HTTP and in ``connection_init``, and shows live price
updates of a subscription on a server that refuses anonymous WebSockets."""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.browser.conftest import SUBSCRIPTION
from tests.browser.helpers import assert_stayed_local, editor, run_and_read

ME_QUERY = "query Me { me { email } }"


def test_graphiql_runs_a_query_and_a_subscription_offline(page, traffic, site):
    page.goto(
        site["url"] + "/graphql/?q=" + quote("query Cheapest { offers(first: 2) { totalCount } }")
    )
    page.wait_for_selector(".graphiql-execute-button")
    result = run_and_read(page, "totalCount")
    assert result["data"]["offers"]["totalCount"] > 0

    # the headers editor's token goes over HTTP ...
    page.get_by_text("Headers", exact=True).click()
    set_headers = editor(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    set_headers(json.dumps({"Authorization": f"Bearer {site['token']}"}))
    set_query = editor(page, ".graphiql-query-editor .CodeMirror")
    set_query(ME_QUERY)
    assert (
        run_and_read(page, "browser@acme.example")["data"]["me"]["email"] == "browser@acme.example"
    )

    # ... and in connection_init: the server refuses anonymous WebSockets, yet prices arrive
    set_query(SUBSCRIPTION)
    update = run_and_read(page, "newPricePerHour")["data"]["priceUpdates"]
    assert update["offerId"] and update["newPricePerHour"]
    sockets = [ws for ws in traffic.websockets if ws.url.endswith("/graphql/")]
    assert sockets and sockets[-1].url.startswith("ws://127.0.0.1:")
    assert_stayed_local(traffic)


def test_graphiql_sends_connection_init_with_the_token(page, traffic, site):
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    page.goto(f"{site['url']}/graphql/?q={quote(SUBSCRIPTION)}")
    page.wait_for_selector(".graphiql-execute-button")
    page.get_by_text("Headers", exact=True).click()
    editor(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")(
        json.dumps({"Authorization": f"Bearer {site['token']}"})
    )
    run_and_read(page, "newPricePerHour")
    init = [json.loads(f) for f in sent if '"connection_init"' in f]
    assert init and init[0]["payload"] == {"Authorization": f"Bearer {site['token']}"}
    subscribe = [json.loads(f) for f in sent if '"subscribe"' in f]
    assert subscribe[0]["payload"]["query"] == SUBSCRIPTION
    assert_stayed_local(traffic)
