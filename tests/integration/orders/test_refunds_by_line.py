"""Refunds by line on the real table (moto): the amount, tax and net of returned units computed from the
order's own lines, the shipping given back once, the order's history naming the units, the OrderRefunded
event split by rate, restocking exactly the returned units, replays, refusals, and refunds by line racing
under different keys that never return one unit twice."""

import hashlib
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from common.contracts import OrderLine, OrderRefunded, RefundedLine, TaxAtRate
from common.errors import ValidationFailed
from common.money import Money
from common.pricing import ShippingMethod, TaxRates
from orders import logic
from orders.errors import IdempotencyKeyReused, RefundNotPossible
from orders.logic.refund import _request_hash
from orders.models import CheckoutIn, Order, OrderOut, OrderStatus, PaymentRef, RefundIn, ShipmentIn
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow

from .conftest import ADDRESS, CUSTOMER, FakeInventory, FakePayments, FakePricing, eur, priced, wired

TO_DE = {**ADDRESS, "city": "Berlin", "postalCode": "10115", "country": "DE"}
STANDARD = ShippingMethod(
    shipping_method_id="standard",
    name="Standard",
    countries=["DE", "AT"],
    price=eur(490),
    free_over=eur(5000),
)


def configure(store: OrdersStore) -> None:
    store.put_shipping_method(STANDARD)
    store.put_tax_rates(TaxRates(country="DE", standard=Decimal("19"), categories={"books": Decimal("7")}))


@pytest.fixture
def pricing() -> FakePricing:
    book = priced("BOOK", 1070).model_copy(update={"category": "books"})
    return FakePricing(catalog={"TEE": priced("TEE", 1190), "BOOK": book})


def paid_order(ports: Ports, key: str = "checkout-by-line-1", *, ship: bool = False) -> Order:
    """3 x TEE at 11.90 (19 %) and a BOOK at 10.70 (7 %) to DE, Standard shipping 4.90: total 51.30,
    tax 7.18 (5.70 + 0.70 + 0.78 on shipping), merchandise net 40.00."""
    configure(ports.store)
    body = CheckoutIn.model_validate(
        {"items": [{"sku": "TEE", "quantity": 3}, {"sku": "BOOK", "quantity": 1}], "shippingAddress": TO_DE}
    )
    order = logic.checkout(ports, CUSTOMER, body, key)
    for step in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID):
        payment = (
            PaymentRef(payment_intent_id="pi_by_line", client_secret="s")
            if step is OrderStatus.AWAITING_PAYMENT
            else None
        )
        order, _ = logic.transition(ports, order.order_id, step, payment=payment)
    if ship:
        order = logic.ship(ports, order.order_id, ShipmentIn(carrier="DHL", tracking_number="T1"))
    assert (order.total, order.tax, order.merchandise_net()) == (eur(5130), eur(718), eur(4000))
    return order


def by_line(*lines: tuple[str, int], **extra: Any) -> RefundIn:
    return RefundIn.model_validate(
        {"lines": [{"sku": s, "quantity": q} for s, q in lines], "reason": "came back", **extra}
    )


def refunded_event(publish: FakePublisher) -> OrderRefunded:
    event = publish.of_type(OrderRefunded.DETAIL_TYPE)[-1]
    return OrderRefunded.model_validate(event.envelope.data)


def at19(base: int, amount: int) -> TaxAtRate:
    return TaxAtRate(rate="19", base=eur(base), amount=eur(amount))


# ---------------------------------------------------------------- amounts, history, events


