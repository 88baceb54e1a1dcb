"""Reports on the running stack: orders (one from a campaign, one refunded) reach the aggregates
through the bus, the visit beacon counts sessions, and the daily report emailed for today agrees
with `GET /reports/sales`."""

import csv
import email
import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, poll, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]


def _order(http: Http, token: str, sku: str, attribution: dict[str, str] | None = None) -> str:
    body = {
        "items": [{"sku": sku, "quantity": 1}],
        "shippingAddress": ADDRESS,
        **({"attribution": attribution} if attribution else {}),
    }
    placed = http("POST", "/orders", json=body, token=token, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 202, placed.text
    return str(placed.json()["orderId"])


def test_the_daily_report_agrees_with_the_api(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    admin, alice = tokens["admin"], tokens["alice"]
    today = datetime.now(UTC).date().isoformat()
    campaign = {"source": "e2e", "medium": "test", "campaign": uuid.uuid4().hex[:8]}
    # Given a visitor from a campaign, who then orders and pays; and another order, paid then refunded
    session = uuid.uuid4().hex
    visit = {"sessionId": session, "path": "/", **campaign}
    assert http("POST", "/analytics/visits", json=visit).status_code == 202
    assert http("POST", "/analytics/visits", json=visit).json() == {"counted": False}  # one session, counted once
    _, sku = stocked_sku(http, admin, 5)
    from_campaign = _order(http, alice, sku, campaign)
    refunded = _order(http, alice, sku)
    for order_id in (from_campaign, refunded):
        wait_status(http, alice, order_id, "AWAITING_PAYMENT")
        pay(stack, order_id)
        wait_status(http, alice, order_id, "PAID")
    assert http("POST", f"/orders/{refunded}/refunds", json={"reason": "changed mind"}, token=admin).status_code == 200

    # Then the campaign report shows the session and the order (the bus delivers asynchronously)
    def campaign_row() -> dict[str, object] | None:
        rows = http("GET", "/reports/campaigns", params={"from": today, "to": today}, token=admin).json()["items"]
        return next((r for r in rows if r["campaign"] == campaign["campaign"]), None)

    row = poll(campaign_row, lambda r: r is not None and r["orders"] == 1)
    assert (row["sessions"], row["conversionRate"]) == (1, 1.0)
    sales = poll(
        lambda: http("GET", "/reports/sales", params={"from": today, "to": today}, token=admin).json(),
        lambda s: s["total"]["refunds"]["amount"] >= 1500,
    )
    # Customers may not read reports
    assert http("GET", "/reports/sales", token=alice).status_code == 403

    # When the daily report is run for today (nothing else is ordering meanwhile: tests run one by one)
    api_total = http("GET", "/reports/sales", params={"from": today, "to": today}, token=admin).json()["total"]
    outbox = Path(stack.state()["outbox"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    ran = stack.cli("trigger", "daily-report", "--input", json.dumps({"period": today}))
    record = json.loads(ran.stdout)
    assert record["status"] == "SENT"

    # Then an email is in the outbox with the CSV attached and the chart inline
    (sent,) = set(outbox.glob("*.eml")) - before
    mail = email.message_from_bytes(sent.read_bytes())
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert parts["image/png"].get_content_disposition() == "inline"
    attached = [p for p in mail.walk() if p.get_filename() == f"sales-{today}.csv"]
    (line,) = list(csv.DictReader(io.StringIO(attached[0].get_payload(decode=True).decode())))
    # And its figures are the API's
    assert sales["total"]["refunds"]["amount"] >= 1500
    assert (int(line["orders"]), int(line["gross"]), int(line["refunds"]), int(line["net"])) == (
        api_total["orders"],
        api_total["gross"]["amount"],
        api_total["refunds"]["amount"],
        api_total["net"]["amount"],
    )
    # A second run for the same day sends nothing
    again = json.loads(stack.cli("trigger", "daily-report", "--input", json.dumps({"period": today})).stdout)
    assert again["runId"] == record["runId"]
    assert set(outbox.glob("*.eml")) - before == {sent}
