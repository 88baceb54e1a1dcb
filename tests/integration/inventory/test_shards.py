"""Hot SKUs (issue 16): a SKU's available units spread over K stock items, against the template's table in
moto. Where a reserve takes its units, where a release and a commit put them, how adjustments and shard
count changes keep the shards level, and that every read answers the totals."""

import random
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from common.contracts import StockLevel, StockLow
from common.dynamo import TransactionCancelled, dynamodb_client, to_item
from common.errors import ServiceUnavailable
from common.stock import StockReader, shard_key
from inventory import logic, wiring
from inventory.errors import InsufficientStock, OutOfStock
from inventory.models import AdjustmentIn, Take
from inventory.store import HOLD, InventoryStore, hold_pk
from tests.fakes import FakePublisher
from tests.proxy import Answer

from .conftest import T0, TABLE, WINDOW, StockFactory, order

CANCELLED = "order cancelled"


def ignore(_events: object) -> None:
    """A publisher for set-up steps whose events no test looks at."""


def available(store: InventoryStore, sku: str) -> list[int]:
    """Each shard's available units, read consistently."""
    return store.read_layouts([sku])[sku].available


def reserved(store: InventoryStore, sku: str) -> list[int]:
    return [part.reserved for part in store.read_layouts([sku])[sku].counters]


def set_shard_available(store: InventoryStore, sku: str, units: list[int]) -> None:
    """Lay units out by hand (the situation concurrent buyers leave behind), bypassing the store."""
    for shard, count in enumerate(units):
        store.client.update_item(
            TableName=store.table,
            Key=shard_key(sku, shard),
            UpdateExpression="SET available = :n",
            ExpressionAttributeValues={":n": {"N": str(count)}},
        )


@pytest.fixture
def stranger(store: InventoryStore) -> InventoryStore:
    """Another process's store on the same table: it has read nothing yet, so its first guess is shard 0."""
    return InventoryStore(store.table, client=store.client, rng=random.Random(7))


@pytest.fixture
def sharded(store: InventoryStore, given_stock: StockFactory) -> Callable[..., None]:
    """Factory: a SKU with `units` spread over `shards` items (threshold 0)."""

    def make(sku: str, shards: int, units: int, *, threshold: int = 0) -> None:
        given_stock(sku, 0, threshold=threshold)
        assert store.set_shards(sku, shards) is not None
        if units:
            logic.adjust(
                store, sku, AdjustmentIn(delta=units, reason="restock"), actor="t", idempotency_key=None, publish=ignore
            )

    return make


# ---------------------------------------------------------------- reserve


def test_a_reserve_whose_guessed_shard_is_empty_takes_the_units_from_another(
    stranger: InventoryStore, store: InventoryStore, publish: FakePublisher, sharded: Callable[..., None]
) -> None:
    # Given a SKU in 4 shards whose units all sit in shard 2
    sharded("HOT-1", 4, 0)
    set_shard_available(store, "HOT-1", [0, 0, 3, 0])

    # When a process that has read nothing (so it tries shard 0 first) reserves 2
    result = logic.reserve(stranger, order("o-1", ("HOT-1", 2)), window=WINDOW, publish=publish, now=T0)

    # Then the hold is taken from shard 2, and the hold says so
    assert result.changed
    assert available(store, "HOT-1") == [0, 0, 1, 0]
    assert reserved(store, "HOT-1") == [0, 0, 2, 0]
    hold = store.get_hold("o-1")
    assert hold is not None and hold.takes == (Take(sku="HOT-1", shard=2, quantity=2),)
    stock = store.get_stock("HOT-1")
    assert stock is not None and (stock.available, stock.reserved, stock.shards) == (1, 2, 4)


