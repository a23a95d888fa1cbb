"""ASGI entry point: HTTP goes to Django; WebSocket to the GraphQL subscription consumer
(``graphql-transport-ws`` only: the legacy ``graphql-ws`` protocol had an auth-bypass CVE)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpubroker.settings.development")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.websocket_gateway.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
