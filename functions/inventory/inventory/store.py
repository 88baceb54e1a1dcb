"""The inventory table, and the only module that talks to DynamoDB.

Items (one table, keys PK/SK):
- `SKU#<sku> / STOCK {sku, available, reserved, sold, threshold, low, crossings, shards, shardItems}`: the
  SKU's record and its shard 0. `GSI1PK=STOCK, GSI1SK=<sku>` lists every SKU; `GSI2PK=LOW, GSI2SK=<sku>`
  is present only while the SKU is flagged low. Both indexes project keys only, so a counter change never
  writes to them.
- `SKU#<sku> / STOCK#<n> {sku, shard, available, reserved, sold}`: shard n (1..shardItems-1) of a hot SKU,
  whose units are spread over `shards` items so that concurrent buyers write different items (one item
  takes ~1,000 write units a second, and two transactions on it at once cancel each other). `shards` is the
  active count (absent: 1); `shardItems` the most ever created (absent: 1), so reads sum every shard that
  may still hold units after the count was lowered. Counters are never negative in any shard, so never in
  total; every read answers totals.
- `SKU#<sku> / LEDGER#<adjustmentId>`: one row per adjustment, written in the adjustment's transaction.
- `SKU#<sku> / ADJKEY#<key>`: the Idempotency-Key an adjustment was made with, in the same transaction.
- `HOLD#<orderId> / HOLD {lines, takes, status, expiresAt}`: one per order; `takes` says which shard each
  held unit came from (absent: shard 0, as every hold written before shards). While HELD it carries
  `GSI1PK=HELD, GSI1SK=<expiresAt>#<orderId>`, which the sweeper reads oldest first; a finished hold
  loses it and gets a TTL for clean-up (nothing relies on TTL for timing).

Every transition is one transaction guarded by conditions, so a duplicate call changes nothing. Where a
sharded SKU's units are taken from is first a guess with no read (a random shard last seen with enough);
a failed condition or a conflict reads the shards and places the units from what is there.
"""

import contextlib
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from common.contracts import OrderLine, StockLevel
from common.dynamo import (
    BUSY_REASONS,
    Key,
    Page,
    TransactionCancelled,
    check_start_key,
    from_item,
    is_busy_item,
    is_condition_failure,
    is_throttled,
    query_page,
    to_item,
    to_value,
)
from common.errors import ServiceUnavailable
from common.stock import SHARD_ITEMS, STOCK_SK, shard_key, stock_pk
from common.store import TableStore, iso, key, parse_time
from inventory import shards
from inventory.models import MAX_SHARDS, Hold, HoldStatus, LedgerEntry, Stock, Take

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

STOCK = STOCK_SK
HOLD = "HOLD"
HELD_PARTITION = "HELD"
LOW_PARTITION = "LOW"
PENDING_ANNOUNCEMENTS = "PENDING#STOCKLOW"
FINISHED_HOLD_TTL = timedelta(days=90)
MAX_TRANSACTION_ACTIONS = 100

SHARDS = "shards"
PINNED = "shardsPinned"
"""On the stock item: its shard count was set by hand (`set_shards`); automatic sharding leaves it alone."""
PLACING_ROUNDS = 8
"""Transactions one reserve may try, each placed from a fresh read of the shards after the first. A round
fails only when another buyer took the units meanwhile (or a shard was busy), so eight is generous."""
AUTO_SHARD_STEPS = (4, 16)
CONTENTION_WINDOW_SECONDS = 60.0
CONTENTION_TO_RAISE = 3
"""Automatic sharding: a process that saw this many contended reserve rounds of one SKU (each one a
transaction given up after `common.dynamo`'s conflict retries, or throttled) within the window raises the
SKU's shards to the next step. Counted in memory, so the count itself writes nothing; see decisions."""
HINTS_KEPT = 10_000
REBALANCE_EVERY_SECONDS = 1.0
"""A process levels one SKU at most this often: a rebalance writes up to K hot items in one transaction,
so during a flash sale, when many reserves fall back at once, one of them is enough."""


class HoldExists(Exception):
    """Reserve found a hold for the order already (a retry, or a tombstone of a release)."""


class ShortOf(Exception):
    """A transaction's stock conditions failed for these SKUs; `available` is their total when known
    (read consistently after the failure)."""

    def __init__(self, skus: Sequence[str], available: Mapping[str, int] | None = None) -> None:
        super().__init__(f"short of {', '.join(skus)}")
        self.skus = list(skus)
        self.available = dict(available or {})


class HoldNotInStatus(Exception):
    """The hold was not in the status the transition needs (someone else moved it first)."""


class KeyUsed(Exception):
    """The adjustment's idempotency key is already recorded."""


