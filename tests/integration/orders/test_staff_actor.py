"""Who did it: every staff action on an order (ship, refund, cancel, re-drive, a note that settles a flag)
names its staff member (`sub` and email) in the order's history, in `OrderOut.history[].actor`; the
workflow's and the customer's own changes name nobody."""

from typing import Any

import pytest

from common.auth import ADMIN, SUPPORT, Caller
from orders import admin_api, logic
from orders.models import Order, OrderOut, OrderStatus
from orders.ports import Ports
from orders.store import OrdersStore
from tests.proxy import Answer

from .conftest import CUSTOMER, OrderFactory

ADMIN_ANN = Caller(sub="staff-ann", email="ann@shop.example", groups=frozenset({ADMIN}))
SUPPORT_SAM = Caller(sub="staff-sam", email="sam@shop.example", groups=frozenset({SUPPORT}))


def history(order: Order) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = OrderOut.of(order).model_dump(mode="json", by_alias=True)["history"]
    return entries


def staff_entries(order: Order) -> list[tuple[str, dict[str, Any] | None]]:
    return [(h["status"], h["actor"]) for h in history(order) if h["actor"] is not None]


@pytest.fixture
def as_staff(
    ports: Ports, store: OrdersStore, monkeypatch: pytest.MonkeyPatch, api_event: Any, lambda_context: Any
) -> Any:
    """Call the staff function as `sub` with `email` in its token, as API Gateway would."""
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    monkeypatch.setattr(admin_api, "ports", lambda: ports)

    def send(who: Caller, path: str, body: dict[str, Any]) -> Answer:
        event = api_event("POST", path, body=body, groups=sorted(who.groups), sub=who.sub)
        event["requestContext"]["authorizer"]["claims"]["email"] = who.email
        return Answer.of(admin_api.handler(event, lambda_context))

    return send


def test_a_shipment_names_the_admin_who_recorded_it(as_staff: Any, given_order: OrderFactory) -> None:
    order = given_order(OrderStatus.PAID)
    answer = as_staff(ADMIN_ANN, f"/orders/{order.order_id}/shipments", {"carrier": "DHL", "trackingNumber": "T9"})
    assert answer.status == 200, answer.body
    shipped = answer.body["history"][-1]
    assert (shipped["status"], shipped["actor"]) == ("SHIPPED", {"id": "staff-ann", "email": "ann@shop.example"})
    # the workflow's own steps name nobody
    assert all(h["actor"] is None for h in answer.body["history"][:-1])


def test_a_refund_names_the_support_agent_who_made_it(
    as_staff: Any, given_order: OrderFactory, store: OrdersStore
) -> None:
    order = given_order(OrderStatus.PAID)
    body = {"amount": {"amount": 1000, "currency": "EUR"}, "reason": "dented mug"}
    answer = as_staff(SUPPORT_SAM, f"/orders/{order.order_id}/refunds", body)
    assert answer.status == 200, answer.body
    refunded = store.get_order(order.order_id)
    assert refunded is not None
    assert staff_entries(refunded) == [("PARTIALLY_REFUNDED", {"id": "staff-sam", "email": "sam@shop.example"})]


def test_a_staff_cancellation_names_the_staff_member_when_the_workflow_cancels(
    ports: Ports, given_order: OrderFactory, store: OrdersStore
) -> None:
    # Given support asks to cancel an order awaiting payment
    order = given_order(OrderStatus.AWAITING_PAYMENT)
    logic.cancel(ports, SUPPORT_SAM, order.order_id, "customer phoned")
    # When the workflow cancels it
    cancelled, _ = logic.transition(ports, order.order_id, OrderStatus.CANCELLED, reason="customer phoned")
    # Then the CANCELLED entry names her
    assert staff_entries(cancelled) == [("CANCELLED", {"id": "staff-sam", "email": "sam@shop.example"})]


def test_a_customers_own_cancellation_names_no_staff(ports: Ports, given_order: OrderFactory) -> None:
    order = given_order(OrderStatus.AWAITING_PAYMENT)
    logic.cancel(ports, CUSTOMER, order.order_id, "changed my mind")
    cancelled, _ = logic.transition(ports, order.order_id, OrderStatus.CANCELLED, reason="changed my mind")
    assert staff_entries(cancelled) == []


def test_a_redrive_and_a_settling_note_name_their_admin(
    ports: Ports, given_order: OrderFactory, store: OrdersStore
) -> None:
    # Given a paid order flagged for staff, re-driven by Ann, flagged again and settled by hand by Ann
    order = given_order(OrderStatus.PAID)
    logic.flag(ports, order.order_id, "a step failed", "workflow")
    logic.redrive(ports, ADMIN_ANN, order.order_id)
    logic.flag(ports, order.order_id, "refunds at Stripe differ", "reconciliation")
    settled = logic.clear_attention(ports, ADMIN_ANN, order.order_id, "refunded by bank transfer")
    # Then both notes name her
    ann = {"id": "staff-ann", "email": "ann@shop.example"}
    assert staff_entries(settled) == [("PAID", ann), ("PAID", ann)]
    assert "settled by staff: refunded by bank transfer" in (history(settled)[-1]["reason"] or "")
