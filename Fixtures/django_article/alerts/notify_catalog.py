"""The in-code registry of notification types (the article's NotifyCatalog).

Each notification's logic lives in its own class; NotifyCatalog aggregates their metadata in
`_data` (name -> class) and keeps the database rows that are active in `_registry`
(name -> NoticeType), refreshed by the sync.
"""


class NotifyCatalog:
    _data = {}
    _registry = {}

    @classmethod
    def register(cls, notice_class):
        cls._data[notice_class.name] = notice_class
        return notice_class


class BaseNotice:
    name = ""
    description = ""

    def render(self, customer, **context):
        raise NotImplementedError


@NotifyCatalog.register
class OrderShipped(BaseNotice):
    name = "order_shipped"
    description = "Your order has left the warehouse."

    def render(self, customer, **context):
        return f"Hi {customer.name}, order {context.get('order_id')} has shipped."


@NotifyCatalog.register
class InvoiceDue(BaseNotice):
    name = "invoice_due"
    description = "An invoice is due in three days."

    def render(self, customer, **context):
        return f"Hi {customer.name}, invoice {context.get('invoice_id')} is due soon."


@NotifyCatalog.register
class PasswordChanged(BaseNotice):
    name = "password_changed"
    description = "The account password was changed."

    def render(self, customer, **context):
        return f"Hi {customer.name}, your password was changed."
