"""The events function on its queue: a batch of events merged per aggregate item (the day's total written
once per transaction, not once per order), each event counted once however often and in whatever batch it
comes, a body nobody can read dropped without failing the others, and a chunk DynamoDB keeps refusing
answered as exactly its events' messages, which the queue brings back."""

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import jobs
from reports.logic import aggregates, queries
from reports.models import ReportGranularity
from reports.store import ReportsStore
from tests.tables import create_table, scan
from tests.transactions import Transactions, watching

from .conftest import TABLE, Event, World, bus_event, order, paid, received, sqs_batch
from .test_aggregates import _history, planned_orders

DAY = datetime(2030, 4, 2, 9, 0, tzinfo=UTC)
TOTAL_KEY = ("DAY#2030-04-02", "TOTAL")
_tables = itertools.count()


@pytest.fixture
def env(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    for name, value in {"REPORTS_TABLE": TABLE, "SHOP_TIMEZONE": "UTC", "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(jobs, "store", lambda: world.store)
    return world


@pytest.fixture
def transactions(env: World) -> Iterator[Transactions]:
    with watching(env.store.client) as seen:
        yield seen


def _burst(orders: int) -> list[Event]:
    """`orders` paid orders of one day, each by its own customer, all of one product: 3 items of their
    own each (customer, payment, marker) and 2 shared (the day's total, the product's row)."""
    return [
        paid(order(customer=f"c{n}", lines=[("p_mug", 1, 1200)]), DAY + timedelta(minutes=n)) for n in range(orders)
    ]


def _aggregates(store: ReportsStore) -> dict[tuple[str, str], dict[str, Any]]:
    """Every aggregate item of the table (markers aside), as plain values by key."""
    found = {}
    for item in scan(store.client, store.table):
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if not pk.startswith("EVENT#"):
            found[pk, sk] = {name: value for name, value in item.items() if name not in ("PK", "SK")}
    return found


def _one_by_one(world: World, events: list[Event]) -> ReportsStore:
    """The events applied one at a time, as the events function did before batches, in a table of their own."""
    name = create_table(world.store.client, "ReportsTable", name=f"reports-one-by-one-{next(_tables)}")
    store = ReportsStore(name, client=world.store.client)
    for event in events:
        aggregates.apply(store, received(event), ZoneInfo("UTC"))
    return store


def _orders_on(store: ReportsStore, day: date) -> int:
    (row,) = queries.sales(store, day, day, ReportGranularity.DAY, "EUR").rows
    return row.orders


def test_a_burst_on_one_day_writes_the_days_total_once_per_chunk(
    env: World, transactions: Transactions, lambda_context: Any
) -> None:
    # Given 40 paid orders of one day in one batch: 2 shared items + 3 actions per order = 122 actions
    events = _burst(40)

    # When the events function gets the batch
    answer = jobs.events_handler(sqs_batch(*events), lambda_context)

    # Then every event was applied, in two transactions of at most 100 actions (32 orders, then 8)
    assert answer == {"batchItemFailures": []}
    assert [len(keys) for keys in transactions.sent] == [2 + 3 * 32, 2 + 3 * 8]
    # And each wrote the day's total once (one by one, 40 transactions would each have written it)
    assert [keys.count(TOTAL_KEY) for keys in transactions.sent] == [1, 1]
    # And the figures are those of applying the orders one by one
    assert _aggregates(env.store) == _aggregates(_one_by_one(env, events))
    assert _orders_on(env.store, DAY.date()) == 40


def test_an_event_twice_in_a_batch_or_in_an_earlier_batch_counts_once(env: World, lambda_context: Any) -> None:
    # Given orders a, b, c; a batch of a and b is applied
    a, b, c = (paid(order(customer=name), DAY) for name in "abc")
    assert jobs.events_handler(sqs_batch(a, b), lambda_context) == {"batchItemFailures": []}

    # When a batch brings b again, c twice (a publisher's retry), and then the whole batch is redelivered
    later = sqs_batch(b, c, c)
    answers = [jobs.events_handler(later, lambda_context) for _ in range(2)]

    # Then nothing failed, and each order counted once
    assert answers == [{"batchItemFailures": []}] * 2
    assert _orders_on(env.store, DAY.date()) == 3
    assert _aggregates(env.store) == _aggregates(_one_by_one(env, [a, b, c]))


def test_an_event_applied_before_batches_is_not_counted_again(env: World, lambda_context: Any) -> None:
    # Given an order applied by the per-event path (the events function before its queue)
    first, second = paid(order(customer="a"), DAY), paid(order(customer="b"), DAY)
    assert aggregates.apply(env.store, received(first), ZoneInfo("UTC"))
    # When both come in one batch
    assert jobs.events_handler(sqs_batch(first, second), lambda_context) == {"batchItemFailures": []}
    # Then the first counted once, the second once
    assert _orders_on(env.store, DAY.date()) == 2


def test_a_body_nobody_can_read_does_not_fail_the_others(env: World, lambda_context: Any) -> None:
    # Given a batch with two orders among bodies no contract reads
    good = [paid(order(customer=name), DAY) for name in ("a", "b")]
    refused = bus_event(paid(order(customer="c"), DAY))
    del refused["detail"]["data"]["customerId"]
    unknown = bus_event(("SomethingElse", "SomethingElse#1", {}, DAY))
    shipped = ("OrderShipped", "OrderShipped#o_x", good[0][2], DAY)  # read fine, adds nothing

    # When the events function gets it
    answer = jobs.events_handler(sqs_batch(good[0], "{not json", refused, unknown, shipped, good[1]), lambda_context)

    # Then only the three unreadable messages come back (for the dead-letter queue), and the two orders counted
    assert answer == {"batchItemFailures": [{"itemIdentifier": m} for m in ("m1", "m2", "m3")]}
    assert _orders_on(env.store, DAY.date()) == 2


@pytest.mark.parametrize("code", ["TransactionConflict", "ThrottlingError"])
def test_a_chunk_dynamodb_keeps_refusing_answers_exactly_its_events(
    env: World, transactions: Transactions, lambda_context: Any, code: str
) -> None:
    # Given a batch of 40 orders (two chunks), and DynamoDB refusing every transaction of the last order
    events = _burst(40)
    transactions.refused, transactions.code = {events[-1][1]}, code
    batch = sqs_batch(*events)

    # When the events function gets the batch
    answer = jobs.events_handler(batch, lambda_context)

    # Then it tried that chunk again, and answers exactly the messages of its events
    assert len(transactions.cancelled) >= 3
    chunk = transactions.cancelled[0]
    assert all(attempt == chunk for attempt in transactions.cancelled)
    message_of = {event[1]: f"m{n}" for n, event in enumerate(events)}
    assert answer == {"batchItemFailures": [{"itemIdentifier": message_of[e[1]]} for e in events if e[1] in chunk]}
    assert 0 < len(chunk) < len(events)
    # And the other chunk's orders counted
    assert _orders_on(env.store, DAY.date()) == len(events) - len(chunk)

    # When the queue brings the failed messages back and DynamoDB takes them
    transactions.refused = set()
    retried = {
        "Records": [r for r in batch["Records"] if {"itemIdentifier": r["messageId"]} in answer["batchItemFailures"]]
    }
    assert jobs.events_handler(retried, lambda_context) == {"batchItemFailures": []}

    # Then every order counted once
    assert _orders_on(env.store, DAY.date()) == len(events)
    assert _aggregates(env.store) == _aggregates(_one_by_one(env, events))


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(plans=st.lists(planned_orders, min_size=1, max_size=6), data=st.data())
def test_batches_leave_the_aggregates_one_by_one_would(world: World, plans: list[Any], data: st.DataObject) -> None:
    # Given a generated history, delivered with duplicates, in any order, cut into batches of any size
    name = create_table(world.store.client, "ReportsTable", name=f"reports-batches-{next(_tables)}")
    store = ReportsStore(name, client=world.store.client)
    events, _ = _history(plans)
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=4))
    delivery = data.draw(st.permutations(events + duplicates))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(delivery) - 1)), max_size=3)))
    batches = [delivery[i:j] for i, j in itertools.pairwise([0, *cuts, len(delivery)])]

    # When each batch is applied
    outcomes = [aggregates.apply_batch(store, [received(e) for e in batch], ZoneInfo("UTC")) for batch in batches]

    # Then no event failed, each distinct one that adds something applied exactly once
    assert [o.failed for o in outcomes] == [[]] * len(batches)
    applied = [event_id for o in outcomes for event_id in o.applied]
    assert sorted(applied) == sorted({event_id for _, event_id, _, _ in events})
    # And the aggregates are those of applying the events one by one
    assert _aggregates(store) == _aggregates(_one_by_one(world, events))


def test_the_sample_batch_is_applied(env: World, lambda_context: Any) -> None:
    from pathlib import Path

    sample = json.loads(
        (Path(__file__).resolve().parents[3] / "events" / "jobs" / "reports_events_batch.json").read_text()
    )
    assert jobs.events_handler(sample, lambda_context) == {"batchItemFailures": []}
    day = date(2026, 11, 20)
    assert _orders_on(env.store, day) == 2
