"""Co-purchase and best-seller counters from the paid orders' queue: a batch merged per counter (each
counter read and written once per transaction, not once per order), ranked as one by one would rank
it, each order counted once however often and in whatever batch it comes, a body nobody can read
dropped without failing the others, and a chunk DynamoDB keeps refusing answered as exactly its
orders' messages. The customer's history stays on the bus and no longer moves the counters."""

import itertools
import json
from collections import Counter as Tally
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.contracts import OrderSnapshot
from customers import counters, jobs
from customers.store import COUNTED, Counter, CustomersStore, bestseller_partition, copurchase_partition, ranked
from tests import tables
from tests.transactions import Transactions, watching

from .conftest import World, bus_event, line, snapshot, sqs_batch

NOW = datetime(2030, 3, 1, 13, 0, tzinfo=UTC)
_tables = itertools.count()


def order_paid(order_id: str, *products: str, customer: str = "alice", quantity: int = 1) -> dict[str, Any]:
    """The `OrderPaid` bus event of an order of one unit (or `quantity`) of each product, dearest first."""
    lines = [
        line(p, quantity, price=5000 - n, category="books" if p.startswith("b") else "kitchen")
        for n, p in enumerate(products)
    ]
    return bus_event("OrderPaid", f"OrderPaid#{order_id}", snapshot(order_id, customer, lines))


def _snapshot(event: dict[str, Any]) -> tuple[str, OrderSnapshot]:
    return event["detail"]["eventId"], OrderSnapshot.model_validate(event["detail"]["data"])


def _counters(world: World, table: str | None = None) -> dict[tuple[str, str], tuple[int, str, str]]:
    """Every counter of a table: (hits, GSI2PK, GSI2SK) by key."""
    found = {}
    for item in tables.scan(world.dynamodb, table or world.store.table):
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if pk.startswith(("COPURCHASE#", "BESTSELLER#")):
            found[pk, sk] = (int(item["hits"]["N"]), item["GSI2PK"]["S"], item["GSI2SK"]["S"])
    return found


def _expected(events: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, str, str]]:
    """The counters recomputed from the orders themselves: each distinct order's moves, summed."""
    hits: Tally[Counter] = Tally()
    for order in dict(_snapshot(e) for e in events).values():
        hits.update(dict(counters.increments(order)))
    return {c.key: (n, c.partition, ranked(n, c.product_id)) for c, n in hits.items()}


@pytest.fixture
def transactions(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Transactions]:
    monkeypatch.setattr(jobs, "store", lambda: world.store)
    with watching(world.dynamodb) as seen:
        yield seen


def count(world: World, *bodies: dict[str, Any] | str) -> Any:
    """Hand the bodies to the counters function as one batch from its queue."""
    return jobs.counters_handler(sqs_batch(*bodies), world.context)


def test_a_burst_writes_each_counter_once_per_transaction(world: World, transactions: Transactions) -> None:
    # Given 30 orders of the same kettle and mug by 30 customers: 6 counters, moved by every order
    events = [order_paid(f"o_{n}", "kettle", "mugs", customer=f"c{n}") for n in range(30)]

    # When they come in one batch
    assert count(world, *events) == {"batchItemFailures": []}

    # Then one transaction wrote each counter once (and 30 markers): one by one, 30 would each have
    (sent,) = transactions.sent
    moved = [key for key in sent if not key[0].startswith("EVENT#")]
    assert len(moved) == len(set(moved)) == 6
    assert len(sent) == 6 + 30
    # And the counts and ranks are those of the orders one by one
    assert _counters(world) == _expected(events)
    assert world.store.top(bestseller_partition("*"), limit=5).items == [("mugs", 30), ("kettle", 30)]
    assert world.store.top(copurchase_partition("kettle"), limit=5).items == [("mugs", 30)]


def test_an_order_twice_in_a_batch_or_in_an_earlier_batch_counts_once(world: World) -> None:
    # Given a batch of orders 1 and 2 counted
    one, two, three = order_paid("o_1", "kettle", "mugs"), order_paid("o_2", "kettle", "tea"), order_paid("o_3", "tea")
    assert count(world, one, two) == {"batchItemFailures": []}

    # When a batch brings order 2 again and order 3 twice, and then the whole batch comes again
    answers = [count(world, two, three, three) for _ in range(2)]

    # Then nothing failed and each order counted once
    assert answers == [{"batchItemFailures": []}] * 2
    assert _counters(world) == _expected([one, two, three])
    assert world.store.top(copurchase_partition("kettle"), limit=5).items == [("tea", 1), ("mugs", 1)]


def test_an_order_counted_before_batches_is_not_counted_again(world: World) -> None:
    # Given an order counted one by one, as CustomerEventsFunction did before the queue (its one chunk's
    # marker is `COUNTS#0`)
    first = order_paid("o_1", "kettle", "mugs")
    event_id, order = _snapshot(first)
    moves = counters.increments(order)
    world.store.add_counts(event_id, "COUNTS#0", [(c, 0, n) for c, n in moves], NOW)
    assert COUNTED == "COUNTS#0"

    # When it comes in a batch with another order
    second = order_paid("o_2", "kettle", "mugs")
    assert count(world, first, second) == {"batchItemFailures": []}

    # Then it counted once
    assert world.store.top(copurchase_partition("kettle"), limit=5).items == [("mugs", 2)]


