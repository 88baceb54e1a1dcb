"""Affiliate clicks (the visit beacon's `AffiliateClicked`), the attribution window, and the affiliate's
daily figures. Time moves by the times the events carry (`clickedAt`, the order's `createdAt`), never by
waiting: a click on day 0 and an order on day 31 are two events a month apart."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from affiliates import jobs
from tests.integration.affiliates.conftest import T0, Call, Deliver, Partner, bus_event, days, paid, snapshot

Approve = Callable[..., Partner]
VISITOR = "v_visitor_0001"


def clicked(code: str, at: datetime, visitor: str = VISITOR) -> dict[str, Any]:
    """The AffiliateClicked the beacon publishes, with its event id (one per visitor, code and day)."""
    data = {"code": code, "visitorId": visitor, "sessionId": f"s_{visitor}", "clickedAt": at.isoformat()}
    event = bus_event("AffiliateClicked", f"AffiliateClicked#{code}#{visitor}#{at.date()}", data, at)
    event["source"] = "storekeeper.reports"
    return event


@pytest.fixture
def click(lambda_context: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Hand a click to `affiliates.jobs.clicks_handler` as the EventBridge rule would."""
    return lambda event: jobs.clicks_handler(event, lambda_context)


def order_from(order_id: str, code: str, placed_at: datetime, visitor: str | None = VISITOR) -> dict[str, Any]:
    order = snapshot(order_id, total=10_000, code=code, placed_at=placed_at)
    order["attribution"] = {"visitorId": visitor} if visitor else None
    return order


def test_an_order_within_the_window_of_the_first_click_earns_even_in_a_later_session(
    call: Call, deliver: Deliver, approved_affiliate: Approve, click: Callable[..., dict[str, Any]]
) -> None:
    # Given a visitor who arrived with the code on day 0
    partner = approved_affiliate(rate=0.10)
    assert click(clicked(partner.code, T0)) == {"outcome": "recorded", "reason": None}
    # When, 29 days later in another session, they order with the code the storefront kept
    answer = deliver(paid(order_from("o_inside", partner.code, T0 + days(29)), T0 + days(29)))
    # Then the order earns its commission
    assert answer == {"outcome": "recorded", "reason": None}


def test_a_code_whose_first_click_is_older_than_the_window_earns_nothing(
    call: Call, deliver: Deliver, approved_affiliate: Approve, click: Callable[..., dict[str, Any]]
) -> None:
    # Given a visitor who first arrived with the code on day 0, and again on day 20
    partner = approved_affiliate(rate=0.10)
    click(clicked(partner.code, T0))
    click(clicked(partner.code, T0 + days(20)))
    # When they order on day 31 (the window is 30 days, from the first click; a later click does not renew it)
    answer = deliver(paid(order_from("o_late", partner.code, T0 + days(31)), T0 + days(31)))
    # Then nothing is earned
    assert answer == {"outcome": "ignored", "reason": "the first click is older than the attribution window"}
    mine = call("GET", "/affiliates/me/commissions", user=partner.user, groups=["affiliate"])
    assert mine.body["items"] == []
    # And another visitor's first click, on day 20, still makes their day-31 order earn
    click(clicked(partner.code, T0 + days(20), visitor="v_visitor_0002"))
    other = deliver(paid(order_from("o_other", partner.code, T0 + days(31), visitor="v_visitor_0002")))
    assert other["outcome"] == "recorded"


def test_a_late_refund_still_reverses_a_commission_recorded_before_the_click_arrived(
    call: Call, deliver: Deliver, approved_affiliate: Approve, click: Callable[..., dict[str, Any]]
) -> None:
    # Given an order paid (and earning) before any click of its visitor was recorded
    partner = approved_affiliate(rate=0.10)
    order = order_from("o_race", partner.code, T0 + days(40))
    assert deliver(paid(order))["outcome"] == "recorded"
    # When a click from long before arrives late, and then the order is refunded in full
    click(clicked(partner.code, T0))
    after = {**order, "refundedTotal": {"amount": 10_000, "currency": "EUR"}, "status": "REFUNDED"}
    data = {"order": after, "refundId": "r_1", "amount": {"amount": 10_000, "currency": "EUR"}, "restocked": False}
    answer = deliver(bus_event("OrderRefunded", "OrderRefunded#o_race#r_1", data))
    # Then the recorded commission is reversed, not left standing because of the window
    assert answer["outcome"] == "recorded"
    [entry] = call("GET", "/affiliates/me/commissions", user=partner.user, groups=["affiliate"]).body["items"]
    assert entry["status"] == "REVERSED"