def test_one_of_three_units_comes_back_with_its_gross_and_tax(
    ports: Ports, payments: FakePayments, publish: FakePublisher
) -> None:
    # Given a paid order with 3 x 11.90 incl. 19 %
    order = paid_order(ports)

    # When staff refund one tee
    refunded = logic.refund(ports, order.order_id, by_line(("TEE", 1)), "refund-line-0001")

    # Then payments refunded 11.90, of which 1.90 tax (10.00 net), and the order says so
    assert [r.amount for r in payments.refunds] == [eur(1190)]
    (made,) = refunded.refunds
    assert made.lines == (RefundedLine(sku="TEE", quantity=1, amount=eur(1190), tax=eur(190), net=eur(1000)),)
    assert (made.amount, made.tax, made.shipping, made.merchandise_net) == (eur(1190), eur(190), None, eur(1000))
    assert (refunded.status, refunded.refunded_total) == (OrderStatus.PARTIALLY_REFUNDED, eur(1190))
    assert refunded.refunded_merchandise_net == eur(1000)
    assert refunded.returned_units == {"TEE": 1}

    # And the history names the refund and the unit that came back
    change = refunded.history[-1]
    assert (change.refund_id, change.lines) == (made.refund_id, (OrderLine(sku="TEE", quantity=1),))
    answer = OrderOut.of(refunded).model_dump(mode="json", by_alias=True)
    assert answer["history"][-1]["lines"] == [{"sku": "TEE", "quantity": 1}]
    assert answer["history"][0]["lines"] is None
    assert answer["refunds"][0]["lines"][0]["amount"] == {"amount": 1190, "currency": "EUR"}
    assert answer["refunds"][0]["tax"] == {"amount": 190, "currency": "EUR"}

    # And the event carries the lines, the tax by rate and the merchandise net
    event = refunded_event(publish)
    assert (event.amount, event.lines, event.shipping) == (eur(1190), list(made.lines), None)
    assert event.tax_lines == [at19(1000, 190)]
    assert event.merchandise_net == eur(1000)
    assert event.order.refunded_merchandise_net == eur(1000)


def test_the_shipping_comes_back_once_with_its_tax_at_the_standard_rate(ports: Ports, publish: FakePublisher) -> None:
    order = paid_order(ports)

    # When staff give the shipping back
    refunded = logic.refund(ports, order.order_id, RefundIn(refund_shipping=True, reason="late"), "refund-ship-0001")

    # Then 4.90 came back, with 0.78 tax at 19 % on 4.12, and no merchandise net
    (made,) = refunded.refunds
    assert (made.amount, made.shipping, made.tax, made.merchandise_net) == (eur(490), eur(490), eur(78), eur(0))
    assert refunded_event(publish).tax_lines == [at19(412, 78)]

    # And a second time, under another key, is refused
    with pytest.raises(RefundNotPossible, match="shipping"):
        logic.refund(ports, order.order_id, by_line(("TEE", 1), refundShipping=True), "refund-ship-0002")


def test_every_unit_and_the_shipping_in_steps_refund_the_order_exactly(
    ports: Ports, payments: FakePayments, publish: FakePublisher
) -> None:
    order = paid_order(ports)

    # When every unit comes back in three refunds, the last with the shipping
    logic.refund(ports, order.order_id, by_line(("TEE", 1)), "refund-step-0001")
    logic.refund(ports, order.order_id, by_line(("TEE", 1), ("BOOK", 1)), "refund-step-0002")
    last = logic.refund(ports, order.order_id, by_line(("TEE", 1), refundShipping=True), "refund-step-0003")

    # Then exactly the total, the tax and the merchandise net came back
    assert sum(r.amount.amount for r in payments.refunds if r.amount) == 5130
    assert (last.status, last.refunded_total, last.refunded_merchandise_net) == (
        OrderStatus.REFUNDED,
        eur(5130),
        eur(4000),
    )
    assert sum((r.tax or eur(0)).amount for r in last.refunds) == 718
    taxes = Counter[str]()
    for event in publish.of_type(OrderRefunded.DETAIL_TYPE):
        for t in OrderRefunded.model_validate(event.envelope.data).tax_lines:
            taxes[t.rate] += t.amount.amount
    assert taxes == {"19": 570 + 78, "7": 70}

    # And nothing is left to return
    with pytest.raises(RefundNotPossible):
        logic.refund(ports, order.order_id, by_line(("BOOK", 1)), "refund-step-0004")


