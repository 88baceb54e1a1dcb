"""Visits and ad spend: every beacon counts (sessions once a day, per path; page views each time), with or
without campaign labels; staff record a campaign's spend per day (a PUT replaces it); and the campaigns
report sets spend against what the campaign brought — conversion, cost per order, return on ad spend —
with exact arithmetic, on a small fixed world."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reports import admin_api as api
from reports import public_api as beacon
from reports.logic import queries, visits
from reports.models import ReportGranularity, VisitIn
from tests.proxy import Answer

from .conftest import TABLE, World, order, paid

DAY = datetime(2030, 3, 30, 10, 0, tzinfo=UTC)
NEXT = DAY + timedelta(days=1)
UTC_ZONE = ZoneInfo("UTC")
Call = Callable[..., Answer]


@pytest.fixture
def env(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    for name, value in {
        "REPORTS_TABLE": TABLE,
        "SHOP_TIMEZONE": "UTC",
        "SHOP_CURRENCY": "EUR",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    return world


@pytest.fixture
def call(env: World, api_event: Callable[..., dict[str, Any]], lambda_context: Any) -> Call:
    def request(method: str, path: str, *, body: Any = None, query: Any = None, groups: Any = None) -> Answer:
        event = api_event(method, path, body=body, query=query, groups=["admin"] if groups is None else groups)
        return Answer.of(api.handler(event, lambda_context))

    return request


def seen(store: Any, at: datetime, session: str, path: str = "/", **labels: str) -> bool:
    """A beacon as the storefront sends it, counted at `at` (the handler counts at the time it runs)."""
    visit = VisitIn.model_validate({"sessionId": session, "path": path, **labels})
    return visits.count(store, visit, at, UTC_ZONE)


def spend(call: Call, campaign: str, day: datetime, amount: int, currency: str = "EUR") -> Answer:
    body = {"date": day.date().isoformat(), "amount": {"amount": amount, "currency": currency}}
    return call("PUT", f"/reports/campaigns/{campaign}/spend", body=body)


def test_every_beacon_counts_sessions_and_page_views_without_labels(env: World, call: Call) -> None:
    # Given two sessions without any campaign label: one reads two pages (one of them twice), one reads one
    first = [seen(env.store, DAY, "session-aaaa", "/"), seen(env.store, DAY, "session-aaaa", "/products")]
    again = seen(env.store, DAY, "session-aaaa", "/")
    other = seen(env.store, DAY, "session-bbbb", "/")
    # And the first session comes back the next day
    next_day = seen(env.store, NEXT, "session-aaaa", "/")

    # Then each session counted once a day, and every beacon was a page view
    assert (first, again, other, next_day) == ([True, True], False, True, True)
    report = call("GET", "/reports/sales", query={"from": DAY.date().isoformat(), "to": NEXT.date().isoformat()})
    assert report.status == 200, report.body
    traffic = [(row["period"], row["sessions"], row["pageViews"]) for row in report.body["rows"]]
    assert traffic == [(DAY.date().isoformat(), 2, 4), (NEXT.date().isoformat(), 1, 1)]
    assert (report.body["total"]["sessions"], report.body["total"]["pageViews"]) == (3, 5)
    # And per path: sessions once per path, views each time
    paths = {row["SK"]: (row["sessions"], row["views"]) for row in env.store.rows(f"DAY#{DAY.date()}", "PATH#")}
    assert paths == {"PATH#/": (2, 3), "PATH#/products": (1, 1)}
    # And no campaign appears for traffic that named none
    assert queries.campaigns(env.store, DAY.date(), NEXT.date(), "EUR") == []


def test_the_beacon_counts_unlabelled_visits_through_its_handler(
    env: World, api_event: Callable[..., dict[str, Any]], lambda_context: Any
) -> None:
    def post(body: dict[str, Any]) -> tuple[int, Any]:
        raw: Any = beacon.handler(api_event("POST", "/analytics/visits", body=body), lambda_context)
        return int(raw["statusCode"]), json.loads(raw["body"])

    # Given a visit with no labels, sent twice, and another page of the same session
    answers = [post({"sessionId": "session-cccc", "path": p}) for p in ("/", "/", "/about")]

    # Then its session counted once (and once on the new path), and its three page views all counted
    assert answers == [(200, {"counted": True}), (200, {"counted": False}), (200, {"counted": True})]
    today = datetime.now(UTC).date()
    (row,) = queries.sales(env.store, today, today, ReportGranularity.DAY, "EUR").rows
    assert (row.sessions, row.page_views) == (1, 3)


def test_a_put_replaces_the_days_spend(env: World, call: Call) -> None:
    # Given spend recorded for a campaign on a day
    recorded = spend(call, "spring", DAY, 5000)
    assert recorded.status == 200, recorded.body
    assert recorded.body == {
        "campaign": "spring",
        "date": DAY.date().isoformat(),
        "amount": {"amount": 5000, "currency": "EUR"},
    }

    # When it is corrected, and the same correction is sent again
    corrected = [spend(call, "spring", DAY, 4200) for _ in range(2)]

    # Then the day's spend is the last figure, not a sum
    assert [a.status for a in corrected] == [200, 200]
    (row,) = queries.campaigns(env.store, DAY.date(), DAY.date(), "EUR")
    assert (row.campaign, row.spend.amount, row.sessions, row.orders) == ("spring", 4200, 0, 0)
    assert (row.cost_per_order, row.return_on_ad_spend, row.revenue.amount) == (None, 0.0, 0)


def test_spend_is_refused_when_it_cannot_add_up(env: World, call: Call) -> None:
    # Another currency than the shop's, the "no campaign" label, a negative amount, or a caller not admin
    other_currency = spend(call, "spring", DAY, 100, currency="USD")
    assert (other_currency.status, other_currency.error["code"]) == (422, "validation_failed")
    assert other_currency.error["details"][0]["field"] == "body.amount.currency"
    assert spend(call, "-", DAY, 100).status == 422
    assert spend(call, "spring", DAY, -1).status == 422
    body = {"date": DAY.date().isoformat(), "amount": {"amount": 100, "currency": "EUR"}}
    assert call("PUT", "/reports/campaigns/spring/spend", body=body, groups=["support"]).status == 403
    # And nothing was recorded
    assert queries.campaigns(env.store, DAY.date(), DAY.date(), "EUR") == []


def test_campaign_figures_on_a_small_fixed_world(env: World, call: Call, deliver: Callable[..., bool]) -> None:
    google = {"source": "google", "medium": "cpc"}
    meta = {"source": "meta", "medium": "social"}
    # Given "spring" ran on two sources over two days: 4 sessions (one of them seen twice), 2 orders
    for at, session, labels in [
        (DAY, "session-0001", google),
        (DAY, "session-0001", google),
        (DAY, "session-0002", google),
        (NEXT, "session-0003", google),
        (NEXT, "session-0004", meta),
    ]:
        seen(env.store, at, session, "/", campaign="spring", **labels)
    assert deliver(paid(order(lines=[("p_a", 1, 3000)], attribution={**google, "campaign": "spring"}), DAY))
    assert deliver(paid(order(lines=[("p_b", 1, 2000)], attribution={**meta, "campaign": "spring"}), NEXT))
    # And "autumn" brought one order of 123.45 from one session; "winter" brought nothing
    seen(env.store, DAY, "session-0005", "/", campaign="autumn", **google)
    assert deliver(paid(order(lines=[("p_c", 1, 12345)], attribution={**google, "campaign": "autumn"}), DAY))
    # And newsletter traffic without a campaign label
    seen(env.store, DAY, "session-0006", "/", source="mail", medium="email")
    # And the spend: spring 10.00 + 0.01 over the two days, autumn 200.00, winter 10.00
    for campaign, at, amount in [("spring", DAY, 1000), ("spring", NEXT, 1), ("autumn", DAY, 20000)]:
        assert spend(call, campaign, at, amount).status == 200
    assert spend(call, "winter", NEXT, 1000).status == 200

    # When staff read the campaigns report for the two days
    report = call("GET", "/reports/campaigns", query={"from": DAY.date().isoformat(), "to": NEXT.date().isoformat()})

    # Then each campaign's figures are exact
    assert report.status == 200, report.body
    rows = {row["campaign"] if row["campaign"] != "-" else row["source"]: row for row in report.body["items"]}
    spring, autumn, winter, mail = rows["spring"], rows["autumn"], rows["winter"], rows["mail"]
    assert (spring["source"], spring["medium"]) == ("google, meta", "cpc, social")
    assert (spring["sessions"], spring["orders"], spring["revenue"]["amount"]) == (4, 2, 5000)
    assert spring["conversionRate"] == 0.5
    # 1001 / 2 = 500.5, half up to the cent; 5000 / 1001 = 4.99500..., to 4 places
    assert (spring["spend"]["amount"], spring["costPerOrder"]["amount"]) == (1001, 501)
    assert spring["returnOnAdSpend"] == 4.995
    # 12345 / 20000 = 0.61725 exactly: half up is 0.6173 (a float's round() says 0.6172)
    assert (autumn["sessions"], autumn["orders"], autumn["conversionRate"]) == (1, 1, 1.0)
    assert (autumn["costPerOrder"]["amount"], autumn["returnOnAdSpend"]) == (20000, 0.6173)
    # Spend with nothing to show for it: no cost per order, a return of 0
    assert (winter["sessions"], winter["orders"], winter["conversionRate"]) == (0, 0, None)
    assert (winter["spend"]["amount"], winter["costPerOrder"], winter["returnOnAdSpend"]) == (1000, None, 0.0)
    # Unlabelled traffic keeps its source and medium, and carries no spend
    assert (mail["medium"], mail["sessions"], mail["orders"], mail["spend"]["amount"]) == ("email", 1, 0, 0)
    assert mail["returnOnAdSpend"] is None
    # And a period that leaves a day out leaves its spend out
    (only_next,) = [r for r in queries.campaigns(env.store, NEXT.date(), NEXT.date(), "EUR") if r.campaign == "spring"]
    assert (only_next.spend.amount, only_next.orders, only_next.sessions) == (1, 1, 2)