def test_a_line_no_shard_holds_alone_is_split_over_several(
    stranger: InventoryStore, store: InventoryStore, publish: FakePublisher, sharded: Callable[..., None]
) -> None:
    # Given 4 units over 4 shards, one each
    sharded("HOT-1", 4, 4)
    assert available(store, "HOT-1") == [1, 1, 1, 1]

    # When an order wants 3 of them
    logic.reserve(stranger, order("o-1", ("HOT-1", 3)), window=WINDOW, publish=publish, now=T0)

    # Then three shards give one unit each, and the hold names them
    hold = store.get_hold("o-1")
    assert hold is not None
    assert sorted(take.quantity for take in hold.takes) == [1, 1, 1]
    assert len({take.shard for take in hold.takes}) == 3
    assert sum(available(store, "HOT-1")) == 1
    assert reserved(store, "HOT-1") == [1 if any(t.shard == n for t in hold.takes) else 0 for n in range(4)]

    # And a fourth order for 2 is out of stock with the total left
    with pytest.raises(OutOfStock) as raised:
        logic.reserve(stranger, order("o-2", ("HOT-1", 2)), window=WINDOW, publish=publish, now=T0)
    assert raised.value.details == {"short": [{"sku": "HOT-1", "requested": 2, "available": 1}]}


def test_a_reserve_that_had_to_look_for_units_levels_the_shards(
    stranger: InventoryStore, store: InventoryStore, publish: FakePublisher, sharded: Callable[..., None]
) -> None:
    # Given a SKU whose units piled up in one shard
    sharded("HOT-1", 4, 0)
    set_shard_available(store, "HOT-1", [0, 9, 0, 0])

    # When a reserve had to fall back to find them
    logic.reserve(stranger, order("o-1", ("HOT-1", 1)), window=WINDOW, publish=publish, now=T0)

    # Then the 8 left are spread back over the 4 shards
    assert available(store, "HOT-1") == [2, 2, 2, 2]


