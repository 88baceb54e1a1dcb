"""The visit beacon hands a visit that carries an affiliate's code (`ref`) to affiliates as one
`AffiliateClicked` per visitor, code and day; a visit without one publishes nothing."""

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from common.contracts import AffiliateDay, CommissionEarned
from common.money import Money
from reports import public_api as beacon
from reports.logic import runs
from reports.models import ReportKind
from tests.bus import BusObserver

from .conftest import REGION, TABLE, World

BUS = "store-events-test"
MAY = datetime(2030, 5, 10, 12, tzinfo=UTC)


@pytest.fixture
def observer(world: World, monkeypatch: pytest.MonkeyPatch) -> BusObserver:
    for name, value in {"REPORTS_TABLE": TABLE, "SHOP_TIMEZONE": "UTC", "EVENT_BUS_NAME": BUS}.items():
        monkeypatch.setenv(name, value)
    events = boto3.client("events", region_name=REGION)
    events.create_event_bus(Name=BUS)
    return BusObserver.on(events, boto3.client("sqs", region_name=REGION), BUS)


def test_a_visit_with_a_ref_publishes_one_click_per_visitor_and_day(
    observer: BusObserver, api_event: Callable[..., dict[str, Any]], lambda_context: Any
) -> None:
    def post(body: dict[str, Any]) -> int:
        raw: Any = beacon.handler(api_event("POST", "/analytics/visits", body=body), lambda_context)
        return int(raw["statusCode"])

    # Given a visitor landing with `?ref=trail42`, reloading the page, and a visit without a code
    visit = {"sessionId": "session-dddd", "visitorId": "visitor-0001", "path": "/", "ref": "trail42"}
    assert [post(visit), post(visit), post({"sessionId": "session-eeee", "path": "/"})] == [200, 200, 200]

    # Then affiliates is handed the click, with the code as codes are kept and the visitor's id
    clicks = [e for e in observer.published() if e["detail-type"] == "AffiliateClicked"]
    assert {e["source"] for e in clicks} == {"storekeeper.reports"}
    data = [e["detail"]["data"] for e in clicks]
    assert {(d["code"], d["visitorId"], d["sessionId"]) for d in data} == {("TRAIL42", "visitor-0001", "session-dddd")}
    # And both deliveries carry one event id, so affiliates records the click once
    assert len({e["detail"]["eventId"] for e in clicks}) == 1
    assert json.dumps(data[0]).count("clickedAt") == 1


class FakeAffiliateDays:
    """Affiliates' read model as the statement reads it: a few days of one affiliate's figures."""

    def __init__(self, days: dict[str, AffiliateDay]) -> None:
        self.known = days
        self.asked: list[tuple[str, date, date]] = []

    def days(self, affiliate_id: str, start: date, end: date) -> list[AffiliateDay]:
        self.asked.append((affiliate_id, start, end))
        every = (start + timedelta(days=n) for n in range((end - start).days + 1))
        return [self.known.get(d.isoformat()) or AffiliateDay(day=d.isoformat()) for d in every]


def test_the_monthly_statement_carries_clicks_orders_conversion_and_commissions(
    world: World, deliver: Callable[..., bool]
) -> None:
    # Given an affiliate who earned in May, with 8 clicks and 2 orders on their days
    earned = CommissionEarned(
        affiliate_id="af_1",
        code="CODE2345",
        order_id="o1",
        amount=Money(amount=500, currency="EUR"),
        order_total=Money(amount=5000, currency="EUR"),
        commission_rate=0.1,
        status="PENDING",
        payout_email="pay@one.example",
    )
    deliver(("CommissionEarned", "CommissionEarned#o1", earned.model_dump(mode="json", by_alias=True), MAY))
    stats = FakeAffiliateDays(
        {
            "2030-05-03": AffiliateDay(day="2030-05-03", clicks=5, orders=1, earned=300),
            "2030-05-10": AffiliateDay(day="2030-05-10", clicks=3, orders=1, earned=200, reversed=50),
        }
    )
    context = replace(world.context(datetime(2030, 6, 1, 7, tzinfo=UTC)), affiliate_stats=stats)  # type: ignore[arg-type]
    # When the statements for May run
    runs.run(context, ReportKind.AFFILIATE_STATEMENTS)
    # Then the affiliate's days of the whole month were read, and the email carries the figures
    assert stats.asked == [("af_1", date(2030, 5, 1), date(2030, 5, 31))]
    (mail,) = world.sent()
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True)
    assert isinstance(text, bytes) and b"Clicks 8, orders 2, conversion 25.0%." in text
    days = next(p for p in mail.walk() if p.get_filename() == "days-2030-05.csv").get_payload(decode=True)
    assert isinstance(days, bytes)
    lines = days.decode().splitlines()
    assert lines[0] == "day,clicks,orders,conversion,commissions,reversed,currency"
    assert "2030-05-03,5,1,0.2000,300,0,EUR" in lines
    assert lines[-1] == "total,8,2,0.2500,500,50,EUR"
    assert len(lines) == 1 + 31 + 1
