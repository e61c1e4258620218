from django.db import models


class NoticeType(models.Model):
    """One supported notification type, kept in sync with NotifyCatalog."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    def __str__(self):
        return self.name


class Customer(models.Model):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    notice_types = models.ManyToManyField(NoticeType, related_name="customers", blank=True)

    def __str__(self):
        return self.email
