from django.test import TestCase

from .models import Customer, NoticeType
from .notify_catalog import NotifyCatalog


class NoticeTypeSyncTests(TestCase):
    def test_catalog_types_are_active_in_the_test_database(self):
        active = set(NoticeType.objects.filter(is_active=True).values_list("name", flat=True))
        self.assertEqual(active, set(NotifyCatalog._data))

    def test_customer_subscribes_to_notice_types(self):
        customer = Customer.objects.create(email="ann@example.com", name="Ann")
        customer.notice_types.set(NoticeType.objects.filter(name__in=["order_shipped", "invoice_due"]))
        self.assertEqual(
            sorted(customer.notice_types.values_list("name", flat=True)),
            ["invoice_due", "order_shipped"],
        )
