from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from gpubroker.api.v2 import api
from gpubroker.health import health
from gpubroker.metrics import metrics_view
from gpubroker.web.views import landing
from schema import schema
from schema.http_caching import CachedGatewayView

urlpatterns = [
    path("", landing, name="landing"),
    path("health", health, name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v2/", api.urls),
    # Bearer-token API: no cookie auth, so CSRF does not apply.
    # GraphQL over HTTP runs as a *sync* view: Django gives each request one thread and the whole
    # operation runs in it, instead of hopping to a thread for every sync resolver (each hop
    # costs more than resolving a field; measured by bench/catalogue_bench.py). Resolvers of
    # queries and mutations must therefore be sync (a test checks it). Subscriptions are served
    # over WebSocket by the Channels consumer (apps/websocket_gateway/routing.py), not by this view.
    path(
        "graphql/",
        # Request-level errors as GraphQL-over-HTTP JSON, documentId, GraphiQL per settings; the
        # response cache and HTTP caching of public operations (schema/http_caching.py).
        csrf_exempt(CachedGatewayView.as_view(schema=schema, graphql_ide="graphiql")),
        name="graphql",
    ),
    path("admin/", admin.site.urls),
]

# An exception no edge answered (a middleware's database lookup, say): JSON, 503 for a dependency.
handler500 = "gpubroker.web.errors.server_error"
