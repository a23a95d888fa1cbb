"""The GraphiQL page, offline: every asset is served by the app (``gpubroker/web/vendor.py``),
and the page's fetcher (``static/web/graphiql-page.js``) sends queries and mutations over HTTP
POST and subscriptions over the WebSocket at the same path (``graphql-transport-ws``, through the
vendored ``graphql-ws`` client). Headers typed in GraphiQL's headers editor go with both: as HTTP
headers, and as the ``connection_init`` payload (``{"Authorization": "Bearer …"}``), so the page
also works where anonymous WebSockets are off.

The GraphQL view (``schema/http_view.py``) calls :func:`graphiql_page` when GraphiQL is on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import vendor

DEFAULT_QUERY = """# GPUBROKER GraphiQL: queries and mutations go over HTTP POST,
# subscriptions over the WebSocket at the same path (graphql-transport-ws).
# Put a bearer token in the Headers tab ({"Authorization": "Bearer <access token>"}):
# it is sent with both.

query CheapestOffers {
  offers(first: 5, orderBy: PRICE_PER_GPU_HOUR, direction: ASC) {
    totalCount
    edges { node { gpuType gpuCount pricePerHour region provider { name } } }
  }
}

# subscription LivePrices {
#   priceUpdates { offerId gpuModel oldPricePerHour newPricePerHour changedAt }
# }
"""


def graphiql_page(request: HttpRequest, *, endpoint: str | None = None) -> HttpResponse:
    config = {
        "endpoint": endpoint or request.path,
        "query": request.GET.get("q") or DEFAULT_QUERY,
        "variables": request.GET.get("variables") or "",
    }
    context = {
        "config": config,
        "styles": [vendor.GRAPHIQL_CSS],
        "scripts": [vendor.REACT, vendor.REACT_DOM, vendor.GRAPHQL_WS, vendor.GRAPHIQL_JS],
    }
    return render(request, "web/graphiql.html", context)