def test_a_large_order_counts_alone_and_once_beside_merged_ones(world: World) -> None:
    # Given an order of 11 products (110 pairs and 22 best sellers: more than one transaction) and two small
    large = order_paid("o_big", *(f"p{n:02d}" for n in range(11)))
    small = [order_paid("o_1", "p00", "p01"), order_paid("o_2", "p00", "p01")]

    # When they come in one batch, and the batch comes again
    answers = [count(world, small[0], large, small[1]) for _ in range(2)]

    # Then each counted once
    assert answers == [{"batchItemFailures": []}] * 2
    assert _counters(world) == _expected([large, *small])
    assert world.store.top(copurchase_partition("p00"), limit=2).items == [("p01", 3), ("p10", 1)]


def test_a_body_nobody_can_read_does_not_fail_the_others(world: World) -> None:
    # Given a batch of two paid orders among bodies no contract reads and an event that counts nothing
    good = [order_paid("o_1", "kettle", "mugs"), order_paid("o_2", "kettle", "tea")]
    refused = order_paid("o_3", "kettle", "spoon")
    del refused["detail"]["data"]["lines"]
    unknown = bus_event("SomethingElse", "SomethingElse#1", {})
    shipped = bus_event("OrderShipped", "OrderShipped#o_1", good[0]["detail"]["data"])

    # When the counters function gets it
    answer = count(world, good[0], "{not json", refused, unknown, shipped, good[1])

    # Then only the three unreadable messages come back (for the dead-letter queue), and the two orders counted
    assert answer == {"batchItemFailures": [{"itemIdentifier": m} for m in ("m1", "m2", "m3")]}
    assert _counters(world) == _expected(good)


@pytest.mark.parametrize("code", ["TransactionConflict", "ThrottlingError"])
def test_a_chunk_dynamodb_keeps_refusing_answers_exactly_its_orders(
    world: World, transactions: Transactions, code: str
) -> None:
    # Given 9 orders of 3 products each, none shared: 12 counters + a marker each, so 7 fit in one
    # transaction and 2 go to the next; DynamoDB refuses every transaction with the last order's marker
    events = [order_paid(f"o_{n}", f"a{n}", f"b{n}", f"c{n}") for n in range(9)]
    transactions.refused, transactions.code = {"OrderPaid#o_8"}, code
    batch = sqs_batch(*events)

    # When the counters function gets the batch
    answer = jobs.counters_handler(batch, world.context)

    # Then it tried that chunk again, and answers exactly the messages of its orders
    assert len(transactions.cancelled) >= 3
    chunk = transactions.cancelled[0]
    assert all(attempt == chunk for attempt in transactions.cancelled)
    assert chunk == {"OrderPaid#o_7", "OrderPaid#o_8"}
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m7"}, {"itemIdentifier": "m8"}]}
    # And the other chunk's orders counted
    assert _counters(world) == _expected(events[:7])

    # When the queue brings the failed messages back and DynamoDB takes them
    transactions.refused = set()
    retried = {"Records": batch["Records"][7:]}
    assert jobs.counters_handler(retried, world.context) == {"batchItemFailures": []}

    # Then every order counted once
    assert _counters(world) == _expected(events)


def test_the_history_no_longer_moves_the_counters(world: World) -> None:
    # Given a paid order delivered to the history's function alone (the bus's rule to it)
    event = order_paid("o_1", "kettle", "mugs")
    assert jobs.order_events_handler(event, world.context) == {"outcome": "applied"}
    # Then the customer's summary counts it, and no counter moved: they are the queue's
    summary = world.store.get_summary("alice")
    assert summary is not None and summary.order_count == 1
    assert _counters(world) == {}


def test_the_sample_batch_is_counted(world: World) -> None:
    sample = json.loads((Path(__file__).resolve().parents[3] / "events/jobs/customer_counters_batch.json").read_text())
    assert jobs.counters_handler(sample, world.context) == {"batchItemFailures": []}
    bodies = [json.loads(record["body"]) for record in sample["Records"]]
    assert _counters(world) == _expected(bodies)


PRODUCTS = [f"p{n:02d}" for n in range(12)]
orders = st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=11, unique=True)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(baskets=st.lists(orders, min_size=1, max_size=6), data=st.data())
def test_batches_count_what_one_by_one_would(world: World, baskets: list[list[str]], data: st.DataObject) -> None:
    # Given random orders (some too large to share a transaction), delivered with duplicates, in any
    # order, cut into batches of any size
    events = [order_paid(f"o_{n}", *basket) for n, basket in enumerate(baskets)]
    delivery = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events), max_size=3))))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(delivery) - 1)), max_size=3)))
    batches = [delivery[i:j] for i, j in itertools.pairwise([0, *cuts, len(delivery)])]
    batched = tables.create_table(world.dynamodb, "CustomersTable", name=f"customers-batched-{next(_tables)}")
    one_by_one = tables.create_table(world.dynamodb, "CustomersTable", name=f"customers-one-{next(_tables)}")

    # When the batches are counted, and in another table each order alone
    store = CustomersStore(batched, client=world.dynamodb)
    outcomes = [counters.count(store, [_snapshot(e) for e in batch], NOW) for batch in batches]
    alone = CustomersStore(one_by_one, client=world.dynamodb)
    for event in events:
        counters.count(alone, [_snapshot(event)], NOW)

    # Then nothing failed, each order counted once, and the counters and their ranks are the same
    assert [o.failed for o in outcomes] == [[]] * len(batches)
    assert sorted(e for o in outcomes for e in o.applied) == sorted(e["detail"]["eventId"] for e in events)
    assert _counters(world, batched) == _counters(world, one_by_one) == _expected(events)
    for product in PRODUCTS:
        partners = store.top(copurchase_partition(product), limit=20).items
        assert partners == alone.top(copurchase_partition(product), limit=20).items
        assert [n for _, n in partners] == sorted((n for _, n in partners), reverse=True)
