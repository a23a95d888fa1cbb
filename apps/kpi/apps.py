from django.apps import AppConfig


class KpiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.kpi"
    label = "kpi"
    verbose_name = "KPIs and market insights"

    def ready(self) -> None:
        # Every finished provider sync (ok or failed) is recorded for sync success rates.
        from apps.providers.events import sync_finished

        from .receivers import record_sync_outcome

        sync_finished.connect(record_sync_outcome, dispatch_uid="kpi.record_sync_outcome")
