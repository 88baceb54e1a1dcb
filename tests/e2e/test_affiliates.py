"""Affiliates on the running stack, as the people involved meet them: a user applies, an admin approves
(Cognito puts them in the `affiliate` group, seen on their next token), a customer orders with the
affiliate's code and pays, the commission appears PENDING, and a full refund reverses it."""

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, poll, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]
RATE = 0.1
APPLICATION = {
    "name": "Lantern Reviews",
    "website": "https://lanterns.example.com",
    "payoutEmail": "pay@lanterns.example",
}


def groups_of(token: str) -> set[str]:
    """The `cognito:groups` claim of an ID token (the gateway verified it; here we only read it)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return set(claims.get("cognito:groups") or [])


def commission_of(http: Http, token: str, order_id: str) -> dict[str, Any] | None:
    answer = http("GET", "/affiliates/me/commissions", token=token)
    assert answer.status_code == 200, answer.text
    return next((entry for entry in answer.json()["items"] if entry["orderId"] == order_id), None)


def test_an_affiliate_earns_on_a_referred_order_and_loses_it_on_refund(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    email = f"affiliate-{uuid.uuid4().hex[:8]}@example.com"
    # Given a user who applies
    first_token = stack.token(email)
    applied = http("POST", "/affiliates", json=APPLICATION, token=first_token)
    assert applied.status_code == 201, applied.text
    affiliate_id, code = applied.json()["affiliateId"], applied.json()["code"]
    pending = http("GET", "/affiliates/me", token=first_token)  # the application's Location: pending
    assert (pending.status_code, pending.json()["status"]) == (200, "PENDING"), pending.text
    assert http("GET", "/affiliates/me/commissions", token=first_token).status_code == 403  # not approved yet
    # When an admin approves them at 10 %
    approved = http("POST", f"/affiliates/{affiliate_id}/approve", json={"commissionRate": RATE}, token=admin)
    assert approved.status_code == 200, approved.text
    # Then their next token (minted without asking for any group) carries `affiliate`, and opens their dashboard
    token = stack.token(email)
    assert "affiliate" in groups_of(token)
    me = http("GET", "/affiliates/me", token=token)
    assert me.status_code == 200, me.text
    assert (me.json()["code"], me.json()["commissionRate"]) == (code, RATE)
    assert me.json()["referralLink"].endswith(f"/?ref={code}")

    # And a coupon worth 10 % (made by staff; a customer may not make one)
    coupon = {"code": f"TENOFF{uuid.uuid4().hex[:6].upper()}", "type": "percent", "value": 10}
    assert http("POST", "/coupons", json=coupon, token=tokens["alice"]).status_code == 403
    assert http("POST", "/coupons", json=coupon, token=admin).status_code == 201

    # When a customer orders with the affiliate's code and the coupon, and pays
    _, sku = stocked_sku(http, admin, 3, price=1234)
    placed = http(
        "POST",
        "/orders",
        json={
            "items": [{"sku": sku, "quantity": 2}],
            "shippingAddress": ADDRESS,
            "affiliateCode": code,
            "couponCode": coupon["code"],
        },
        token=tokens["bob"],
        headers={"Idempotency-Key": f"e2e-aff-{uuid.uuid4().hex}"},
    )
    assert placed.status_code == 202, placed.text
    order_id, total = placed.json()["orderId"], placed.json()["total"]["amount"]
    wait_status(http, tokens["bob"], order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    wait_status(http, tokens["bob"], order_id, "PAID")
    # Then the affiliate's ledger shows a PENDING commission of rate x the discounted total
    pending = poll(lambda: commission_of(http, token, order_id), lambda entry: entry is not None)
    assert (placed.json()["subtotal"]["amount"], placed.json()["discount"]["amount"], total) == (2468, 246, 2222)
    assert (pending["status"], pending["amount"]) == ("PENDING", {"amount": 222, "currency": "EUR"})
    assert http("GET", "/affiliates/me", token=token).json()["totals"]["pending"]["amount"] == 222

    # When staff refund the whole order
    refund = http(
        "POST",
        f"/orders/{order_id}/refunds",
        json={"reason": "returned"},
        token=admin,
        headers={"Idempotency-Key": f"{order_id}-all"},
    )
    assert refund.status_code == 200, refund.text
    # Then the commission is REVERSED in full
    reversed_ = poll(lambda: commission_of(http, token, order_id), lambda entry: entry["status"] == "REVERSED")
    assert reversed_["reversedAmount"] == {"amount": 222, "currency": "EUR"}
    totals = http("GET", "/affiliates/me", token=token).json()["totals"]
    assert (totals["pending"]["amount"], totals["reversed"]["amount"]) == (0, 222)
    # And the daily approval runs on demand (nothing is past the refund window yet)
    triggered = stack.cli("trigger", "approve-commissions")
    assert json.loads(triggered.stdout) == {"approved": []}
    # And a customer is kept out of the affiliate's and the admin's routes
    assert http("GET", "/affiliates/me/commissions", token=tokens["alice"]).status_code == 403
    assert http("POST", f"/affiliates/{affiliate_id}/payouts", token=token).status_code == 403