sku_pk = stock_pk
"""A SKU's partition: stock, ledger and key markers. Its key function is the read model's (`common.stock`)."""


def hold_pk(order_id: str) -> str:
    return f"HOLD#{order_id}"


class Counters(NamedTuple):
    available: int
    reserved: int
    sold: int


@dataclass(frozen=True)
class Layout:
    """One SKU's stock as stored: its record (the stock item, shard 0) and every shard's counters."""

    record: dict[str, Any]
    counters: tuple[Counters, ...]

    @property
    def sku(self) -> str:
        return str(self.record["sku"])

    @property
    def active(self) -> int:
        return int(self.record.get(SHARDS, 1))

    @property
    def available(self) -> list[int]:
        return [c.available for c in self.counters]

    def stock(self) -> Stock:
        """The SKU's totals, as the domain sees them."""
        totals = {name: sum(getattr(c, name) for c in self.counters) for name in Counters._fields}
        return Stock.model_validate({**self.record, **totals, SHARDS: self.active})


@dataclass
class Placement:
    """Where a reserve (or re-acquire) took its units, and which SKUs needed a read to find them (their
    shards are uneven: the caller rebalances them)."""

    takes: tuple[Take, ...]
    fell_back: tuple[str, ...]


@dataclass
class _Hint:
    """What this process last saw of a sharded SKU: the active count and each shard's available units."""

    active: int
    available: list[int] = field(default_factory=list)


def _counters(values: Mapping[str, Any]) -> Counters:
    return Counters(values.get("available", 0), values.get("reserved", 0), values.get("sold", 0))


def _hold_of(values: Mapping[str, Any]) -> Hold:
    return Hold(
        order_id=values["orderId"],
        lines=tuple(OrderLine(sku=line["sku"], quantity=line["quantity"]) for line in values.get("lines", [])),
        status=HoldStatus(values["status"]),
        expires_at=parse_time(values.get("expiresAt")),
        release_reason=values.get("releaseReason"),
        takes=tuple(Take.model_validate(take) for take in values.get("takes", [])),
    )


