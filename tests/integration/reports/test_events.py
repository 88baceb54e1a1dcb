"""The events function reads every event through its contract model (`common.events.receive`): what the
aggregates take from an event is what the publisher's model carries, nothing else. Events reach it in
SQS batches (the reports' queue). And the visit beacon, through its handler: each session counts once per
campaign and product and day."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from common.contracts import CommissionEarned, PaymentSucceeded
from common.events import UnknownEvent, receive
from common.money import Money
from reports import jobs
from reports import public_api as beacon
from reports.logic import payments as payments_due
from reports.logic import queries

from .conftest import TABLE, Event, World, bus_event, order, paid, sqs_batch

DAY = datetime(2030, 3, 31, 10, 0, tzinfo=UTC)


@pytest.fixture
def env(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    for name, value in {"REPORTS_TABLE": TABLE, "SHOP_TIMEZONE": "UTC", "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    return world


def test_the_fee_column_reads_only_what_payments_publishes(env: World, lambda_context: Any) -> None:
    # Given a paid order, and its PaymentSucceeded carrying Stripe's fee and a field its contract model
    # does not have
    snapshot = order(customer="ann", lines=[("p_tee", 1, 2000)])
    placed = paid(snapshot, DAY)
    assert jobs.events_handler(sqs_batch(placed), lambda_context) == {"batchItemFailures": []}
    succeeded = PaymentSucceeded(
        order_id=snapshot.order_id,
        payment_intent_id="pi_1",
        amount=snapshot.total,
        fee=Money(amount=55, currency="EUR"),
        net=Money(amount=1945, currency="EUR"),
    )
    payload = {**succeeded.model_dump(mode="json", by_alias=True), "exchangeFee": {"amount": 88, "currency": "EUR"}}

    # When the events function gets it
    answer = jobs.events_handler(sqs_batch(("PaymentSucceeded", "PaymentSucceeded#pi_1", payload, DAY)), lambda_context)

    # Then the fee of the model is taken, and nothing from the field nobody publishes
    assert answer == {"batchItemFailures": []}
    (row,) = payments_due.payments(env.store, DAY.date(), DAY.date(), "EUR").items
    assert (row.gross.amount, row.fee.amount, row.fee_unknown, row.net.amount) == (2000, 55, 0, 1945)


def test_an_event_its_model_refuses_is_not_counted(env: World, lambda_context: Any) -> None:
    # Given a commission event missing a field of its contract (the affiliate's code)
    earned = CommissionEarned(
        affiliate_id="af_1",
        code="CODE1234",
        order_id="o1",
        amount=Money(amount=500, currency="EUR"),
        order_total=Money(amount=5000, currency="EUR"),
        commission_rate=0.1,
        status="PENDING",
    )
    broken = earned.model_dump(mode="json", by_alias=True)
    del broken["code"]

    refused: Event = ("CommissionEarned", "CommissionEarned#o1", broken, DAY)
    unknown: Event = ("SomethingElse", "SomethingElse#1", {}, DAY)

    # Then its contract refuses it, as it refuses an event of no known type
    with pytest.raises(ValidationError):
        receive(bus_event(refused))
    with pytest.raises(UnknownEvent):
        receive(bus_event(unknown))
    # And the function fails both (the queue brings them back, then its dead-letter queue keeps them),
    # counting nothing
    answer = jobs.events_handler(sqs_batch(refused, unknown), lambda_context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert queries.affiliates(env.store, "2030-03", "EUR") == []

    # And the complete event counts once, however often it is delivered
    complete = ("CommissionEarned", "CommissionEarned#o1", earned.model_dump(mode="json", by_alias=True), DAY)
    answers = [jobs.events_handler(sqs_batch(complete), lambda_context) for _ in range(2)]
    assert answers == [{"batchItemFailures": []}] * 2
    (row,) = queries.affiliates(env.store, "2030-03", "EUR")
    assert (row.affiliate_id, row.earned.amount, row.due.amount) == ("af_1", 500, 500)


Beacon = Callable[[dict[str, Any] | str], tuple[int, Any]]


@pytest.fixture
def visit(env: World, api_event: Callable[..., dict[str, Any]], lambda_context: Any) -> Beacon:
    def post(body: dict[str, Any] | str) -> tuple[int, Any]:
        raw: Any = beacon.handler(api_event("POST", "/analytics/visits", body=body), lambda_context)
        return int(raw["statusCode"]), json.loads(raw["body"]) if raw.get("body") else None

    return post


def test_a_session_counts_once_per_campaign_and_product(env: World, visit: Beacon) -> None:
    # Given a session that came from a campaign and looked at a product
    seen = {"sessionId": "session-0001", "path": "/products/p_x", "source": "google", "medium": "cpc"}
    product = "p_" + "1" * 26

    # When the storefront sends its beacon twice, then once for a product page
    first, again = visit({**seen, "campaign": "may"}), visit({**seen, "campaign": "may"})
    viewed = visit({**seen, "campaign": "may", "productId": product})

    # Then the first counts, the repeat does not, and the product view counts once
    assert (first, again, viewed) == ((200, {"counted": True}), (200, {"counted": False}), (200, {"counted": True}))
    today = datetime.now(UTC).date()
    (campaign,) = queries.campaigns(env.store, today, today, "EUR")
    assert (campaign.source, campaign.medium, campaign.campaign, campaign.sessions) == ("google", "cpc", "may", 1)
    (viewed_product,) = queries.top_products(env.store, today, today, 10, "EUR")
    assert (viewed_product.product_id, viewed_product.views, viewed_product.units) == (product, 1, 0)


def test_the_beacon_refuses_what_it_does_not_take(env: World, visit: Beacon) -> None:
    # A visit without a session, with a field it does not take, or over 1 KB is refused
    assert visit({"path": "/"})[0] == 422
    assert visit({"sessionId": "session-0002", "path": "/", "email": "a@b.example"})[0] == 422
    padded = '{"sessionId": "session-0003", "path": "/", "source": "mail"' + " " * 1100 + "}"
    assert visit(padded)[0] == 413
    # And nothing was counted
    today = datetime.now(UTC).date()
    assert queries.campaigns(env.store, today, today, "EUR") == []
