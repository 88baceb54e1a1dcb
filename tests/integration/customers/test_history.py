"""Purchase history from order events: each event applied once, in any order, into the customer's
summary (lifetime value net of refunds, order count, last order, favourite categories) and the
co-purchase counters."""

import itertools
from datetime import timedelta
from typing import Any

import pytest

from customers import counters
from customers.store import CustomersStore, copurchase_partition

from .conftest import T0, World, line, paid, refunded, snapshot

ALICE = "alice-sub"


def summary(world: World, sub: str = ALICE) -> Any:
    found = world.store.get_summary(sub)
    assert found is not None
    return found


def test_a_paid_order_adds_to_the_summary_once_however_often_it_is_delivered(world: World) -> None:
    # Given a paid order of two kitchen items and a book
    lines = [line("p1", 2, price=1500), line("p2", 1, price=1000, category="books")]
    # When its OrderPaid event is delivered three times
    outcomes = [paid(world, "o_1", ALICE, *lines)["outcome"] for _ in range(3)]
    # Then it was applied once
    assert outcomes == ["applied", "duplicate", "duplicate"]
    found = summary(world)
    assert found.order_count == 1
    assert found.lifetime_value == {"EUR": 4000}
    assert found.last_order_at == T0
    assert found.categories == {"books": 1, "kitchen": 2}
    # And the pair was counted once each way
    assert world.store.top(copurchase_partition("p1"), limit=10).items == [("p2", 1)]
    assert world.store.top(copurchase_partition("p2"), limit=10).items == [("p1", 1)]


def test_lifetime_value_is_net_of_refunds_and_favourites_rank_by_units(world: World) -> None:
    # Given two paid orders: three kitchen units, then one book and one garden item
    first = [line("p1", 3, price=1000)]
    paid(world, "o_1", ALICE, *first)
    paid(
        world,
        "o_2",
        ALICE,
        line("p2", category="books"),
        line("p3", category="garden"),
        created_at=T0 + timedelta(days=2),
    )
    # When the first order is refunded 500, then 1000 more (each refund event delivered twice)
    for _ in range(2):
        refunded(world, "o_1", ALICE, first, refund_id="r1", amount=500, total=500)
        refunded(world, "o_1", ALICE, first, refund_id="r2", amount=1000, total=1500)
    # Then the lifetime value is what was paid minus what was refunded, the count and last order stay
    found = summary(world)
    assert found.lifetime_value == {"EUR": 3000 + 2000 - 1500}
    assert found.order_count == 2
    assert found.last_order_at == T0 + timedelta(days=2)
    assert found.favourite_categories() == ["kitchen", "books", "garden"]
    # And the order keeps each refund once
    order = world.store.get_order(ALICE, "o_1")
    assert order is not None
    assert [(r.refund_id, r.amount) for r in order.refunds] == [("r1", 500), ("r2", 1000)]
    assert order.payment_status == "PARTIALLY_REFUNDED"


def test_a_refund_before_its_payment_event_counts_the_order_once(world: World) -> None:
    # Given an order paid for 3000 and fully refunded, whose refund event arrives first
    lines = [line("p1", 3, price=1000)]
    refunded(world, "o_1", ALICE, lines, refund_id="r1", amount=3000, total=3000)
    # Then the refund alone proves the payment: one order, worth nothing net
    early = summary(world)
    assert (early.order_count, early.lifetime_value) == (1, {"EUR": 0})
    # When the OrderPaid event (with no refund in its snapshot) arrives late
    paid(world, "o_1", ALICE, *lines)
    # Then nothing changes: the refunded total only grows, the order is counted once
    late = summary(world)
    assert (late.order_count, late.lifetime_value) == (1, {"EUR": 0})
    order = world.store.get_order(ALICE, "o_1")
    assert order is not None and order.status == "REFUNDED" and order.payment_status == "REFUNDED"


def test_a_cancellation_after_payment_takes_the_order_out(world: World) -> None:
    # Given two paid orders
    paid(world, "o_1", ALICE, line("p1", price=2000))
    paid(world, "o_2", ALICE, line("p2", price=500, category="books"))
    # When the first is cancelled (and refunded by the workflow)
    data = snapshot("o_1", ALICE, [line("p1", price=2000)], status="CANCELLED", refunded=2000)
    world.deliver("OrderCancelled", "OrderCancelled#o_1", data)
    # Then it no longer counts, and what it bought is no longer "bought"
    found = summary(world)
    assert (found.order_count, found.lifetime_value, found.categories) == (1, {"EUR": 500}, {"books": 1})
    assert world.store.bought(ALICE, ["p1", "p2"]) == {"p2"}


def test_a_cancellation_before_payment_never_counts(world: World) -> None:
    # When an unpaid order is cancelled
    data = snapshot("o_1", ALICE, [line("p1")], status="CANCELLED")
    world.deliver("OrderCancelled", "OrderCancelled#o_1", data)
    # Then the customer has no paid order, and support sees it as cancelled without money taken
    assert summary(world).order_count == 0
    order = world.store.get_order(ALICE, "o_1")
    assert order is not None and order.payment_status == "VOIDED"


