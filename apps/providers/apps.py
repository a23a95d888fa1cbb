from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.providers"
    label = "providers"
    verbose_name = "Providers and offers"

    def ready(self) -> None:
        # A sync that changed the catalogue (sent after its transaction commits) makes every
        # cached offer page unreachable: the next request reads the database.
        from .events import catalogue_changed
        from .offer_cache import on_catalogue_changed

        catalogue_changed.connect(
            on_catalogue_changed, dispatch_uid="providers.offer_cache.bump_version"
        )
