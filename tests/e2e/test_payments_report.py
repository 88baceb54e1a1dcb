"""Payments due on the running stack (issue 14): a paid order's fee and net in `GET /reports/payments` are
the ones of its charge's balance transaction at the local Stripe (read from the proxy, as the payments
function reads them), a refund shows its effect, and a dispute webhook shows on the order and in the
report."""

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from local.aws import client
from local.stripe import SECRET_KEY, event, sign, stripe_fee
from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, poll, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
DISPUTE_FEE = 2000
"""Stripe's dispute fee in the euro area (20.00 EUR)."""
Http = Callable[..., requests.Response]


def _stripe(stack: LocalStack, path: str) -> dict[str, Any]:
    """A GET to the local Stripe as the functions see it (the proxy in front of localstripe)."""
    answer = requests.get(stack.state()["stripeUrl"] + path, auth=(SECRET_KEY, ""), timeout=5)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _charge_transaction(stack: LocalStack, payment_intent_id: str) -> dict[str, Any]:
    intent = _stripe(stack, f"/v1/payment_intents/{payment_intent_id}")
    charge = intent["latest_charge"]
    charge = charge if isinstance(charge, dict) else _stripe(stack, f"/v1/charges/{charge}")
    return _stripe(stack, f"/v1/balance_transactions/{charge['balance_transaction']}")


def _report_row(http: Http, admin: str, order_id: str, until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The order's row of today's payments report (summed over the days around today), once `until` holds."""
    today = datetime.now(UTC).date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}

    def row() -> dict[str, Any] | None:
        report = http("GET", "/reports/payments", params=period, token=admin).json()
        rows = [r for r in report["items"] if r["orderId"] == order_id]
        if not rows:
            return None
        named = ("gross", "fee", "refunds", "disputed", "disputeFee", "net")
        summed = {k: sum(r[k]["amount"] for r in rows) for k in named}
        return summed | {"disputeLost": sum(r["disputeLost"]["amount"] for r in rows), "days": report["days"]}

    found: dict[str, Any] = poll(row, lambda r: r is not None and until(r))
    return found


def _paid_order(stack: LocalStack, http: Http, tokens: dict[str, str]) -> tuple[str, dict[str, Any]]:
    admin, alice = tokens["admin"], tokens["alice"]
    _, sku = stocked_sku(http, admin, 3, price=2345)
    body = {"items": [{"sku": sku, "quantity": 1}], "shippingAddress": ADDRESS}
    placed = http("POST", "/orders", json=body, token=alice, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 202, placed.text
    order_id = str(placed.json()["orderId"])
    awaiting = wait_status(http, alice, order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    wait_status(http, alice, order_id, "PAID")
    return order_id, awaiting


def test_the_reports_fee_and_net_are_the_balance_transactions_and_a_refund_shows(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    # Given a paid order, and its charge's balance transaction at the local Stripe
    order_id, awaiting = _paid_order(stack, http, tokens)
    total = int(awaiting["total"]["amount"])
    transaction = _charge_transaction(stack, awaiting["payment"]["paymentIntentId"])
    assert (transaction["amount"], transaction["fee"]) == (total, stripe_fee(total))
    assert transaction["fee"] > 0 and transaction["net"] == total - transaction["fee"]

    # Then the payments report shows that fee and net for the order
    row = _report_row(http, admin, order_id, lambda r: r["fee"] > 0)
    assert (row["gross"], row["fee"], row["net"]) == (total, transaction["fee"], transaction["net"])

    # When staff refund it in full
    refunded = http("POST", f"/orders/{order_id}/refunds", json={"reason": "changed mind"}, token=admin)
    assert refunded.status_code == 200, refunded.text

    # Then the report shows the refund and what it leaves: Stripe keeps its fee (the refund's balance
    # transaction at the local Stripe returns none of it)
    row = _report_row(http, admin, order_id, lambda r: r["refunds"] == total)
    assert (row["fee"], row["net"]) == (transaction["fee"], -transaction["fee"])
    refunds = _stripe(stack, f"/v1/refunds?payment_intent={awaiting['payment']['paymentIntentId']}")["data"]
    (made,) = refunds
    refund_transaction = _stripe(stack, f"/v1/balance_transactions/{made['balance_transaction']}")
    assert (refund_transaction["amount"], refund_transaction["fee"], refund_transaction["net"]) == (-total, 0, -total)


def test_a_dispute_shows_on_the_order_and_in_the_report(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    # Given a paid order
    order_id, awaiting = _paid_order(stack, http, tokens)
    total = int(awaiting["total"]["amount"])
    intent = awaiting["payment"]["paymentIntentId"]
    state = stack.state()
    secret = client("ssm", state["awsEndpoint"]).get_parameter(
        Name=f"/storekeeper/{state['stage']}/stripe/webhook-secret", WithDecryption=True
    )["Parameter"]["Value"]

    def deliver(kind: str, status: str) -> None:
        dispute = {
            "id": f"dp_{uuid.uuid4().hex[:14]}" if kind.endswith("created") else opened_id,
            "object": "dispute",
            "charge": f"ch_{intent[3:]}",
            "payment_intent": intent,
            "amount": total,
            "currency": "eur",
            "reason": "fraudulent",
            "status": status,
            "created": int(time.time()),
            # Stripe's withdrawal of the amount and its dispute fee, listed in the dispute
            "balance_transactions": [
                {
                    "id": "txn_dp",
                    "object": "balance_transaction",
                    "amount": -total,
                    "fee": DISPUTE_FEE,
                    "net": -total - DISPUTE_FEE,
                    "currency": "eur",
                    "type": "adjustment",
                }
            ],
        }
        payload = json.dumps(event(kind, dispute))
        answer = http("POST", "/payments/webhook", data=payload, headers={"Stripe-Signature": sign(payload, secret)})
        assert answer.status_code == 200, answer.text

    # When the customer's bank disputes the payment (Stripe's signed webhook)
    opened_id = ""
    deliver("charge.dispute.created", "needs_response")

    # Then the order shows the dispute, open
    shown = poll(lambda: http("GET", f"/orders/{order_id}", token=admin).json(), lambda o: o.get("dispute") is not None)
    assert (shown["dispute"]["status"], shown["dispute"]["reason"]) == ("OPEN", "fraudulent")
    assert shown["dispute"]["amount"] == {"amount": total, "currency": "EUR"}
    opened_id = shown["dispute"]["disputeId"]

    # And when the shop loses it, the order shows the outcome and the report counts it, with Stripe's fee
    deliver("charge.dispute.closed", "lost")
    decided = poll(
        lambda: http("GET", f"/orders/{order_id}", token=admin).json(),
        lambda o: (o.get("dispute") or {}).get("status") == "LOST",
    )
    assert decided["dispute"]["closedAt"] is not None
    row = _report_row(http, admin, order_id, lambda r: r["disputeLost"] == total)
    assert (row["disputed"], row["disputeFee"]) == (total, DISPUTE_FEE)
    assert row["net"] == total - row["fee"] - total - DISPUTE_FEE