REPORTED: list[tuple[str, str, dict[str, Any]]] = [
    ("OrderPaid", "OrderPaid#o_1", {"status": "PAID", "paymentStatus": "PAID", "fulfillmentStatus": "UNFULFILLED"}),
    (
        "OrderShipped",
        "OrderShipped#o_1",
        {"status": "SHIPPED", "paymentStatus": "PAID", "fulfillmentStatus": "SHIPPED"},
    ),
    (
        "OrderRefunded",
        "OrderRefunded#o_1#r1",
        {"status": "PARTIALLY_REFUNDED", "paymentStatus": "PARTIALLY_REFUNDED", "fulfillmentStatus": "SHIPPED"},
    ),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(REPORTED)))))
def test_the_statuses_orders_reports_end_the_same_in_any_order(world: World, order: tuple[int, ...]) -> None:
    # Given an order paid, shipped and then partly refunded, its events delivered in any order
    lines = [line("p1", 2, price=1500)]
    for index in order:
        detail_type, event_id, reported = REPORTED[index]
        data = snapshot("o_1", ALICE, lines, status=reported["status"], refunded=1000 if index == 2 else 0)
        data |= {k: v for k, v in reported.items() if k != "status"}
        if detail_type == "OrderRefunded":
            data = {"order": data, "refundId": "r1", "amount": {"amount": 1000, "currency": "EUR"}, "restocked": False}
        world.deliver(detail_type, event_id, data)
    # Then support sees what orders last reported: shipped and partly refunded; the shipment counted nothing
    found = world.store.get_order(ALICE, "o_1")
    assert found is not None
    assert (found.payment_status, found.fulfillment_status) == ("PARTIALLY_REFUNDED", "SHIPPED")
    assert (summary(world).order_count, summary(world).lifetime_value) == (1, {"EUR": 2000})


def test_a_large_order_interrupted_midway_is_completed_once_by_the_redelivery(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an order of 11 products: 110 co-purchase counters and 22 best-seller counters (two chunks)
    lines = [line(f"p{n:02d}", price=1000 + n) for n in range(11)]
    calls = {"n": 0}
    original = CustomersStore.add_counts

    def crash_on_second_chunk(self: CustomersStore, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise TimeoutError("the function timed out (simulated)")
        original(self, *args, **kwargs)

    monkeypatch.setattr(CustomersStore, "add_counts", crash_on_second_chunk)
    # When the first delivery dies after the first chunk
    with pytest.raises(TimeoutError):
        paid(world, "o_big", ALICE, *lines)
    # And EventBridge delivers it again, then once more
    assert paid(world, "o_big", ALICE, *lines)["outcome"] == "duplicate"  # the customer part was done
    assert paid(world, "o_big", ALICE, *lines)["outcome"] == "duplicate"
    # Then every counter moved exactly once, and the customer's order counted once
    for n in range(11):
        partners = world.store.top(copurchase_partition(f"p{n:02d}"), limit=20).items
        assert len(partners) == 10 and {count for _, count in partners} == {1}
    assert summary(world).order_count == 1


def test_events_of_no_interest_are_ignored(world: World) -> None:
    data = snapshot("o_1", ALICE, [line("p1")], status="REJECTED")
    assert world.deliver("OrderRejected", "OrderRejected#o_1", data) == {"outcome": "ignored"}
    assert world.store.get_summary(ALICE) is None


def test_a_shipment_is_read_for_its_statuses_and_counts_nothing(world: World) -> None:
    # Given only the shipment of an order is known (its OrderPaid is late)
    data = snapshot("o_1", ALICE, [line("p1")], status="SHIPPED")
    data |= {"paymentStatus": "PAID", "fulfillmentStatus": "SHIPPED"}
    assert world.deliver("OrderShipped", "OrderShipped#o_1", data) == {"outcome": "applied"}
    # Then support sees it shipped, and the summary counts no order yet
    found = world.store.get_order(ALICE, "o_1")
    assert found is not None and (found.payment_status, found.fulfillment_status) == ("PAID", "SHIPPED")
    assert summary(world).order_count == 0


def test_increments_pair_at_most_the_twenty_dearest_products() -> None:
    from common.contracts import OrderSnapshot

    order = OrderSnapshot.model_validate(snapshot("o_1", ALICE, [line(f"p{n:02d}", price=100 + n) for n in range(25)]))
    moves = counters.increments(order)
    pairs = [c for c, _ in moves if c.partition.startswith("COPURCHASE#")]
    assert len(pairs) == 20 * 19
    assert all(c.partition not in ("COPURCHASE#p00", "COPURCHASE#p04") for c in pairs)  # the five cheapest


def test_the_sample_events_are_applied(world: World) -> None:
    import json
    from pathlib import Path

    from customers import jobs, tasks

    events = Path(__file__).resolve().parents[3] / "events" / "jobs"
    sample = json.loads((events / "customer_order_paid.json").read_text())
    assert jobs.order_events_handler(sample, world.context) == {"outcome": "applied"}
    assert summary(world, sample["detail"]["data"]["customerId"]).order_count == 1
    task = json.loads((events / "customer_default_address.json").read_text())
    assert tasks.default_address_handler(task, world.context) == {"address": None}
