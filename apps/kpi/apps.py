from django.apps import AppConfig


class KpiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.kpi"
    label = "kpi"
    verbose_name = "KPIs and market insights"
