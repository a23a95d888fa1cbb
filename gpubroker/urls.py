from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import AsyncGraphQLView
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gpubroker.api.v2 import api
from gpubroker.health import health
from schema import schema

urlpatterns = [
    path("health", health, name="health"),
    path("api/v2/", api.urls),
    # Bearer-token API: no cookie auth, so CSRF does not apply.
    path(
        "graphql/",
        csrf_exempt(
            AsyncGraphQLView.as_view(
                schema=schema,
                graphql_ide="graphiql",
                subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            )
        ),
        name="graphql",
    ),
    path("admin/", admin.site.urls),
]
