"""Money and stock are never lost on a fault path (issue 10), on the whole local stack: a cancel while
Stripe cannot cancel, a refund Stripe refuses for longer than every retry, and orders that cost nothing."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from local.stripe import SECRET_KEY, clear_faults, find_payment_intent, inject_fault
from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, place, poll, stock, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]


def refunded_at_stripe(stack: LocalStack, order_id: str) -> int:
    """What Stripe itself says was refunded of the order's payment (not what we recorded)."""
    base = str(stack.state()["stripeUrl"])
    intent = find_payment_intent(base, order_id)
    charge = intent.get("latest_charge")
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    if not charge_id:
        return 0
    found = requests.get(f"{base}/v1/charges/{charge_id}", auth=(SECRET_KEY, ""), timeout=5).json()
    return int(found.get("amount_refunded") or 0)


def awaiting_payment(http: Http, tokens: dict[str, str], price: int = 4000) -> tuple[str, str, dict[str, Any]]:
    _, sku = stocked_sku(http, tokens["admin"], 1, price=price)
    order_id = place(http, tokens["alice"], sku, 1).json()["orderId"]
    return sku, order_id, wait_status(http, tokens["alice"], order_id, "AWAITING_PAYMENT")


def test_a_cancel_during_a_stripe_outage_then_a_payment_ends_cancelled_and_refunded(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    # Given an order awaiting payment, and Stripe failing every cancel of its PaymentIntent
    sku, order_id, order = awaiting_payment(http, tokens)
    intent = order["payment"]["paymentIntentId"]
    fault = {"method": "POST", "path": f"/v1/payment_intents/{intent}/cancel", "status": 500, "times": 1000}
    inject_fault(stack.state(), fault)
    try:
        # When the customer cancels: the cancel is accepted, though Stripe could not confirm it
        cancelled = http("POST", f"/orders/{order_id}/cancel", token=tokens["alice"], json={})
        assert cancelled.status_code == 202, cancelled.text
        assert cancelled.json()["cancellationRequested"] is True
        # And the customer pays anyway (the browser still had the client secret)
        pay(stack, order_id)
    finally:
        clear_faults(stack.state())

    # Then, once Stripe answers again, the order ends CANCELLED, the payment refunded in full at Stripe,
    # and the unit back on sale; nobody had to act
    final = wait_status(http, tokens["alice"], order_id, "CANCELLED", deadline=120)
    assert final["refundedTotal"] == {"amount": 4000, "currency": "EUR"}
    assert refunded_at_stripe(stack, order_id) == 4000
    assert stock(http, tokens["admin"], sku) == (1, 0, 0)
    assert final["attention"] is None


def test_a_refund_stripe_refuses_for_a_while_is_retried_until_it_is_made(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    # Given a paid order, and Stripe failing the next refunds
    sku, order_id, _ = awaiting_payment(http, tokens)
    pay(stack, order_id)
    wait_status(http, tokens["alice"], order_id, "PAID")
    inject_fault(stack.state(), {"method": "POST", "path": "/v1/refunds", "status": 503, "times": 6})
    try:
        # When the customer cancels
        assert http("POST", f"/orders/{order_id}/cancel", token=tokens["alice"], json={}).status_code == 202
        # Then the refund is retried with backoff until Stripe takes it
        final = wait_status(http, tokens["alice"], order_id, "CANCELLED", deadline=180)
    finally:
        clear_faults(stack.state())
    assert final["refundedTotal"]["amount"] == 4000 and refunded_at_stripe(stack, order_id) == 4000
    assert stock(http, tokens["admin"], sku) == (1, 0, 1)  # sold once, and back on the shelf


def test_a_free_order_is_paid_without_stripe(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    # Given a coupon that covers the whole order
    _, sku = stocked_sku(http, tokens["admin"], 2, price=1500)
    code = f"FREE{uuid.uuid4().hex[:8].upper()}"
    body = {"code": code, "type": "percent", "value": 100}
    assert http("POST", "/coupons", json=body, token=tokens["admin"]).status_code == 201

    # When the customer checks out with it
    order = {"items": [{"sku": sku, "quantity": 1}], "shippingAddress": ADDRESS, "couponCode": code}
    headers = {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
    placed = http("POST", "/orders", json=order, token=tokens["alice"], headers=headers)
    assert placed.status_code == 202, placed.text

    # Then the order is PAID without any PaymentIntent, and its unit sold
    paid = wait_status(http, tokens["alice"], placed.json()["orderId"], "PAID", "CANCELLED")
    assert paid["status"] == "PAID" and paid["total"]["amount"] == 0 and paid["payment"] is None
    assert stock(http, tokens["admin"], sku) == (1, 0, 1)


def test_a_total_below_the_minimum_charge_is_refused(http: Http, tokens: dict[str, str]) -> None:
    # Given a fixed coupon that leaves 10 cents to pay
    _, sku = stocked_sku(http, tokens["admin"], 1, price=1010)
    code = f"TINY{uuid.uuid4().hex[:8].upper()}"
    body = {"code": code, "type": "fixed", "value": 1000, "currency": "EUR"}
    assert http("POST", "/coupons", json=body, token=tokens["admin"]).status_code == 201

    # When the customer checks out, it is refused with the reason, and nothing is held
    order = {"items": [{"sku": sku, "quantity": 1}], "shippingAddress": ADDRESS, "couponCode": code}
    refused = http(
        "POST", "/orders", json=order, token=tokens["alice"], headers={"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "amount_below_minimum"
    assert poll(lambda: stock(http, tokens["admin"], sku), lambda s: s == (1, 0, 0))
