"""Commissions by affiliate and month, from the affiliates domain's events, and the monthly
statement that emails each affiliate their own line."""

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel

from common.contracts import CommissionEarned, CommissionPaid, CommissionReversed
from common.money import Money
from reports.logic import queries, runs
from reports.models import ReportKind

from .conftest import World

MAY = datetime(2030, 5, 10, 12, tzinfo=UTC)


def _event(event_id: str, data: BaseModel) -> tuple[str, str, dict[str, object], datetime]:
    """An affiliates event as it is published: its data is the contract model, dumped for the bus."""
    detail_type = event_id.split("#", 1)[0]
    return (detail_type, event_id, data.model_dump(mode="json", by_alias=True), MAY)


def _eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def _earned(affiliate_id: str, order_id: str, amount: int, payout_email: str | None = None) -> CommissionEarned:
    return CommissionEarned(
        affiliate_id=affiliate_id,
        code="CODE2345",
        order_id=order_id,
        amount=_eur(amount),
        order_total=_eur(amount * 10),
        commission_rate=0.1,
        status="PENDING",
        payout_email=payout_email,
    )


def test_earned_reversed_paid_and_due(world: World, deliver: Callable[..., bool]) -> None:
    events = [
        _event("CommissionEarned#o1", _earned("af_1", "o1", 500, "pay@one.example")),
        _event("CommissionEarned#o2", _earned("af_1", "o2", 300, "pay@one.example")),
        _event(
            "CommissionReversed#o2#300",
            CommissionReversed(
                affiliate_id="af_1",
                order_id="o2",
                amount=_eur(300),
                reversed_total=_eur(300),
            ),
        ),
        _event(
            "CommissionPaid#po_1",
            CommissionPaid(affiliate_id="af_1", payout_id="po_1", amount=_eur(200), commissions=1),
        ),
        _event("CommissionEarned#o3", _earned("af_2", "o3", 100)),
    ]
    for event in events + events[:2]:  # duplicates change nothing
        deliver(event)
    rows = {r.affiliate_id: r for r in queries.affiliates(world.store, "2030-05", "EUR")}
    one = rows["af_1"]
    assert (one.earned.amount, one.reversed.amount, one.paid.amount, one.due.amount) == (800, 300, 200, 300)
    assert rows["af_2"].due.amount == 100

    # The monthly statements go to each affiliate with an address in the events (af_2 has none)
    record = runs.run(world.context(datetime(2030, 6, 1, 7, tzinfo=UTC)), ReportKind.AFFILIATE_STATEMENTS)
    assert (record["period"], record["recipients"]) == ("2030-05", ["pay@one.example"])
    (mail,) = world.sent()
    assert mail["To"] == "pay@one.example"
    statement = next(p for p in mail.walk() if p.get_filename() == "statement-2030-05.csv")
    payload = statement.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode().splitlines() == [
        "month,earned,reversed,paid,due,currency",
        "2030-05,800,300,200,300,EUR",
    ]
