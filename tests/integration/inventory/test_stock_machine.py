"""Random sequences of reserve / commit / release / adjust / sweep (with the clock moving), duplicates
included, on three SKUs and a handful of orders, against moto in-process. A plain-Python model predicts
every answer and every counter; after each step the table itself is read and must agree with it, so a
transition that moved stock twice (or not at all) shows up at the step that did it.

The machine runs twice: with every SKU in one item, and with each SKU's stock in 4 shards (issue 16), where
the shard count also changes between steps. The model knows totals only; the table must show them summed
over the shards, no shard ever negative, and each shard's reserved units exactly what the HELD holds say
they took from it."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import boto3
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from moto import mock_aws

from common.contracts import StockLow
from common.dynamo import from_item
from inventory import logic
from inventory.errors import (
    HoldCommitted,
    HoldNotFound,
    HoldReleased,
    IdempotencyKeyReused,
    InsufficientStock,
    OutOfStock,
)
from inventory.models import AdjustmentIn
from inventory.store import InventoryStore
from tests.fakes import FakePublisher

from .conftest import REGION, T0, TABLE, WINDOW, create_inventory_table, order, raw_items

SKUS = ("RED-1", "BLUE-2", "GREEN-3")
ORDERS = ("o-1", "o-2", "o-3", "o-4", "o-5")
OPENING_STOCK = 6
THRESHOLD = 2
KEYS = (None, "key-0001", "key-0002")
REASONS = ("order cancelled", "payment failed")

lines_strategy = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 4)), min_size=1, max_size=3)


@dataclass
class ModelHold:
    lines: dict[str, int]
    status: str
    expires_at: datetime | None
    reason: str | None = None


@dataclass
class ModelStock:
    available: int = 0
    reserved: int = 0
    sold: int = 0
    total_in: int = 0
    low: bool = True  # a new SKU starts at zero, flagged low (no event for that)
    crossings: int = 0


@dataclass
class Model:
    stock: dict[str, ModelStock] = field(default_factory=lambda: {sku: ModelStock() for sku in SKUS})
    holds: dict[str, ModelHold] = field(default_factory=dict)
    keys: dict[tuple[str, str], int] = field(default_factory=dict)

    def moved(self, skus: list[str] | dict[str, int]) -> None:
        """What check_low_stock must do after `available` of these SKUs changed."""
        for sku in skus:
            stock = self.stock[sku]
            if stock.available <= THRESHOLD and not stock.low:
                stock.low, stock.crossings = True, stock.crossings + 1
            elif stock.available > THRESHOLD and stock.low:
                stock.low = False

    def short_of(self, quantities: dict[str, int]) -> list[tuple[str, int, int]]:
        return [(s, q, self.stock[s].available) for s, q in quantities.items() if q > self.stock[s].available]


class StockMachine(RuleBasedStateMachine):
    SHARDS = 1
    """Shards each SKU starts with."""
    reserved_orders = Bundle("reserved_orders")
    """Orders a reserve was attempted for; commit and release mostly pick from these, so that they
    meet holds, and sometimes any order id (no hold yet: a tombstone, or not found)."""

    def __init__(self) -> None:
        super().__init__()
        self.aws = mock_aws()
        self.aws.start()
        try:
            client = boto3.client("dynamodb", region_name=REGION)
            create_inventory_table(client)
            self.store = InventoryStore(TABLE, client=client)
            self.publish = FakePublisher()
            self.now = T0
            self.model = Model()
            logic.ensure_stock(self.store, SKUS, threshold=THRESHOLD)
            if self.SHARDS > 1:
                for sku in SKUS:
                    self.store.set_shards(sku, self.SHARDS)
            for sku in SKUS:  # some stock on the shelf, so that early reserves can succeed
                self._adjust(sku, OPENING_STOCK, None)
        except BaseException:
            self.aws.stop()  # teardown is not called when __init__ fails: never leak the mock
            raise

    def teardown(self) -> None:
        self.aws.stop()

    # ------------------------------------------------------------ rules

    @rule(sku=st.sampled_from(SKUS), delta=st.integers(-4, 8), key=st.sampled_from(KEYS))
    def adjust(self, sku: str, delta: int, key: str | None) -> None:
        self._adjust(sku, delta, key)

    def _adjust(self, sku: str, delta: int, key: str | None) -> None:
        stock = self.model.stock[sku]
        request = AdjustmentIn(delta=delta, reason="correction")
        call = partial(
            logic.adjust,
            self.store,
            sku,
            request,
            actor="staff",
            idempotency_key=key,
            publish=self.publish,
            now=self.now,
        )
        if key is not None and (sku, key) in self.model.keys:
            if self.model.keys[(sku, key)] != delta:
                _expect_raises(IdempotencyKeyReused, call)
                return
            entry, after, created = call()
            assert (created, entry.delta) == (False, delta)
            assert after.available == stock.available
            return
        if stock.available + delta < 0:
            error = _expect_raises(InsufficientStock, call)
            assert error.details == {"sku": sku, "delta": delta, "available": stock.available}
            return
        _, after, created = call()
        stock.available += delta
        stock.total_in += delta
        if key is not None:
            self.model.keys[(sku, key)] = delta
        self.model.moved([sku])
        assert created
        assert after.available == stock.available

    @rule(target=reserved_orders, order_id=st.sampled_from(ORDERS), lines=lines_strategy)
    def reserve(self, order_id: str, lines: list[tuple[str, int]]) -> str:
        self._reserve(order_id, lines)
        return order_id

    def _reserve(self, order_id: str, lines: list[tuple[str, int]]) -> None:
        task = order(order_id, *lines)
        call = partial(logic.reserve, self.store, task, window=WINDOW, publish=self.publish, now=self.now)
        existing = self.model.holds.get(order_id)
        if existing is not None:
            if existing.status == "RELEASED":
                _expect_raises(HoldReleased, call)
                return
            result = call()  # a duplicate: the hold as it is, whatever these lines say
            assert (result.status, result.changed) == (existing.status, False)
            assert {line.sku: line.quantity for line in result.lines} == existing.lines
            return
        quantities = logic.summed(task.lines)
        short = self.model.short_of(quantities)
        if short:
            error = _expect_raises(OutOfStock, call)
            assert [(s.sku, s.requested, s.available) for s in error.short] == short
            return
        result = call()
        assert (result.status, result.changed) == ("HELD", True)
        for sku, quantity in quantities.items():
            self.model.stock[sku].available -= quantity
            self.model.stock[sku].reserved += quantity
        self.model.holds[order_id] = ModelHold(quantities, "HELD", self.now + WINDOW)
        self.model.moved(quantities)

    @rule(order_id=reserved_orders | st.sampled_from(ORDERS))
    def commit(self, order_id: str) -> None:
        call = partial(logic.commit, self.store, order_id, publish=self.publish, now=self.now)
        hold = self.model.holds.get(order_id)
        if hold is None:
            _expect_raises(HoldNotFound, call)
            return
        if hold.status == "COMMITTED":
            result = call()
            assert (result.status, result.changed) == ("COMMITTED", False)
            return
        if hold.status == "RELEASED":
            if hold.reason != logic.EXPIRED or not hold.lines:
                _expect_raises(HoldReleased, call)
                return
            short = self.model.short_of(hold.lines)
            if short:
                error = _expect_raises(OutOfStock, call)
                assert [(s.sku, s.requested, s.available) for s in error.short] == short
                return
            assert call().changed  # re-acquired from the shelf
            for sku, quantity in hold.lines.items():
                self.model.stock[sku].available -= quantity
                self.model.stock[sku].sold += quantity
            self.model.moved(hold.lines)
        else:
            assert call().changed
            for sku, quantity in hold.lines.items():
                self.model.stock[sku].reserved -= quantity
                self.model.stock[sku].sold += quantity
        hold.status = "COMMITTED"

    @rule(order_id=reserved_orders | st.sampled_from(ORDERS), reason=st.sampled_from(REASONS))
    def release(self, order_id: str, reason: str) -> None:
        call = partial(logic.release, self.store, order_id, reason=reason, publish=self.publish, now=self.now)
        hold = self.model.holds.get(order_id)
        if hold is None:
            result = call()
            assert (result.status, result.changed, result.lines) == ("RELEASED", True, [])
            self.model.holds[order_id] = ModelHold({}, "RELEASED", None, reason)
            return
        if hold.status == "COMMITTED":
            _expect_raises(HoldCommitted, call)
            return
        if hold.status == "RELEASED":
            # Expired, then cancelled: the reason becomes the cancellation (no stock moves), so a late
            # payment cannot re-acquire; any other second release changes nothing.
            renamed = hold.reason == logic.EXPIRED and reason != logic.EXPIRED
            assert call().changed is renamed
            if renamed:
                hold.reason = reason
            return
        assert call().changed
        self._put_back(hold, reason)

    @rule(minutes=st.integers(0, 10), waiting=st.frozensets(st.sampled_from(ORDERS), max_size=2))
    def sweep(self, minutes: int, waiting: frozenset[str]) -> None:
        """The clock moves on (a minute of the window is 0-10 steps' worth), then the sweeper runs."""
        self.now += timedelta(minutes=minutes)
        released = logic.sweep(
            self.store, is_waiting=lambda order_id: order_id in waiting, publish=self.publish, now=self.now
        )
        due = sorted(
            (hold.expires_at, order_id)
            for order_id, hold in self.model.holds.items()
            if hold.status == "HELD" and hold.expires_at is not None and hold.expires_at < self.now
        )
        expected = [order_id for _, order_id in due if order_id not in waiting]
        assert released == expected
        for order_id in expected:
            self._put_back(self.model.holds[order_id], logic.EXPIRED)

    def _put_back(self, hold: ModelHold, reason: str) -> None:
        for sku, quantity in hold.lines.items():
            self.model.stock[sku].reserved -= quantity
            self.model.stock[sku].available += quantity
        hold.status, hold.reason = "RELEASED", reason
        self.model.moved(hold.lines)

    # ------------------------------------------------------------ invariants, read from the table

    @invariant()
    def the_table_agrees_with_the_model(self) -> None:
        items = [from_item(item) for item in raw_items(self.store)]
        stocks = {item["sku"]: item for item in items if item["SK"] == "STOCK"}
        holds = {item["orderId"]: item for item in items if item["SK"] == "HOLD"}
        shards: dict[tuple[str, int], tuple[int, int, int]] = {
            (item["sku"], item.get("shard", 0)): (item["available"], item["reserved"], item["sold"])
            for item in items
            if item["SK"].startswith("STOCK")
        }

        held: Counter[str] = Counter()
        held_in: Counter[tuple[str, int]] = Counter()
        for hold in holds.values():
            if hold["status"] == "HELD":
                held.update({line["sku"]: line["quantity"] for line in hold["lines"]})
                takes = hold.get("takes") or [{"shard": 0, **line} for line in hold["lines"]]
                held_in.update({(take["sku"], take["shard"]): take["quantity"] for take in takes})

        for (sku, shard), part in shards.items():
            assert min(part) >= 0, (sku, shard, part)
            assert part[1] == held_in[(sku, shard)], (sku, shard, part, held_in[(sku, shard)])

        for sku in SKUS:
            stock, model = stocks[sku], self.model.stock[sku]
            counters = tuple(sum(part[i] for (s, _), part in shards.items() if s == sku) for i in range(3))
            assert min(counters) >= 0, (sku, counters)
            assert sum(counters) == model.total_in, (sku, counters, model.total_in)
            assert counters[1] == held[sku], (sku, counters[1], held[sku])
            assert counters == (model.available, model.reserved, model.sold), (sku, counters, model)
            assert (stock["low"], stock["crossings"]) == (model.low, model.crossings), (sku, stock, model)

        assert {o: (h["status"], {line["sku"]: line["quantity"] for line in h["lines"]}) for o, h in holds.items()} == {
            o: (h.status, h.lines) for o, h in self.model.holds.items()
        }

    @invariant()
    def each_crossing_is_announced_once(self) -> None:
        announced: dict[str, list[int]] = {sku: [] for sku in SKUS}
        for event in self.publish.of_type(StockLow.DETAIL_TYPE):
            data = StockLow.model_validate(event.envelope.data)
            assert event.envelope.event_id == f"StockLow#{data.sku}#{data.crossing}"
            announced[data.sku].append(data.crossing)
        for sku in SKUS:
            assert announced[sku] == list(range(1, self.model.stock[sku].crossings + 1)), (sku, announced[sku])


def _expect_raises[E: Exception](error: type[E], call: Callable[[], object]) -> E:
    """The call must raise `error` (and leave the table as the invariants expect)."""
    try:
        call()
    except error as raised:
        return raised
    raise AssertionError(f"expected {error.__name__}")


StockMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
TestStockMachine = StockMachine.TestCase


class ShardedStockMachine(StockMachine):
    """The same machine with each SKU's stock in 4 shards, whose count staff also change between steps."""

    SHARDS = 4

    @rule(sku=st.sampled_from(SKUS), shards=st.integers(1, 5))
    def reshard(self, sku: str, shards: int) -> None:
        stock = self.store.set_shards(sku, shards)
        model = self.model.stock[sku]
        assert stock is not None
        assert (stock.shards, stock.available, stock.reserved, stock.sold) == (
            shards,
            model.available,
            model.reserved,
            model.sold,
        )


ShardedStockMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
TestShardedStockMachine = ShardedStockMachine.TestCase
