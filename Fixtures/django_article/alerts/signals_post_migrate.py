"""ARTICLE_MODE=post_migrate: the article's fix, a post_migrate receiver only.

Imported by AlertsAppConfig.ready() only in that mode.
"""
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from .sync import sync_notice_types


@receiver(post_migrate)
def ensure_notice_kinds(sender, **kwargs):
    # Only run for the intended app
    if sender.name != "alerts":
        return
    sync_notice_types()
