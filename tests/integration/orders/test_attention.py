"""Orders that need staff (issue 10): a workflow step that failed after all its retries, or money that
reconciliation cannot explain, flags the order; staff list the flagged orders, re-drive them (a new
execution resumes the compensation) or settle them by hand. And totals a payment provider cannot charge."""

from dataclasses import replace

import pytest

from common.errors import Conflict, ValidationFailed
from orders import logic
from orders.coupons import CouponIn
from orders.errors import OrderNotFound
from orders.models import CaughtError, OrderStatus, ShipmentIn
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow

from .conftest import (
    ADMIN_STAFF,
    CUSTOMER,
    FakePricing,
    OrderFactory,
    checkout_request,
    eur,
    priced,
    wired,
)


def test_a_flagged_order_is_listed_for_staff_once_however_often_it_is_flagged(
    ports: Ports, store: OrdersStore, given_order: OrderFactory
) -> None:
    # Given two orders, one of which a failed compensation flags twice (a retried task)
    flagged = given_order(OrderStatus.AWAITING_PAYMENT)
    given_order(OrderStatus.AWAITING_PAYMENT)
    first = logic.flag(ports, flagged.order_id, "RefundPayment failed", "workflow")
    again = logic.flag(ports, flagged.order_id, "RefundPayment failed again", "workflow")
    # (the first raised the flag, the retry found it up: the alarm counts one order, not two deliveries)
    assert (first.raised, again.raised) == (True, False)

    # When staff list the orders that need them
    orders, cursor = logic.orders_needing_attention(ports, cursor=None, limit=10)

    # Then the flagged order is there once, with the newest reason
    assert [o.order_id for o in orders] == [flagged.order_id] and cursor is None
    assert orders[0].attention is not None and orders[0].attention["reason"] == "RefundPayment failed again"
    assert orders[0].attention["source"] == "workflow"


def test_flagging_an_unknown_order_is_not_found(ports: Ports, store: OrdersStore) -> None:
    with pytest.raises(OrderNotFound):
        logic.flag(ports, "o_01jdoesnotexist0000000000000", "why", "reconciliation")


def test_a_workflow_failure_reads_as_a_reason() -> None:
    cause = '{"errorType": "PaymentProviderUnavailable", "errorMessage": "Stripe failed with 500"}'
    error = CaughtError.model_validate({"Error": "PaymentProviderUnavailable", "Cause": cause})
    reason = logic.workflow_failure(error, "o_1")
    assert reason == "workflow o_1 stopped: PaymentProviderUnavailable: Stripe failed with 500"


@pytest.mark.parametrize(
    ("status", "cancelled", "resume"),
    [
        (OrderStatus.AWAITING_PAYMENT, False, "compensate"),
        (OrderStatus.PAID, True, "refund"),
        (OrderStatus.PAID, False, "shipment"),
    ],
)
def test_a_redrive_resumes_where_the_order_stands(
    ports: Ports,
    store: OrdersStore,
    given_order: OrderFactory,
    workflow: FakeWorkflow,
    status: OrderStatus,
    cancelled: bool,
    resume: str,
) -> None:
    # Given a flagged order (a paid one perhaps being cancelled)
    order = given_order(status)
    if cancelled:
        store.set_fields(
            order.order_id,
            {"cancellation": {"by": CUSTOMER.sub, "reason": "changed my mind"}},
            condition="attribute_exists(PK)",
        )
    logic.flag(ports, order.order_id, "a step failed", "workflow")

    # When an admin re-drives it, twice (a double click)
    after = logic.redrive(ports, ADMIN_STAFF, order.order_id)
    with pytest.raises(Conflict) as again:
        logic.redrive(ports, ADMIN_STAFF, order.order_id)

    # Then one new execution resumes at the right step, named after the re-drive, and the flag is gone
    assert again.value.code == "not_flagged"
    assert [name for name, _ in workflow.started] == [f"{order.order_id}-redrive-1"]
    execution_input = workflow.started[0][1]
    assert execution_input["resume"] == resume and execution_input["orderId"] == order.order_id
    assert execution_input["amount"] == order.total.model_dump() and execution_input["reason"]
    assert after.attention is None and after.redrives == 1
    assert "re-driven by staff" in str(after.history[-1].reason)
    assert logic.orders_needing_attention(ports, cursor=None, limit=10)[0] == []


def test_a_final_order_cannot_be_redriven_but_can_be_settled_by_hand(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a shipped order that reconciliation flagged
    order = given_order(OrderStatus.SHIPPED)
    logic.flag(ports, order.order_id, "refunds at Stripe differ", "reconciliation")

    # When an admin tries to re-drive it, then settles it by hand
    with pytest.raises(Conflict) as refused:
        logic.redrive(ports, ADMIN_STAFF, order.order_id)
    settled = logic.clear_attention(ports, ADMIN_STAFF, order.order_id, "refunded by bank transfer")

    # Then nothing was started, and the note is in the order's history
    assert refused.value.code == "nothing_to_redrive" and workflow.started == []
    assert settled.attention is None
    assert "settled by staff: refunded by bank transfer" in str(settled.history[-1].reason)
    with pytest.raises(Conflict):
        logic.clear_attention(ports, ADMIN_STAFF, order.order_id, "twice")


# ---------------------------------------------------------------- totals a payment provider can charge


def _coupon(store: OrdersStore, **fields: object) -> str:
    return logic.create_coupon(wired(store), CouponIn.model_validate({"code": "GIFT", **fields})).code


def test_a_fully_discounted_order_is_accepted_with_a_total_of_zero(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a coupon worth more than the order
    code = _coupon(store, type="fixed", value=10_000, currency="EUR")

    # When the customer checks out
    request = checkout_request(("TEE-RED-M", 1), couponCode=code)
    order = logic.checkout(ports, CUSTOMER, request, "free-key-1")

    # Then the order costs nothing, and its workflow is told so (it skips the payment)
    assert (order.discount, order.total) == (eur(2500), eur(0))
    assert workflow.started[0][1]["amount"] == {"amount": 0, "currency": "EUR"}


def test_a_total_below_the_minimum_charge_is_refused_at_checkout(
    ports: Ports, store: OrdersStore, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a coupon that leaves 10 cents to pay, below Stripe's 50 cents for EUR
    pricing = FakePricing(catalog={"PIN": priced("PIN", 1010)})
    code = _coupon(store, type="fixed", value=1000, currency="EUR")

    # When the customer checks out
    request = checkout_request(("PIN", 1), couponCode=code)
    with pytest.raises(ValidationFailed) as refused:
        logic.checkout(replace(ports, pricing=pricing), CUSTOMER, request, "tiny-key-1")

    # Then it is a 422 naming the reason, and no order exists nor workflow started
    assert refused.value.code == "amount_below_minimum"
    assert workflow.started == [] and logic.my_orders(ports, CUSTOMER, cursor=None, limit=10)[0] == []


def test_shipping_is_unaffected_by_flags(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # A paid order flagged (say by reconciliation) can still be shipped; the flag stays for staff
    order = given_order(OrderStatus.PAID)
    logic.flag(ports, order.order_id, "check the refunds", "reconciliation")
    shipped = logic.ship(ports, order.order_id, ShipmentIn(carrier="DHL", tracking_number="T9"))
    assert shipped.status is OrderStatus.SHIPPED and shipped.attention is not None
