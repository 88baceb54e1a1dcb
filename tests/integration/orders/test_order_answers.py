"""Every order answer carries `paymentStatus` and `fulfillmentStatus` beside `status` (issue 12, item 6):
the customer's order and list, staff's list, and the answers of checkout, cancel, shipment and refund,
through the real handlers over moto and fakes of our own ports; and the order events' snapshot."""

from collections.abc import Callable
from typing import Any

import pytest

from common.contracts import OrderRefunded
from orders import admin_api, api, logic
from orders.models import Order, OrderStatus
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher
from tests.proxy import Answer

from .conftest import ADDRESS, CUSTOMER, PAYMENT, OrderFactory

Call = Callable[..., Answer]
STAFF_GROUPS = ["admin"]


@pytest.fixture
def call(
    ports: Ports, store: OrdersStore, monkeypatch: pytest.MonkeyPatch, api_event: Any, lambda_context: Any
) -> Call:
    """Call the function the route belongs to as API Gateway would, the use cases wired to this test's
    store and fakes; `as_staff` signs in as an admin instead of the customer."""
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    monkeypatch.setattr(api.metrics, "namespace", "Storekeeper")  # read from the environment at import
    monkeypatch.setattr(api, "ports", lambda: ports)
    monkeypatch.setattr(admin_api, "ports", lambda: ports)

    def send(method: str, path: str, *, as_staff: bool = False, **kwargs: Any) -> Answer:
        who: dict[str, Any] = {"groups": STAFF_GROUPS} if as_staff else {"sub": CUSTOMER.sub}
        event = api_event(method, path, **who, **kwargs)
        staff_route = path.startswith("/admin/") or path.endswith(("/shipments", "/refunds"))
        return Answer.of((admin_api if staff_route else api).handler(event, lambda_context))

    return send


def statuses(body: dict[str, Any]) -> tuple[str, str, str]:
    return body["status"], body["paymentStatus"], body["fulfillmentStatus"]


def listed(answer: Answer, order: Order) -> dict[str, Any]:
    assert answer.status == 200, answer.body
    items: list[dict[str, Any]] = answer.body["items"]
    (item,) = [i for i in items if i["orderId"] == order.order_id]
    return item


def test_a_shipped_order_with_a_partial_refund_shows_both_facts_everywhere(
    call: Call, given_order: OrderFactory, publish: FakePublisher
) -> None:
    # Given a shipped order
    order = given_order(OrderStatus.SHIPPED)

    # When staff refund part of it
    refunded = call(
        "POST",
        f"/orders/{order.order_id}/refunds",
        as_staff=True,
        body={"amount": {"amount": 1000, "currency": "EUR"}, "reason": "one mug arrived chipped"},
        headers={"Idempotency-Key": "refund-partial-0001"},
    )

    # Then the refund's answer, the customer's order and list, and staff's list all say it shipped and
    # was partly refunded, though `status` says only the latter
    expected = ("PARTIALLY_REFUNDED", "PARTIALLY_REFUNDED", "SHIPPED")
    assert refunded.status == 200, refunded.body
    assert statuses(refunded.body) == expected
    assert statuses(call("GET", f"/orders/{order.order_id}").body) == expected
    assert statuses(call("GET", f"/orders/{order.order_id}", as_staff=True).body) == expected
    assert statuses(listed(call("GET", "/me/orders"), order)) == expected
    staff_list = call("GET", "/admin/orders", as_staff=True, query={"status": "PARTIALLY_REFUNDED"})
    assert statuses(listed(staff_list, order)) == expected
    # And the OrderRefunded event's snapshot carries them for consumers
    (event,) = publish.of_type(OrderRefunded.DETAIL_TYPE)
    snapshot = OrderRefunded.model_validate(event.envelope.data).order
    assert (snapshot.payment_status, snapshot.fulfillment_status) == ("PARTIALLY_REFUNDED", "SHIPPED")