def test_an_amount_only_refund_carries_its_tax_and_net_in_proportion(ports: Ports, publish: FakePublisher) -> None:
    order = paid_order(ports)

    # When 10.00 is refunded as an amount
    refunded = logic.refund(ports, order.order_id, RefundIn(amount=eur(1000).model_dump(), reason="goodwill"), "a-0001")

    # Then its tax is 7.18 x 10/51.30 = 1.3996 -> 1.40, spread over the rates by what each holds
    # (19 %: 6.48, 7 %: 0.70), and its net 40.00 x 10/51.30 = 7.797 -> 7.80
    event = refunded_event(publish)
    assert sum(t.amount.amount for t in event.tax_lines) == 140 and refunded.refunds[0].tax == eur(140)
    assert [t.rate for t in event.tax_lines] == ["7", "19"]
    assert event.merchandise_net == eur(780) and event.lines == []

    # And a full refund of the rest takes exactly what is left of the net
    rest = logic.refund(ports, order.order_id, RefundIn(reason="all of it"), "a-0002")
    assert rest.refunded_merchandise_net == eur(4000)
    assert refunded_event(publish).merchandise_net == eur(3220)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": {"amount": 100, "currency": "EUR"}, "lines": [{"sku": "TEE", "quantity": 1}]}, "body.lines"),
        ({"amount": {"amount": 100, "currency": "EUR"}, "refundShipping": True}, "body.refundShipping"),
        ({"lines": [{"sku": "TEE", "quantity": 1}, {"sku": "TEE", "quantity": 1}]}, "body.lines.1.sku"),
        ({"lines": [{"sku": "BOOK", "quantity": 1}, {"sku": "HAT", "quantity": 1}]}, "body.lines.1.sku"),
    ],
)
def test_a_malformed_refund_by_line_is_a_422_naming_the_field(
    ports: Ports, payments: FakePayments, body: dict[str, Any], field: str
) -> None:
    order = paid_order(ports)
    with pytest.raises(ValidationFailed) as refused:
        logic.refund(ports, order.order_id, RefundIn.model_validate({**body, "reason": "x"}), "refund-bad-0001")
    assert refused.value.code == "validation_failed"
    assert [d["field"] for d in refused.value.details] == [field]
    assert payments.refunds == []


def test_more_units_than_are_left_are_a_409_and_set_nothing_aside(ports: Ports, store: OrdersStore) -> None:
    order = paid_order(ports)
    logic.refund(ports, order.order_id, by_line(("TEE", 2)), "refund-left-0001")
    with pytest.raises(RefundNotPossible, match="1 of 3 are left"):
        logic.refund(ports, order.order_id, by_line(("TEE", 2)), "refund-left-0002")
    current = store.get_order(order.order_id)
    assert current is not None and current.returned_units == {"TEE": 2} and current.refund_holds == {}


def test_an_order_placed_before_lines_carried_their_tax_is_refunded_by_amount_instead(
    ports: Ports, store: OrdersStore
) -> None:
    # Given an order whose lines were stored without discount, tax and net (placed before 2026-12)
    order = paid_order(ports)
    bare = [
        line.model_copy(update={"discount": None, "tax_rate": None, "tax": None, "net": None}) for line in order.lines
    ]
    store.set_fields(
        order.order_id, {"lines": [line.model_dump(mode="json") for line in bare]}, condition="attribute_exists(PK)"
    )

    # Then a refund by line is refused, and one by amount is not
    with pytest.raises(RefundNotPossible, match="refund an amount instead"):
        logic.refund(ports, order.order_id, by_line(("TEE", 1)), "refund-old-0001")
    refunded = logic.refund(
        ports, order.order_id, RefundIn(amount=eur(1190).model_dump(), reason="x"), "refund-old-0002"
    )
    assert refunded.refunded_total == eur(1190) and refunded.refunded_merchandise_net is None


def test_a_refund_by_line_payments_refused_gives_its_units_back(ports: Ports, payments: FakePayments) -> None:
    order = paid_order(ports)
    payments.refuse = True
    with pytest.raises(RefundNotPossible):
        logic.refund(ports, order.order_id, by_line(("TEE", 3), refundShipping=True), "refund-no-0001")
    payments.refuse = False
    refunded = logic.refund(ports, order.order_id, by_line(("TEE", 3), refundShipping=True), "refund-no-0002")
    assert refunded.returned_units == {"TEE": 3} and refunded.refunded_total == eur(3570 + 490)


# ---------------------------------------------------------------- replays


def test_a_refund_by_line_sent_again_with_its_key_refunds_once(ports: Ports, payments: FakePayments) -> None:
    order = paid_order(ports)
    first = logic.refund(ports, order.order_id, by_line(("TEE", 1)), "refund-again-0001")
    again = logic.refund(ports, order.order_id, by_line(("TEE", 1)), "refund-again-0001")
    assert again == first and len(payments.refunds) == 1 and again.returned_units == {"TEE": 1}
    with pytest.raises(IdempotencyKeyReused):
        logic.refund(ports, order.order_id, by_line(("TEE", 2)), "refund-again-0001")


