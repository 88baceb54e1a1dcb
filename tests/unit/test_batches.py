"""Consuming bus events in SQS batches (`common.batches`), without a table: what a batch reads and drops,
how its events are packed into transactions of at most 100 actions, how one chunk is settled, and the
partial-failure answer Lambda reads."""

import json
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.batches import NotAnSqsEvent, Outcome, SeenBefore, pack, read_batch, settle
from common.errors import ServiceUnavailable

AT = datetime(2030, 5, 1, 12, tzinfo=UTC)


def _bus(detail_type: str, event_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"bus-{event_id}",
        "detail-type": detail_type,
        "source": "storekeeper.test",
        "time": AT.isoformat(),
        "detail": {"eventId": event_id, "occurredAt": AT.isoformat(), "data": data},
    }


def _sqs(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{n}",
                "receiptHandle": f"h{n}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
            }
            for n, body in enumerate(bodies)
        ]
    }


STOCK_LOW = {"sku": "MUG", "available": 1, "threshold": 5, "crossing": 1}


def test_a_batch_reads_each_body_as_a_bus_event_and_drops_what_no_contract_reads() -> None:
    # Given a batch of two readable events and five bodies nobody can read
    batch = read_batch(
        _sqs(
            _bus("StockLow", "StockLow#MUG#1", STOCK_LOW),
            "not json",
            "[1, 2]",
            {"detail-type": "StockLow"},  # no detail
            _bus("SomethingElse", "SomethingElse#1", {}),
            _bus("StockLow", "StockLow#MUG#2", {"sku": "MUG"}),  # refused by its contract
            _bus("StockLow", "StockLow#MUG#3", STOCK_LOW),
        )
    )
    # Then the two are read, in order, with their message ids; the five are dropped with a reason each
    assert [(m, e.detail_type, e.event_id) for m, e in batch.events] == [
        ("m0", "StockLow", "StockLow#MUG#1"),
        ("m6", "StockLow", "StockLow#MUG#3"),
    ]
    assert [d.message_id for d in batch.dropped] == ["m1", "m2", "m3", "m4", "m5"]
    refused = batch.dropped[-1].reason
    assert refused.startswith("refused by its contract") and "available" in refused
    assert "MUG" not in refused  # the reason names fields, never what a body carried
    # And they are answered as failed, in the queue's order, so the dead-letter queue keeps them
    assert batch.answer([]) == {"batchItemFailures": [{"itemIdentifier": f"m{n}"} for n in range(1, 6)]}


def test_an_invocation_that_is_no_sqs_event_is_refused_whole() -> None:
    # A bus event sent straight to the function would otherwise read as an empty batch and vanish
    with pytest.raises(NotAnSqsEvent):
        read_batch(_bus("StockLow", "StockLow#MUG#1", STOCK_LOW))


def test_the_answer_names_every_message_of_an_event_not_applied() -> None:
    # Given a batch where one event came twice (a publisher's retry) and another once
    batch = read_batch(
        _sqs(
            _bus("StockLow", "StockLow#MUG#1", STOCK_LOW),
            _bus("StockLow", "StockLow#MUG#2", STOCK_LOW),
            _bus("StockLow", "StockLow#MUG#1", STOCK_LOW),
        )
    )
    # When the first event could not be applied, both its messages come back; nothing else does
    assert batch.answer(["StockLow#MUG#1"]) == {
        "batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m2"}]
    }
    assert batch.answer([]) == {"batchItemFailures": []}


# ---------------------------------------------------------------- packing


def test_events_on_the_same_items_share_a_chunk_of_at_most_the_limit() -> None:
    # Given 40 events touching one shared item and two of their own each (3 actions each with the marker)
    events = [(f"e{n}", ["TOTAL", f"C{n}", f"P{n}"]) for n in range(40)]
    # When packed
    chunks, alone = pack(events)
    # Then the first chunk takes as many as fit in 100 actions (1 shared + 3 per event), the second the rest
    assert [len(chunk) for chunk in chunks] == [33, 7]
    assert alone == []


def test_an_event_that_does_not_fit_goes_to_the_next_chunk_and_a_huge_one_alone() -> None:
    # Given a small event, one that needs 99 items (100 actions with its marker), one of 100, and a small one
    events = [
        ("a", ["X"]),
        ("big", [f"B{n}" for n in range(99)]),
        ("huge", [f"H{n}" for n in range(100)]),
        ("b", ["X"]),
    ]
    chunks, alone = pack(events)
    # Then the big one fills a chunk of its own, the small ones share the first, the huge one goes alone
    assert chunks == [["a", "b"], ["big"]]
    assert alone == ["huge"]


@given(
    st.lists(
        st.tuples(st.uuids().map(str), st.lists(st.integers(0, 60), min_size=1, max_size=99, unique=True)),
        max_size=60,
        unique_by=lambda e: e[0],
    )
)
def test_every_chunk_holds_at_most_100_actions_and_every_event_is_placed_once(
    events: list[tuple[str, list[int]]],
) -> None:
    chunks, alone = pack(events)
    items = dict(events)
    for chunk in chunks:
        assert len({i for event in chunk for i in items[event]}) + len(chunk) <= 100
    placed = [event for chunk in chunks for event in chunk] + alone
    assert sorted(placed) == sorted(items)


# ---------------------------------------------------------------- settling a chunk


class Table:
    """A write that fails as told: `seen` events' markers exist; `busy` answers busy that many times."""

    def __init__(self, seen: Collection[str] = (), busy: int = 0) -> None:
        self.seen, self.busy = set(seen), busy
        self.writes: list[list[str]] = []

    def write(self, event_ids: list[str]) -> None:
        self.writes.append(list(event_ids))
        if self.seen & set(event_ids):
            raise SeenBefore(self.seen & set(event_ids))
        if self.busy:
            self.busy -= 1
            raise ServiceUnavailable("busy")
        self.seen |= set(event_ids)


def test_events_applied_before_are_dropped_and_the_rest_written_at_once() -> None:
    table, pauses = Table(seen={"b"}), list[float]()
    outcome = settle(["a", "b", "c"], table.write, pause=pauses.append)
    assert outcome == Outcome(applied=["a", "c"], seen=["b"], failed=[])
    assert table.writes == [["a", "b", "c"], ["a", "c"]]
    assert pauses == []


def test_a_chunk_whose_events_were_all_applied_writes_nothing() -> None:
    table = Table(seen={"a", "b"})
    assert settle(["a", "b"], table.write, pause=lambda _: None) == Outcome(seen=["a", "b"])


def test_a_busy_chunk_is_retried_after_a_pause_then_its_events_fail() -> None:
    # Given a table busy twice, then a table busy for good
    table, pauses = Table(busy=2), list[float]()
    # Then the first chunk is written on its third attempt, after two growing jittered pauses
    assert settle(["a", "b"], table.write, pause=pauses.append) == Outcome(applied=["a", "b"])
    assert len(pauses) == 2 and all(0 <= p <= 0.4 for p in pauses)
    # And the second chunk's events fail after three attempts, for the queue to bring back
    stuck = Table(busy=99)
    assert settle(["c", "d"], stuck.write, pause=lambda _: None) == Outcome(failed=["c", "d"])
    assert len(stuck.writes) == 3


def test_a_seen_answer_that_names_none_of_the_chunk_is_a_bug_not_a_loop() -> None:
    def write(_: list[str]) -> None:
        raise SeenBefore(["elsewhere"])

    with pytest.raises(SeenBefore):
        settle(["a"], write, pause=lambda _: None)
