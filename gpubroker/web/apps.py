from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "gpubroker.web"
    label = "web"
    verbose_name = "Browser surface"
