"""One timestamp format for every time orders stores or publishes: `common.store.iso` (UTC, microseconds,
`Z`), as every other domain writes it. Orders used to write `+00:00` (its own `_iso`, and `.isoformat()`
for cancellations, shipments and flags), so two formats sat side by side in its table, its sort keys and
its events."""

import re
from collections.abc import Iterator
from typing import Any

from common.dynamo import from_item
from common.money import MoneyIn
from orders import logic
from orders.models import OrderStatus, RefundIn, ShipmentIn
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher

from .conftest import CUSTOMER, OrderFactory, raw_items

A_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?")
STORED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def times_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every time written anywhere in `value` (in sort keys too: `<time>#<orderId>`), with where it is."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from times_in(inner, f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            yield from times_in(inner, f"{path}[{index}]")
    elif isinstance(value, str):
        for found in A_TIME.finditer(value):
            yield path, found.group()


def test_every_time_orders_stores_or_publishes_is_utc_with_microseconds_and_z(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, publish: FakePublisher
) -> None:
    # Given orders that went through every step that writes a time: checkout and the workflow's
    # transitions, a flag for staff, a refund, a shipment, and a customer's cancellation
    shipped = given_order(OrderStatus.PAID, ship_token="ship-token-1")
    cancelled = given_order(OrderStatus.AWAITING_PAYMENT)
    logic.flag(ports, shipped.order_id, "a step failed", "workflow")
    refund = RefundIn(amount=MoneyIn(amount=100, currency="EUR"), reason="scratched")
    logic.refund(ports, shipped.order_id, refund, "refund-key-stamps-1")
    logic.ship(ports, shipped.order_id, ShipmentIn(carrier="DHL", tracking_number="JD0042"))
    logic.cancel(ports, CUSTOMER, cancelled.order_id, "changed my mind")

    # When the table and the published events are read
    stored = [(f"{item['PK']}{path}", at) for item in map(from_item, raw_items(store)) for path, at in times_in(item)]
    published = [
        (f"{event.detail_type}{path}", at) for event in publish.events for path, at in times_in(event.envelope.data)
    ]

    # Then every time is in the one format, and each kind of time was there to be checked
    wrong = [(where, at) for where, at in stored + published if not STORED.fullmatch(at)]
    assert not wrong, f"times not in common.store.iso's format: {wrong}"
    seen = {where.rsplit(".", 1)[-1].split("[")[0] for where, _ in stored + published}
    expected = {"created_at", "updated_at", "at", "since", "shippedAt", "GSI1SK", "GSI2SK", "GSI3SK", "createdAt"}
    assert expected <= seen, f"not written: {sorted(expected - seen)}"
