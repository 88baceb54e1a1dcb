"""`statuses_of`: the payment and fulfillment statuses read from an order's facts, over every status the
saga can leave an order in and every combination of the facts beside it (issue 12, item 6)."""

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from common.contracts import FulfillmentStatus, OrderedLine, PaymentStatus
from common.money import Money
from orders.models import MAY_SHIP, Order, OrderOut, OrderStatus, OrderSummary, StatusChange, statuses_of

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
TOTAL = 5000
SHIPMENT = {"carrier": "DHL", "trackingNumber": "JD0001", "shippedAt": "2026-12-02T09:30:00.000000Z"}
ADDRESS = {"name": "Ada", "line1": "1 Main St", "city": "Berlin", "postalCode": "10115", "country": "DE"}
CANCELLATION = {"by": "c-1", "role": "customer", "reason": "changed my mind", "at": "2026-12-02T09:30:00.000000Z"}

P, F = PaymentStatus, FulfillmentStatus


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def order(
    status: OrderStatus,
    *,
    path: tuple[OrderStatus, ...] = (),
    total: int = TOTAL,
    refunded: int = 0,
    shipped: bool = False,
    restocked: bool = False,
    cancellation: bool = False,
    payment_intent: bool = False,
) -> Order:
    """An order in `status` after the statuses in `path`, with the facts given."""
    line = OrderedLine(
        sku="TEE-M",
        product_id="p-1",
        name="Tee",
        category="shirts",
        quantity=1,
        unit_price=eur(total),
        line_total=eur(total),
    )
    statuses = (OrderStatus.PENDING, *path, status) if status is not OrderStatus.PENDING else (status,)
    return Order(
        order_id="o-1",
        customer_id="c-1",
        status=status,
        lines=(line,),
        subtotal=eur(total),
        discount=eur(0),
        total=eur(total),
        refunded_total=eur(refunded),
        shipping_address=ADDRESS,
        history=tuple(StatusChange(status=s, at=AT) for s in statuses),
        payment_intent_id="pi_1" if payment_intent else None,
        shipment=SHIPMENT if shipped else None,
        cancellation=CANCELLATION if cancellation else None,
        restocked=restocked,
        created_at=AT,
        updated_at=AT,
    )


AWAITING = (OrderStatus.AWAITING_PAYMENT,)
PAID = (*AWAITING, OrderStatus.PAID)
SHIPPED = (*PAID, OrderStatus.SHIPPED)

# Every state the saga and staff can leave an order in, as the order's facts show it.
LIFE: list[tuple[str, Order, PaymentStatus, FulfillmentStatus]] = [
    ("checked out", order(OrderStatus.PENDING), P.PENDING, F.UNFULFILLED),
    ("awaiting payment", order(OrderStatus.AWAITING_PAYMENT, payment_intent=True), P.PENDING, F.UNFULFILLED),
    (
        "cancel asked while awaiting payment",
        order(OrderStatus.AWAITING_PAYMENT, payment_intent=True, cancellation=True),
        P.PENDING,
        F.UNFULFILLED,
    ),
    ("paid", order(OrderStatus.PAID, path=AWAITING, payment_intent=True), P.PAID, F.UNFULFILLED),
    ("paid with nothing to charge", order(OrderStatus.PAID, total=0), P.PAID, F.UNFULFILLED),
    ("rejected: out of stock", order(OrderStatus.REJECTED), P.VOIDED, F.CANCELLED),
    (
        "cancelled by the customer before payment",
        order(OrderStatus.CANCELLED, cancellation=True),
        P.VOIDED,
        F.CANCELLED,
    ),
    (
        "cancelled by the customer while awaiting payment",
        order(OrderStatus.CANCELLED, path=AWAITING, payment_intent=True, cancellation=True),
        P.VOIDED,
        F.CANCELLED,
    ),
    ("stock could not be held", order(OrderStatus.CANCELLED), P.VOIDED, F.CANCELLED),
    (
        "payment declined or not received in time",
        order(OrderStatus.CANCELLED, path=AWAITING, payment_intent=True),
        P.FAILED,
        F.CANCELLED,
    ),
    (
        "payment started but never marked awaiting",
        order(OrderStatus.CANCELLED, payment_intent=True),
        P.FAILED,
        F.CANCELLED,
    ),
    (
        "sold out after the payment: refunded on the way",
        order(OrderStatus.CANCELLED, path=AWAITING, payment_intent=True, refunded=TOTAL),
        P.REFUNDED,
        F.CANCELLED,
    ),
    (
        "cancelled after payment: refunded and restocked",
        order(OrderStatus.CANCELLED, path=PAID, payment_intent=True, cancellation=True, refunded=TOTAL, restocked=True),
        P.REFUNDED,
        F.CANCELLED,
    ),
    (
        "cancelled after payment with nothing charged",
        order(OrderStatus.CANCELLED, path=(OrderStatus.PAID,), total=0, cancellation=True, restocked=True),
        P.VOIDED,
        F.CANCELLED,
    ),
    (
        "partly refunded before shipment",
        order(OrderStatus.PARTIALLY_REFUNDED, path=PAID, payment_intent=True, refunded=1000),
        P.PARTIALLY_REFUNDED,
        F.UNFULFILLED,
    ),
    (
        "refunded in full before shipment",
        order(OrderStatus.REFUNDED, path=PAID, payment_intent=True, refunded=TOTAL),
        P.REFUNDED,
        F.CANCELLED,
    ),
    ("shipped", order(OrderStatus.SHIPPED, path=PAID, payment_intent=True, shipped=True), P.PAID, F.SHIPPED),
    (
        "shipped, then partly refunded",
        order(OrderStatus.PARTIALLY_REFUNDED, path=SHIPPED, payment_intent=True, shipped=True, refunded=1000),
        P.PARTIALLY_REFUNDED,
        F.SHIPPED,
    ),
    (
        "partly refunded, then shipped",
        order(
            OrderStatus.SHIPPED,
            path=(*PAID, OrderStatus.PARTIALLY_REFUNDED),
            payment_intent=True,
            shipped=True,
            refunded=1000,
        ),
        P.PARTIALLY_REFUNDED,
        F.SHIPPED,
    ),
    (
        "shipped, then refunded in full without the goods",
        order(OrderStatus.REFUNDED, path=SHIPPED, payment_intent=True, shipped=True, refunded=TOTAL),
        P.REFUNDED,
        F.SHIPPED,
    ),
    (
        "shipped, returned and refunded",
        order(OrderStatus.REFUNDED, path=SHIPPED, payment_intent=True, shipped=True, refunded=TOTAL, restocked=True),
        P.REFUNDED,
        F.RETURNED,
    ),
    (
        "shipped, returned, refunded less a fee",
        order(
            OrderStatus.PARTIALLY_REFUNDED,
            path=SHIPPED,
            payment_intent=True,
            shipped=True,
            refunded=4500,
            restocked=True,
        ),
        P.PARTIALLY_REFUNDED,
        F.RETURNED,
    ),
]


