"""A customer's right to be forgotten, as orders keeps it: the books keep the order, not the person."""

from dataclasses import dataclass
from typing import Any

from orders.models import OPEN, Order, OrderStatus
from orders.ports import Ports

ERASED = "[erased]"
ANONYMISE_PAGE = 50


@dataclass(frozen=True)
class Anonymised:
    anonymised: list[str]
    open: list[str]


def still_to_ship(order: Order) -> bool:
    """The shop still needs the address: the order may yet be paid or shipped."""
    return order.status in OPEN or (order.status is OrderStatus.PARTIALLY_REFUNDED and order.shipment is None)


def redacted(order: Order) -> dict[str, Any]:
    """The order's personal data as the books keep it: the shipping address without name, street, city or
    postal code (the country stays: it decides the tax), and the customer's own cancellation words
    wherever the order repeats them (the cancellation, its status history, the order's reason)."""
    address = {"name": ERASED, "line1": ERASED, "city": ERASED, "postalCode": ERASED}
    if country := order.shipping_address.get("country"):
        address["country"] = country
    sets: dict[str, Any] = {"shipping_address": address}
    if order.cancellation is not None and order.cancellation.get("role") == "customer":
        words = order.cancellation.get("reason")
        sets["cancellation"] = {**order.cancellation, "reason": ERASED}
        sets["history"] = [
            change.model_dump(mode="json") | ({"reason": ERASED} if words and change.reason == words else {})
            for change in order.history
        ]
        if words and order.reason == words:
            sets["reason"] = ERASED
    return sets


def anonymise_customer(ports: Ports, customer_id: str) -> Anonymised:
    """Redact the personal data on every order of the customer that no longer needs it, for the books
    keep the order (lines, totals, refunds, payment) but not the person. Orders still to ship are left
    as they are and named in `open`. Idempotent: an order already anonymised is skipped, and a retry
    after a failure takes up the rest."""
    store = ports.store
    done: list[str] = []
    still_open: list[str] = []
    start_key = None
    while True:
        page = store.by_customer(customer_id, start_key=start_key, limit=ANONYMISE_PAGE)
        for order in page.items:
            if still_to_ship(order):
                still_open.append(order.order_id)
            elif not order.anonymised and store.redact(order.order_id, customer_id, redacted(order)):
                done.append(order.order_id)
        if not page.next_key:
            return Anonymised(anonymised=done, open=still_open)
        start_key = page.next_key
