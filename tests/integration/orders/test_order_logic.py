"""`orders.logic` on the real table (moto) with fakes of `orders.ports`: checkout priced on the server
and idempotent, who may read and cancel, shipments, refunds and the workflow's steps."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pydantic
import pytest

from common.events import DomainEvent
from orders import logic
from orders.errors import (
    IdempotencyKeyReused,
    InvalidTransition,
    NotCancellable,
    OrderNotFound,
    RefundNotPossible,
    UnknownSkus,
)
from orders.models import CheckoutIn, OrderStatus, RefundIn, ShipmentIn
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow

from .conftest import (
    ADDRESS,
    ADMIN_STAFF,
    CUSTOMER,
    OTHER_CUSTOMER,
    PAYMENT,
    SUPPORT_STAFF,
    FakeInventory,
    FakePayments,
    FakePricing,
    OrderFactory,
    checkout_request,
    eur,
    raw_items,
    wired,
)

KEY = "checkout-key-0001"


def order_items(store: OrdersStore) -> list[dict[str, Any]]:
    return [i for i in raw_items(store) if i["PK"]["S"].startswith("ORDER#")]


# ---------------------------------------------------------------- checkout


def test_checkout_prices_every_line_from_the_catalog(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a cart of 2 tees, a mug and one more tee (the client sends SKUs and quantities, no price)
    request = checkout_request(("TEE-RED-M", 2), ("MUG-BLUE", 1), ("TEE-RED-M", 1))

    # When the customer checks out
    order = logic.checkout(ports, CUSTOMER, request, KEY)

    # Then each line carries the catalog's price, and the total is the sum of the lines
    assert [(line.sku, line.quantity, line.unit_price, line.line_total) for line in order.lines] == [
        ("TEE-RED-M", 2, eur(2500), eur(5000)),
        ("MUG-BLUE", 1, eur(1200), eur(1200)),
        ("TEE-RED-M", 1, eur(2500), eur(2500)),
    ]
    assert (order.subtotal, order.discount, order.total) == (eur(8700), eur(0), eur(8700))
    assert order.status is OrderStatus.PENDING and order.customer_id == CUSTOMER.sub
    # And the catalog was asked once per distinct SKU
    assert pricing.asked == [["TEE-RED-M", "MUG-BLUE"]]
    # And the order is stored as answered, its workflow started with the amount, and OrderPlaced published
    assert store.get_order(order.order_id) == order
    assert [(order_id, data["amount"]) for order_id, data in workflow.started] == [
        (order.order_id, {"amount": 8700, "currency": "EUR"})
    ]
    assert publish.types == ["OrderPlaced"]
    assert publish.events[0].envelope.event_id == f"OrderPlaced#{order.order_id}"


def test_a_client_cannot_send_a_price() -> None:
    # Given a cart whose line carries a price of its own
    line = {"sku": "TEE-RED-M", "quantity": 1, "unitPrice": {"amount": 1, "currency": "EUR"}}

    # When it is read as a checkout request, then it is refused before any pricing
    with pytest.raises(pydantic.ValidationError, match="unitPrice"):
        CheckoutIn.model_validate({"items": [line], "shippingAddress": ADDRESS})


def test_unknown_and_retired_skus_are_refused_and_nothing_is_written(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a cart with a known SKU, one the catalog never had and one no longer sold
    request = checkout_request(("TEE-RED-M", 1), ("NOPE-1", 1), ("OLD-HAT", 2))

    # When the customer checks out
    with pytest.raises(UnknownSkus) as refused:
        logic.checkout(ports, CUSTOMER, request, KEY)

    # Then it is a 422 naming each bad line by its place in the body
    assert refused.value.code == "unknown_skus"
    assert [d["field"] for d in refused.value.details] == ["body.items.1.sku", "body.items.2.sku"]
    assert "NOPE-1 is unknown" in refused.value.details[0]["message"]
    assert "OLD-HAT is no longer sold" in refused.value.details[1]["message"]
    # And nothing was written, started or published
    assert raw_items(store) == []
    assert workflow.started == [] and publish.events == []


def test_the_same_key_answers_the_same_order(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a checkout that went through
    request = checkout_request(("TEE-RED-M", 1))
    first = logic.checkout(ports, CUSTOMER, request, KEY)

    # When the client retries it while the order is still PENDING
    again = logic.checkout(ports, CUSTOMER, request, KEY)

    # Then it is the same order, and its workflow is started again (harmless: executions are named by order)
    assert again == first
    assert [order_id for order_id, _ in workflow.started] == [first.order_id, first.order_id]
    assert len(order_items(store)) == 1

    # When the workflow moved on and the client retries once more
    logic.transition(ports, first.order_id, OrderStatus.AWAITING_PAYMENT, payment=PAYMENT)
    later = logic.checkout(ports, CUSTOMER, request, KEY)

    # Then the order is answered as it is now, and nothing is started again
    assert later.order_id == first.order_id and later.status is OrderStatus.AWAITING_PAYMENT
    assert len(workflow.started) == 2
    assert len(order_items(store)) == 1


def test_the_same_key_with_another_body_is_refused(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a checkout under a key
    logic.checkout(ports, CUSTOMER, checkout_request(("TEE-RED-M", 1)), KEY)

    # When the same key comes with a different cart
    with pytest.raises(IdempotencyKeyReused):
        logic.checkout(ports, CUSTOMER, checkout_request(("TEE-RED-M", 2)), KEY)

    # Then no second order exists
    assert len(order_items(store)) == 1


def test_keys_belong_to_one_customer(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a customer's checkout under a key
    request = checkout_request(("TEE-RED-M", 1))
    mine = logic.checkout(ports, CUSTOMER, request, KEY)

    # When another customer happens to use the same key
    theirs = logic.checkout(ports, OTHER_CUSTOMER, request, KEY)

    # Then they get their own order
    assert theirs.order_id != mine.order_id and theirs.customer_id == OTHER_CUSTOMER.sub


# ---------------------------------------------------------------- ten retries racing one key (moto server: thread-safe)


def test_ten_racing_retries_of_one_checkout_make_one_order(
    server_store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given one cart and one Idempotency-Key, sent by ten retries at once
    request = checkout_request(("TEE-RED-M", 1), ("MUG-BLUE", 3))
    go = threading.Barrier(10)

    def attempt(_: int) -> str:
        go.wait()
        return logic.checkout(
            wired(server_store, pricing=pricing, workflow=workflow, publish=publish), CUSTOMER, request, KEY
        ).order_id

    # When they all check out
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = Counter(pool.map(attempt, range(10)))

    # Then every retry got the same order, and exactly one order (and one key record) exists
    assert len(answers) == 1 and sum(answers.values()) == 10
    (order_id,) = answers
    items = raw_items(server_store)
    assert [i["PK"]["S"] for i in items if i["PK"]["S"].startswith("ORDER#")] == [f"ORDER#{order_id}"]
    assert len([i for i in items if i["PK"]["S"].startswith("IDEMPOTENCY#")]) == 1
    # And only that order's workflow was ever started
    assert {started for started, _ in workflow.started} == {order_id}


# ---------------------------------------------------------------- who may read


def test_an_order_is_readable_by_its_customer_and_staff_only(
    ports: Ports, store: OrdersStore, given_order: OrderFactory
) -> None:
    # Given a customer's order
    order = given_order()

    # When its customer, support, an admin and another customer read it
    # Then the first three see it, and the other customer gets the same 404 as for no order at all
    for reader in (CUSTOMER, SUPPORT_STAFF, ADMIN_STAFF):
        assert logic.readable(ports, reader, order.order_id) == order
    with pytest.raises(OrderNotFound):
        logic.readable(ports, OTHER_CUSTOMER, order.order_id)
    for missing in ("o_00000000000000000000000000", "../ORDER#x", "x"):
        with pytest.raises(OrderNotFound):
            logic.readable(ports, ADMIN_STAFF, missing)


# ---------------------------------------------------------------- cancellation


def test_another_customer_cannot_cancel(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, payments: FakePayments, workflow: FakeWorkflow
) -> None:
    # Given a customer's order awaiting payment
    order = given_order(OrderStatus.AWAITING_PAYMENT)

    # When another customer tries to cancel it
    with pytest.raises(OrderNotFound):
        logic.cancel(ports, OTHER_CUSTOMER, order.order_id, None)

    # Then nothing was recorded or asked
    assert store.get_order(order.order_id) == order
    assert payments.cancels == []


def test_cancelling_an_unpaid_order_cancels_its_payment_without_refund(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, payments: FakePayments, workflow: FakeWorkflow
) -> None:
    # Given an order awaiting payment
    order = given_order(OrderStatus.AWAITING_PAYMENT)

    # When its customer cancels it
    cancelled = logic.cancel(ports, CUSTOMER, order.order_id, "found it cheaper")

    # Then payments is asked to cancel, not to refund, and the request is recorded for the workflow
    assert [(c.order_id, c.reason, c.refund_if_paid) for c in payments.cancels] == [
        (order.order_id, "found it cheaper", False)
    ]
    assert cancelled.cancellation is not None
    assert {k: cancelled.cancellation[k] for k in ("by", "role", "reason")} == {
        "by": CUSTOMER.sub,
        "role": "customer",
        "reason": "found it cheaper",
    }
    assert cancelled.status is OrderStatus.AWAITING_PAYMENT  # the workflow marks it CANCELLED
    assert workflow.failed == []


def test_cancelling_a_paid_order_fails_the_shipment_step(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, payments: FakePayments, workflow: FakeWorkflow
) -> None:
    # Given a paid order whose workflow waits for the shipment
    order = given_order(OrderStatus.PAID, ship_token="ship-token-1")

    # When staff cancel it
    logic.cancel(ports, SUPPORT_STAFF, order.order_id, None)

    # Then the waiting step fails with the error that leads to the refund, and payments is not asked to cancel
    assert workflow.failed == [("ship-token-1", "OrderCancelled", "cancelled by the staff")]
    assert payments.cancels == []


def test_a_shipped_order_cannot_be_cancelled(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, payments: FakePayments, workflow: FakeWorkflow
) -> None:
    # Given a shipped order
    order = given_order(OrderStatus.SHIPPED)

    # When its customer tries to cancel it
    with pytest.raises(NotCancellable):
        logic.cancel(ports, CUSTOMER, order.order_id, None)

    # Then nothing changed
    current = store.get_order(order.order_id)
    assert current is not None and current.cancellation is None
    assert payments.cancels == [] and workflow.failed == []


# ---------------------------------------------------------------- shipment


def test_a_paid_order_ships_once(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a paid order whose workflow waits for the shipment
    order = given_order(OrderStatus.PAID, ship_token="ship-token-1")
    shipment = ShipmentIn(carrier="DHL", tracking_number="JD0001")

    # When staff record the shipment, and the request is retried
    shipped = logic.ship(ports, order.order_id, shipment)
    again = logic.ship(ports, order.order_id, shipment)

    # Then the order is SHIPPED once, with one history entry; the retry announces and resumes again under
    # the same event id and token (harmless twice, and the first attempt may have died before them)
    assert shipped.status is OrderStatus.SHIPPED
    assert shipped.shipment is not None and shipped.shipment["trackingNumber"] == "JD0001"
    assert again == shipped
    assert [h.status for h in again.history].count(OrderStatus.SHIPPED) == 1
    assert {event.envelope.event_id for event in publish.events} == {f"OrderShipped#{order.order_id}"}
    assert {token for token, _ in workflow.succeeded} == {"ship-token-1"}

    # And another tracking number for the shipped order is refused
    with pytest.raises(InvalidTransition):
        logic.ship(ports, order.order_id, ShipmentIn(carrier="UPS", tracking_number="1Z9"))


def test_an_order_being_cancelled_cannot_ship(
    ports: Ports,
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a paid order whose cancellation was asked (the workflow has not undone it yet)
    order = given_order(OrderStatus.PAID)
    logic.cancel(ports, CUSTOMER, order.order_id, "no longer needed")

    # When staff try to ship it
    with pytest.raises(InvalidTransition, match="being cancelled"):
        logic.ship(ports, order.order_id, ShipmentIn(carrier="DHL", tracking_number="JD0002"))

    # Then it stays PAID, and nothing was announced
    current = store.get_order(order.order_id)
    assert current is not None and current.status is OrderStatus.PAID and current.shipment is None
    assert publish.events == []


def test_a_shipment_retried_after_a_failed_publish_is_announced(
    store: OrdersStore, given_order: OrderFactory, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a paid order waiting for its shipment, and a bus that refuses the first event
    order = given_order(OrderStatus.PAID, ship_token="ship-token-1")
    shipment = ShipmentIn(carrier="DHL", tracking_number="JD0003")
    refusals = iter([RuntimeError("PublishFailed: 1 of 1 events were refused")])

    def flaky(events: list[DomainEvent]) -> None:
        refusal = next(refusals, None)
        if refusal is not None:
            raise refusal
        publish(events)

    with pytest.raises(RuntimeError):
        logic.ship(wired(store, workflow=workflow, publish=flaky), order.order_id, shipment)

    # When staff retry (the API answered 500)
    logic.ship(wired(store, workflow=workflow, publish=flaky), order.order_id, shipment)

    # Then the shipment is announced and the workflow resumed
    assert publish.types == ["OrderShipped"]
    assert [token for token, _ in workflow.succeeded] == ["ship-token-1"]


# ---------------------------------------------------------------- refunds


def refund(
    store: OrdersStore,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
    order_id: str,
    key: str | None,
    amount: int | None = None,
    *,
    restock: bool = False,
) -> Any:
    request = RefundIn(amount=None if amount is None else eur(amount), restock=restock, reason="returned")
    return logic.refund(
        wired(store, payments=payments, inventory=inventory, workflow=workflow, publish=publish), order_id, request, key
    )


def test_a_partial_then_full_refund(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a paid order of 62.00 whose workflow waits for the shipment
    order = given_order(OrderStatus.PAID, ship_token="ship-token-1")
    assert order.total == eur(6200)

    # When 20.00 are refunded, then the rest
    partial = refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001", 2000)
    full = refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0002")

    # Then the order is PARTIALLY_REFUNDED, then REFUNDED, with the totals payments reported
    assert (partial.status, partial.refunded_total) == (OrderStatus.PARTIALLY_REFUNDED, eur(2000))
    assert (full.status, full.refunded_total) == (OrderStatus.REFUNDED, eur(6200))
    assert [r.amount for r in full.refunds] == [eur(2000), eur(4200)]
    assert [r.amount for r in payments.refunds] == [eur(2000), eur(4200)]
    # And each refund is announced once, with a stable id per refund
    assert [e.envelope.event_id for e in publish.events] == [
        f"OrderRefunded#{order.order_id}#{r.refund_id}" for r in full.refunds
    ]


def test_a_full_refund_before_shipment_tells_the_waiting_workflow(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a paid order whose workflow waits for the shipment
    order = given_order(OrderStatus.PAID, ship_token="ship-token-1")

    # When all of it is refunded at once
    refunded = refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001")

    # Then it is REFUNDED and the waiting step is failed with the error the workflow catches
    assert refunded.status is OrderStatus.REFUNDED
    assert workflow.failed == [("ship-token-1", "OrderRefunded", "refunded before shipment")]


def test_the_last_of_several_refunds_before_shipment_tells_the_waiting_workflow(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a paid, unshipped order whose workflow waits, with part of it refunded
    order = given_order(OrderStatus.PAID, ship_token="ship-token-1")
    refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001", 2000)

    # When the rest is refunded
    refunded = refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0002")

    # Then the waiting step is told, as for a full refund at once
    assert refunded.status is OrderStatus.REFUNDED
    assert workflow.failed == [("ship-token-1", "OrderRefunded", "refunded before shipment")]


def test_a_partly_refunded_order_can_still_ship(
    ports: Ports,
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a paid order waiting for its shipment, one item of which was refunded (say, damaged in the warehouse)
    order = given_order(OrderStatus.PAID, ship_token="ship-token-1")
    refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001", 1200)

    # When staff ship the rest
    shipped = logic.ship(ports, order.order_id, ShipmentIn(carrier="DHL", tracking_number="JD0009"))

    # Then the shipment is recorded and the workflow resumed
    assert shipped.shipment is not None
    assert [token for token, _ in workflow.succeeded] == ["ship-token-1"]


def test_restock_is_asked_once_however_often_it_is_requested(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a shipped order
    order = given_order(OrderStatus.SHIPPED)

    # When two refunds each ask to put the goods back on sale
    refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001", 1000, restock=True)
    after = refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0002", restock=True)

    # Then inventory was asked once, for the order's lines
    assert [(r.order_id, [(line.sku, line.quantity) for line in r.lines]) for r in inventory.restocks] == [
        (order.order_id, [("TEE-RED-M", 2), ("MUG-BLUE", 1)])
    ]
    assert after.restocked and after.status is OrderStatus.REFUNDED


def test_a_refund_retried_with_its_key_refunds_once(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a refund made under an Idempotency-Key
    order = given_order(OrderStatus.SHIPPED)
    first = refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001", 1500)

    # When the request is retried with the same key
    again = refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001", 1500)

    # Then payments was asked once and the order answered as it is
    assert len(payments.refunds) == 1
    assert again == first and again.refunded_total == eur(1500)
    assert publish.types == ["OrderRefunded"]


def test_more_than_is_left_cannot_be_refunded(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a shipped order of 62.00 with 50.00 refunded
    order = given_order(OrderStatus.SHIPPED)
    refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001", 5000)

    # When 12.01 are asked
    with pytest.raises(RefundNotPossible):
        refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0002", 1201)

    # Then payments was not asked again, and the order is as it was
    assert len(payments.refunds) == 1
    current = store.get_order(order.order_id)
    assert current is not None and current.refunded_total == eur(5000)


def test_an_unpaid_order_cannot_be_refunded(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given an order awaiting payment
    order = given_order(OrderStatus.AWAITING_PAYMENT)

    # When staff try to refund it, then there is no payment to refund
    with pytest.raises(RefundNotPossible):
        refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001")
    assert payments.refunds == []


def test_a_refund_refused_by_stripe_is_not_possible(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a shipped order, and payments whose provider refuses the refund
    order = given_order(OrderStatus.SHIPPED)
    payments.refuse = True

    # When staff refund it
    with pytest.raises(RefundNotPossible, match="refused"):
        refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001", 100, restock=True)

    # Then nothing was recorded, restocked or announced
    current = store.get_order(order.order_id)
    assert current is not None and current.refunds == () and current.status is OrderStatus.SHIPPED
    assert inventory.restocks == [] and publish.events == []


# ---------------------------------------------------------------- the workflow's steps


def test_a_retried_transition_announces_once(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, publish: FakePublisher
) -> None:
    # Given an order awaiting payment
    order = given_order(OrderStatus.AWAITING_PAYMENT)

    # When MarkPaid runs, and is retried
    paid, changed = logic.transition(ports, order.order_id, OrderStatus.PAID)
    again, changed_again = logic.transition(ports, order.order_id, OrderStatus.PAID)

    # Then the order is PAID once, its client secret dropped, and OrderPaid announced under one id (the
    # retry announces again, in case the first attempt died before publishing; consumers drop the repeat)
    assert (changed, changed_again) == (True, False)
    assert paid.status is OrderStatus.PAID and paid.client_secret is None
    assert again == paid
    assert {event.envelope.event_id for event in publish.events} == {f"OrderPaid#{order.order_id}"}
    assert [h.status for h in paid.history] == [OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID]


def test_an_impossible_transition_is_refused(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, publish: FakePublisher
) -> None:
    # Given an order awaiting payment
    order = given_order(OrderStatus.AWAITING_PAYMENT)

    # When a step tries to mark it SHIPPED, then it is refused and nothing is announced
    with pytest.raises(InvalidTransition):
        logic.transition(ports, order.order_id, OrderStatus.SHIPPED)
    assert publish.events == []


def test_a_transition_retried_after_a_failed_publish_announces_it(
    store: OrdersStore, given_order: OrderFactory, publish: FakePublisher
) -> None:
    # Given an order awaiting payment, and a bus that refuses the first event
    order = given_order(OrderStatus.AWAITING_PAYMENT)
    refusals = iter([RuntimeError("PublishFailed: 1 of 1 events were refused")])

    def flaky(events: list[DomainEvent]) -> None:
        refusal = next(refusals, None)
        if refusal is not None:
            raise refusal
        publish(events)

    with pytest.raises(RuntimeError):
        logic.transition(wired(store, publish=flaky), order.order_id, OrderStatus.PAID)

    # When the workflow retries MarkPaid
    logic.transition(wired(store, publish=flaky), order.order_id, OrderStatus.PAID)

    # Then OrderPaid is published
    assert publish.types == ["OrderPaid"]


def test_await_shipment_after_the_shipment_resumes_at_once(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, workflow: FakeWorkflow
) -> None:
    # Given an order shipped before the workflow reached AwaitShipment
    order = given_order(OrderStatus.SHIPPED)

    # When AwaitShipment stores its token
    logic.await_shipment(ports, order.order_id, "ship-token-1")

    # Then the step is resumed right away
    assert workflow.succeeded == [("ship-token-1", {"shipped": True})]
    assert workflow.failed == []


def test_await_shipment_after_a_cancellation_fails_at_once(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, payments: FakePayments, workflow: FakeWorkflow
) -> None:
    # Given a paid order its customer cancelled before the workflow reached AwaitShipment
    order = given_order(OrderStatus.PAID)
    logic.cancel(ports, CUSTOMER, order.order_id, "ordered twice")
    assert workflow.failed == []  # there was no token to fail yet

    # When AwaitShipment stores its token
    logic.await_shipment(ports, order.order_id, "ship-token-1")

    # Then the step fails with the error that leads to the refund
    assert workflow.failed == [("ship-token-1", "OrderCancelled", "ordered twice")]
    assert workflow.succeeded == []


def test_await_shipment_of_a_paid_order_waits(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, workflow: FakeWorkflow
) -> None:
    # Given a paid order, neither shipped nor cancelled
    order = given_order(OrderStatus.PAID)

    # When AwaitShipment stores its token
    logic.await_shipment(ports, order.order_id, "ship-token-1")

    # Then it waits: the token is kept, nothing is answered
    current = store.get_order(order.order_id)
    assert current is not None and current.ship_token == "ship-token-1"
    assert (workflow.succeeded, workflow.failed) == ([], [])


def test_await_shipment_of_an_unknown_order_is_not_found(
    ports: Ports, store: OrdersStore, workflow: FakeWorkflow
) -> None:
    with pytest.raises(OrderNotFound):
        logic.await_shipment(ports, "o_00000000000000000000000000", "ship-token-1")
    assert raw_items(store) == []
