"""The notification-type sync shared by the ready and post_migrate variants."""
import logging

from django.db import connection

logger = logging.getLogger(__name__)


def sync_notice_types():
    """Upserts one NoticeType per NotifyCatalog entry, deactivates the others and refreshes
    NotifyCatalog._registry (the article's loop)."""
    from .models import NoticeType
    from .notify_catalog import NotifyCatalog

    logger.info("sync_notice_types on database %s", connection.settings_dict["NAME"])
    present_ids = []
    for _, kind in NotifyCatalog._data.items():
        obj, _ = NoticeType.objects.update_or_create(
            name=kind.name,
            defaults={
                "description": kind.description,
                "is_active": True,
            },
        )
        present_ids.append(obj.id)

    # Deactivate all notifications in the database that are not used
    NoticeType.objects.exclude(id__in=present_ids).update(is_active=False)

    # Update the in-memory registry with the active events
    NotifyCatalog._registry = {item.name: item for item in NoticeType.objects.filter(is_active=True)}
