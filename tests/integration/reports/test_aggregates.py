"""The aggregates equal a recomputation from the orders themselves, for generated histories of paid
orders, partial refunds and cancellations, delivered with duplicates and in any order."""

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.logic import payments as payments_due
from reports.logic import queries
from reports.logic.aggregates import increments
from reports.models import ReportGranularity
from reports.store import ReportsStore
from tests.tables import create_table

from .conftest import Event, World, cancelled_after_payment, order, paid, received, refunded

DAY0 = date(2030, 5, 1)
PRODUCTS = {"p_tee": 1500, "p_mug": 1200, "p_pen": 650}
CAMPAIGNS = [
    None,
    {"source": "google", "medium": "cpc", "campaign": "may"},
    {"source": "mail", "medium": "email", "campaign": "news"},
]
_tables = itertools.count()


@dataclass(frozen=True)
class Planned:
    customer: str
    lines: list[tuple[str, int, int]]
    discount_share: float
    campaign: int
    paid_day: int
    refunds: list[tuple[int, float]]  # (days after payment, share of what is left)
    cancel_after_payment: bool


planned_orders = st.builds(
    Planned,
    customer=st.sampled_from(["ann", "bob", "cy"]),
    lines=st.lists(
        st.tuples(st.sampled_from(sorted(PRODUCTS)), st.integers(1, 3)).map(lambda t: (t[0], t[1], PRODUCTS[t[0]])),
        min_size=1,
        max_size=3,
    ),
    discount_share=st.sampled_from([0.0, 0.1, 0.5]),
    campaign=st.integers(0, len(CAMPAIGNS) - 1),
    paid_day=st.integers(0, 3),
    refunds=st.lists(st.tuples(st.integers(0, 2), st.sampled_from([0.25, 0.5, 1.0])), max_size=2),
    cancel_after_payment=st.booleans(),
)


def _at(day: int, hour: int = 12) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=day), datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


def _history(plans: list[Planned]) -> tuple[list[Event], dict[str, dict[str, int]]]:
    """The events of the plans, and the figures recomputed from the orders themselves, by key."""
    events: list[Event] = []
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for plan in plans:
        subtotal = sum(q * p for _, q, p in plan.lines)
        snapshot = order(
            customer=plan.customer,
            lines=plan.lines,
            discount=int(subtotal * plan.discount_share),
            attribution=CAMPAIGNS[plan.campaign],
        )
        day = (DAY0 + timedelta(days=plan.paid_day)).isoformat()
        events.append(paid(snapshot, _at(plan.paid_day)))
        total = snapshot.total.amount
        expected[f"{day}|TOTAL"]["orders"] += 1
        expected[f"{day}|TOTAL"]["gross"] += subtotal
        expected[f"{day}|TOTAL"]["discounts"] += snapshot.discount.amount
        expected[f"{day}|TOTAL"]["units"] += sum(q for _, q, _ in plan.lines)
        expected[f"customer|{plan.customer}"]["spent"] += total
        for product, quantity, price in plan.lines:
            expected[f"product|{product}"]["units"] += quantity
            expected[f"product|{product}"]["gross"] += quantity * price
        campaign = CAMPAIGNS[plan.campaign]
        if campaign:
            expected[f"campaign|{campaign['source']}"]["orders"] += 1
            expected[f"campaign|{campaign['source']}"]["revenue"] += total
        money_back: list[tuple[int, int]] = []
        if plan.cancel_after_payment:
            events.append(cancelled_after_payment(snapshot, _at(plan.paid_day, 18)))
            money_back.append((plan.paid_day, total))
        else:
            left = total
            for i, (later, share) in enumerate(plan.refunds):
                amount = int(left * share)
                if amount == 0:
                    continue
                left -= amount
                events.append(refunded(snapshot, amount, _at(plan.paid_day + later, 20), refund_id=f"r{i}"))
                money_back.append((plan.paid_day + later, amount))
        for refund_day, amount in money_back:
            expected[f"{(DAY0 + timedelta(days=refund_day)).isoformat()}|TOTAL"]["refunds"] += amount
            expected[f"customer|{plan.customer}"]["refunds"] += amount
            if campaign:
                expected[f"campaign|{campaign['source']}"]["refunds"] += amount
    return events, expected


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(plans=st.lists(planned_orders, min_size=0, max_size=6), data=st.data())
def test_aggregates_equal_a_recomputation(world: World, plans: list[Planned], data: st.DataObject) -> None:
    # Given a fresh table and a generated history, delivered with duplicates and in any order
    name = create_table(world.store.client, "ReportsTable", name=f"reports-prop-{next(_tables)}")
    store = ReportsStore(name, client=world.store.client)
    events, expected = _history(plans)
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=4)) if events else []
    delivery = data.draw(st.permutations(events + duplicates))

    # When every delivery is applied
    applied = [store.apply(event[1], increments(received(event), ZoneInfo("UTC"))) for event in delivery]

    # Then each distinct event was applied exactly once
    assert sum(applied) == len({event_id for _, event_id, _, _ in events})
    # And every figure equals the recomputation
    first, last = DAY0, DAY0 + timedelta(days=6)
    sales = queries.sales(store, first, last, ReportGranularity.DAY, "EUR")
    for row in sales.rows:
        want = expected.get(f"{row.period}|TOTAL", {})
        assert (row.orders, row.units, row.gross.amount, row.discounts.amount, row.refunds.amount) == (
            want.get("orders", 0),
            want.get("units", 0),
            want.get("gross", 0),
            want.get("discounts", 0),
            want.get("refunds", 0),
        ), row.period
    for product in queries.top_products(store, first, last, 100, "EUR"):
        want = expected[f"product|{product.product_id}"]
        assert (product.units, product.gross.amount) == (want["units"], want["gross"])
    customers = {c.customer_id: c for c in queries.best_customers(store, first, last, 100, "EUR")}
    for key, want in expected.items():
        if key.startswith("customer|"):
            found = customers[key.split("|", 1)[1]]
            assert (found.spent.amount, found.refunds.amount) == (want["spent"], want.get("refunds", 0))
    for campaign in queries.campaigns(store, first, last, "EUR"):
        want = expected[f"campaign|{campaign.source}"]
        assert (campaign.orders, campaign.revenue.amount, campaign.refunds.amount) == (
            want["orders"],
            want["revenue"],
            want.get("refunds", 0),
        )
    # And payments due add up to what was paid less what was refunded
    due = payments_due.payments(store, first, last, "EUR").total
    assert due.gross.amount - due.refunds.amount == sum(c.spent.amount - c.refunds.amount for c in customers.values())
