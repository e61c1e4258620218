from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate


class AlertsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"

    def ready(self):
        mode = settings.ARTICLE_MODE
        if mode == "connection_created":
            from . import signals_connection_created  # noqa: F401  (registers the receiver)
        elif mode == "post_migrate":
            from . import signals_post_migrate  # noqa: F401  (registers the receiver)
        elif mode == "ready":
            # The article's AppConfig variant: seed at startup when the table exists
            # (runserver), and after migrations.
            if self._has_tables():
                self._seed_notice_kinds()
            post_migrate.connect(self._after_migrate, sender=self)

    def _has_tables(self):
        from django.db import connection

        names = connection.introspection.table_names()
        return "alerts_noticetype" in names

    def _seed_notice_kinds(self):
        from .sync import sync_notice_types

        sync_notice_types()

    def _after_migrate(self, sender, **kwargs):
        if sender.name == self.name:
            self._seed_notice_kinds()
