"""Holds, adjustments and low-stock alerts through `inventory.logic`, against the template's table in
moto. Every transition is checked for what it changed and, as importantly, for what it left alone."""

from datetime import timedelta
from itertools import count
from types import SimpleNamespace
from typing import Any

import pytest

import common.ids
from common.contracts import OrderLine, ShortSku, StockLow
from common.errors import BadRequest
from inventory import logic
from inventory.errors import (
    HoldCommitted,
    HoldNotFound,
    HoldReleased,
    IdempotencyKeyReused,
    InsufficientStock,
    OutOfStock,
    StockNotFound,
    TooManySkus,
)
from inventory.models import AdjustmentIn, HoldStatus
from inventory.store import STOCK, InventoryStore, sku_pk
from tests.fakes import FakePublisher

from .conftest import T0, WINDOW, StockFactory, counters, order, raw_items

CANCELLED = "order cancelled"


def never_waiting(_order_id: str) -> bool:
    return False


def hold_keys(store: InventoryStore) -> list[str]:
    return sorted(item["PK"]["S"] for item in raw_items(store) if item["PK"]["S"].startswith("HOLD#"))


def restock(delta: int, reason: Any = "restock", note: str | None = None) -> AdjustmentIn:
    return AdjustmentIn(delta=delta, reason=reason, note=note)


