"""ASGI entry point: HTTP goes to Django; WebSocket to the live-price consumers — GraphQL
subscriptions at ``/graphql/`` (``graphql-transport-ws`` only: the legacy ``graphql-ws`` protocol
had an auth-bypass CVE) and the legacy price feed at ``/ws/``.

Serve it with ``python -m apps.websocket_gateway.serve`` (uvicorn with access-log redaction).
"""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpubroker.settings.development")
django.setup(set_prefix=False)

from gpubroker.http_handler import SyncChainASGIHandler  # noqa: E402

django_asgi_app = SyncChainASGIHandler()

from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import caches  # noqa: E402

from apps.websocket_gateway.routing import websocket_urlpatterns  # noqa: E402
from schema import schema  # noqa: E402
from schema.live_admission import websocket_operation_checks  # noqa: E402

# Build the cache and channel-layer backends now, in one thread: left to the first requests, the
# health check imports redis from a worker thread and from the event loop at once, and that
# concurrent first import can deadlock or leave redis half-imported for the process's life.
for _alias in settings.CACHES:
    caches[_alias]
get_channel_layer()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            websocket_urlpatterns(schema, operation_checks=websocket_operation_checks(schema))
        ),
    }
)

if settings.DEMO_TICKER:
    from apps.websocket_gateway.ticker import DemoTickerStarter

    application = DemoTickerStarter(application)  # type: ignore[assignment]

# Everything built so far (Django, the GraphQL schema, the libraries: about 230,000 objects) lives
# as long as the process. Left to the cyclic garbage collector, each full collection walks all of
# it: 130-145 ms with the interpreter held, a pause every request in flight then waits out.
# Frozen, full collections walk only what requests create (bench/load_fault.py reports both).
gc.freeze()