def test_a_busy_shard_sends_the_reserve_to_another(
    store: InventoryStore, publish: FakePublisher, sharded: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 8 units over 4 shards, and a shard that stays busy (another transaction on it) for one round
    sharded("HOT-1", 4, 8)
    busy_rounds = conflict_holds(store, monkeypatch, times=1)

    # When an order reserves one unit
    result = logic.reserve(store, order("o-1", ("HOT-1", 1)), window=WINDOW, publish=publish, now=T0)

    # Then it was held from a shard other than the busy one, not answered 503
    assert result.changed
    hold = store.get_hold("o-1")
    assert hold is not None
    assert [take.shard for take in hold.takes] != busy_rounds[0]
    assert sum(reserved(store, "HOT-1")) == 1


# ---------------------------------------------------------------- commit and release


def test_release_puts_units_back_in_the_shards_they_came_from_and_commit_sells_them_there(
    stranger: InventoryStore, store: InventoryStore, publish: FakePublisher, sharded: Callable[..., None]
) -> None:
    # Given two orders holding units split over shards
    sharded("HOT-1", 4, 0)
    set_shard_available(store, "HOT-1", [1, 2, 0, 3])
    logic.reserve(stranger, order("o-1", ("HOT-1", 5)), window=WINDOW, publish=publish, now=T0)
    after_first = available(store, "HOT-1")
    first = store.get_hold("o-1")
    assert first is not None and len(first.takes) > 1

    # When the first is released
    logic.release(store, "o-1", reason=CANCELLED, publish=publish, now=T0)

    # Then every unit went back to its own shard
    back = available(store, "HOT-1")
    assert [back[n] - after_first[n] for n in range(4)] == [
        sum(t.quantity for t in first.takes if t.shard == n) for n in range(4)
    ]
    assert reserved(store, "HOT-1") == [0, 0, 0, 0]

    # When another order holds and commits
    logic.reserve(stranger, order("o-2", ("HOT-1", 2)), window=WINDOW, publish=publish, now=T0)
    second = store.get_hold("o-2")
    assert second is not None
    logic.commit(store, "o-2", publish=publish, now=T0)

    # Then the units are sold in the shards they were held in
    sold = [part.sold for part in store.read_layouts(["HOT-1"])["HOT-1"].counters]
    assert sold == [sum(t.quantity for t in second.sources if t.shard == n) for n in range(4)]
    assert reserved(store, "HOT-1") == [0, 0, 0, 0]


def test_a_hold_written_before_shards_commits_and_releases_on_shard_0(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given two holds of a SKU in one item, written as before shards existed (no `takes`)
    given_stock("OLD-1", 10)
    for order_id in ("o-old-1", "o-old-2"):
        logic.reserve(store, order(order_id, ("OLD-1", 2)), window=WINDOW, publish=publish, now=T0)
        raw = store.client.get_item(TableName=store.table, Key={"PK": {"S": hold_pk(order_id)}, "SK": {"S": HOLD}})
        assert "takes" not in raw["Item"]
    # And the SKU was sharded since
    store.set_shards("OLD-1", 4)
    assert reserved(store, "OLD-1") == [4, 0, 0, 0]

    # When one hold commits and the other is released
    logic.commit(store, "o-old-1", publish=publish, now=T0)
    logic.release(store, "o-old-2", reason=CANCELLED, publish=publish, now=T0)

    # Then both moved shard 0's reserved units, and the totals add up
    layout = store.read_layouts(["OLD-1"])["OLD-1"]
    assert [(part.reserved, part.sold) for part in layout.counters] == [(0, 2), (0, 0), (0, 0), (0, 0)]
    assert store.get_stock("OLD-1").model_dump(include={"available", "reserved", "sold"}) == {  # type: ignore[union-attr]
        "available": 8,
        "reserved": 0,
        "sold": 2,
    }


# ---------------------------------------------------------------- adjustments and shard counts


def test_adjustments_keep_the_shards_level(store: InventoryStore, sharded: Callable[..., None]) -> None:
    # Given a SKU in 4 shards, restocked with 10
    sharded("HOT-1", 4, 10)

    # Then the units were spread evenly
    assert sorted(available(store, "HOT-1")) == [2, 2, 3, 3]

    # When units pile up unevenly, and then 7 more arrive
    set_shard_available(store, "HOT-1", [6, 0, 1, 0])
    restock = AdjustmentIn(delta=7, reason="restock")
    logic.adjust(store, "HOT-1", restock, actor="t", idempotency_key=None, publish=ignore)

    # Then they went to the poorest shards first
    assert available(store, "HOT-1") == [6, 3, 2, 3] or sorted(available(store, "HOT-1")[1:]) == [2, 3, 3]
    assert sum(available(store, "HOT-1")) == 14

    # When 8 are written off
    logic.adjust(
        store, "HOT-1", AdjustmentIn(delta=-8, reason="shrinkage"), actor="t", idempotency_key=None, publish=ignore
    )

    # Then they came off the richest first, leaving the shards level
    after = available(store, "HOT-1")
    assert sum(after) == 6 and max(after) - min(after) <= 1


def test_a_removal_larger_than_all_shards_together_is_refused(
    store: InventoryStore, sharded: Callable[..., None]
) -> None:
    # Given 6 units over 3 shards
    sharded("HOT-1", 3, 6)

    # When 7 are written off
    with pytest.raises(InsufficientStock) as raised:
        logic.adjust(
            store, "HOT-1", AdjustmentIn(delta=-7, reason="shrinkage"), actor="t", idempotency_key=None, publish=ignore
        )

    # Then it is refused with the total, and nothing moved
    assert raised.value.details == {"sku": "HOT-1", "delta": -7, "available": 6}
    assert available(store, "HOT-1") == [2, 2, 2]


def test_changing_the_shard_count_keeps_the_totals(
    store: InventoryStore, stranger: InventoryStore, publish: FakePublisher, sharded: Callable[..., None]
) -> None:
    # Given 12 units over 4 shards, 5 of them held (split over shards)
    sharded("HOT-1", 4, 12)
    logic.reserve(stranger, order("o-1", ("HOT-1", 5)), window=WINDOW, publish=publish, now=T0)
    held_in = reserved(store, "HOT-1")

    # When the count is lowered to 2
    lowered = store.set_shards("HOT-1", 2)

    # Then the totals are unchanged, the retired shards hold no available units but keep their reserved
    # ones, and the 2 active shards are level
    assert lowered is not None
    assert (lowered.available, lowered.reserved, lowered.shards) == (7, 5, 2)
    after = available(store, "HOT-1")
    assert after[2:] == [0, 0] and sorted(after[:2]) == [3, 4]
    assert reserved(store, "HOT-1") == held_in

    # When the hold is released: its units go back to their shards, retired ones too, and are still counted
    logic.release(store, "o-1", reason=CANCELLED, publish=publish, now=T0)
    stock = store.get_stock("HOT-1")
    assert stock is not None and (stock.available, stock.reserved) == (12, 0)

    # And every unit can still be sold, retired shards included
    logic.reserve(stranger, order("o-2", ("HOT-1", 12)), window=WINDOW, publish=publish, now=T0)
    assert sum(available(store, "HOT-1")) == 0

    # When the count is raised to 16
    logic.release(store, "o-2", reason=CANCELLED, publish=publish, now=T0)
    raised = store.set_shards("HOT-1", 16)

    # Then 16 shards hold the 12 units, none more than one
    assert raised is not None and (raised.available, raised.shards) == (12, 16)
    assert sorted(available(store, "HOT-1")) == [0] * 4 + [1] * 12


def test_set_shards_of_an_unknown_sku_is_none(store: InventoryStore) -> None:
    assert store.set_shards("GHOST-1", 4) is None


# ---------------------------------------------------------------- reads and low-stock alerts


def test_every_read_sums_the_shards(
    store: InventoryStore, dynamodb: Any, stranger: InventoryStore, publish: FakePublisher, sharded: Callable[..., None]
) -> None:
    # Given 9 units over 4 shards, 2 of them held
    sharded("HOT-1", 4, 9, threshold=1)
    logic.reserve(stranger, order("o-1", ("HOT-1", 2)), window=WINDOW, publish=publish, now=T0)

    # When the stock is read by inventory (one, several, listed) and by another domain's reader
    one = store.get_stock("HOT-1")
    several = store.get_stocks(["HOT-1"], consistent=False)
    listed, _ = logic.list_stock(store, low_only=False, cursor=None, limit=10)
    level = StockReader(TABLE, client=dynamodb).levels(["HOT-1"])

    # Then all of them answer the totals, not shard 0's share
    assert one is not None and (one.available, one.reserved, one.shards) == (7, 2, 4)
    assert several["HOT-1"] == one == listed[0]
    assert level == {"HOT-1": StockLevel(sku="HOT-1", available=7, threshold=1)}
    assert available(store, "HOT-1")[0] < 7


def test_a_stock_low_is_decided_on_the_total_and_announced_once(
    store: InventoryStore, stranger: InventoryStore, publish: FakePublisher, sharded: Callable[..., None]
) -> None:
    # Given 12 units over 4 shards and a threshold of 4: each shard (3) is at or below it, the total is not
    sharded("HOT-1", 4, 12, threshold=4)

    # Then the SKU is not low (the new SKU's low flag was cleared by the restock)
    stock = store.get_stock("HOT-1")
    assert stock is not None and (stock.low, stock.available) == (False, 12)
    assert publish.of_type(StockLow.DETAIL_TYPE) == []

    # When orders take the total down to the threshold and below
    for n, quantity in enumerate([3, 5, 1], start=1):
        logic.reserve(stranger, order(f"o-{n}", ("HOT-1", quantity)), window=WINDOW, publish=publish, now=T0)

    # Then one StockLow was published, when the total reached 4
    lows = [StockLow.model_validate(e.envelope.data) for e in publish.of_type(StockLow.DETAIL_TYPE)]
    assert lows == [StockLow(sku="HOT-1", available=4, threshold=4, crossing=1)]

    # When a release lifts the total above the threshold again, the alert is re-armed
    logic.release(store, "o-2", reason=CANCELLED, publish=publish, now=T0)
    stock = store.get_stock("HOT-1")
    assert stock is not None and (stock.low, stock.available) == (False, 8)


# ---------------------------------------------------------------- automatic sharding


def conflict_holds(store: InventoryStore, monkeypatch: pytest.MonkeyPatch, *, times: int) -> list[list[int]]:
    """Make the next `times` hold transactions fail as DynamoDB answers when every stock item in them is
    in another transaction (after `common.dynamo`'s own retries). Answers the shards each failed round
    named, as they happen."""
    real = store.transact
    rounds: list[list[int]] = []

    def transact(actions: Any, *, token: str | None = None) -> None:
        put = actions[0].get("Put")
        if put and put["Item"]["SK"] == to_item({"SK": HOLD})["SK"] and len(rounds) < times:
            rounds.append([_shard_of(action["Update"]["Key"]["SK"]["S"]) for action in actions[1:]])
            raise TransactionCancelled(["None"] + ["TransactionConflict"] * (len(actions) - 1))
        real(actions, token=token)

    monkeypatch.setattr(store, "transact", transact)
    return rounds


def _shard_of(sort_key: str) -> int:
    return int(sort_key.partition("#")[2] or 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked(store: InventoryStore) -> tuple[InventoryStore, Clock]:
    clock = Clock()
    return InventoryStore(store.table, client=store.client, clock=clock), clock


def test_a_sku_whose_reserves_keep_meeting_contention_gets_4_shards_then_16(
    clocked: tuple[InventoryStore, Clock],
    given_stock: StockFactory,
    publish: FakePublisher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a SKU in one item, and three reserves in a minute given up for conflicts
    store, clock = clocked
    given_stock("HOT-1", 40)
    conflict_holds(store, monkeypatch, times=3)
    for n in range(3):
        clock.now += 15
        with pytest.raises(ServiceUnavailable):
            logic.reserve(store, order(f"o-{n}", ("HOT-1", 1)), window=WINDOW, publish=publish, now=T0)

    # Then the SKU now has 4 shards holding its 40 units, and the next buyer holds one
    stock = store.get_stock("HOT-1")
    assert stock is not None and (stock.shards, stock.available) == (4, 40)
    assert logic.reserve(store, order("o-4", ("HOT-1", 1)), window=WINDOW, publish=publish, now=T0).changed

    # When contention goes on (sharded reserves fall back rather than fail; three contended rounds again)
    conflict_holds(store, monkeypatch, times=3)
    for n in range(5, 8):
        clock.now += 15
        logic.reserve(store, order(f"o-{n}", ("HOT-1", 1)), window=WINDOW, publish=publish, now=T0)

    # Then it is raised to 16, and nothing was lost on the way
    stock = store.get_stock("HOT-1")
    assert stock is not None and (stock.shards, stock.available, stock.reserved) == (16, 36, 4)


def test_contention_spread_over_more_than_a_minute_or_a_count_set_by_hand_is_left_alone(
    clocked: tuple[InventoryStore, Clock],
    given_stock: StockFactory,
    publish: FakePublisher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given two SKUs in one item: one meets contention once every 40 s, the other was set to 1 by hand
    store, clock = clocked
    given_stock("SLOW-1", 10)
    given_stock("PINNED-1", 10)
    store.set_shards("PINNED-1", 1)
    conflict_holds(store, monkeypatch, times=6)
    for n in range(3):
        clock.now += 40
        with pytest.raises(ServiceUnavailable):
            logic.reserve(store, order(f"o-s{n}", ("SLOW-1", 1)), window=WINDOW, publish=publish, now=T0)
        with pytest.raises(ServiceUnavailable):
            logic.reserve(store, order(f"o-p{n}", ("PINNED-1", 1)), window=WINDOW, publish=publish, now=T0)

    # Then neither got shards: the first never saw three in a minute, the second keeps staff's choice
    assert store.get_stock("SLOW-1").shards == 1  # type: ignore[union-attr]
    assert store.get_stock("PINNED-1").shards == 1  # type: ignore[union-attr]


# ---------------------------------------------------------------- the settings route


CallAdmin = Callable[[dict[str, Any]], Answer]


@pytest.fixture
def hot(admin_world: InventoryStore) -> InventoryStore:
    logic.ensure_stock(admin_world, ["HOT-1"], threshold=2)
    logic.adjust(
        admin_world, "HOT-1", AdjustmentIn(delta=10, reason="restock"), actor="t", idempotency_key=None, publish=ignore
    )
    return admin_world


def test_staff_spread_a_sku_over_shards_through_the_api(
    hot: InventoryStore, call_admin: CallAdmin, api_event: Callable[..., dict[str, Any]]
) -> None:
    # When an admin sets 4 shards (and, in a second call, the threshold alone)
    answer = call_admin(api_event("PUT", "/inventory/HOT-1", body={"shards": 4}, groups=["admin"]))
    threshold = call_admin(api_event("PUT", "/inventory/HOT-1", body={"lowStockThreshold": 3}, groups=["admin"]))

    # Then the stock answers its totals and its shard count, and the units are spread
    assert answer.status == 200, answer.body
    assert (answer.body["available"], answer.body["shards"], answer.body["lowStockThreshold"]) == (10, 4, 2)
    assert (threshold.body["shards"], threshold.body["lowStockThreshold"]) == (4, 3)
    assert sorted(available(hot, "HOT-1")) == [2, 2, 3, 3]
    read = call_admin(api_event("GET", "/inventory/HOT-1", groups=["admin"]))
    assert (read.body["available"], read.body["shards"]) == (10, 4)
    both = call_admin(
        api_event("PUT", "/inventory/HOT-1", body={"shards": 2, "lowStockThreshold": 5}, groups=["admin"])
    )
    assert (both.body["shards"], both.body["lowStockThreshold"], both.body["available"]) == (2, 5, 10)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"shards": 0}, "greater_than_equal"),
        ({"shards": 17}, "less_than_equal"),
        ({"shards": "4"}, "int_type"),
        ({"shards": 4.0}, "int_type"),
        ({"lowStockThreshold": 3, "shards": 0}, "greater_than_equal"),
        ({}, "value_error"),
        (None, None),
    ],
)
def test_a_shard_count_outside_1_to_16_or_no_setting_at_all_is_422(
    hot: InventoryStore,
    call_admin: CallAdmin,
    api_event: Callable[..., dict[str, Any]],
    body: Any,
    problem: str | None,
) -> None:
    # When an admin sends a shard count that is not a JSON integer in 1..16, or nothing to set
    answer = call_admin(api_event("PUT", "/inventory/HOT-1", body=body, groups=["admin"]))

    # Then it is a 422 naming the problem, and nothing changed
    assert answer.status == 422, answer.body
    if problem is not None:
        assert problem in {detail["type"] for detail in answer.error["details"]}, answer.error
    stock = hot.get_stock("HOT-1")
    assert stock is not None and (stock.shards, stock.threshold) == (1, 2)


def test_shards_of_an_unknown_sku_are_404(
    hot: InventoryStore, call_admin: CallAdmin, api_event: Callable[..., dict[str, Any]]
) -> None:
    answer = call_admin(api_event("PUT", "/inventory/GHOST-1", body={"shards": 4}, groups=["admin"]))
    assert answer.status == 404
    assert answer.error_code == "stock_not_found"


# ---------------------------------------------------------------- a hot stock item's own writes


def test_a_low_stock_flag_that_meets_a_busy_item_leaves_the_sale_alone_and_the_next_check_flags_it(
    store: InventoryStore, publish: FakePublisher, sharded: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 6 units over 4 shards with a threshold of 4, and a stock item that stays in other buyers'
    # transactions while the first flag is tried
    sharded("HOT-1", 4, 6, threshold=4)
    real = store.transact
    busy = [1]

    def transact(actions: Any, *, token: str | None = None) -> None:
        update = actions[0].get("Update")
        if update and "low = :t" in update["UpdateExpression"] and busy[0]:
            busy[0] -= 1
            raise TransactionCancelled(["TransactionConflict", "None"])
        real(actions, token=token)

    monkeypatch.setattr(store, "transact", transact)

    # When a sale takes the total to the threshold
    result = logic.reserve(store, order("o-1", ("HOT-1", 2)), window=WINDOW, publish=publish, now=T0)

    # Then the sale is held (not a 503 for a flag), nothing is announced yet
    assert result.changed
    assert publish.of_type(StockLow.DETAIL_TYPE) == []

    # And the next sale's check flags the crossing, once
    logic.reserve(store, order("o-2", ("HOT-1", 1)), window=WINDOW, publish=publish, now=T0)
    lows = [StockLow.model_validate(e.envelope.data) for e in publish.of_type(StockLow.DETAIL_TYPE)]
    assert lows == [StockLow(sku="HOT-1", available=3, threshold=4, crossing=1)]


def test_an_announced_crossing_whose_record_meets_a_busy_item_is_announced_again_by_the_sweeper(
    store: InventoryStore, publish: FakePublisher, sharded: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stock item that answers "in another transaction" to the write recording an announcement
    sharded("HOT-1", 4, 5, threshold=4)
    busy = ClientError(
        {"Error": {"Code": "TransactionConflictException", "Message": "Transaction is ongoing for the item"}},
        "UpdateItem",
    )
    real = store._conditional_update

    def conditional_update(sku: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        if update.startswith("SET announced"):
            raise busy
        return real(sku, update, condition, values)

    monkeypatch.setattr(store, "_conditional_update", conditional_update)

    # When a sale crosses the threshold
    assert logic.reserve(store, order("o-1", ("HOT-1", 1)), window=WINDOW, publish=publish, now=T0).changed

    # Then the crossing was announced and the sale held; the crossing stays pending
    assert [e.envelope.event_id for e in publish.of_type(StockLow.DETAIL_TYPE)] == ["StockLow#HOT-1#1"]
    assert store.pending_announcements(10) == [("HOT-1", 1)]

    # And once the item is free, the sweeper announces it again under the same id (consumers dedupe)
    monkeypatch.setattr(store, "_conditional_update", real)
    logic.sweep(store, is_waiting=lambda _order_id: True, publish=publish, now=T0)
    assert [e.envelope.event_id for e in publish.of_type(StockLow.DETAIL_TYPE)] == ["StockLow#HOT-1#1"] * 2
    assert store.pending_announcements(10) == []


def test_a_warm_function_keeps_its_store_and_so_what_it_learnt_of_hot_skus(admin_world: InventoryStore) -> None:
    # Given the handlers' store, used by one invocation
    first = wiring.store()

    # Then the next invocation of the warm process gets the same one (its shard hints and contention
    # counts), and a new client (a new process, or a test's fresh AWS) gets a new one
    assert wiring.store() is first
    dynamodb_client.cache_clear()
    assert wiring.store() is not first


def test_a_process_levels_a_sku_at_most_once_a_second(
    clocked: tuple[InventoryStore, Clock], store: InventoryStore, sharded: Callable[..., None]
) -> None:
    # Given a SKU whose units piled up in one shard, levelled once
    fast, clock = clocked
    sharded("HOT-1", 4, 0)
    set_shard_available(store, "HOT-1", [0, 8, 0, 0])
    assert fast.rebalance("HOT-1")
    assert available(store, "HOT-1") == [2, 2, 2, 2]

    # When they pile up again within the second, the same process leaves them (a flash sale's fallbacks
    # would otherwise each write every shard); a second later it levels them again
    set_shard_available(store, "HOT-1", [0, 8, 0, 0])
    clock.now += 0.5
    assert not fast.rebalance("HOT-1")
    assert available(store, "HOT-1") == [0, 8, 0, 0]
    clock.now += 0.5
    assert fast.rebalance("HOT-1")
    assert available(store, "HOT-1") == [2, 2, 2, 2]
