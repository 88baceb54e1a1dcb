"""Reports on the running stack: orders (one from a campaign, one refunded) reach the aggregates
through the bus, the visit beacon counts sessions, and the daily report emailed for today agrees
with `GET /reports/sales`. A run asked for through the API is queued, followed until DONE, and its
files are downloaded through the API's redirect."""

import csv
import email
import email.policy
import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
    # (the day's figures so far, from earlier tests: this test's own events are waited for on top of them)
    earlier = http("GET", "/reports/sales", params={"from": today, "to": today}, token=admin).json()["total"]
    assert http("POST", "/analytics/visits", json=visit).status_code == 200  # counted: nothing to follow
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
        # both orders and the refund counted (the queue delivers in batches, a moment after the facts)
        lambda s: (
            s["total"]["orders"] >= earlier["orders"] + 2
            and s["total"]["refunds"]["amount"] >= earlier["refunds"]["amount"] + 1500
        ),
    )
    # Customers may not read reports
    assert http("GET", "/reports/sales", token=alice).status_code == 403

    # When the daily report is run for today (nothing else is ordering meanwhile: tests run one by one)
    api_total = http("GET", "/reports/sales", params={"from": today, "to": today}, token=admin).json()["total"]
    outbox = Path(stack.state()["outbox"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    ran = stack.cli("trigger", "daily-report", "--input", json.dumps({"period": today}))
    record = json.loads(ran.stdout)
    assert record["status"] == "DONE"

    # Then an email is in the outbox with the CSV attached and the chart inline (the order's own emails,
    # sent by notifications as the bus delivers its events, may land meanwhile: they are not the report)
    def daily() -> set[Path]:
        new = set(outbox.glob("*.eml")) - before
        return {m for m in new if str(email.message_from_bytes(m.read_bytes())["Subject"]).startswith("Daily report")}

    (sent,) = daily()
    mail = email.message_from_bytes(sent.read_bytes())
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert parts["image/png"].get_content_disposition() == "inline"
    attached = [p for p in mail.walk() if p.get_filename() == f"sales-{today}.csv"]
    (line,) = list(csv.DictReader(io.StringIO(bytes(attached[0].get_payload(decode=True)).decode())))
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
    assert daily() == {sent}


def test_a_run_asked_through_the_api_is_followed_until_done(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    today = datetime.now(UTC).date()
    monday = (today - timedelta(days=today.weekday())).isoformat()
    outbox = Path(stack.state()["outbox"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()

    # When an admin asks for this week's report
    asked = http("POST", "/reports/runs", json={"kind": "weekly-report", "period": monday}, token=admin)

    # Then the API answers at once with the run queued and where to follow it
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] in ("QUEUED", "RUNNING", "DONE")  # the run function may be quick
    location = asked.headers["Location"]
    assert location == f"/reports/runs/{asked.json()['runId']}"

    # And the run, followed there, is DONE with its files (the run function ran asynchronously)
    run = poll(lambda: http("GET", location, token=admin).json(), lambda r: r["status"] in ("DONE", "FAILED"))
    assert run["status"] == "DONE", run
    files = {f["name"]: f["url"] for f in run["files"]}
    assert f"sales-{monday}.csv" in files and "chart.png" in files

    # When the admin downloads a file through the API
    redirect = http("GET", files[f"sales-{monday}.csv"], token=admin, allow_redirects=False)

    # Then it is a redirect to a fresh short-lived link, which serves the CSV without a token
    assert redirect.status_code == 302, redirect.text
    downloaded = requests.get(redirect.headers["Location"], timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.text.startswith("period,orders,units,gross")
    # Others may not; an unknown file is a 404
    assert http("GET", files[f"sales-{monday}.csv"], token=tokens["alice"], allow_redirects=False).status_code == 403
    assert http("GET", f"{location}/files/nothing.csv", token=admin, allow_redirects=False).status_code == 404

    # And the email went out once, with the files attached and no link that expires
    def weekly() -> list[Path]:  # other tests' emails (order notifications) may arrive meanwhile
        new = set(outbox.glob("*.eml")) - before
        subjects = {
            m: str(email.message_from_bytes(m.read_bytes(), policy=email.policy.default)["Subject"]) for m in new
        }
        return [m for m, subject in subjects.items() if subject.startswith(f"Weekly report {monday}")]

    (sent,) = poll(weekly, lambda found: len(found) >= 1)
    mail = email.message_from_bytes(sent.read_bytes())
    attached = {p.get_filename() for p in mail.walk() if p.get_content_disposition() == "attachment"}
    assert f"sales-{monday}.csv" in attached
    html_part = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    html = bytes(html_part.get_payload(decode=True)).decode()
    assert "href=" not in html and "X-Amz-" not in html
    # Asking again answers the same run
    again = http("POST", "/reports/runs", json={"kind": "weekly-report", "period": monday}, token=admin)
    assert (again.status_code, again.json()["runId"]) == (202, run["runId"])
