"""Coupons at checkout: each rule refused with a 422 naming it, uses counted in the order's own
transaction (so a limit holds under any concurrency), and a cancelled order gives its use back."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from common.auth import Caller
from common.errors import ValidationFailed
from orders import logic
from orders.coupons import CouponIn
from orders.errors import CouponNotFound
from orders.models import Order, OrderStatus
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow

from .conftest import (
    CUSTOMER,
    OTHER_CUSTOMER,
    FakePricing,
    checkout_request,
    eur,
    priced,
    wired,
)

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def _coupon(store: OrdersStore, **rules: object) -> str:
    fields: dict[str, object] = {"code": "SAVE10", "type": "percent", "value": 10, **rules}
    return logic.create_coupon(wired(store, clock=lambda: NOW), CouponIn.model_validate(fields)).code


def _checkout(
    store: OrdersStore,
    pricing: FakePricing,
    workflow: FakeWorkflow,
    publish: FakePublisher,
    *,
    code: str,
    who: Caller = CUSTOMER,
    items: tuple[tuple[str, int], ...] = (("TEE-RED-M", 2),),
    key: str = "coupon-key-1",
) -> Order:
    request = checkout_request(*items, couponCode=code)
    return logic.checkout(
        wired(store, pricing=pricing, workflow=workflow, publish=publish, clock=lambda: NOW), who, request, key
    )


def _rule_of(refusal: pytest.ExceptionInfo[ValidationFailed]) -> str:
    (detail,) = refusal.value.details
    assert detail["field"] == "body.couponCode"
    return str(detail["type"])


def test_a_percent_coupon_discounts_the_total(
    store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    code = _coupon(store)
    order = _checkout(store, pricing, workflow, publish, code=code)
    assert (order.subtotal, order.discount, order.total) == (eur(5000), eur(500), eur(4500))
    assert order.coupon_code == "SAVE10"
    assert workflow.started[0][1]["amount"] == {"amount": 4500, "currency": "EUR"}


def test_a_fixed_coupon_only_for_some_categories(
    store: OrdersStore, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    pricing = FakePricing(catalog={"TEE-RED-M": priced("TEE-RED-M", 2500), "MUG-BLUE": priced("MUG-BLUE", 1200)})
    pricing.catalog["MUG-BLUE"] = pricing.catalog["MUG-BLUE"].model_copy(update={"category": "kitchen"})
    code = _coupon(store, code="MUGS5", type="fixed", value=2000, currency="EUR", categories=["kitchen"])
    order = _checkout(store, pricing, workflow, publish, code=code, items=(("TEE-RED-M", 1), ("MUG-BLUE", 1)))
    # The discount never exceeds the eligible lines (one mug at 12.00)
    assert (order.discount, order.total) == (eur(1200), eur(2500))


@pytest.mark.parametrize(
    ("rules", "rule"),
    [
        ({"validUntil": (NOW - timedelta(days=1)).isoformat()}, "coupon_expired"),
        ({"validFrom": (NOW + timedelta(days=1)).isoformat()}, "coupon_not_yet_valid"),
        ({"minSubtotal": {"amount": 10_000, "currency": "EUR"}}, "coupon_min_subtotal"),
        ({"customerIds": ["somebody-else"]}, "coupon_not_for_customer"),
        ({"categories": ["garden"]}, "coupon_not_applicable"),
    ],
)
def test_each_rule_is_refused_by_name_and_nothing_is_written(
    store: OrdersStore,
    pricing: FakePricing,
    workflow: FakeWorkflow,
    publish: FakePublisher,
    rules: dict[str, object],
    rule: str,
) -> None:
    code = _coupon(store, **rules)
    with pytest.raises(ValidationFailed) as refusal:
        _checkout(store, pricing, workflow, publish, code=code)
    assert _rule_of(refusal) == rule
    assert store.by_customer(CUSTOMER.sub, start_key=None, limit=10).items == []
    assert workflow.started == []


def test_an_unknown_coupon_is_refused(
    store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    with pytest.raises(ValidationFailed) as refusal:
        _checkout(store, pricing, workflow, publish, code="NOPE")
    assert _rule_of(refusal) == "coupon_not_found"


def test_first_order_only(
    store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    code = _coupon(store, code="WELCOME", firstOrderOnly=True)
    # A first order may use it
    first = _checkout(store, pricing, workflow, publish, code=code, key="first-order-1")
    assert first.discount == eur(500)
    # A second may not
    with pytest.raises(ValidationFailed) as refusal:
        _checkout(store, pricing, workflow, publish, code=code, key="second-order-1")
    assert _rule_of(refusal) == "coupon_first_order_only"


def test_per_customer_limit_and_give_back_on_cancel(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    code = _coupon(store, code="ONCE", maxPerCustomer=1)
    order = _checkout(store, pricing, workflow, publish, code=code, key="once-1")
    # The same customer cannot use it twice; another customer can
    with pytest.raises(ValidationFailed) as refusal:
        _checkout(store, pricing, workflow, publish, code=code, key="once-2")
    assert _rule_of(refusal) == "coupon_used_by_customer"
    assert _checkout(store, pricing, workflow, publish, code=code, who=OTHER_CUSTOMER, key="once-3").discount == eur(
        500
    )
    # When the first order is cancelled (twice: a retried step), its use comes back once
    logic.transition(ports, order.order_id, OrderStatus.CANCELLED, reason="cancelled by the customer")
    logic.transition(ports, order.order_id, OrderStatus.CANCELLED, reason="cancelled by the customer")
    coupon = store.get_coupon(code)
    assert coupon is not None
    assert coupon.redemptions == 1
    assert store.coupon_uses(code, CUSTOMER.sub) == 0
    # So the customer may use it again
    assert _checkout(store, pricing, workflow, publish, code=code, key="once-4").discount == eur(500)


def test_a_rejected_order_gives_its_use_back(
    ports: Ports, store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    code = _coupon(store, code="TENUSES", maxRedemptions=10)
    order = _checkout(store, pricing, workflow, publish, code=code)
    logic.transition(ports, order.order_id, OrderStatus.REJECTED, reason="out of stock")
    coupon = store.get_coupon(code)
    assert coupon is not None
    assert coupon.redemptions == 0


def test_fifty_racing_checkouts_redeem_a_ten_use_coupon_ten_times(
    server_store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow
) -> None:
    # Given a coupon limited to 10 uses, on moto in server mode (it serialises writes as DynamoDB does)
    store = server_store
    code = _coupon(store, code="FLASH10", maxRedemptions=10)
    go = threading.Barrier(50)

    def attempt(i: int) -> str:
        go.wait()
        who = Caller(sub=f"buyer-{i}")
        try:
            order = _checkout(store, pricing, workflow, FakePublisher(), code=code, who=who, key=f"flash-{i}")
        except ValidationFailed as refused:
            return str(refused.code)
        return "discounted" if order.discount.amount > 0 else "full price"

    # When 50 customers check out with it at once
    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = Counter(pool.map(attempt, range(50)))

    # Then exactly 10 orders are discounted and 40 are refused, naming the rule
    assert outcomes == {"discounted": 10, "coupon_exhausted": 40}
    coupon = store.get_coupon(code)
    assert coupon is not None
    assert coupon.redemptions == 10


def test_an_ended_coupon_is_refused_as_expired_and_keeps_its_uses(
    store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given a coupon issued to a customer, valid for a month, used once
    code = _coupon(store, validUntil=(NOW + timedelta(days=30)).isoformat(), customerIds=[CUSTOMER.sub])
    _checkout(store, pricing, workflow, publish, code=code)
    later = NOW + timedelta(hours=1)
    assert [offer.coupon.code for offer in logic.my_offers(wired(store, clock=lambda: later), CUSTOMER.sub)] == [code]

    # When staff end it an hour later
    ended = logic.end_coupon(wired(store, clock=lambda: later), code.lower())

    # Then it expires at that moment with its use kept, a checkout after it is refused as expired with
    # nothing written, and the customer's offers no longer list it
    assert (ended.valid_until, ended.redemptions) == (later, 1)
    assert logic.get_coupon(wired(store), code) == ended
    request = checkout_request(("TEE-RED-M", 1), couponCode=code)
    with pytest.raises(ValidationFailed) as refusal:
        logic.checkout(wired(store, pricing=pricing, clock=lambda: later), CUSTOMER, request, "after-the-end")
    assert _rule_of(refusal) == "coupon_expired"
    assert len(store.by_customer(CUSTOMER.sub, start_key=None, limit=10).items) == 1
    assert logic.my_offers(wired(store, clock=lambda: later), CUSTOMER.sub) == []


def test_ending_a_coupon_again_keeps_its_first_end(store: OrdersStore) -> None:
    code = _coupon(store)
    first = logic.end_coupon(wired(store, clock=lambda: NOW), code)
    again = logic.end_coupon(wired(store, clock=lambda: NOW + timedelta(minutes=5)), code)
    assert first.valid_until == again.valid_until == NOW
    assert logic.get_coupon(wired(store), code).valid_until == NOW


def test_ending_a_coupon_that_has_not_begun_drops_its_start(store: OrdersStore) -> None:
    # Given a coupon that begins tomorrow (its start must stay before its end)
    code = _coupon(store, validFrom=(NOW + timedelta(days=1)).isoformat())

    # When staff end it today
    ended = logic.end_coupon(wired(store, clock=lambda: NOW), code)

    # Then it never begins, and it still reads back
    assert (ended.valid_from, ended.valid_until) == (None, NOW)
    assert logic.get_coupon(wired(store), code) == ended


def test_ending_an_unknown_coupon_is_not_found(store: OrdersStore) -> None:
    with pytest.raises(CouponNotFound):
        logic.end_coupon(wired(store, clock=lambda: NOW), "NOPE")
    assert store.get_coupon("NOPE") is None
