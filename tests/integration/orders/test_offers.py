"""`GET /me/offers`: the coupons issued to the caller that they can use now — not expired or not yet
valid, not used up (in total or by them), not first-order-only once they have ordered, never another
customer's and never a public code — through the customer's handler over moto. Time is the ports'
clock, moved by the test."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.auth import Caller
from orders import api, logic
from orders.coupons import CouponIn
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow
from tests.proxy import Answer

from .conftest import CUSTOMER, OTHER_CUSTOMER, FakePricing, checkout_request, wired

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
Offers = Callable[..., Answer]


class Clock:
    """The shop's time, moved by the test (never waited for)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def shop(store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, clock: Clock) -> Ports:
    return wired(store, pricing=pricing, workflow=workflow, publish=FakePublisher(), clock=clock)


@pytest.fixture
def offers(
    shop: Ports, store: OrdersStore, monkeypatch: pytest.MonkeyPatch, api_event: Any, lambda_context: Any
) -> Offers:
    """`GET /me/offers` as `who` (a customer's token), through the customer's handler."""
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    monkeypatch.setattr(api, "ports", lambda: shop)

    def send(who: Caller | None = CUSTOMER) -> Answer:
        event = api_event("GET", "/me/offers", sub=who.sub if who else None, groups=[] if who else None)
        return Answer.of(api.handler(event, lambda_context))

    return send


def issue(shop: Ports, code: str, **rules: Any) -> None:
    fields: dict[str, Any] = {"code": code, "type": "percent", "value": 10, **rules}
    logic.create_coupon(shop, CouponIn.model_validate(fields))


def codes(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [item["code"] for item in answer.body["items"]]


def test_lists_only_the_callers_active_coupons_with_their_conditions(shop: Ports, offers: Offers) -> None:
    # Given a win-back coupon for the caller, and coupons they must not see
    issue(
        shop,
        "WINBACK-ADA",
        type="fixed",
        value=500,
        currency="EUR",
        customerIds=[CUSTOMER.sub],
        minSubtotal={"amount": 3000, "currency": "EUR"},
        validUntil=(NOW + timedelta(days=14)).isoformat(),
        maxPerCustomer=1,
    )
    issue(shop, "WINBACK-BOB", customerIds=[OTHER_CUSTOMER.sub])
    issue(shop, "EVERYONE10")
    issue(shop, "OLD-ADA", customerIds=[CUSTOMER.sub], validUntil=(NOW - timedelta(seconds=1)).isoformat())
    issue(shop, "LATER-ADA", customerIds=[CUSTOMER.sub], validFrom=(NOW + timedelta(days=1)).isoformat())
    issue(shop, "GONE-ADA", customerIds=[CUSTOMER.sub, OTHER_CUSTOMER.sub], maxRedemptions=1)

    # When the caller asks
    answer = offers()

    # Then only their coupons valid now are listed, each with what it is worth and its conditions
    assert codes(answer) == ["GONE-ADA", "WINBACK-ADA"]
    winback = answer.body["items"][1]
    assert winback == {
        "code": "WINBACK-ADA",
        "type": "fixed",
        "value": 500,
        "currency": "EUR",
        "minSubtotal": {"amount": 3000, "currency": "EUR"},
        "validFrom": None,
        "validUntil": "2030-06-15T12:00:00Z",
        "firstOrderOnly": False,
        "maxPerCustomer": 1,
        "usesLeft": 1,
        "categories": None,
    }
    # And the other customer sees theirs, not the caller's
    assert codes(offers(OTHER_CUSTOMER)) == ["GONE-ADA", "WINBACK-BOB"]
    # And without a token there is nothing
    assert offers(None).status == 401


def test_a_coupon_leaves_the_list_when_used_up_expired_or_no_longer_a_first_order(
    shop: Ports, offers: Offers, clock: Clock
) -> None:
    # Given a once-per-customer coupon, a first-order coupon and a coupon expiring in two days
    issue(shop, "ONCE-ADA", customerIds=[CUSTOMER.sub], maxPerCustomer=1)
    issue(shop, "FIRST-ADA", customerIds=[CUSTOMER.sub], firstOrderOnly=True)
    issue(shop, "SOON-ADA", customerIds=[CUSTOMER.sub], validUntil=(NOW + timedelta(days=2)).isoformat())
    issue(shop, "TOTAL-ONE", customerIds=[CUSTOMER.sub, OTHER_CUSTOMER.sub], maxRedemptions=1)
    assert codes(offers()) == ["FIRST-ADA", "ONCE-ADA", "SOON-ADA", "TOTAL-ONE"]

    # When the caller orders with the once-per-customer coupon, and the other customer uses up the shared one
    logic.checkout(shop, CUSTOMER, checkout_request(("TEE-RED-M", 2), couponCode="ONCE-ADA"), "offer-key-1")
    logic.checkout(shop, OTHER_CUSTOMER, checkout_request(("TEE-RED-M", 2), couponCode="TOTAL-ONE"), "offer-key-2")
    # Then both leave the caller's list, and so does the first-order coupon (they have ordered now)
    assert codes(offers()) == ["SOON-ADA"]

    # And when three days pass, the expired coupon leaves too
    clock.now = NOW + timedelta(days=3)
    assert codes(offers()) == []


def test_issuing_again_is_a_retry_that_lists_the_coupon_once(shop: Ports, offers: Offers) -> None:
    issue(shop, "AGAIN-ADA", customerIds=[CUSTOMER.sub])
    issue(shop, "AGAIN-ADA", customerIds=[CUSTOMER.sub])
    assert codes(offers()) == ["AGAIN-ADA"]


def test_checkout_keeps_the_visitor_id_its_affiliate_code_is_judged_by(
    shop: Ports, store: OrdersStore, workflow: FakeWorkflow
) -> None:
    # Given a checkout with an affiliate's code and the visitor id the storefront's beacon sent
    request = checkout_request(
        ("TEE-RED-M", 1), affiliateCode="TRAIL42", attribution={"source": "blog", "visitorId": "visitor-0001"}
    )
    order = logic.checkout(shop, CUSTOMER, request, "visitor-key-1")
    # Then the stored order's snapshot (what affiliates reads on OrderPaid) carries both
    stored = store.get_order(order.order_id)
    assert stored is not None
    snapshot = stored.snapshot()
    assert snapshot.affiliate_code == "TRAIL42"
    assert snapshot.attribution is not None and snapshot.attribution.visitor_id == "visitor-0001"
    assert snapshot.model_dump(mode="json", by_alias=True)["attribution"]["visitorId"] == "visitor-0001"
