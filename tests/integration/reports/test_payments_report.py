"""The payments report (issue 14) from the aggregates: per transaction and day gross, Stripe's fee (or
"unknown"), fees returned, commission, refunds, disputes and their fees, and net; totals per day and for
the period; the commissions due; and the CSV the emailed report attaches."""

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime

from pydantic import BaseModel

from common.contracts import (
    CommissionEarned,
    CommissionReversed,
    DisputeClosed,
    DisputeStatus,
    PaymentDisputed,
    PaymentSucceeded,
)
from reports.logic import payments as payments_due

from .conftest import Event, World, eur, order, paid, refunded

DAY1 = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)
DAY2 = datetime(2030, 5, 2, 10, 0, tzinfo=UTC)


def _event(payload: BaseModel, event_id: str, at: datetime) -> Event:
    return (type(payload).__name__, event_id, payload.model_dump(mode="json", by_alias=True), at)


def _succeeded(order_id: str, amount: int, fee: int | None) -> PaymentSucceeded:
    return PaymentSucceeded(
        order_id=order_id,
        payment_intent_id=f"pi_{order_id}",
        amount=eur(amount),
        fee=None if fee is None else eur(fee),
        net=None if fee is None else eur(amount - fee),
    )


def _opened(order_id: str, dispute_id: str, fee: int | None) -> PaymentDisputed:
    """A dispute of 1000 opened on day 2, with Stripe's dispute fee (None: untold)."""
    return PaymentDisputed(
        order_id=order_id,
        payment_intent_id="pi_1",
        dispute_id=dispute_id,
        amount=eur(1000),
        reason="fraudulent",
        opened_at=DAY2.isoformat(),
        fee=None if fee is None else eur(fee),
    )


def _closed(order_id: str, dispute_id: str, status: DisputeStatus, fee_returned: int | None = None) -> DisputeClosed:
    return DisputeClosed(
        order_id=order_id,
        payment_intent_id="pi_1",
        dispute_id=dispute_id,
        amount=eur(1000),
        status=status,
        closed_at=DAY2.isoformat(),
        fee_returned=None if fee_returned is None else eur(fee_returned),
    )


def _commission(kind: type[CommissionEarned] | type[CommissionReversed], order_id: str, amount: int) -> BaseModel:
    common = {"affiliate_id": "af_1", "order_id": order_id, "amount": eur(amount)}
    if kind is CommissionEarned:
        return CommissionEarned(**common, code="CODE1234", order_total=eur(3000), commission_rate=0.1, status="PENDING")
    return CommissionReversed(**common, reversed_total=eur(amount))


