"""Reconciliation on the running stack: `python -m local trigger reconcile-payments` refunds a payment
taken for an order that was cancelled, once, and staff read the run at `GET /admin/reconciliation`."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from local.stripe import SECRET_KEY
from tests.e2e.localstack import LocalStack
from tests.e2e.shop import place, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]
AUTH = (SECRET_KEY, "")


def _pay_for(stripe: str, order_id: str, amount: int) -> str:
    """A card payment at Stripe naming the order, that no webhook applies: it names the order only once
    paid (a payment the shop's code never expected; the money must still go back)."""
    created = requests.post(
        f"{stripe}/v1/payment_intents",
        data={"amount": amount, "currency": "eur", "payment_method": "pm_card_visa"},
        auth=AUTH,
        timeout=10,
    )
    created.raise_for_status()
    intent_id = str(created.json()["id"])
    confirmed = requests.post(f"{stripe}/v1/payment_intents/{intent_id}/confirm", auth=AUTH, timeout=10)
    confirmed.raise_for_status()
    assert confirmed.json()["status"] == "succeeded"
    named = requests.post(
        f"{stripe}/v1/payment_intents/{intent_id}", data={"metadata[orderId]": order_id}, auth=AUTH, timeout=10
    )
    named.raise_for_status()
    return intent_id


def _refunded(stripe: str, intent_id: str) -> list[int]:
    listed = requests.get(f"{stripe}/v1/refunds", params={"payment_intent": intent_id}, auth=AUTH, timeout=10)
    listed.raise_for_status()
    return [int(r["amount"]) for r in listed.json()["data"]]


def _trigger(stack: LocalStack, since: datetime) -> dict[str, Any]:
    done = stack.cli("trigger", "reconcile-payments", "--input", json.dumps({"since": since.isoformat()}))
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_a_payment_for_a_cancelled_order_is_refunded_by_reconciliation(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    # Given an order Alice cancelled before paying, and then a payment at Stripe for it
    since = datetime.now(UTC) - timedelta(seconds=5)
    admin, alice = tokens["admin"], tokens["alice"]
    _, sku = stocked_sku(http, admin, units=1, price=2300)
    order_id = place(http, alice, sku).json()["orderId"]
    wait_status(http, alice, order_id, "AWAITING_PAYMENT", deadline=30)
    cancelled = http("POST", f"/orders/{order_id}/cancel", token=alice, json={"reason": "changed my mind"})
    assert cancelled.status_code == 202, cancelled.text
    order = wait_status(http, alice, order_id, "CANCELLED", deadline=30)
    stripe = str(stack.state()["stripeUrl"])
    intent_id = _pay_for(stripe, order_id, order["total"]["amount"])
    assert _refunded(stripe, intent_id) == []

    # When the reconciliation schedule fires
    first = _trigger(stack, since)

    # Then the payment is refunded in full, and the run says so
    assert _refunded(stripe, intent_id) == [2300]
    assert first["counts"]["refunded"] >= 1
    runs = http("GET", "/admin/reconciliation", token=admin)
    assert runs.status_code == 200, runs.text
    latest = runs.json()["items"][0]
    assert latest["runId"] == first["runId"]
    assert {
        "paymentIntentId": intent_id,
        "orderId": order_id,
        "kind": "paid_for_cancelled_order",
        "action": "refunded",
    }.items() <= next(f for f in latest["findings"] if f["paymentIntentId"] == intent_id).items()

    # And the next run refunds nothing more
    second = _trigger(stack, since)
    assert _refunded(stripe, intent_id) == [2300]
    latest = http("GET", "/admin/reconciliation", token=admin).json()["items"][0]
    assert latest["runId"] == second["runId"]
    assert all(f["paymentIntentId"] != intent_id for f in latest["findings"])
    assert wait_status(http, alice, order_id, "CANCELLED")["status"] == "CANCELLED"