def test_an_order_with_a_code_but_no_recorded_click_earns_as_before(
    deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given an API client's order with the code and no visitor id, and a visitor with no recorded click
    partner = approved_affiliate(rate=0.10)
    # Then both earn (the window binds where a click is known: docs/decisions.md)
    assert deliver(paid(order_from("o_api", partner.code, T0, visitor=None)))["outcome"] == "recorded"
    assert deliver(paid(order_from("o_unseen", partner.code, T0, visitor="v_never_seen")))["outcome"] == "recorded"


def test_clicks_of_unknown_codes_write_nothing_and_a_redelivered_click_counts_once(
    call: Call, approved_affiliate: Approve, click: Callable[..., dict[str, Any]]
) -> None:
    partner = approved_affiliate(rate=0.10)
    assert click(clicked("NOSUCHCODE", T0)) == {"outcome": "ignored", "reason": "unknown affiliate code"}
    event = clicked(partner.code.lower(), T0)
    assert click(event)["outcome"] == "recorded"
    assert click(event) == {"outcome": "duplicate", "reason": None}
    stats = call(
        "GET",
        "/affiliates/me/stats",
        user=partner.user,
        groups=["affiliate"],
        query={"from": "2030-01-01", "to": "2030-01-01"},
    )
    assert stats.status == 200, stats.body
    assert stats.body["total"]["clicks"] == 1


def test_stats_show_clicks_orders_conversion_and_commissions_per_day(
    call: Call, deliver: Deliver, approved_affiliate: Approve, click: Callable[..., dict[str, Any]]
) -> None:
    # Given four visitors clicking on 1 January, one of whom orders (100.00 at 10 %) on 2 January
    partner = approved_affiliate(rate=0.10)
    for n in range(4):
        click(clicked(partner.code, T0, visitor=f"v_visitor_100{n}"))
    deliver(paid(order_from("o_conv", partner.code, T0 + days(1), visitor="v_visitor_1000"), T0 + days(1)))
    # When the affiliate asks for 1 to 3 January
    query = {"from": "2030-01-01", "to": "2030-01-03"}
    answer = call("GET", "/affiliates/me/stats", user=partner.user, groups=["affiliate"], query=query)
    # Then each day is there, with its clicks, orders, conversion and commissions
    assert answer.status == 200, answer.body
    rows = {row["day"]: row for row in answer.body["days"]}
    assert list(rows) == ["2030-01-01", "2030-01-02", "2030-01-03"]
    assert (rows["2030-01-01"]["clicks"], rows["2030-01-01"]["orders"], rows["2030-01-01"]["conversion"]) == (4, 0, 0.0)
    assert (rows["2030-01-02"]["orders"], rows["2030-01-02"]["commissions"]["amount"]) == (1, 1000)
    assert rows["2030-01-02"]["conversion"] is None
    total = answer.body["total"]
    assert (total["clicks"], total["orders"], total["conversion"], total["commissions"]["amount"]) == (4, 1, 0.25, 1000)


def test_stats_refuse_a_backwards_or_too_long_period_and_a_caller_without_an_account(
    call: Call, approved_affiliate: Approve
) -> None:
    partner = approved_affiliate()
    backwards = call(
        "GET",
        "/affiliates/me/stats",
        user=partner.user,
        groups=["affiliate"],
        query={"from": "2030-02-01", "to": "2030-01-01"},
    )
    assert backwards.status == 422
    too_long = call(
        "GET",
        "/affiliates/me/stats",
        user=partner.user,
        groups=["affiliate"],
        query={"from": "2029-01-01", "to": "2030-01-05"},
    )
    assert too_long.status == 422
    assert call("GET", "/affiliates/me/stats", groups=["affiliate"]).status == 404
    assert call("GET", "/affiliates/me/stats", groups=[]).status == 403
