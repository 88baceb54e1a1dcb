"""Visits and ad spend on the running stack, through the HTTP API: every beacon counts in the sales
report's traffic (labels or not), an admin records a campaign's spend (a second PUT replaces it), and the
campaigns report sets it against the session and the paid order the campaign brought."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from math import floor
from typing import Any

import pytest
import requests

from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, poll, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]


def _traffic(http: Http, admin: str, today: str) -> tuple[int, int]:
    total = http("GET", "/reports/sales", params={"from": today, "to": today}, token=admin).json()["total"]
    return total["sessions"], total["pageViews"]


def test_spend_sets_a_campaigns_cost_against_what_it_brought(
    stack: LocalStack, http: Http, tokens: dict[str, str]
) -> None:
    admin, alice = tokens["admin"], tokens["alice"]
    today = datetime.now(UTC).date().isoformat()
    campaign = {"source": "e2e", "medium": "cpc", "campaign": f"spend-{uuid.uuid4().hex[:8]}"}
    sessions_before, views_before = _traffic(http, admin, today)

    # Given a visitor without labels who reads two pages, and one from the campaign (beacon sent twice)
    plain = uuid.uuid4().hex
    for path in ("/", "/about"):
        assert http("POST", "/analytics/visits", json={"sessionId": plain, "path": path}).status_code == 200
    labelled = {"sessionId": uuid.uuid4().hex, "path": "/", **campaign}
    assert [http("POST", "/analytics/visits", json=labelled).json()["counted"] for _ in range(2)] == [True, False]

    # Then the sales report's traffic counts both sessions once and every page view
    # (tests run one by one: nothing else sends beacons meanwhile)
    assert _traffic(http, admin, today) == (sessions_before + 2, views_before + 4)

    # When an admin records the campaign's spend for today, then corrects it
    path = f"/reports/campaigns/{campaign['campaign']}/spend"
    first = http("PUT", path, json={"date": today, "amount": {"amount": 9999, "currency": "EUR"}}, token=admin)
    assert first.status_code == 200, first.text
    corrected = http("PUT", path, json={"date": today, "amount": {"amount": 700, "currency": "EUR"}}, token=admin)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json() == {
        "campaign": campaign["campaign"],
        "date": today,
        "amount": {"amount": 700, "currency": "EUR"},
    }
    # (customers and support may not)
    refused = http("PUT", path, json={"date": today, "amount": {"amount": 1, "currency": "EUR"}}, token=alice)
    assert refused.status_code == 403

    # And the visitor orders from the campaign and pays
    _, sku = stocked_sku(http, admin, 2)
    body = {"items": [{"sku": sku, "quantity": 1}], "shippingAddress": ADDRESS, "attribution": campaign}
    placed = http("POST", "/orders", json=body, token=alice, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["orderId"]
    wait_status(http, alice, order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    total = wait_status(http, alice, order_id, "PAID")["total"]["amount"]

    # Then the campaigns report shows the session, the order, the corrected spend and what it bought
    def row() -> dict[str, Any] | None:
        items = http("GET", "/reports/campaigns", params={"from": today, "to": today}, token=admin).json()["items"]
        return next((r for r in items if r["campaign"] == campaign["campaign"]), None)

    found = poll(row, lambda r: r is not None and r["orders"] == 1)
    assert (found["source"], found["medium"], found["sessions"], found["conversionRate"]) == ("e2e", "cpc", 1, 1.0)
    assert (found["revenue"]["amount"], found["spend"]["amount"], found["costPerOrder"]["amount"]) == (total, 700, 700)
    expected_roas = floor(Fraction(total * 10_000, 700) + Fraction(1, 2)) / 10_000
    assert found["returnOnAdSpend"] == expected_roas
