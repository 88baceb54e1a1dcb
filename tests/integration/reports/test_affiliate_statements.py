"""Commissions by affiliate and month, from the affiliates domain's events, and the monthly
statement that emails each affiliate their own line."""

from collections.abc import Callable
from datetime import UTC, datetime

from reports import queries, runs

from .conftest import World

MAY = datetime(2030, 5, 10, 12, tzinfo=UTC)


def _event(kind: str, event_id: str, data: dict[str, object]) -> tuple[str, str, dict[str, object], datetime]:
    return (kind, event_id, data, MAY)


def test_earned_reversed_paid_and_due(world: World, deliver: Callable[..., bool]) -> None:
    eur = {"currency": "EUR"}
    events = [
        _event(
            "CommissionEarned",
            "CommissionEarned#o1",
            {
                "affiliateId": "af_1",
                "orderId": "o1",
                "amount": {"amount": 500, **eur},
                "payoutEmail": "pay@one.example",
            },
        ),
        _event(
            "CommissionEarned",
            "CommissionEarned#o2",
            {
                "affiliateId": "af_1",
                "orderId": "o2",
                "amount": {"amount": 300, **eur},
                "payoutEmail": "pay@one.example",
            },
        ),
        _event(
            "CommissionReversed",
            "CommissionReversed#o2#300",
            {"affiliateId": "af_1", "orderId": "o2", "amount": {"amount": 300, **eur}},
        ),
        _event(
            "CommissionPaid",
            "CommissionPaid#po_1",
            {"affiliateId": "af_1", "payoutId": "po_1", "amount": {"amount": 200, **eur}},
        ),
        _event(
            "CommissionEarned",
            "CommissionEarned#o3",
            {"affiliateId": "af_2", "orderId": "o3", "amount": {"amount": 100, **eur}},
        ),
    ]
    for event in events + events[:2]:  # duplicates change nothing
        deliver(event)
    rows = {r.affiliate_id: r for r in queries.affiliates(world.store, "2030-05", "EUR")}
    one = rows["af_1"]
    assert (one.earned.amount, one.reversed.amount, one.paid.amount, one.due.amount) == (800, 300, 200, 300)
    assert rows["af_2"].due.amount == 100

    # The monthly statements go to each affiliate with an address in the events (af_2 has none)
    record = runs.run(world.context(datetime(2030, 6, 1, 7, tzinfo=UTC)), "affiliate-statements")
    assert (record["period"], record["recipients"]) == ("2030-05", ["pay@one.example"])
    (mail,) = world.sent()
    assert mail["To"] == "pay@one.example"
    statement = next(p for p in mail.walk() if p.get_filename() == "statement-2030-05.csv")
    assert statement.get_payload(decode=True).decode().splitlines() == [
        "month,earned,reversed,paid,due,currency",
        "2030-05,800,300,200,300,EUR",
    ]
