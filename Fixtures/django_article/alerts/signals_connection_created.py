"""ARTICLE_MODE=connection_created: the article's first attempt (the bug).

Imported by AlertsAppConfig.ready() only in that mode. The receiver is the article's code:
it fires whenever *any* connection is opened, including the test runner's connection to the
`postgres` maintenance database, and writes through the ORM's default alias, which at that
moment still points at the developer's database (NAME, before Django switches it to test_NAME).
"""
import logging

from django.db.backends.postgresql.base import DatabaseWrapper as PgWrapper
from django.db.backends.signals import connection_created
from django.db.backends.sqlite3.base import DatabaseWrapper as SqliteWrapper
from django.dispatch import receiver

from .models import NoticeType
from .notify_catalog import NotifyCatalog

logger = logging.getLogger(__name__)


@receiver(connection_created, sender=SqliteWrapper)
@receiver(connection_created, sender=PgWrapper)
def sync_notice_kinds(sender, **kwargs):
    opened = kwargs.get("connection")
    logger.info("connection_created: alias=%s NAME=%s", getattr(opened, "alias", "?"),
                opened.settings_dict.get("NAME") if opened is not None else "?")
    active_ids = []
    for _, kind in NotifyCatalog._data.items():
        obj, _ = NoticeType.objects.update_or_create(
            name=kind.name,
            defaults={
                'description': kind.description,
                'is_active': True,
            },
        )
        active_ids.append(obj.id)

    # Deactivate all notifications in the database that are not used
    NoticeType.objects.exclude(id__in=active_ids).update(is_active=False)

    # Update the in-memory registry with the active events
    NotifyCatalog._registry = {
        item.name: item
        for item in NoticeType.objects.filter(is_active=True)
    }