@pytest.fixture
def ticking_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids minted one second apart, so 'newest first' has one right answer however fast the test runs."""
    seconds = count(1_900_000_000)
    monkeypatch.setattr(common.ids, "time", SimpleNamespace(time=lambda: float(next(seconds))))


# ---------------------------------------------------------------- reserve


def test_reserve_moves_every_line_from_available_to_reserved(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given two SKUs on the shelf
    given_stock("TEE-S", 5)
    given_stock("TEE-M", 4)

    # When an order reserves from both
    result = logic.reserve(store, order("o-1", ("TEE-S", 2), ("TEE-M", 4)), window=WINDOW, publish=publish, now=T0)

    # Then both lines are held until the window ends, and the counters moved by exactly those units
    assert (result.status, result.changed) == ("HELD", True)
    assert counters(store, "TEE-S") == (3, 2, 0)
    assert counters(store, "TEE-M") == (0, 4, 0)
    hold = store.get_hold("o-1")
    assert hold is not None
    assert hold.status is HoldStatus.HELD
    assert hold.quantities == {"TEE-S": 2, "TEE-M": 4}
    assert hold.expires_at == T0 + WINDOW


def test_reserve_holds_all_or_nothing(store: InventoryStore, publish: FakePublisher, given_stock: StockFactory) -> None:
    # Given one SKU with plenty and one with a single unit
    given_stock("TEE-S", 5)
    given_stock("TEE-M", 1)

    # When an order wants 2 of the first and 3 of the second
    with pytest.raises(OutOfStock) as raised:
        logic.reserve(store, order("o-1", ("TEE-S", 2), ("TEE-M", 3)), window=WINDOW, publish=publish, now=T0)

    # Then the error names only the short SKU, with what was asked and what is left
    assert raised.value.short == [ShortSku(sku="TEE-M", requested=3, available=1)]
    assert raised.value.details == {"short": [{"sku": "TEE-M", "requested": 3, "available": 1}]}
    # And nothing changed: neither counter moved, no hold was written, nothing was announced
    assert counters(store, "TEE-S") == (5, 0, 0)
    assert counters(store, "TEE-M") == (1, 0, 0)
    assert hold_keys(store) == []
    assert publish.events == []


def test_reserve_of_a_sku_without_stock_record_is_out_of_stock_and_creates_nothing(
    store: InventoryStore, publish: FakePublisher
) -> None:
    # Given a SKU inventory has never seen
    # When an order asks for it
    with pytest.raises(OutOfStock) as raised:
        logic.reserve(store, order("o-1", ("GHOST-1", 1)), window=WINDOW, publish=publish, now=T0)

    # Then it is short with nothing available, and the failed update did not create a stock record
    assert raised.value.short == [ShortSku(sku="GHOST-1", requested=1, available=0)]
    assert store.get_stock("GHOST-1") is None
    assert raw_items(store) == []


@pytest.mark.parametrize(("on_shelf", "held"), [(5, None), (6, 6)])
def test_duplicate_skus_in_one_order_are_summed(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory, on_shelf: int, held: int | None
) -> None:
    # Given a SKU with 5 (too few for 3 + 3) or 6 (exactly enough)
    given_stock("MUG-1", on_shelf)
    two_lines = order("o-1", ("MUG-1", 3), ("MUG-1", 3))

    if held is None:
        # When an order has two lines of 3 of it
        with pytest.raises(OutOfStock) as raised:
            logic.reserve(store, two_lines, window=WINDOW, publish=publish, now=T0)
        # Then the lines were checked together, not one at a time
        assert raised.value.short == [ShortSku(sku="MUG-1", requested=6, available=5)]
        assert counters(store, "MUG-1") == (5, 0, 0)
        assert hold_keys(store) == []
    else:
        result = logic.reserve(store, two_lines, window=WINDOW, publish=publish, now=T0)
        # Then one line of 6 is held
        assert result.lines == [OrderLine(sku="MUG-1", quantity=6)]
        assert counters(store, "MUG-1") == (0, 6, 0)


def test_an_order_with_too_many_distinct_skus_is_refused_before_anything_is_written(
    store: InventoryStore, publish: FakePublisher
) -> None:
    # Given an order with one more distinct SKU than a transaction can carry next to its hold
    too_many = [(f"SKU-{n:03}", 1) for n in range(logic.MAX_SKUS_PER_ORDER + 1)]

    # When it is reserved
    with pytest.raises(TooManySkus) as raised:
        logic.reserve(store, order("o-1", *too_many), window=WINDOW, publish=publish, now=T0)

    # Then it is a validation error and the table is untouched
    assert raised.value.code == "too_many_skus"
    assert raw_items(store) == []


def test_an_order_with_exactly_the_maximum_of_distinct_skus_fits_in_one_transaction(
    store: InventoryStore, publish: FakePublisher
) -> None:
    # Given MAX_SKUS_PER_ORDER SKUs with two units each (counters seeded directly: 99 adjustments
    # through moto's transactions would cost seconds)
    skus = [f"SKU-{n:03}" for n in range(logic.MAX_SKUS_PER_ORDER)]
    logic.ensure_stock(store, skus, threshold=0)
    for sku in skus:
        store.client.update_item(
            TableName=store.table,
            Key={"PK": {"S": sku_pk(sku)}, "SK": {"S": STOCK}},
            UpdateExpression="SET available = :n",
            ExpressionAttributeValues={":n": {"N": "2"}},
        )

    # When one order holds all of them (hold + one update per SKU: DynamoDB's 100-action limit)
    result = logic.reserve(store, order("o-1", *[(sku, 1) for sku in skus]), window=WINDOW, publish=publish, now=T0)

    # Then every one is held
    assert result.changed
    assert {counters(store, sku) for sku in skus} == {(1, 1, 0)}


def test_a_duplicate_reserve_answers_the_same_hold_and_moves_stock_once(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given an order that holds 2 of 5
    given_stock("TEE-S", 5)
    first = logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)

    # When the task is retried a minute later
    again = logic.reserve(
        store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0 + timedelta(minutes=1)
    )

    # Then it answers the same hold (same expiry too), says nothing changed, and stock moved once
    assert again.model_dump(exclude={"changed"}) == first.model_dump(exclude={"changed"})
    assert (first.changed, again.changed) == (True, False)
    assert counters(store, "TEE-S") == (3, 2, 0)


# ---------------------------------------------------------------- commit and release


@pytest.fixture
def held(store: InventoryStore, publish: FakePublisher, given_stock: StockFactory) -> str:
    """Order o-1 holds 2 of the 5 TEE-S on the shelf, from T0 for one window."""
    given_stock("TEE-S", 5)
    logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)
    return "o-1"


def test_commit_twice_sells_once(store: InventoryStore, publish: FakePublisher, held: str) -> None:
    # Given a held order
    # When it is committed, and the commit is retried
    first = logic.commit(store, held, publish=publish, now=T0)
    again = logic.commit(store, held, publish=publish, now=T0)

    # Then the reserved units were sold once
    assert (first.status, first.changed) == ("COMMITTED", True)
    assert (again.status, again.changed) == ("COMMITTED", False)
    assert counters(store, "TEE-S") == (3, 0, 2)


def test_release_twice_puts_back_once(store: InventoryStore, publish: FakePublisher, held: str) -> None:
    # Given a held order
    # When it is released, and the release is retried
    first = logic.release(store, held, reason=CANCELLED, publish=publish, now=T0)
    again = logic.release(store, held, reason=CANCELLED, publish=publish, now=T0)

    # Then the units went back on sale once
    assert (first.status, first.changed) == ("RELEASED", True)
    assert (again.status, again.changed) == ("RELEASED", False)
    assert counters(store, "TEE-S") == (5, 0, 0)


def test_release_after_commit_is_refused_and_changes_nothing(
    store: InventoryStore, publish: FakePublisher, held: str
) -> None:
    # Given a committed order
    logic.commit(store, held, publish=publish, now=T0)

    # When something tries to release it
    with pytest.raises(HoldCommitted):
        logic.release(store, held, reason=CANCELLED, publish=publish, now=T0)

    # Then sold stock stays sold
    assert counters(store, "TEE-S") == (3, 0, 2)
    hold = store.get_hold(held)
    assert hold is not None and hold.status is HoldStatus.COMMITTED


def test_commit_after_a_cancellation_is_refused_and_changes_nothing(
    store: InventoryStore, publish: FakePublisher, held: str
) -> None:
    # Given an order whose hold was released because the order was cancelled
    logic.release(store, held, reason=CANCELLED, publish=publish, now=T0)

    # When a commit arrives anyway
    with pytest.raises(HoldReleased):
        logic.commit(store, held, publish=publish, now=T0)

    # Then nothing is sold and the hold stays released
    assert counters(store, "TEE-S") == (5, 0, 0)
    hold = store.get_hold(held)
    assert hold is not None and hold.status is HoldStatus.RELEASED


def test_commit_of_an_unknown_order_is_not_found(store: InventoryStore, publish: FakePublisher) -> None:
    # Given no hold for the order
    # When it is committed
    # Then the workflow hears there is nothing to commit
    with pytest.raises(HoldNotFound):
        logic.commit(store, "o-nobody", publish=publish, now=T0)


def test_commit_after_the_sweeper_reacquires_from_the_shelf(
    store: InventoryStore, publish: FakePublisher, held: str
) -> None:
    # Given a hold the sweeper released because its window expired
    assert logic.sweep(store, is_waiting=never_waiting, publish=publish, now=T0 + WINDOW + timedelta(minutes=1)) == [
        held
    ]
    released = store.get_hold(held)
    assert released is not None and released.release_reason == logic.EXPIRED
    assert counters(store, "TEE-S") == (5, 0, 0)

    # When the late payment's commit arrives while the stock is still there
    result = logic.commit(store, held, publish=publish, now=T0 + timedelta(minutes=20))

    # Then the units are taken straight from available and sold
    assert (result.status, result.changed) == ("COMMITTED", True)
    assert counters(store, "TEE-S") == (3, 0, 2)
    # And a retry of that commit sells nothing more
    assert not logic.commit(store, held, publish=publish, now=T0 + timedelta(minutes=21)).changed
    assert counters(store, "TEE-S") == (3, 0, 2)


def test_commit_after_the_sweeper_is_out_of_stock_when_the_shelf_emptied(
    store: InventoryStore, publish: FakePublisher, held: str
) -> None:
    # Given a swept hold of 2, and another order that then took 4 of the 5 on the shelf
    logic.sweep(store, is_waiting=never_waiting, publish=publish, now=T0 + WINDOW + timedelta(minutes=1))
    later = T0 + timedelta(minutes=17)
    logic.reserve(store, order("o-2", ("TEE-S", 4)), window=WINDOW, publish=publish, now=later)

    # When the late commit arrives
    with pytest.raises(OutOfStock) as raised:
        logic.commit(store, held, publish=publish, now=later)

    # Then it is short by what is left, and nothing moved: the workflow will refund
    assert raised.value.short == [ShortSku(sku="TEE-S", requested=2, available=1)]
    assert counters(store, "TEE-S") == (1, 4, 0)
    hold = store.get_hold(held)
    assert hold is not None and hold.status is HoldStatus.RELEASED


def test_a_cancellation_after_the_sweeper_stops_a_later_commit(
    store: InventoryStore, publish: FakePublisher, held: str
) -> None:
    # Given a hold the sweeper released, and then the order was cancelled
    logic.sweep(store, is_waiting=never_waiting, publish=publish, now=T0 + WINDOW + timedelta(minutes=1))
    logic.release(store, held, reason=CANCELLED, publish=publish, now=T0 + timedelta(minutes=17))

    # When a commit for the cancelled order arrives
    # Then it is refused like any commit of a cancelled order, and nothing is sold
    with pytest.raises(HoldReleased):
        logic.commit(store, held, publish=publish, now=T0 + timedelta(minutes=18))
    assert counters(store, "TEE-S") == (5, 0, 0)


def test_release_without_a_hold_leaves_a_tombstone_that_stops_a_late_reserve(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given stock, and an order that was cancelled before its reserve ran
    given_stock("TEE-S", 5)
    result = logic.release(store, "o-1", reason=CANCELLED, publish=publish, now=T0)
    assert (result.status, result.changed, result.lines) == ("RELEASED", True, [])

    # When the reserve arrives late
    with pytest.raises(HoldReleased):
        logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)

    # Then nothing is held for the dead order, and a commit cannot sell anything either
    assert counters(store, "TEE-S") == (5, 0, 0)
    tombstone = store.get_hold("o-1")
    assert tombstone is not None
    assert (tombstone.status, tombstone.lines) == (HoldStatus.RELEASED, ())
    with pytest.raises(HoldReleased):
        logic.commit(store, "o-1", publish=publish, now=T0)
    # And releasing again is a no-op
    assert not logic.release(store, "o-1", reason=CANCELLED, publish=publish, now=T0).changed


# ---------------------------------------------------------------- the sweeper


def test_sweep_releases_only_expired_holds_whose_workflow_is_not_waiting(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given four orders of one unit each:
    given_stock("TEE-S", 10)
    for order_id, at in [("expired", T0), ("fresh", T0 + timedelta(minutes=10)), ("sold", T0), ("waiting", T0)]:
        logic.reserve(store, order(order_id, ("TEE-S", 1)), window=WINDOW, publish=publish, now=at)
    logic.commit(store, "sold", publish=publish, now=T0)
    asked: list[str] = []

    def is_waiting(order_id: str) -> bool:
        asked.append(order_id)
        return order_id == "waiting"

    # When the sweeper runs 20 minutes after T0 (past the window of all but "fresh")
    now = T0 + timedelta(minutes=20)
    released = logic.sweep(store, is_waiting=is_waiting, publish=publish, now=now)

    # Then only the expired hold of a finished workflow is released
    assert released == ["expired"]
    assert sorted(asked) == ["expired", "waiting"]
    statuses = {o: store.get_hold(o).status for o in ("expired", "fresh", "sold", "waiting")}  # type: ignore[union-attr]
    assert statuses == {
        "expired": HoldStatus.RELEASED,
        "fresh": HoldStatus.HELD,
        "sold": HoldStatus.COMMITTED,
        "waiting": HoldStatus.HELD,
    }
    assert counters(store, "TEE-S") == (7, 2, 1)
    # And sweeping again releases nothing more
    assert logic.sweep(store, is_waiting=never_waiting, publish=publish, now=now) == ["waiting"]
    assert logic.sweep(store, is_waiting=never_waiting, publish=publish, now=now) == []
    assert counters(store, "TEE-S") == (8, 1, 1)


def test_sweep_leaves_a_hold_alone_until_its_window_has_passed(
    store: InventoryStore, publish: FakePublisher, held: str
) -> None:
    # Given a hold that expires at T0 + WINDOW
    # When the sweeper runs exactly at its expiry
    at_expiry = logic.sweep(store, is_waiting=never_waiting, publish=publish, now=T0 + WINDOW)
    # Then it is still held; a microsecond later it is released
    assert at_expiry == []
    assert counters(store, "TEE-S") == (3, 2, 0)
    assert logic.sweep(
        store, is_waiting=never_waiting, publish=publish, now=T0 + WINDOW + timedelta(microseconds=1)
    ) == [held]
    assert counters(store, "TEE-S") == (5, 0, 0)


def test_sweep_is_not_starved_by_expired_holds_of_running_workflows(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given an older expired hold whose workflow still runs, and a newer expired one whose workflow ended
    given_stock("TEE-S", 5)
    logic.reserve(store, order("running", ("TEE-S", 1)), window=WINDOW, publish=publish, now=T0)
    logic.reserve(store, order("ended", ("TEE-S", 1)), window=WINDOW, publish=publish, now=T0 + timedelta(minutes=1))

    # When a sweep with a page of one runs after both windows
    released = logic.sweep(
        store,
        is_waiting=lambda order_id: order_id == "running",
        publish=publish,
        now=T0 + timedelta(minutes=30),
        limit=1,
    )

    # Then the hold that may be released is released
    assert released == ["ended"]


# ---------------------------------------------------------------- adjustments and the ledger


def test_adjust_adds_and_removes_available_stock_with_a_ledger_row_each(
    store: InventoryStore, publish: FakePublisher, ticking_ids: None
) -> None:
    # Given a SKU at zero
    logic.ensure_stock(store, ["TEE-S"], threshold=0)

    # When 10 are restocked and 4 written off
    added, after_add, created_add = logic.adjust(
        store, "TEE-S", restock(10), actor="staff-1", idempotency_key=None, publish=publish, now=T0
    )
    removed, after_remove, created_remove = logic.adjust(
        store, "TEE-S", restock(-4, "shrinkage", "water damage"), actor="staff-1", idempotency_key=None, publish=publish
    )

    # Then available follows, and each adjustment is a ledger row with who, why and when
    assert (after_add.available, after_remove.available) == (10, 6)
    assert created_add and created_remove
    assert counters(store, "TEE-S") == (6, 0, 0)
    entries, _ = logic.ledger(store, "TEE-S", cursor=None, limit=10)
    assert entries == [removed, added]
    assert (added.delta, added.reason, added.actor, added.at) == (10, "restock", "staff-1", T0)
    assert (removed.delta, removed.reason, removed.note) == (-4, "shrinkage", "water damage")


def test_adjust_below_zero_is_refused_without_a_ledger_row(store: InventoryStore, publish: FakePublisher) -> None:
    # Given a SKU with 3 available and 2 more held by an order
    logic.ensure_stock(store, ["TEE-S"], threshold=0)
    logic.adjust(store, "TEE-S", restock(5), actor="staff-1", idempotency_key=None, publish=publish)
    logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)

    # When staff remove 4 (more than available, though not more than on hand)
    with pytest.raises(InsufficientStock) as raised:
        logic.adjust(store, "TEE-S", restock(-4, "shrinkage"), actor="staff-1", idempotency_key=None, publish=publish)

    # Then it is refused with what is available, and neither the counters nor the ledger changed
    assert raised.value.details == {"sku": "TEE-S", "delta": -4, "available": 3}
    assert counters(store, "TEE-S") == (3, 2, 0)
    entries, _ = logic.ledger(store, "TEE-S", cursor=None, limit=10)
    assert [e.delta for e in entries] == [5]


def test_adjust_of_an_unknown_sku_is_not_found_and_writes_nothing(
    store: InventoryStore, publish: FakePublisher
) -> None:
    # Given no stock record
    # When staff restock it
    with pytest.raises(StockNotFound):
        logic.adjust(store, "GHOST-1", restock(5), actor="staff-1", idempotency_key="key-00001", publish=publish)
    # Then no ledger row, key or stock record was written
    assert raw_items(store) == []


def test_an_idempotency_key_replay_answers_the_first_adjustment_and_applies_once(
    store: InventoryStore, publish: FakePublisher
) -> None:
    # Given a restock made with an idempotency key
    logic.ensure_stock(store, ["TEE-S"], threshold=0)
    first, _, created = logic.adjust(
        store, "TEE-S", restock(5, note="PO 77"), actor="staff-1", idempotency_key="po-77-line-1", publish=publish
    )

    # When the same request is retried with the same key
    replay, stock, replay_created = logic.adjust(
        store, "TEE-S", restock(5, note="PO 77"), actor="staff-1", idempotency_key="po-77-line-1", publish=publish
    )

    # Then it answers the original entry and the stock moved once
    assert (created, replay_created) == (True, False)
    assert replay == first
    assert stock.available == 5
    entries, _ = logic.ledger(store, "TEE-S", cursor=None, limit=10)
    assert entries == [first]


def test_an_idempotency_key_reused_for_another_adjustment_is_refused(
    store: InventoryStore, publish: FakePublisher
) -> None:
    # Given a restock of 5 made with a key
    logic.ensure_stock(store, ["TEE-S"], threshold=0)
    logic.adjust(store, "TEE-S", restock(5), actor="staff-1", idempotency_key="po-77-line-1", publish=publish)

    # When the key is sent with a different delta
    with pytest.raises(IdempotencyKeyReused):
        logic.adjust(store, "TEE-S", restock(6), actor="staff-1", idempotency_key="po-77-line-1", publish=publish)

    # Then nothing more was applied
    assert counters(store, "TEE-S") == (5, 0, 0)
    entries, _ = logic.ledger(store, "TEE-S", cursor=None, limit=10)
    assert len(entries) == 1


def test_the_ledger_lists_newest_first_in_pages(
    store: InventoryStore, publish: FakePublisher, ticking_ids: None
) -> None:
    # Given five adjustments of 1..5 units, in that order
    logic.ensure_stock(store, ["TEE-S"], threshold=0)
    for delta in range(1, 6):
        logic.adjust(store, "TEE-S", restock(delta), actor="staff-1", idempotency_key=None, publish=publish)

    # When the ledger is read two at a time until there is no cursor
    pages: list[list[int]] = []
    cursor: str | None = None
    while True:
        entries, cursor = logic.ledger(store, "TEE-S", cursor=cursor, limit=2)
        pages.append([e.delta for e in entries])
        if cursor is None:
            break
        assert len(pages) < 10, "the ledger never ends"

    # Then every adjustment appears once, newest first
    assert [delta for page in pages for delta in page] == [5, 4, 3, 2, 1]
    assert all(len(page) <= 2 for page in pages)
    assert pages[0] == [5, 4]


def test_a_ledger_cursor_cannot_be_replayed_against_another_sku(
    store: InventoryStore, publish: FakePublisher, ticking_ids: None
) -> None:
    # Given two SKUs with a few adjustments each, and a cursor into the first one's ledger
    logic.ensure_stock(store, ["TEE-S", "TEE-M"], threshold=0)
    for sku in ("TEE-S", "TEE-M"):
        for _ in range(3):
            logic.adjust(store, sku, restock(1), actor="staff-1", idempotency_key=None, publish=publish)
    _, cursor = logic.ledger(store, "TEE-S", cursor=None, limit=1)
    assert cursor is not None

    # When it is used on the second SKU's ledger
    # Then it is refused rather than read
    with pytest.raises(BadRequest) as raised:
        logic.ledger(store, "TEE-M", cursor=cursor, limit=1)
    assert raised.value.code == "invalid_cursor"


def test_the_ledger_is_newest_first_even_within_one_millisecond(
    store: InventoryStore, publish: FakePublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ten adjustments made within the same millisecond (a script, or a fast retry loop)
    monkeypatch.setattr(common.ids, "time", SimpleNamespace(time=lambda: 1_900_000_000.0))
    logic.ensure_stock(store, ["TEE-S"], threshold=0)
    for delta in range(1, 11):
        logic.adjust(store, "TEE-S", restock(delta), actor="staff-1", idempotency_key=None, publish=publish)

    # When the ledger is read
    entries, _ = logic.ledger(store, "TEE-S", cursor=None, limit=20)

    # Then the latest adjustment comes first
    assert [e.delta for e in entries] == list(range(10, 0, -1))


# ---------------------------------------------------------------- low-stock alerts


def low_events(publish: FakePublisher) -> list[tuple[str, StockLow]]:
    return [
        (event.envelope.event_id, StockLow.model_validate(event.envelope.data))
        for event in publish.of_type(StockLow.DETAIL_TYPE)
    ]


def test_stock_low_is_published_once_per_crossing_and_rearmed_by_a_restock(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given 10 on the shelf and a threshold of 3
    given_stock("TEE-S", 10, threshold=3)

    # When orders take it down to the threshold and below in several steps
    for n, quantity in enumerate([2, 3, 2, 1], start=1):
        logic.reserve(store, order(f"o-{n}", ("TEE-S", quantity)), window=WINDOW, publish=publish, now=T0)
        logic.commit(store, f"o-{n}", publish=publish, now=T0)

    # Then exactly one StockLow was published, when available reached 3
    assert low_events(publish) == [("StockLow#TEE-S#1", StockLow(sku="TEE-S", available=3, threshold=3, crossing=1))]
    low_page, _ = logic.list_stock(store, low_only=True, cursor=None, limit=10)
    assert [s.sku for s in low_page] == ["TEE-S"]

    # When a restock lifts it above the threshold
    logic.adjust(store, "TEE-S", restock(10), actor="staff-1", idempotency_key=None, publish=publish)

    # Then the alert is re-armed (no longer listed low) and nothing new was published
    assert len(low_events(publish)) == 1
    assert logic.list_stock(store, low_only=True, cursor=None, limit=10)[0] == []

    # When it is sold down to the threshold again
    logic.reserve(store, order("o-9", ("TEE-S", 9)), window=WINDOW, publish=publish, now=T0)

    # Then a second crossing is announced under its own id
    assert low_events(publish)[1:] == [
        ("StockLow#TEE-S#2", StockLow(sku="TEE-S", available=3, threshold=3, crossing=2))
    ]
    stock = store.get_stock("TEE-S")
    assert stock is not None and (stock.low, stock.crossings) == (True, 2)


def test_check_low_stock_twice_announces_a_crossing_once(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given a SKU that is above its threshold
    given_stock("TEE-S", 4, threshold=3)
    # And an order takes it to the threshold
    logic.reserve(store, order("o-1", ("TEE-S", 1)), window=WINDOW, publish=publish, now=T0)
    assert len(low_events(publish)) == 1

    # When the check runs again (another task touching the same SKU)
    again = logic.check_low_stock(store, ["TEE-S"], publish)

    # Then nothing more is published
    assert again == []
    assert len(low_events(publish)) == 1


def test_release_above_the_threshold_rearms_the_alert(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given a hold that took a SKU to its threshold (one StockLow)
    given_stock("TEE-S", 5, threshold=3)
    logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)
    assert len(low_events(publish)) == 1

    # When the hold is released, and another order takes the stock down again
    logic.release(store, "o-1", reason=CANCELLED, publish=publish, now=T0)
    logic.reserve(store, order("o-2", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)

    # Then that is a second crossing
    assert [data.crossing for _, data in low_events(publish)] == [1, 2]


def failing_bus(_events: list[Any]) -> None:
    raise RuntimeError("bus unavailable")


def test_a_crossing_whose_publish_failed_is_announced_by_the_next_sweep(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given a SKU one unit above its threshold, and a bus that refuses the publish of the crossing
    given_stock("TEE-S", 4, threshold=3)
    with pytest.raises(RuntimeError):
        logic.reserve(store, order("o-1", ("TEE-S", 1)), window=WINDOW, publish=failing_bus, now=T0)
    assert counters(store, "TEE-S") == (3, 1, 0)

    # When the workflow retries the task (the hold exists: nothing changes, nothing is announced)
    assert not logic.reserve(store, order("o-1", ("TEE-S", 1)), window=WINDOW, publish=publish, now=T0).changed
    assert low_events(publish) == []
    # And the sweeper runs, twice
    logic.sweep(store, is_waiting=never_waiting, publish=publish, now=T0)
    logic.sweep(store, is_waiting=never_waiting, publish=publish, now=T0)

    # Then the crossing is announced once, under its crossing's id
    assert low_events(publish) == [("StockLow#TEE-S#1", StockLow(sku="TEE-S", available=3, threshold=3, crossing=1))]
    assert counters(store, "TEE-S") == (3, 1, 0)


def test_a_pending_crossing_is_announced_however_many_skus_are_low(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given a SKU early in the alphabet that is low (new, nothing on the shelf)
    given_stock("AAA-1", 0, threshold=3)
    # And a later SKU whose crossing was flagged but its publish failed
    given_stock("ZZZ-1", 4, threshold=3)
    with pytest.raises(RuntimeError):
        logic.reserve(store, order("o-1", ("ZZZ-1", 1)), window=WINDOW, publish=failing_bus, now=T0)

    # When pending crossings are announced a page of one at a time
    logic.announce_pending(store, publish, limit=1)

    # Then the pending crossing is announced
    assert [event_id for event_id, _ in low_events(publish)] == ["StockLow#ZZZ-1#1"]


def test_set_threshold_flags_or_rearms_at_once(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given 5 available and a threshold of 2 (not low)
    given_stock("TEE-S", 5, threshold=2)

    # When the threshold is raised to 5
    raised = logic.set_threshold(store, "TEE-S", 5, publish=publish)

    # Then the SKU is low now, and that crossing is announced
    assert (raised.threshold, raised.low, raised.crossings) == (5, True, 1)
    assert low_events(publish) == [("StockLow#TEE-S#1", StockLow(sku="TEE-S", available=5, threshold=5, crossing=1))]

    # When it is lowered to 4
    lowered = logic.set_threshold(store, "TEE-S", 4, publish=publish)

    # Then the flag is cleared (the alert re-armed) without an event
    assert (lowered.threshold, lowered.low) == (4, False)
    assert len(low_events(publish)) == 1
    assert counters(store, "TEE-S") == (5, 0, 0)


def test_set_threshold_of_an_unknown_sku_is_not_found(store: InventoryStore, publish: FakePublisher) -> None:
    # Given no stock record
    # When its threshold is set
    # Then it is not found, and no record is created by the update
    with pytest.raises(StockNotFound):
        logic.set_threshold(store, "GHOST-1", 3, publish=publish)
    assert raw_items(store) == []


def test_ensure_stock_creates_new_skus_at_zero_and_leaves_known_ones(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given one SKU with stock already
    given_stock("TEE-S", 5, threshold=2)

    # When a product event names it again, with a new one (twice, as a replayed event would)
    created = logic.ensure_stock(store, ["TEE-S", "TEE-M", "TEE-M"], threshold=3)
    replay = logic.ensure_stock(store, ["TEE-S", "TEE-M"], threshold=3)

    # Then only the new SKU is created, at zero and flagged low; the known one keeps its counters
    assert (created, replay) == (["TEE-M"], [])
    assert counters(store, "TEE-S") == (5, 0, 0)
    new = store.get_stock("TEE-M")
    assert new is not None
    assert (new.available, new.reserved, new.sold, new.threshold, new.low) == (0, 0, 0, 3, True)
