"""Races at the API, through HTTP on the local stack, where every function now runs in several worker
processes at once (as Lambda runs concurrent requests): a coupon's last uses, one checkout retried many
times at once, and two full refunds of one order. Each test also checks that the requests really ran
side by side (more than one worker of the API function was needed)."""

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.stripe import SECRET_KEY, find_payment_intent
from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, place, stock, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]
ORDERS_API = "OrdersApiFunction"
ADMIN_API = "OrdersAdminFunction"


def _at_once(count: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


def test_fifty_checkouts_on_a_coupon_good_for_ten(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    # Given a coupon that may be redeemed 10 times, and plenty of stock
    admin = tokens["admin"]
    _, sku = stocked_sku(http, admin, 60)
    code = f"TEN{uuid.uuid4().hex[:8].upper()}"
    coupon = {"code": code, "type": "percent", "value": 10, "maxRedemptions": 10}
    assert http("POST", "/coupons", json=coupon, token=admin).status_code == 201

    # When 50 customers check out with it at the same moment
    def checkout(i: int) -> requests.Response:
        body = {"items": [{"sku": sku, "quantity": 1}], "shippingAddress": ADDRESS, "couponCode": code}
        headers = {"Idempotency-Key": f"coupon-{code}-{i}"}
        return http("POST", "/orders", json=body, token=tokens["alice" if i % 2 else "bob"], headers=headers)

    answers = _at_once(50, checkout)

    # Then exactly 10 orders get the discount and 40 are told the coupon is used up
    assert Counter(a.status_code for a in answers) == {202: 10, 422: 40}, [a.text[:200] for a in answers][:5]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 422} == {"coupon_exhausted"}
    discounted = [a.json() for a in answers if a.status_code == 202]
    assert all(order["discount"]["amount"] == 150 for order in discounted)
    # And only the 10 orders hold stock
    for order in discounted:
        wait_status(http, admin, order["orderId"], "AWAITING_PAYMENT", deadline=60)
    assert stock(http, admin, sku) == (50, 10, 0)
    assert stack.workers()[ORDERS_API] > 1, "the checkouts did not run concurrently"


def test_twenty_retries_of_one_checkout_make_one_order(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    # Given one checkout that a flaky client sends 20 times at once, with one Idempotency-Key
    _, sku = stocked_sku(http, tokens["admin"], 3)
    key = f"retry-{uuid.uuid4().hex}"
    answers = _at_once(20, lambda _: place(http, tokens["alice"], sku, 1, key=key))

    # Then every retry gets the same answer: one order
    assert Counter(a.status_code for a in answers) == {202: 20}, [a.text[:200] for a in answers if a.status_code != 202]
    assert len({a.json()["orderId"] for a in answers}) == 1
    bodies = {(a.json()["orderId"], a.json()["total"]["amount"], a.headers.get("Location")) for a in answers}
    assert len(bodies) == 1
    order_id = answers[0].json()["orderId"]
    wait_status(http, tokens["alice"], order_id, "AWAITING_PAYMENT")
    # And one unit is held, for one PaymentIntent
    assert stock(http, tokens["admin"], sku) == (2, 1, 0)
    intents = requests.get(
        f"{stack.state()['stripeUrl']}/v1/payment_intents", auth=(SECRET_KEY, ""), params={"limit": 100}, timeout=10
    ).json()["data"]
    assert [i["metadata"].get("orderId") for i in intents].count(order_id) == 1
    assert stack.workers()[ORDERS_API] > 1, "the retries did not run concurrently"


def _refunded_at_stripe(stack: LocalStack, order_id: str) -> int:
    stripe = stack.state()["stripeUrl"]
    intent = find_payment_intent(stripe, order_id)
    refunds: list[dict[str, Any]] = requests.get(
        f"{stripe}/v1/refunds", auth=(SECRET_KEY, ""), params={"payment_intent": intent["id"]}, timeout=10
    ).json()["data"]
    return sum(int(refund["amount"]) for refund in refunds)


def test_two_full_refunds_at_once_refund_the_total_once(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    # Given a paid order
    admin, alice = tokens["admin"], tokens["alice"]
    _, sku = stocked_sku(http, admin, 2, price=2500)
    order_id = place(http, alice, sku, 1).json()["orderId"]
    wait_status(http, alice, order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    paid = wait_status(http, alice, order_id, "PAID", deadline=30)

    # When two members of staff refund all of it at the same moment, each with their own key
    def refund(i: int) -> requests.Response:
        headers = {"Idempotency-Key": f"refund-{order_id}-{i}"}
        return http("POST", f"/orders/{order_id}/refunds", json={"reason": "duplicate"}, token=admin, headers=headers)

    answers = _at_once(2, refund)

    # Then one succeeds and the other is refused, and the money went back once
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text[:300] for a in answers]
    refunded = wait_status(http, alice, order_id, "REFUNDED")
    assert refunded["refundedTotal"]["amount"] == paid["total"]["amount"]
    assert _refunded_at_stripe(stack, order_id) == paid["total"]["amount"]
    assert stack.workers()[ADMIN_API] > 1, "the refunds did not run concurrently"