def test_an_order_moves_through_the_statuses_as_it_checks_out_is_paid_and_ships(
    call: Call, ports: Ports, store: OrdersStore
) -> None:
    # Given a customer checking out
    placed = call(
        "POST",
        "/orders",
        body={"items": [{"sku": "TEE-RED-M", "quantity": 1}], "shippingAddress": ADDRESS},
        headers={"Idempotency-Key": "checkout-statuses-0001"},
    )
    assert placed.status == 202, placed.body
    order_id = placed.body["orderId"]
    assert statuses(placed.body) == ("PENDING", "PENDING", "UNFULFILLED")

    # When the workflow asks for the payment, it is paid, and staff ship it
    logic.transition(ports, order_id, OrderStatus.AWAITING_PAYMENT, payment=PAYMENT)
    assert statuses(call("GET", f"/orders/{order_id}").body) == ("AWAITING_PAYMENT", "PENDING", "UNFULFILLED")
    logic.transition(ports, order_id, OrderStatus.PAID)
    assert statuses(call("GET", f"/orders/{order_id}").body) == ("PAID", "PAID", "UNFULFILLED")
    shipped = call(
        "POST",
        f"/orders/{order_id}/shipments",
        as_staff=True,
        body={"carrier": "DHL", "trackingNumber": "JD000123"},
    )

    # Then the shipment's answer shows it shipped and paid
    assert shipped.status == 200, shipped.body
    assert statuses(shipped.body) == ("SHIPPED", "PAID", "SHIPPED")


def test_a_returned_order_refunded_in_full_is_returned_and_refunded(call: Call, given_order: OrderFactory) -> None:
    # Given a shipped order
    order = given_order(OrderStatus.SHIPPED)

    # When the goods come back and staff refund it all, restocking
    refunded = call(
        "POST",
        f"/orders/{order.order_id}/refunds",
        as_staff=True,
        body={"reason": "returned", "restock": True},
        headers={"Idempotency-Key": "refund-return-0001"},
    )

    # Then it reads as returned and refunded
    assert refunded.status == 200, refunded.body
    assert statuses(refunded.body) == ("REFUNDED", "REFUNDED", "RETURNED")


def test_a_cancelled_order_is_voided_or_failed_by_why_it_was_cancelled(
    call: Call, ports: Ports, given_order: OrderFactory
) -> None:
    # Given an order the customer cancels while it awaits payment, and one whose payment was declined
    by_customer = given_order(OrderStatus.AWAITING_PAYMENT)
    declined = given_order(OrderStatus.AWAITING_PAYMENT)
    asked = call("POST", f"/orders/{by_customer.order_id}/cancel", body={"reason": "changed my mind"})
    assert asked.status == 202, asked.body
    assert statuses(asked.body) == ("AWAITING_PAYMENT", "PENDING", "UNFULFILLED")

    # When the workflow cancels both
    logic.transition(ports, by_customer.order_id, OrderStatus.CANCELLED, reason="cancelled by the customer")
    logic.transition(ports, declined.order_id, OrderStatus.CANCELLED, reason="the payment failed")

    # Then the customer's cancel took no money, and the declined payment failed; neither will ship
    assert statuses(call("GET", f"/orders/{by_customer.order_id}").body) == ("CANCELLED", "VOIDED", "CANCELLED")
    assert statuses(call("GET", f"/orders/{declined.order_id}").body) == ("CANCELLED", "FAILED", "CANCELLED")


def test_a_rejected_order_is_voided(call: Call, ports: Ports, given_order: OrderFactory) -> None:
    # Given an order out of stock / When the workflow rejects it
    order = given_order(OrderStatus.PENDING)
    logic.transition(ports, order.order_id, OrderStatus.REJECTED, reason="out of stock")

    # Then it reads as voided and never to ship, in staff's list too
    assert statuses(call("GET", f"/orders/{order.order_id}").body) == ("REJECTED", "VOIDED", "CANCELLED")
    staff_list = call("GET", "/admin/orders", as_staff=True, query={"status": "REJECTED"})
    assert statuses(listed(staff_list, order)) == ("REJECTED", "VOIDED", "CANCELLED")