@pytest.mark.parametrize(
    ("given", "expected_payment", "expected_fulfillment"), [c[1:] for c in LIFE], ids=[c[0] for c in LIFE]
)
def test_each_state_reads_as_its_payment_and_fulfillment(
    given: Order, expected_payment: PaymentStatus, expected_fulfillment: FulfillmentStatus
) -> None:
    # Given an order the saga or staff left in this state / When its statuses are read
    # Then both facts show
    assert statuses_of(given) == (expected_payment, expected_fulfillment)


def test_the_table_covers_every_order_status_and_every_value() -> None:
    # A new status or value must be decided here, not fall through unseen
    assert {o.status for _, o, _, _ in LIFE} == set(OrderStatus)
    assert {p for *_, p, _ in LIFE} == set(PaymentStatus)
    assert {f for *_, f in LIFE} == set(FulfillmentStatus)


FACTS: dict[str, tuple[Any, ...]] = {
    "status": tuple(OrderStatus),
    "refunded": (0, 1000, TOTAL),
    "shipped": (False, True),
    "restocked": (False, True),
    "cancellation": (False, True),
    "payment_intent": (False, True),
}


@pytest.mark.parametrize("facts", [dict(zip(FACTS, v, strict=True)) for v in itertools.product(*FACTS.values())])
def test_every_combination_of_facts_reads_consistently(facts: dict[str, Any]) -> None:
    # Given any combination of the facts, even ones the saga never makes
    given = order(**facts)
    # When its statuses are read
    payment, fulfillment = statuses_of(given)
    # Then money refunded always shows, and so do goods shipped or that may still ship
    refunded = facts["refunded"]
    assert (payment is P.REFUNDED) == (refunded == TOTAL)
    assert (payment is P.PARTIALLY_REFUNDED) == (0 < refunded < TOTAL)
    if facts["shipped"]:
        assert fulfillment is (F.RETURNED if facts["restocked"] else F.SHIPPED)
    else:
        assert fulfillment is (F.UNFULFILLED if facts["status"] in MAY_SHIP else F.CANCELLED)
    if refunded == 0 and facts["status"] in (OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT):
        assert payment is P.PENDING


def test_every_order_answer_and_event_carries_the_same_statuses() -> None:
    # Given a shipped order with a partial refund
    given = order(OrderStatus.PARTIALLY_REFUNDED, path=SHIPPED, payment_intent=True, shipped=True, refunded=1000)
    # When it is answered in full, in a list, and announced
    full = OrderOut.of(given).model_dump(mode="json", by_alias=True)
    summary = OrderSummary.of(given).model_dump(mode="json", by_alias=True)
    snapshot = given.snapshot().model_dump(mode="json", by_alias=True)
    # Then each carries both facts beside the status
    for answer in (full, summary, snapshot):
        assert (answer["status"], answer["paymentStatus"], answer["fulfillmentStatus"]) == (
            "PARTIALLY_REFUNDED",
            "PARTIALLY_REFUNDED",
            "SHIPPED",
        )