def _ledger_of(values: Mapping[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        adjustment_id=values["adjustmentId"],
        sku=values["sku"],
        delta=values["delta"],
        reason=values["reason"],
        note=values.get("note"),
        actor=values["actor"],
        at=datetime.fromisoformat(values["at"]),
    )


def _takes_attribute(takes: Sequence[Take]) -> list[dict[str, Any]] | None:
    """The hold's `takes`, or None when every unit is on shard 0 (such a hold is stored as before shards)."""
    if all(take.shard == 0 for take in takes):
        return None
    return [take.model_dump() for take in takes]


class InventoryStore(TableStore):
    busy = "inventory is busy; retry"

    def __init__(
        self,
        table: str,
        client: "DynamoDBClient | None" = None,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(table, client)
        self._rng = rng or random.Random()
        self._clock = clock
        self._hints: dict[str, _Hint] = {}
        self._contention: dict[str, deque[float]] = defaultdict(deque)
        self._rebalanced: dict[str, float] = {}
        self._lock = threading.Lock()  # a process's threads share the hints and the counts

    # ------------------------------------------------------------ stock

    def create_stock(self, sku: str, threshold: int) -> bool:
        """Start a SKU at zero (flagged low: nothing is on the shelf), in one item (one shard). False if it
        already exists. The attributes other domains read are written from their read model, `StockLevel`."""
        item = {
            "PK": sku_pk(sku),
            "SK": STOCK,
            **StockLevel(sku=sku, available=0, threshold=threshold).model_dump(by_alias=True),
            "reserved": 0,
            "sold": 0,
            "low": True,
            "crossings": 0,
            "GSI1PK": STOCK,
            "GSI1SK": sku,
            "GSI2PK": LOW_PARTITION,
            "GSI2SK": sku,
        }
        return self.put_if_absent(item)

    def get_stock(self, sku: str) -> Stock | None:
        """The SKU's totals over its shards, read consistently."""
        record = self.get(sku_pk(sku), STOCK)
        return self._layouts([record], consistent=True)[sku].stock() if record else None

    def get_stocks(self, skus: Iterable[str], *, consistent: bool = True) -> dict[str, Stock]:
        """Totals of each SKU that has a record, by SKU."""
        return {sku: layout.stock() for sku, layout in self.read_layouts(skus, consistent=consistent).items()}

    def read_layouts(self, skus: Iterable[str], *, consistent: bool = True) -> dict[str, Layout]:
        """Every shard of each SKU that has a record: the records and the shards this process knows of in
        one batch read, any other shard in a second one (a SKU with one item is one key, as before)."""
        keys = []
        for sku in dict.fromkeys(skus):
            hint = self._hints.get(sku)
            keys += [shard_key(sku, n) for n in range(len(hint.available) if hint else 1)]
        return self._layouts(self.batch_read(keys, consistent=consistent), consistent=consistent)

    def _layouts(self, items: Iterable[Mapping[str, Any]], *, consistent: bool) -> dict[str, Layout]:
        records: dict[str, Mapping[str, Any]] = {}
        parts: dict[str, dict[int, Counters]] = defaultdict(dict)
        for values in items:
            if values["SK"] == STOCK:
                records[values["sku"]] = values
            else:
                parts[values["sku"]][values["shard"]] = _counters(values)
        missing = [
            shard_key(sku, n)
            for sku, record in records.items()
            for n in range(1, record.get(SHARD_ITEMS, 1))
            if n not in parts[sku]
        ]
        for values in self.batch_read(missing, consistent=consistent) if missing else []:
            parts[values["sku"]][values["shard"]] = _counters(values)
        layouts = {}
        for sku, record in records.items():
            others = (parts[sku].get(n, Counters(0, 0, 0)) for n in range(1, record.get(SHARD_ITEMS, 1)))
            counters = (_counters(record), *others)
            layouts[sku] = layout = Layout(dict(record), counters)
            self._learn(layout)
        return layouts

    def _learn(self, layout: Layout) -> None:
        with self._lock:
            if len(self._hints) >= HINTS_KEPT and layout.sku not in self._hints:
                self._hints.pop(next(iter(self._hints)))
            self._hints[layout.sku] = _Hint(layout.active, layout.available)

    def set_threshold(self, sku: str, threshold: int) -> Stock | None:
        values = self.update_if(
            sku_pk(sku), STOCK, "SET threshold = :t", condition="attribute_exists(PK)", values={":t": threshold}
        )
        return self._layouts([values], consistent=True)[sku].stock() if values else None

    def flag_low(self, stock: Stock) -> bool:
        """Flag a SKU low, as crossing number `stock.crossings + 1`, if nobody flagged it since `stock`
        was read and it is still low; in the same transaction, note the crossing as not yet announced.
        A SKU in one item is checked by the item's own `available`; a sharded one cannot be (the item
        holds shard 0's share), so `stock`, its summed read, decides, and `crossings` still makes the
        flag (and the announcement) one per crossing. False too when the item stayed busy: the write that
        held it (a sale, another flag) is followed by its own check, which flags the crossing."""
        pending = {"PK": PENDING_ANNOUNCEMENTS, "SK": stock.sku, "sku": stock.sku, "crossing": stock.crossings + 1}
        update = self.update_action(
            sku_pk(stock.sku),
            STOCK,
            "SET low = :t, crossings = :next, GSI2PK = :low, GSI2SK = sku",
            condition=f"low = :f AND crossings = :seen AND ((available <= threshold AND {_ONE_ITEM}) OR {_SHARDED})",
            values={
                ":t": True,
                ":f": False,
                ":low": LOW_PARTITION,
                ":next": stock.crossings + 1,
                ":seen": stock.crossings,
                ":one": 1,
                ":threshold": stock.threshold,
            },
        )
        try:
            self.transact([update, {"Put": {"TableName": self.table, "Item": to_item(pending)}}])
        except TransactionCancelled as cancelled:
            if cancelled.failed() or set(cancelled.reasons) <= {"None", *BUSY_REASONS}:
                return False
            raise _busy(cancelled) from cancelled
        return True

    def mark_announced(self, sku: str, crossing: int) -> None:
        """Record that crossing `crossing` was announced and drop it from the pending ones. If the stock
        item stays busy (a hot SKU's sales hold it), the crossing stays pending and the sweeper announces
        it again under the same event id, which consumers dedupe: the sale is not failed for it."""
        try:
            self._conditional_update(
                sku, "SET announced = :n", "attribute_not_exists(announced) OR announced < :n", {":n": crossing}
            )
        except ClientError as error:
            if is_busy_item(error):
                return
            raise
        self._drop_pending(sku, crossing)

    def _drop_pending(self, sku: str, crossing: int) -> None:
        """Drop the pending note of an announced crossing; a busy note stays for the sweeper (announced
        again under the same id)."""
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=key(PENDING_ANNOUNCEMENTS, sku),
                ConditionExpression="crossing <= :n",
                ExpressionAttributeValues={":n": to_value(crossing)},
            )
        except ClientError as error:
            if not (is_condition_failure(error) or is_busy_item(error)):
                raise

    def pending_announcements(self, limit: int) -> list[tuple[str, int]]:
        """Crossings flagged but not announced (their announcer died in between): (sku, crossing)."""
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="PK = :pending",
            ExpressionAttributeValues={":pending": to_value(PENDING_ANNOUNCEMENTS)},
            Limit=limit,
        )
        return [(v["sku"], v["crossing"]) for v in (from_item(i) for i in response.get("Items", []))]

    def clear_low(self, stock: Stock) -> bool:
        """Clear the low flag of a SKU that is above its threshold again (re-arming the alert): checked on
        the item for a SKU in one item, decided by `stock` (its summed read) for a sharded one, as long as
        no crossing was flagged since. False too when the item stayed busy: the next check clears it."""
        try:
            return self._conditional_update(
                stock.sku,
                "SET low = :f REMOVE GSI2PK, GSI2SK",
                f"low = :t AND ((available > threshold AND {_ONE_ITEM}) OR ({_SHARDED} AND crossings = :seen))",
                {":t": True, ":f": False, ":one": 1, ":threshold": stock.threshold, ":seen": stock.crossings},
            )
        except ClientError as error:
            if is_busy_item(error):
                return False
            raise

    def _conditional_update(self, sku: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        return self.update_if(sku_pk(sku), STOCK, update, condition=condition, values=values) is not None

    # ------------------------------------------------------------ shards

    def set_shards(self, sku: str, shards: int) -> Stock | None:
        """Spread the SKU's available units over `shards` items (1..16) and keep that count: raising it
        creates the new shard items, lowering it moves the retired shards' available units onto the active
        ones (their reserved units stay until their holds finish; reads go on summing them). None if the
        SKU has no stock record. Automatic sharding never changes a count set here."""
        if not 1 <= shards <= MAX_SHARDS:
            raise ValueError(f"shards must be 1..{MAX_SHARDS}, not {shards}")
        for _ in range(PLACING_ROUNDS):
            layout = self.read_layouts([sku]).get(sku)
            if layout is None:
                return None
            if self._reshard(layout, shards, pinned=True):
                return self.get_stock(sku)
        raise ServiceUnavailable(self.busy, code="transaction_conflict")

    def auto_shard(self, sku: str) -> int | None:
        """Raise a contended SKU's shards to the next of `AUTO_SHARD_STEPS`, unless someone set its count
        by hand or another process raised it first. Answers the new count, None if nothing changed."""
        layout = self.read_layouts([sku]).get(sku)
        if layout is None or layout.record.get(PINNED):
            return None
        step = next((k for k in AUTO_SHARD_STEPS if k > layout.active), None)
        if step is None or not self._reshard(layout, step, pinned=False):
            return None
        return step

    def rebalance(self, sku: str) -> bool:
        """Move available units from the richest shards to the poorest (and off retired ones) in one
        conditional transaction, so that a guess with no read keeps finding units. Best effort: False when
        there was nothing to move, a buyer moved first (the next fallback rebalances again), or this
        process levelled the SKU less than `REBALANCE_EVERY_SECONDS` ago."""
        now = self._clock()
        with self._lock:
            if now - self._rebalanced.get(sku, -REBALANCE_EVERY_SECONDS) < REBALANCE_EVERY_SECONDS:
                return False
            self._rebalanced[sku] = now
            if len(self._rebalanced) > HINTS_KEPT:
                self._rebalanced.pop(next(iter(self._rebalanced)))
        layout = self.read_layouts([sku]).get(sku)
        if layout is None or len(layout.counters) == 1:
            return False
        moves = shards.level(layout.available, layout.active)
        if not moves:
            return False
        try:
            self.transact([self._shift(sku, n, delta) for n, delta in moves.items()])
        except TransactionCancelled:
            return False
        except ClientError as error:
            if is_throttled(error):
                return False
            raise
        return True

    def _reshard(self, layout: Layout, active: int, *, pinned: bool) -> bool:
        """One transaction: the record's new counts (if nobody changed them since `layout` was read),
        units moved so the active shards are level and retired ones empty, new shard items created."""
        sku, existing = layout.sku, len(layout.counters)
        items = max(existing, active)
        moves = shards.level(layout.available + [0] * (items - existing), active)
        values: dict[str, Any] = {":k": active, ":items": items, ":pinned": pinned, ":d": moves.get(0, 0)}
        condition = ["attribute_exists(PK)"]
        for name, placeholder in ((SHARDS, ":seenK"), (SHARD_ITEMS, ":seenItems")):
            if name in layout.record:
                condition.append(f"{name} = {placeholder}")
                values[placeholder] = layout.record[name]
            else:
                condition.append(f"attribute_not_exists({name})")
        if moves.get(0, 0) < 0:
            condition.append("available >= :needed")
            values[":needed"] = -moves[0]
        if not pinned:
            condition.append(f"(attribute_not_exists({PINNED}) OR {PINNED} = :pinned)")
        record = self.update_action(
            sku_pk(sku),
            STOCK,
            f"SET {SHARDS} = :k, {SHARD_ITEMS} = :items, {PINNED} = :pinned, available = available + :d",
            condition=" AND ".join(condition),
            values=values,
        )
        actions = [record]
        actions += [self._shift(sku, n, moves[n]) for n in range(1, existing) if moves.get(n)]
        actions += [
            self.put_new(
                {
                    **{"PK": sku_pk(sku), "SK": shard_key(sku, n)["SK"]["S"], "sku": sku, "shard": n},
                    **Counters(moves.get(n, 0), 0, 0)._asdict(),
                }
            )
            for n in range(existing, items)
        ]
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            if cancelled.failed():
                return False
            raise _busy(cancelled) from cancelled
        return True

    def _shift(self, sku: str, shard: int, delta: int) -> "TransactWriteItemTypeDef":
        """Add `delta` (maybe negative, never below zero) to one shard's available units."""
        item = shard_key(sku, shard)
        condition = "attribute_exists(PK)" + (" AND available >= :needed" if delta < 0 else "")
        values = {":delta": delta} | ({":needed": -delta} if delta < 0 else {})
        return self.update_action(
            item["PK"]["S"], item["SK"]["S"], "ADD available :delta", condition=condition, values=values
        )

    # ------------------------------------------------------------ adjustments and the ledger

    def adjust(self, entry: LedgerEntry, idempotency_key: str | None) -> None:
        """Move `available` by `entry.delta` and write the ledger row, all or nothing. A sharded SKU gets
        new units on its poorest shards and loses them from its richest. Raises `ShortOf` if `available`
        would fall below zero or the SKU has no stock, `KeyUsed` if the key was seen before."""
        ledger = {
            "PK": sku_pk(entry.sku),
            "SK": f"LEDGER#{entry.adjustment_id}",
            "adjustmentId": entry.adjustment_id,
            "sku": entry.sku,
            "delta": entry.delta,
            "reason": entry.reason,
            "note": entry.note,
            "actor": entry.actor,
            "at": iso(entry.at),
            "idempotencyKey": idempotency_key,
        }
        fixed = [self.put_new(ledger)]
        if idempotency_key:
            marker = {"PK": sku_pk(entry.sku), "SK": f"ADJKEY#{idempotency_key}", "adjustmentId": entry.adjustment_id}
            fixed.append(self.put_new(marker))
        hint = self._hints.get(entry.sku)
        layout: Layout | None = None
        for _ in range(PLACING_ROUNDS):
            if layout is None and (hint is None or len(hint.available) == 1 or entry.delta == 0):
                stock_actions = [self._adjust_one_item(entry)]
            else:
                layout = layout or self._layout_for_adjustment(entry, idempotency_key)
                plan = (
                    shards.spread(layout.available, layout.active, entry.delta)
                    if entry.delta > 0
                    else shards.drain(layout.available, -entry.delta)
                )
                stock_actions = [self._shift(entry.sku, n, delta) for n, delta in plan.items()]
            try:
                self.transact([*fixed, *stock_actions])
                return
            except TransactionCancelled as cancelled:
                failed = cancelled.failed()
                if idempotency_key and 1 in failed:
                    raise KeyUsed from cancelled
                if 0 in failed:
                    return  # the ledger row's fresh id exists: our own write, applied before its answer was lost
                if not any(i >= len(fixed) for i in failed):
                    raise _busy(cancelled) from cancelled
                layout = self._layout_for_adjustment(entry, None)  # units moved meanwhile, or the SKU is sharded
        raise ServiceUnavailable(self.busy, code="transaction_conflict")

    def _adjust_one_item(self, entry: LedgerEntry) -> "TransactWriteItemTypeDef":
        """The adjustment on the stock item alone, valid while the SKU is one item (a zero delta only checks
        that the SKU exists)."""
        values: dict[str, Any] = {":delta": entry.delta}
        condition = "attribute_exists(PK)"
        if entry.delta:
            condition += f" AND {_ONE_ITEM}"
            values[":one"] = 1
        if entry.delta < 0:
            condition += " AND available >= :needed"
            values[":needed"] = -entry.delta
        return self.update_action(sku_pk(entry.sku), STOCK, "ADD available :delta", condition=condition, values=values)

    def _layout_for_adjustment(self, entry: LedgerEntry, idempotency_key: str | None) -> Layout:
        """The SKU's shards, read to place an adjustment; `ShortOf` when there is no SKU or too little
        (`KeyUsed` first if the key was used: a replay is answered, as the transaction would answer it)."""
        layout = self.read_layouts([entry.sku]).get(entry.sku)
        if layout is None or sum(layout.available) < -entry.delta:
            if idempotency_key and self.get(sku_pk(entry.sku), f"ADJKEY#{idempotency_key}"):
                raise KeyUsed
            raise ShortOf([entry.sku], {entry.sku: sum(layout.available) if layout else 0})
        return layout

    def adjustment_by_key(self, sku: str, idempotency_key: str) -> LedgerEntry | None:
        marker = self.get(sku_pk(sku), f"ADJKEY#{idempotency_key}")
        if not marker:
            return None
        row = self.get(sku_pk(sku), f"LEDGER#{marker['adjustmentId']}")
        return _ledger_of(row) if row else None

    def ledger(self, sku: str, *, start_key: Key | None, limit: int) -> Page[LedgerEntry]:
        """Adjustments of a SKU, newest first (adjustment ids sort by time)."""
        check_start_key(start_key, ("PK", "SK"), "PK", sku_pk(sku))
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :ledger)",
            "ExpressionAttributeValues": {":pk": to_value(sku_pk(sku)), ":ledger": to_value("LEDGER#")},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        items = [_ledger_of(item) for item in page.items]
        return Page(items, page.next_key)

    def list_stock(self, *, low_only: bool, start_key: Key | None, limit: int) -> Page[Stock]:
        """SKUs by name from a keys-only index, then their counters by batch read."""
        index, partition = ("GSI2", LOW_PARTITION) if low_only else ("GSI1", STOCK)
        page = self.index_page(index, partition, start_key=start_key, limit=limit)
        skus = [item[f"{index}SK"] for item in page.items]  # both indexes sort by SKU
        stocks = self.get_stocks(skus, consistent=False)
        return Page([stocks[sku] for sku in skus if sku in stocks], page.next_key)

    # ------------------------------------------------------------ holds

    def get_hold(self, order_id: str) -> Hold | None:
        values = self.get(hold_pk(order_id), HOLD)
        return _hold_of(values) if values else None

    def reserve(self, order_id: str, quantities: Mapping[str, int], expires_at: datetime, now: datetime) -> Placement:
        """Put the hold and move each SKU's quantity from available to reserved, all or nothing, in the
        shards `Placement` names. Raises `HoldExists` if the order has a hold already, `ShortOf` with the
        SKUs whose shards together lack the units."""

        def hold(takes: Sequence[Take]) -> "TransactWriteItemTypeDef":
            item = {
                **self._hold_attributes(order_id, quantities, HoldStatus.HELD, now),
                "takes": _takes_attribute(takes),
                "expiresAt": iso(expires_at),
                "GSI1PK": HELD_PARTITION,
                "GSI1SK": f"{iso(expires_at)}#{order_id}",
            }
            return self.put_new(item)

        move = "SET available = available - :q, reserved = reserved + :q"
        return self._take_available(quantities, hold, move, on_first=HoldExists)

    def put_released_tombstone(self, order_id: str, reason: str, now: datetime) -> bool:
        """Record that an order's stock is released although none was held, so that a reserve arriving
        late (a retry racing a cancellation) cannot hold stock for a dead order."""
        item = {
            **self._hold_attributes(order_id, {}, HoldStatus.RELEASED, now),
            "releaseReason": reason,
            "ttl": int((now + FINISHED_HOLD_TTL).timestamp()),
        }
        return self.put_if_absent(item)

    def commit(self, hold: Hold, now: datetime) -> None:
        """HELD → COMMITTED: reserved stock becomes sold, in the shards it was held in. Raises
        `HoldNotInStatus` if it was not HELD."""
        actions = [self._finish(hold, HoldStatus.COMMITTED, HoldStatus.HELD, now)]
        actions += [
            self._move(take, "SET reserved = reserved - :q, sold = sold + :q", "reserved >= :q")
            for take in hold.sources
        ]
        self._run(actions, [take.sku for take in hold.sources], on_first=HoldNotInStatus)

    def release(self, hold: Hold, reason: str, now: datetime) -> None:
        """HELD → RELEASED: reserved stock goes back on sale, in the shards it came from (so they stay as
        level as they were). Raises `HoldNotInStatus` if not HELD."""
        actions = [self._finish(hold, HoldStatus.RELEASED, HoldStatus.HELD, now, reason)]
        actions += [
            self._move(take, "SET reserved = reserved - :q, available = available + :q", "reserved >= :q")
            for take in hold.sources
        ]
        self._run(actions, [take.sku for take in hold.sources], on_first=HoldNotInStatus)

    def reacquire(self, hold: Hold, now: datetime) -> Placement:
        """RELEASED → COMMITTED straight from available stock (any shards with the units): a payment that
        succeeded after its hold expired still gets its goods if they are on the shelf. Raises `ShortOf`
        if they are not."""

        def finish(takes: Sequence[Take]) -> "TransactWriteItemTypeDef":
            return self._finish(hold, HoldStatus.COMMITTED, HoldStatus.RELEASED, now, takes=takes)

        move = "SET available = available - :q, sold = sold + :q"
        return self._take_available(hold.quantities, finish, move, on_first=HoldNotInStatus)

    def expired_holds(self, now: datetime, *, start_key: Key | None, limit: int) -> Page[Hold]:
        """One page of HELD holds whose window ended before `now`, oldest first."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :held AND GSI1SK < :now",
            "ExpressionAttributeValues": {":held": to_value(HELD_PARTITION), ":now": to_value(iso(now))},
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        keys = [key(item["PK"], HOLD) for item in page.items]  # the index holds keys only: one batch read
        found = [_hold_of(values) for values in self.batch_read(keys, consistent=True)]
        holds = sorted(found, key=lambda h: h.expires_at or now)
        return Page([hold for hold in holds if hold.status is HoldStatus.HELD], page.next_key)

    def rename_release(self, order_id: str, reason: str, *, replacing: str) -> bool:
        """Replace the reason of a released hold (an expiry followed by a cancellation becomes a
        cancellation, which a late payment must not undo)."""
        updated = self.update_if(
            hold_pk(order_id),
            HOLD,
            "SET releaseReason = :reason",
            condition="#status = :released AND releaseReason = :replacing",
            names={"#status": "status"},
            values={":reason": reason, ":released": HoldStatus.RELEASED.value, ":replacing": replacing},
        )
        return updated is not None

    # ------------------------------------------------------------ taking available units

    def _take_available(
        self,
        quantities: Mapping[str, int],
        first: Callable[[Sequence[Take]], "TransactWriteItemTypeDef"],
        move: str,
        *,
        on_first: Callable[[], Exception],
    ) -> Placement:
        """Move `quantities` out of available stock in one transaction with `first` (the hold's write,
        given where the units come from). The first round guesses a shard per SKU with no read; a SKU
        whose shard lacked the units, or was busy, is read and placed again from what its shards hold."""
        plans = {sku: {self._guess(sku, quantity): quantity} for sku, quantity in quantities.items()}
        fell_back: set[str] = set()
        for _ in range(PLACING_ROUNDS):
            takes = [Take(sku=sku, shard=n, quantity=q) for sku, plan in plans.items() for n, q in plan.items()]
            actions = [first(takes), *(self._move(take, move, "available >= :q") for take in takes)]
            if len(actions) > MAX_TRANSACTION_ACTIONS:
                raise ServiceUnavailable(self.busy, code="transaction_conflict", details={"actions": len(actions)})
            try:
                self._transact_noting_throttles(actions, quantities)
            except TransactionCancelled as cancelled:
                failed = cancelled.failed()
                if 0 in failed:
                    raise on_first() from cancelled
                short = {takes[i - 1].sku for i in failed if i > 0}
                contended = {
                    takes[i - 1].sku for i, code in enumerate(cancelled.reasons) if i > 0 and code in BUSY_REASONS
                }
                self._note_contention(contended)
                if not short and not contended:
                    raise _busy(cancelled) from cancelled
                plans.update(self._replace(short, contended, quantities, plans, cancelled))
                fell_back |= short | contended
                continue
            self._believe_taken(takes)
            return Placement(tuple(takes), tuple(sorted(fell_back)))
        raise ServiceUnavailable(self.busy, code="transaction_conflict", details={"rounds": PLACING_ROUNDS})

    def _replace(
        self,
        short: set[str],
        contended: set[str],
        quantities: Mapping[str, int],
        plans: Mapping[str, shards.Plan],
        cancelled: TransactionCancelled,
    ) -> dict[str, shards.Plan]:
        """New plans for the SKUs of a failed round, from a consistent read of their shards. `ShortOf` the
        SKUs whose shards together lack the units. A busy SKU in one item is a 503, as it always was (no
        other shard to turn to; `common.dynamo` has retried it already), without a read when known."""
        if not short and any(self._one_item(sku) for sku in contended):
            raise _busy(cancelled) from cancelled
        layouts = self.read_layouts(short | contended)
        available = {sku: sum(layouts[sku].available) if sku in layouts else 0 for sku in short | contended}
        lacking = [sku for sku in quantities if sku in available and available[sku] < quantities[sku]]
        if lacking:
            raise ShortOf(lacking, {sku: available[sku] for sku in lacking}) from cancelled
        if any(len(layouts[sku].counters) == 1 for sku in contended):
            raise _busy(cancelled) from cancelled
        replaced = {}
        for sku in short | contended:
            tried = next(iter(plans[sku])) if len(plans[sku]) == 1 else None
            plan = shards.take(layouts[sku].available, quantities[sku], self._rng, avoid=tried)
            assert plan is not None  # enough in total: checked above
            replaced[sku] = plan
        return replaced

    def _guess(self, sku: str, quantity: int) -> int:
        """The shard to try first, with no read: shard 0 for a SKU this process knows in one item or not at
        all (if it is sharded, shard 0 still holds units, and the read after the reserve teaches us)."""
        hint = self._hints.get(sku)
        if hint is None or hint.active <= 1:
            return 0
        return shards.pick(hint.available, hint.active, quantity, self._rng)

    def _one_item(self, sku: str) -> bool:
        hint = self._hints.get(sku)
        return hint is not None and len(hint.available) == 1

    def _believe_taken(self, takes: Iterable[Take]) -> None:
        with self._lock:
            for take in takes:
                hint = self._hints.get(take.sku)
                if hint is not None and take.shard < len(hint.available):
                    hint.available[take.shard] -= take.quantity

    def _transact_noting_throttles(
        self, actions: list["TransactWriteItemTypeDef"], quantities: Mapping[str, int]
    ) -> None:
        try:
            self.transact(actions)
        except ClientError as error:
            if is_throttled(error):
                self._note_contention(set(quantities))
            raise

    def _note_contention(self, skus: Iterable[str]) -> None:
        """Count a contended round per SKU; past `CONTENTION_TO_RAISE` within the window, raise its shards
        (best effort: a throttled or conflicting raise waits for the next contention)."""
        now = self._clock()
        for sku in skus:
            with self._lock:
                seen = self._contention[sku]
                seen.append(now)
                while seen[0] < now - CONTENTION_WINDOW_SECONDS:
                    seen.popleft()
                due = len(seen) >= CONTENTION_TO_RAISE
                if due:
                    seen.clear()
            if due:
                with contextlib.suppress(ServiceUnavailable, ClientError):
                    self.auto_shard(sku)

    # ------------------------------------------------------------ building blocks

    @staticmethod
    def _hold_attributes(
        order_id: str, quantities: Mapping[str, int], status: HoldStatus, now: datetime
    ) -> dict[str, Any]:
        return {
            "PK": hold_pk(order_id),
            "SK": HOLD,
            "orderId": order_id,
            "lines": [{"sku": sku, "quantity": q} for sku, q in quantities.items()],
            "status": status.value,
            "createdAt": iso(now),
            "updatedAt": iso(now),
        }

    def _finish(
        self,
        hold: Hold,
        to: HoldStatus,
        expected: HoldStatus,
        now: datetime,
        reason: str | None = None,
        *,
        takes: Sequence[Take] | None = None,
    ) -> "TransactWriteItemTypeDef":
        expression = "SET #status = :to, updatedAt = :now, #ttl = :ttl REMOVE GSI1PK, GSI1SK"
        values: dict[str, Any] = {
            ":to": to.value,
            ":expected": expected.value,
            ":now": iso(now),
            ":ttl": int((now + FINISHED_HOLD_TTL).timestamp()),
        }
        if reason:
            expression = expression.replace("SET ", "SET releaseReason = :reason, ", 1)
            values[":reason"] = reason
        if takes is not None:
            stored = _takes_attribute(takes)
            if stored is None:
                expression += ", takes"
            else:
                expression = expression.replace("SET ", "SET takes = :takes, ", 1)
                values[":takes"] = stored
        return self.update_action(
            hold_pk(hold.order_id),
            HOLD,
            expression,
            condition="#status = :expected",
            names={"#status": "status", "#ttl": "ttl"},
            values=values,
        )

    def _move(self, take: Take, update: str, condition: str) -> "TransactWriteItemTypeDef":
        """Move a take's units between the counters of its shard (an absent shard fails the condition)."""
        item = shard_key(take.sku, take.shard)
        return self.update_action(
            item["PK"]["S"], item["SK"]["S"], update, condition=condition, values={":q": take.quantity}
        )

    def _run(
        self, actions: list["TransactWriteItemTypeDef"], skus: Sequence[str], *, on_first: Callable[[], Exception]
    ) -> None:
        """Run a hold transaction: action 0 is the hold, action i > 0 the stock of `skus[i - 1]`."""
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 0 in failed:
                raise on_first() from cancelled
            short = [skus[i - 1] for i in failed if i > 0]
            if short:
                raise ShortOf(short) from cancelled
            raise _busy(cancelled) from cancelled


_ONE_ITEM = f"(attribute_not_exists({SHARD_ITEMS}) OR {SHARD_ITEMS} <= :one)"
"""Condition: the SKU's units are all on its stock item (no shard item was ever created)."""
_SHARDED = f"({SHARD_ITEMS} > :one AND threshold = :threshold)"
"""Condition: the SKU has shard items (so its summed read decides) and its threshold is the one read."""


def _busy(cancelled: TransactionCancelled) -> ServiceUnavailable:
    return ServiceUnavailable(InventoryStore.busy, code="transaction_conflict", details={"reasons": cancelled.reasons})
