from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "gpubroker.web"
    label = "web"
    verbose_name = "Browser and operations surface"

    def ready(self) -> None:
        # Every entry point (ASGI server, WSGI, management commands) passes here before any
        # request handler builds its middleware chain: tracing, when configured, starts now.
        from gpubroker.observability import configure_tracing

        configure_tracing()
