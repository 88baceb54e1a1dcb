"""Customer emails on the running stack, read from the outbox as a person would open them: paying an
order sends the buyer exactly one confirmation (with the order id and the total), shipping one with the
tracking number, a refund one; the same event delivered three more times changes nothing."""

import json
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3

from tests.e2e.localstack import LocalStack
from tests.e2e.shop import Http, pay, place, poll, stocked_sku, wait_status

BUYER = "alice@example.com"


def outbox(stack: LocalStack) -> list[EmailMessage]:
    folder = Path(stack.state()["outbox"])
    messages = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def about(stack: LocalStack, order_id: str) -> list[EmailMessage]:
    return [m for m in outbox(stack) if order_id in str(m["Subject"])]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def euros(money: dict[str, Any]) -> str:
    return f"€{money['amount'] / 100:,.2f}"


def redeliver(stack: LocalStack, detail_type: str, event_id: str, order: dict[str, Any], times: int = 3) -> None:
    """Put an order event on the local bus again under its original eventId, as EventBridge's retries (or
    a re-publishing orders) would: the snapshot is rebuilt from the order's answer."""
    snapshot = {
        "orderId": order["orderId"],
        "customerId": order["customerId"],
        "status": order["status"],
        "lines": [],
        "subtotal": order["subtotal"],
        "discount": order["discount"],
        "total": order["total"],
        "refundedTotal": order["refundedTotal"],
        "email": BUYER,
        "createdAt": order["createdAt"],
    }
    data: Any = {"eventId": event_id, "occurredAt": datetime.now(UTC).isoformat(), "data": snapshot}
    if detail_type == "OrderRefunded":
        data["data"] = {
            "order": snapshot,
            "refundId": event_id.rsplit("#", 1)[1],
            "amount": order["refundedTotal"],
            "restocked": False,
        }
    state = stack.state()
    events = boto3.client(
        "events",
        endpoint_url=state["awsEndpoint"],
        region_name=state["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bus = next(name for name in events.list_event_buses()["EventBuses"] if name["Name"] != "default")["Name"]
    entry = {"Source": "storekeeper.orders", "DetailType": detail_type, "Detail": json.dumps(data), "EventBusName": bus}
    for _ in range(times):
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0  # type: ignore[list-item]


def settle(stack: LocalStack) -> None:
    """Wait until the notifications function has worked through what was put before: a staff alert put
    after them (a low-stock event of a SKU nobody has) shows up in the outbox once they are behind it."""
    sku = f"SENTINEL-{uuid.uuid4().hex[:8].upper()}"
    state = stack.state()
    events = boto3.client(
        "events",
        endpoint_url=state["awsEndpoint"],
        region_name=state["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bus = next(name for name in events.list_event_buses()["EventBuses"] if name["Name"] != "default")["Name"]
    data = {
        "eventId": f"StockLow#{sku}#1",
        "occurredAt": datetime.now(UTC).isoformat(),
        "data": {"sku": sku, "available": 0, "threshold": 0, "crossing": 1},
    }
    entry = {
        "Source": "storekeeper.inventory",
        "DetailType": "StockLow",
        "Detail": json.dumps(data),
        "EventBusName": bus,
    }
    events.put_events(Entries=[entry])  # type: ignore[list-item]
    poll(lambda: [m for m in outbox(stack) if sku in str(m["Subject"])], lambda found: len(found) == 1)


def test_paid_shipped_and_refunded_orders_email_the_buyer_once_each(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    admin, alice = tokens["admin"], tokens["alice"]
    _, sku = stocked_sku(http, admin, 3, price=2000)

    # When alice's order is paid
    order_id = place(http, alice, sku, 1).json()["orderId"]
    wait_status(http, alice, order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    paid = wait_status(http, alice, order_id, "PAID")

    # Then exactly one confirmation reaches her, naming the order and its total, replies going to support
    (confirmation,) = poll(lambda: about(stack, order_id), lambda found: len(found) >= 1)
    assert confirmation["To"] == BUYER
    assert confirmation["Reply-To"] == "support@example.com"
    assert euros(paid["total"]) in text_of(confirmation)
    assert confirmation.get_body(preferencelist=("html",)) is not None

    # When staff ship it
    shipment = {"carrier": "DHL", "trackingNumber": f"JD{uuid.uuid4().hex[:12].upper()}"}
    assert http("POST", f"/orders/{order_id}/shipments", json=shipment, token=admin).status_code == 200

    # Then one email carries the tracking number
    found = poll(lambda: about(stack, order_id), lambda found: len(found) >= 2)
    assert shipment["trackingNumber"] in text_of(found[1]) and found[1]["To"] == BUYER

    # When part of it is refunded
    refund = {"amount": {"amount": 500, "currency": "EUR"}, "reason": "a scratch"}
    answer = http(
        "POST", f"/orders/{order_id}/refunds", json=refund, token=admin, headers={"Idempotency-Key": f"{order_id}-r"}
    )
    assert answer.status_code == 200, answer.text

    # Then one email says how much
    found = poll(lambda: about(stack, order_id), lambda found: len(found) >= 3)
    assert "€5.00" in text_of(found[2]) and found[2]["To"] == BUYER

    # When each of the three events is delivered three more times under its own eventId
    order = http("GET", f"/orders/{order_id}", token=alice).json()
    refund_id = order["refunds"][0]["refundId"]
    redeliver(stack, "OrderPaid", f"OrderPaid#{order_id}", order)
    redeliver(stack, "OrderShipped", f"OrderShipped#{order_id}", order)
    redeliver(stack, "OrderRefunded", f"OrderRefunded#{order_id}#{refund_id}", order)
    settle(stack)

    # Then still one email each
    assert len(about(stack, order_id)) == 3


def test_a_declined_payment_emails_the_way_back_to_the_shop(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    admin, alice = tokens["admin"], tokens["alice"]
    _, sku = stocked_sku(http, admin, 2, price=1200)

    # When alice's card is declined and the order is cancelled for it
    order_id = place(http, alice, sku, 1).json()["orderId"]
    wait_status(http, alice, order_id, "AWAITING_PAYMENT")
    pay(stack, order_id, decline=True)
    cancelled = wait_status(http, alice, order_id, "CANCELLED")
    assert cancelled["paymentStatus"] == "FAILED"

    # Then one email tells her, with the way back to the shop
    (sent,) = poll(lambda: about(stack, order_id), lambda found: len(found) >= 1)
    assert sent["To"] == BUYER and "payment" in str(sent["Subject"]).lower()
    assert "https://shop.example.com" in text_of(sent)  # the template's ShopUrl
    settle(stack)
    assert len(about(stack, order_id)) == 1
