from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class WebsocketGatewayConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.websocket_gateway"
    label = "websocket_gateway"
    verbose_name = "Live price gateway"

    def ready(self) -> None:
        from strawberry.http.websocket_origin import normalize_allowed_origins

        from apps.providers.events import catalogue_changed

        from .services import on_catalogue_changed

        try:
            normalize_allowed_origins(list(settings.WS_ALLOWED_ORIGINS))
        except (TypeError, ValueError) as exc:
            raise ImproperlyConfigured(f"WS_ALLOWED_ORIGINS: {exc}") from exc
        catalogue_changed.connect(
            on_catalogue_changed, dispatch_uid="websocket_gateway.publish_price_changes"
        )
