"""Orders under hostile input (issue 10, finding 8): totals beyond the money maximum, numbers sent as
strings or booleans, an Idempotency-Key reused for another refund, and refunds racing each other."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pydantic
import pytest

from common.contracts import RefundInput, RefundResult
from common.errors import ValidationFailed
from common.money import MAX_AMOUNT
from orders import logic
from orders.coupons import CouponIn
from orders.errors import IdempotencyKeyReused, RefundNotPossible
from orders.models import CheckoutIn, OrderStatus, PaymentRef, RefundIn
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow

from .conftest import (
    ADDRESS,
    CUSTOMER,
    FakeInventory,
    FakePayments,
    FakePricing,
    OrderFactory,
    checkout_request,
    eur,
    priced,
    wired,
)

KEY = "checkout-key-hostile-1"

# ---------------------------------------------------------------- totals beyond the money maximum


def test_a_line_total_beyond_the_money_maximum_is_a_422_naming_the_line(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a product priced at the largest amount the shop handles
    pricing.catalog["GOLD-BAR"] = priced("GOLD-BAR", MAX_AMOUNT)

    # When two of it are ordered (after a tee)
    with pytest.raises(ValidationFailed) as refused:
        logic.checkout(
            ports, CUSTOMER,
            checkout_request(("TEE-RED-M", 1), ("GOLD-BAR", 2)), KEY,
        )  # fmt: skip

    # Then it is a validation error naming the line's quantity, and nothing was written or started
    assert refused.value.code == "amount_too_large"
    assert [d["field"] for d in refused.value.details] == ["body.items.1.quantity"]
    assert raw_orders(store) == [] and workflow.started == []


def test_lines_that_each_fit_but_add_up_beyond_the_maximum_are_a_422(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a product at the largest amount: one line of it fits
    pricing.catalog["GOLD-BAR"] = priced("GOLD-BAR", MAX_AMOUNT)

    # When it is ordered on two lines of one unit each
    with pytest.raises(ValidationFailed) as refused:
        logic.checkout(
            ports, CUSTOMER,
            checkout_request(("GOLD-BAR", 1), ("GOLD-BAR", 1)), KEY,
        )  # fmt: skip

    # Then the order's subtotal is what is refused
    assert refused.value.code == "amount_too_large"
    assert [d["field"] for d in refused.value.details] == ["body.items"]
    assert raw_orders(store) == []


def raw_orders(store: OrdersStore) -> list[Any]:
    scanned = store.client.scan(TableName=store.table, ConsistentRead=True)["Items"]
    return [i for i in scanned if i["PK"]["S"].startswith("ORDER#")]


# ---------------------------------------------------------------- numbers are numbers


def _item(quantity: Any) -> dict[str, Any]:
    return {"items": [{"sku": "TEE-RED-M", "quantity": quantity}], "shippingAddress": ADDRESS}


@pytest.mark.parametrize("quantity", ["1", True, 1.0, "01"])
def test_a_quantity_that_is_not_a_json_integer_is_refused(quantity: Any) -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        CheckoutIn.model_validate(_item(quantity))
    assert [e["loc"] for e in refused.value.errors()] == [("items", 0, "quantity")]


def test_a_json_integer_quantity_is_taken() -> None:
    assert CheckoutIn.model_validate(_item(3)).items[0].quantity == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": {"amount": "100", "currency": "EUR"}, "reason": "x"}, ("amount", "amount")),
        ({"amount": {"amount": True, "currency": "EUR"}, "reason": "x"}, ("amount", "amount")),
        ({"restock": "yes", "reason": "x"}, ("restock",)),
        ({"restock": 1, "reason": "x"}, ("restock",)),
    ],
)
def test_refund_amounts_and_flags_must_be_json_integers_and_booleans(body: dict[str, Any], field: tuple[str]) -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        RefundIn.model_validate(body)
    assert [e["loc"] for e in refused.value.errors()] == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [("value", "10"), ("value", True), ("maxRedemptions", "5"), ("maxPerCustomer", False), ("firstOrderOnly", "1")],
)
def test_coupon_numbers_and_flags_must_be_json_integers_and_booleans(field: str, value: Any) -> None:
    with pytest.raises(pydantic.ValidationError):
        CouponIn.model_validate({"code": "SPRING", "type": "percent", "value": 10, field: value})


def test_a_coupon_read_back_still_validates_as_a_request() -> None:
    # Stored coupons come back with plain ints; `create_coupon` compares them as a CouponIn
    coupon = CouponIn.model_validate(
        {"code": "SPRING", "type": "fixed", "value": 500, "currency": "EUR", "minSubtotal": eur(1000).model_dump()}
    )
    assert CouponIn(**coupon.model_dump()) == coupon


# ---------------------------------------------------------------- refunds: one key, one request


def _refund(
    store: OrdersStore,
    payments: Any,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
    order_id: str,
    key: str | None,
    amount: int | None = None,
    *,
    restock: bool = False,
    reason: str = "returned",
) -> Any:
    request = RefundIn(amount=None if amount is None else eur(amount), restock=restock, reason=reason)
    return logic.refund(
        wired(store, payments=payments, inventory=inventory, workflow=workflow, publish=publish), order_id, request, key
    )


@pytest.mark.parametrize(
    "changed",
    [{"amount": 1600}, {"amount": None}, {"restock": True}, {"reason": "damaged"}],
    ids=["another amount", "the rest instead", "restock", "another reason"],
)
def test_a_refund_key_reused_with_another_body_is_a_409(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
    changed: dict[str, Any],
) -> None:
    # Given a refund of 15.00 made under a key
    order = given_order(OrderStatus.SHIPPED)
    _refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001", 1500)

    # When the key is sent again with another body
    again: dict[str, Any] = {"amount": 1500, "restock": False, "reason": "returned"} | changed
    with pytest.raises(IdempotencyKeyReused):
        _refund(
            store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001",
            again["amount"], restock=again["restock"], reason=again["reason"],
        )  # fmt: skip

    # Then nothing more was refunded, restocked or announced
    assert len(payments.refunds) == 1 and inventory.restocks == []
    current = store.get_order(order.order_id)
    assert current is not None and current.refunded_total == eur(1500)
    assert publish.types == ["OrderRefunded"]


def test_a_refund_key_sent_again_with_the_same_body_answers_the_same_refund(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a full refund ("the rest", no amount) made under a key
    order = given_order(OrderStatus.SHIPPED)
    first = _refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001")

    # When the very same request comes again
    again = _refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001")

    # Then it answers the same refund
    assert again == first and again.status is OrderStatus.REFUNDED
    assert len(payments.refunds) == 1


# ---------------------------------------------------------------- refunds racing each other


def test_a_full_refund_started_while_another_is_with_payments_is_refused(
    store: OrdersStore,
    given_order: OrderFactory,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a paid order, and payments that, while making the first refund, sees a second full refund
    # (another key) arrive
    order = given_order(OrderStatus.SHIPPED)
    inner: list[BaseException | Any] = []

    class Racing(FakePayments):
        def refund(self, task: RefundInput) -> RefundResult:
            if not inner:
                try:
                    inner.append(_refund(store, self, inventory, workflow, publish, order.order_id, "refund-key-0002"))
                except RefundNotPossible as refused:
                    inner.append(refused)
            return super().refund(task)

    payments = Racing()

    # When the first full refund runs
    first = _refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001")

    # Then the second was refused before payments saw it, and the order is refunded exactly once
    assert isinstance(inner[0], RefundNotPossible)
    assert [r.refund_id for r in payments.refunds] == [first.refunds[0].refund_id]
    assert (first.status, first.refunded_total) == (OrderStatus.REFUNDED, order.total)


def test_a_refund_refused_by_payments_gives_its_amount_back(
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given a full refund that Stripe refused
    order = given_order(OrderStatus.SHIPPED)
    payments.refuse = True
    with pytest.raises(RefundNotPossible):
        _refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0001")

    # When it is asked again under another key, once Stripe takes it
    payments.refuse = False
    refunded = _refund(store, payments, inventory, workflow, publish, order.order_id, "refund-key-0002")

    # Then the whole amount could still be refunded
    assert (refunded.status, refunded.refunded_total) == (OrderStatus.REFUNDED, order.total)


RACERS = 10


def test_parallel_full_refunds_with_different_keys_refund_once(
    server_store: OrdersStore, pricing: FakePricing, inventory: FakeInventory, publish: FakePublisher
) -> None:
    # Given a paid order of 62.00 (moto in server mode, as the local stack runs it)
    workflow = FakeWorkflow()
    request = checkout_request(("TEE-RED-M", 2), ("MUG-BLUE", 1))
    order = logic.checkout(
        wired(server_store, pricing=pricing, workflow=workflow, publish=publish), CUSTOMER, request, KEY
    )
    for step in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID):
        payment = (
            PaymentRef(payment_intent_id="pi_race", client_secret="s") if step is OrderStatus.AWAITING_PAYMENT else None
        )
        logic.transition(wired(server_store, publish=publish), order.order_id, step, payment=payment)
    payments = FakePayments()
    go = threading.Barrier(RACERS)

    def attempt(i: int) -> str:
        go.wait()
        try:
            _refund(server_store, payments, inventory, workflow, publish, order.order_id, f"refund-race-{i:04d}")
        except RefundNotPossible:
            return "refused"
        return "refunded"

    # When staff (or a double click with new keys) send ten full refunds at once
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = Counter(pool.map(attempt, range(RACERS)))

    # Then one refunded, the rest were refused, payments was asked once, and the order adds up
    assert outcomes == {"refunded": 1, "refused": RACERS - 1}
    assert len(payments.refunds) == 1
    current = server_store.get_order(order.order_id)
    assert current is not None
    assert (current.status, current.refunded_total, len(current.refunds)) == (OrderStatus.REFUNDED, eur(6200), 1)