def test_an_amount_refund_keeps_the_fingerprint_it_had_before_refunds_by_line_existed() -> None:
    # A key sent before the by-line fields existed replays: its body's fingerprint is what digest gave it
    canonical = json.dumps({"amount": None, "reason": "x", "restock": False}, sort_keys=True, separators=(",", ":"))
    assert _request_hash(RefundIn(reason="x")) == hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------- restock


def test_restock_by_line_puts_back_exactly_those_units_once_per_refund(ports: Ports, inventory: FakeInventory) -> None:
    # Given a shipped order
    order = paid_order(ports, ship=True)

    # When one tee comes back and is restocked (and the request is retried)
    first = logic.refund(ports, order.order_id, by_line(("TEE", 1), restock=True), "refund-rs-0001")
    logic.refund(ports, order.order_id, by_line(("TEE", 1), restock=True), "refund-rs-0001")

    # Then inventory was asked once for exactly that unit, keyed by the refund
    (asked,) = inventory.restocks
    assert asked.lines == [OrderLine(sku="TEE", quantity=1)]
    assert asked.restock_id == first.refunds[0].refund_id
    assert OrderOut.of(first).fulfillment_status == "SHIPPED"

    # And only when every unit is back is the order RETURNED
    rest = logic.refund(ports, order.order_id, by_line(("TEE", 2), ("BOOK", 1), restock=True), "refund-rs-0002")
    assert [r.lines for r in inventory.restocks][-1] == [
        OrderLine(sku="TEE", quantity=2),
        OrderLine(sku="BOOK", quantity=1),
    ]
    assert OrderOut.of(rest).fulfillment_status == "RETURNED" and rest.restocked


def test_a_whole_order_restock_after_a_line_restock_puts_back_only_the_rest(
    ports: Ports, inventory: FakeInventory
) -> None:
    order = paid_order(ports, ship=True)
    logic.refund(ports, order.order_id, by_line(("TEE", 1), restock=True), "refund-rw-0001")
    done = logic.refund(ports, order.order_id, RefundIn(restock=True, reason="all back"), "refund-rw-0002")
    assert inventory.restocks[-1].lines == [OrderLine(sku="TEE", quantity=2), OrderLine(sku="BOOK", quantity=1)]
    assert inventory.restocks[-1].restock_id is None
    assert done.restocked and OrderOut.of(done).fulfillment_status == "RETURNED"


# ---------------------------------------------------------------- races

RACERS = 8


def test_refunds_by_line_racing_under_different_keys_never_return_a_unit_twice(
    server_store: OrdersStore, pricing: FakePricing
) -> None:
    # Given a paid order with 3 tees (moto in server mode, which serialises writes as DynamoDB does)
    publish = FakePublisher()
    order = paid_order(wired(server_store, pricing=pricing, workflow=FakeWorkflow(), publish=publish))
    payments = FakePayments()
    go = threading.Barrier(RACERS)

    def attempt(i: int) -> str:
        ports = wired(server_store, pricing=pricing, payments=payments, publish=publish)
        go.wait()
        try:
            logic.refund(ports, order.order_id, by_line(("TEE", 1)), f"refund-line-race-{i:04d}")
        except RefundNotPossible:
            return "refused"
        return "refunded"

    # When eight refunds of one tee each arrive at once under different keys
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = Counter(pool.map(attempt, range(RACERS)))

    # Then three were refunded, the rest refused, and together they gave back exactly the line
    assert outcomes == {"refunded": 3, "refused": RACERS - 3}
    current = server_store.get_order(order.order_id)
    assert current is not None
    assert current.returned_units == {"TEE": 3} and current.refund_holds == {}
    assert sorted(r.amount.amount for r in current.refunds) == [1190, 1190, 1190]
    assert sum(r.amount.amount for r in payments.refunds if r.amount) == 3570
    assert sum((r.tax or Money(amount=0, currency="EUR")).amount for r in current.refunds) == 570
    assert current.refunded_merchandise_net == eur(3000)
