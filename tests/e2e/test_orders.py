"""Orders as a customer, staff and Stripe meet them on the running stack: checkout, the saga in Step
Functions, localstripe's payment and webhooks, cancellations, shipment and refunds."""

import json
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from local.aws import client
from local.stripe import sign
from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, place, stock, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]


def test_an_order_is_paid_and_its_stock_sold(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    # Given a product with 5 units
    _, sku = stocked_sku(http, tokens["admin"], 5, price=1250)
    # When Alice orders 2
    placed = place(http, tokens["alice"], sku, 2)
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["orderId"]
    assert placed.headers["Location"] == f"/orders/{order_id}"
    assert placed.json()["total"] == {"amount": 2500, "currency": "EUR"}
    # Then it awaits payment with a client secret, its stock held
    awaiting = wait_status(http, tokens["alice"], order_id, "AWAITING_PAYMENT")
    assert awaiting["payment"]["clientSecret"].startswith(awaiting["payment"]["paymentIntentId"])
    assert stock(http, tokens["admin"], sku) == (3, 2, 0)
    # When she pays as a browser would
    pay(stack, order_id)
    # Then it is paid within 10 s, the secret is gone, and the stock is sold
    paid = wait_status(http, tokens["alice"], order_id, "PAID", deadline=10)
    assert paid["payment"] is None
    assert stock(http, tokens["admin"], sku) == (3, 0, 2)
    assert [h["status"] for h in paid["history"]] == ["PENDING", "AWAITING_PAYMENT", "PAID"]


def test_a_declined_payment_cancels_and_releases(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    _, sku = stocked_sku(http, tokens["admin"], 3)
    order_id = place(http, tokens["alice"], sku, 1).json()["orderId"]
    wait_status(http, tokens["alice"], order_id, "AWAITING_PAYMENT")
    pay(stack, order_id, decline=True)
    cancelled = wait_status(http, tokens["alice"], order_id, "CANCELLED")
    assert cancelled["reason"] == "the payment failed"
    assert stock(http, tokens["admin"], sku) == (3, 0, 0)


def test_out_of_stock_rejects_with_the_short_skus(http: Http, tokens: dict[str, str]) -> None:
    _, sku = stocked_sku(http, tokens["admin"], 2)
    order_id = place(http, tokens["alice"], sku, 3).json()["orderId"]
    rejected = wait_status(http, tokens["alice"], order_id, "REJECTED")
    assert rejected["shortSkus"] == [{"sku": sku, "requested": 3, "available": 2}]
    assert stock(http, tokens["admin"], sku) == (2, 0, 0)


def test_unknown_skus_are_named_and_nothing_is_ordered(http: Http, tokens: dict[str, str]) -> None:
    before = http("GET", "/me/orders", token=tokens["bob"]).json()["items"]
    answer = place(http, tokens["bob"], "NO-SUCH-SKU-1")
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"] == "body.items.0.sku"
    assert http("GET", "/me/orders", token=tokens["bob"]).json()["items"] == before
    # A checkout without an Idempotency-Key is refused before anything happens
    no_key = http(
        "POST",
        "/orders",
        json={"items": [{"sku": "MUG-INK", "quantity": 1}], "shippingAddress": ADDRESS},
        token=tokens["bob"],
    )
    assert no_key.status_code == 400
    assert no_key.json()["error"]["code"] == "idempotency_key_required"


def test_customer_cancels_before_paying(http: Http, tokens: dict[str, str]) -> None:
    _, sku = stocked_sku(http, tokens["admin"], 2)
    order_id = place(http, tokens["alice"], sku, 1).json()["orderId"]
    wait_status(http, tokens["alice"], order_id, "AWAITING_PAYMENT")
    # Bob may not cancel Alice's order, nor see that it exists
    assert http("POST", f"/orders/{order_id}/cancel", token=tokens["bob"]).status_code == 404
    answer = http("POST", f"/orders/{order_id}/cancel", token=tokens["alice"])
    assert answer.status_code == 202
    cancelled = wait_status(http, tokens["alice"], order_id, "CANCELLED")
    assert cancelled["reason"] == "cancelled by the customer"
    assert stock(http, tokens["admin"], sku) == (2, 0, 0)


def test_cancel_after_payment_refunds_and_restocks(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    _, sku = stocked_sku(http, tokens["admin"], 2)
    order_id = place(http, tokens["alice"], sku, 1).json()["orderId"]
    wait_status(http, tokens["alice"], order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    wait_status(http, tokens["alice"], order_id, "PAID")
    assert http("POST", f"/orders/{order_id}/cancel", token=tokens["alice"]).status_code == 202
    cancelled = wait_status(http, tokens["alice"], order_id, "CANCELLED")
    assert cancelled["refundedTotal"] == cancelled["total"]
    assert stock(http, tokens["admin"], sku) == (2, 0, 1)  # sold once, and back on the shelf


def test_ship_then_refund_in_two_parts_with_restock(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    admin, alice = tokens["admin"], tokens["alice"]
    _, sku = stocked_sku(http, admin, 4, price=2000)
    order_id = place(http, alice, sku, 2).json()["orderId"]
    wait_status(http, alice, order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    wait_status(http, alice, order_id, "PAID")
    # Only staff ship; a customer is refused
    shipment = {"carrier": "DHL", "trackingNumber": "00340434161234567890"}
    assert http("POST", f"/orders/{order_id}/shipments", json=shipment, token=alice).status_code == 403
    shipped = http("POST", f"/orders/{order_id}/shipments", json=shipment, token=admin)
    assert shipped.status_code == 200, shipped.text
    assert (shipped.json()["status"], shipped.json()["paymentStatus"], shipped.json()["fulfillmentStatus"]) == (
        "SHIPPED",
        "PAID",
        "SHIPPED",
    )
    # A partial refund, retried with its key, refunds once
    partial = {"amount": {"amount": 1500, "currency": "EUR"}, "reason": "a scratch"}
    for _ in range(2):
        answer = http(
            "POST",
            f"/orders/{order_id}/refunds",
            json=partial,
            token=admin,
            headers={"Idempotency-Key": f"{order_id}-scratch"},
        )
        assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["refundedTotal"]["amount"]) == ("PARTIALLY_REFUNDED", 1500)
    # and the order says both facts: shipped, and partly refunded
    assert (answer.json()["paymentStatus"], answer.json()["fulfillmentStatus"]) == ("PARTIALLY_REFUNDED", "SHIPPED")
    # Another customer cannot refund, and does not learn the order exists
    assert http("POST", f"/orders/{order_id}/refunds", json=partial, token=tokens["bob"]).status_code == 403
    # The rest, with the goods back on the shelf
    rest = http("POST", f"/orders/{order_id}/refunds", json={"reason": "returned", "restock": True}, token=admin)
    assert (rest.json()["status"], rest.json()["refundedTotal"]["amount"]) == ("REFUNDED", 4000)
    assert (rest.json()["paymentStatus"], rest.json()["fulfillmentStatus"]) == ("REFUNDED", "RETURNED")
    assert stock(http, admin, sku) == (4, 0, 2)
    # And nothing more can be refunded
    assert http("POST", f"/orders/{order_id}/refunds", json={"reason": "again"}, token=admin).status_code == 409


def test_ten_racing_checkouts_with_one_key_make_one_order(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    _, sku = stocked_sku(http, tokens["admin"], 5)
    key = f"race-{sku}"
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: place(http, tokens["alice"], sku, 1, key=key), range(10)))
    assert Counter(a.status_code for a in answers) == {202: 10}
    order_ids = {a.json()["orderId"] for a in answers}
    assert len(order_ids) == 1
    order_id = order_ids.pop()
    wait_status(http, tokens["alice"], order_id, "AWAITING_PAYMENT")
    # One execution, one PaymentIntent, one unit held
    executions = client("stepfunctions", stack.state()["awsEndpoint"]).list_executions(
        stateMachineArn=_machine_arn(stack)
    )["executions"]
    assert [e["name"] for e in executions].count(order_id) == 1
    intents = requests.get(
        f"{stack.state()['stripeUrl']}/v1/payment_intents",
        auth=("sk_test_storekeeper_local", ""),
        params={"limit": 100},
        timeout=10,
    ).json()["data"]
    assert [i["metadata"].get("orderId") for i in intents].count(order_id) == 1
    assert stock(http, tokens["admin"], sku) == (4, 1, 0)
    # The same key with another body is a conflict
    other = place(http, tokens["alice"], sku, 2, key=key)
    assert other.status_code == 409


def _machine_arn(stack: LocalStack) -> str:
    machines = client("stepfunctions", stack.state()["awsEndpoint"]).list_state_machines()["stateMachines"]
    return str(next(m["stateMachineArn"] for m in machines if "orders" in m["name"]))


def test_orders_are_private(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    _, sku = stocked_sku(http, tokens["admin"], 1)
    order_id = place(http, tokens["alice"], sku, 1).json()["orderId"]
    assert http("GET", f"/orders/{order_id}", token=tokens["bob"]).status_code == 404
    assert http("GET", f"/orders/{order_id}", token=tokens["support"]).status_code == 200
    assert order_id not in {o["orderId"] for o in http("GET", "/me/orders", token=tokens["bob"]).json()["items"]}
    assert order_id in {o["orderId"] for o in http("GET", "/me/orders", token=tokens["alice"]).json()["items"]}
    assert http("GET", "/admin/orders", token=tokens["alice"]).status_code == 403


def test_a_forged_webhook_is_refused_and_changes_nothing(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    _, sku = stocked_sku(http, tokens["admin"], 1)
    order_id = place(http, tokens["alice"], sku, 1).json()["orderId"]
    awaiting = wait_status(http, tokens["alice"], order_id, "AWAITING_PAYMENT")
    forged = {
        "id": "evt_forged_1",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": awaiting["payment"]["paymentIntentId"],
                "amount": 1500,
                "amount_received": 1500,
                "currency": "eur",
                "metadata": {"orderId": order_id},
            }
        },
    }
    payload = json.dumps(forged)
    answer = http(
        "POST", "/payments/webhook", data=payload, headers={"Stripe-Signature": sign(payload, "whsec_not_the_secret")}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_signature"
    unsigned = http("POST", "/payments/webhook", data=payload)
    assert unsigned.status_code == 400
    # The order still waits for a real payment
    assert http("GET", f"/orders/{order_id}", token=tokens["alice"]).json()["status"] == "AWAITING_PAYMENT"