def test_fees_refunds_disputes_and_commissions_per_transaction_day_and_period(
    world: World, deliver: Callable[..., bool]
) -> None:
    # Given two orders paid on day 1: one whose fee Stripe told (70), one whose fee is unknown
    told, unknown = order(lines=[("p_a", 1, 3000)]), order(lines=[("p_b", 1, 2000)])
    for snapshot, fee in ((told, 70), (unknown, None)):
        assert deliver(paid(snapshot, DAY1))
        succeeded = _succeeded(snapshot.order_id, snapshot.total.amount, fee)
        assert deliver(_event(succeeded, f"ps-{snapshot.order_id}", DAY1))
    # And on `told`: a commission earned on day 1 and reversed on day 2, a refund of 500 and a lost dispute
    # for which Stripe charged its fee of 2000
    assert deliver(_event(_commission(CommissionEarned, told.order_id, 300), "ce", DAY1))
    assert deliver(_event(_commission(CommissionReversed, told.order_id, 300), "cr", DAY2))
    assert deliver(refunded(told, 500, DAY2))
    disputed, lost = _opened(told.order_id, "dp_1", 2000), _closed(told.order_id, "dp_1", DisputeStatus.LOST)
    assert deliver(_event(disputed, "pd", DAY2)) and deliver(_event(lost, "dc", DAY2))

    # When the report for both days is read
    report = payments_due.payments(world.store, DAY1.date(), DAY2.date(), "EUR")

    # Then each transaction's row of each day has its own figures
    rows = {(r.day, r.order_id): r for r in report.items}
    first = rows[(DAY1.date(), told.order_id)]
    assert (first.gross, first.fee, first.fee_unknown, first.commission.amount, first.net.amount) == (
        eur(3000),
        eur(70),
        0,
        300,
        3000 - 70 - 300,
    )
    other = rows[(DAY1.date(), unknown.order_id)]
    assert (other.fee, other.fee_unknown, other.net.amount) == (eur(0), 1, 2000)
    later = rows[(DAY2.date(), told.order_id)]  # a reversal on a later day: the commission is negative
    assert (later.commission.amount, later.refunds, later.disputed, later.dispute_lost, later.dispute_fee) == (
        -300,
        eur(500),
        eur(1000),
        eur(1000),
        eur(2000),
    )
    assert later.net.amount == 300 - 500 - 1000 - 2000
    # And the days and the period add up
    assert [(d.day, d.payments, d.net.amount) for d in report.days] == [
        (DAY1.date(), 2, 2630 + 2000),
        (DAY2.date(), 1, -3200),
    ]
    assert (report.total.fee, report.total.fee_unknown, report.total.net.amount) == (eur(70), 1, 2630 + 2000 - 3200)
    # And the commissions due are the affiliate's month (earned, then reversed: nothing due)
    (due,) = report.commissions_due
    assert (due.affiliate_id, due.earned, due.reversed, due.due) == ("af_1", eur(300), eur(300), eur(0))

    # And the CSV carries every row (by order id within a day), the day totals and the period's
    assert told.order_id < unknown.order_id
    lines = list(csv.DictReader(io.StringIO(payments_due.payments_csv(report).decode())))
    assert [(line["day"], line["order_id"]) for line in lines] == [
        ("2030-05-01", first.order_id),
        ("2030-05-01", other.order_id),
        ("2030-05-02", told.order_id),
        ("2030-05-01", "day total"),
        ("2030-05-02", "day total"),
        ("2030-05-02", "total"),
    ]
    total = lines[-1]
    assert (total["fee"], total["fee_unknown"], total["dispute_fee"], total["net"]) == (
        "70",
        "1",
        "2000",
        str(2630 + 2000 - 3200),
    )


def test_a_period_without_payments_reads_zero_every_day(world: World) -> None:
    report = payments_due.payments(world.store, date(2030, 5, 1), date(2030, 5, 3), "EUR")
    assert report.items == [] and [d.payments for d in report.days] == [0, 0, 0]
    assert report.total.net.amount == 0 and report.commissions_due == []


def test_a_dispute_won_gives_the_fee_back_and_one_without_a_known_fee_counts_as_unknown(
    world: World, deliver: Callable[..., bool]
) -> None:
    # Given a paid order whose fee Stripe told (70)
    snapshot = order(lines=[("p_a", 1, 3000)])
    assert deliver(paid(snapshot, DAY1))
    assert deliver(_event(_succeeded(snapshot.order_id, 3000, 70), "ps-won", DAY1))

    # When a dispute opens on day 2 with Stripe's fee of 2000 and the shop wins it, Stripe giving the fee back;
    # and a second dispute's opening says no fee
    won = _closed(snapshot.order_id, "dp_won", DisputeStatus.WON, fee_returned=2000)
    assert deliver(_event(_opened(snapshot.order_id, "dp_won", 2000), "pd-won", DAY2))
    assert deliver(_event(won, "dc-won", DAY2))
    assert deliver(_event(_opened(snapshot.order_id, "dp_unknown", None), "pd-unknown", DAY2))

    # Then day 2 shows the fee taken and given back, nothing lost, and one fee unknown: the net is untouched
    report = payments_due.payments(world.store, DAY1.date(), DAY2.date(), "EUR")
    (later,) = [r for r in report.items if r.day == DAY2.date()]
    assert (later.disputed, later.dispute_lost, later.dispute_fee, later.dispute_fee_returned) == (
        eur(2000),
        eur(0),
        eur(2000),
        eur(2000),
    )
    assert (later.fee_unknown, later.net.amount) == (1, 0)
    assert (report.total.fee_unknown, report.total.net.amount) == (1, 3000 - 70)
