"""The inventory table, and the only module that talks to DynamoDB.

Items (one table, keys PK/SK):
- `SKU#<sku> / STOCK {sku, available, reserved, sold, threshold, low, crossings}`: the counters.
  `GSI1PK=STOCK, GSI1SK=<sku>` lists every SKU; `GSI2PK=LOW, GSI2SK=<sku>` is present only while the
  SKU is flagged low. Both indexes project keys only, so a counter change never writes to them.
- `SKU#<sku> / LEDGER#<adjustmentId>`: one row per adjustment, written in the adjustment's transaction.
- `SKU#<sku> / ADJKEY#<key>`: the Idempotency-Key an adjustment was made with, in the same transaction.
- `HOLD#<orderId> / HOLD {lines, status, expiresAt}`: one per order. While HELD it carries
  `GSI1PK=HELD, GSI1SK=<expiresAt>#<orderId>`, which the sweeper reads oldest first; a finished hold
  loses it and gets a TTL for clean-up (nothing relies on TTL for timing).

Every transition is one transaction guarded by conditions, so a duplicate call changes nothing.
"""

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.contracts import OrderLine, StockLevel
from common.dynamo import Key, Page, TransactionCancelled, check_start_key, from_item, query_page, to_item, to_value
from common.errors import ServiceUnavailable
from common.stock import STOCK_SK, stock_key, stock_pk
from common.store import TableStore, iso, key, parse_time
from inventory.models import Hold, HoldStatus, LedgerEntry, Stock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

STOCK = STOCK_SK
HOLD = "HOLD"
HELD_PARTITION = "HELD"
LOW_PARTITION = "LOW"
PENDING_ANNOUNCEMENTS = "PENDING#STOCKLOW"
FINISHED_HOLD_TTL = timedelta(days=90)
MAX_TRANSACTION_ACTIONS = 100


class HoldExists(Exception):
    """Reserve found a hold for the order already (a retry, or a tombstone of a release)."""


class ShortOf(Exception):
    """A transaction's stock conditions failed for these SKUs."""

    def __init__(self, skus: Sequence[str]) -> None:
        super().__init__(f"short of {', '.join(skus)}")
        self.skus = list(skus)


class HoldNotInStatus(Exception):
    """The hold was not in the status the transition needs (someone else moved it first)."""


class KeyUsed(Exception):
    """The adjustment's idempotency key is already recorded."""


sku_pk = stock_pk
"""A SKU's partition: stock, ledger and key markers. Its key function is the read model's (`common.stock`)."""


def hold_pk(order_id: str) -> str:
    return f"HOLD#{order_id}"


def _stock_of(values: Mapping[str, Any]) -> Stock:
    """The counters item as the domain's `Stock` (stored under the model's own field names)."""
    return Stock.model_validate(values)


def _hold_of(values: Mapping[str, Any]) -> Hold:
    return Hold(
        order_id=values["orderId"],
        lines=tuple(OrderLine(sku=line["sku"], quantity=line["quantity"]) for line in values.get("lines", [])),
        status=HoldStatus(values["status"]),
        expires_at=parse_time(values.get("expiresAt")),
        release_reason=values.get("releaseReason"),
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


class InventoryStore(TableStore):
    busy = "inventory is busy; retry"

    # ------------------------------------------------------------ stock

    def create_stock(self, sku: str, threshold: int) -> bool:
        """Start a SKU at zero (flagged low: nothing is on the shelf). False if it already exists. The
        attributes other domains read are written from their read model, `StockLevel`."""
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
        values = self.get(sku_pk(sku), STOCK)
        return _stock_of(values) if values else None

    def get_stocks(self, skus: Iterable[str], *, consistent: bool = True) -> dict[str, Stock]:
        """Stock of each SKU that has a record, by SKU."""
        keys = [stock_key(sku) for sku in dict.fromkeys(skus)]
        stocks = [_stock_of(values) for values in self.batch_read(keys, consistent=consistent)]
        return {stock.sku: stock for stock in stocks}

    def set_threshold(self, sku: str, threshold: int) -> Stock | None:
        values = self.update_if(
            sku_pk(sku), STOCK, "SET threshold = :t", condition="attribute_exists(PK)", values={":t": threshold}
        )
        return _stock_of(values) if values else None

    def flag_low(self, stock: Stock) -> bool:
        """Flag a SKU low, as crossing number `stock.crossings + 1`, if nobody flagged it since `stock`
        was read and it is still low; in the same transaction, note the crossing as not yet announced."""
        pending = {"PK": PENDING_ANNOUNCEMENTS, "SK": stock.sku, "sku": stock.sku, "crossing": stock.crossings + 1}
        update = self.update_action(
            sku_pk(stock.sku),
            STOCK,
            "SET low = :t, crossings = :next, GSI2PK = :low, GSI2SK = sku",
            condition="low = :f AND crossings = :seen AND available <= threshold",
            values={
                ":t": True,
                ":f": False,
                ":low": LOW_PARTITION,
                ":next": stock.crossings + 1,
                ":seen": stock.crossings,
            },
        )
        try:
            self.transact([update, {"Put": {"TableName": self.table, "Item": to_item(pending)}}])
        except TransactionCancelled as cancelled:
            if cancelled.failed():
                return False
            raise _busy(cancelled) from cancelled
        return True

    def mark_announced(self, sku: str, crossing: int) -> None:
        """Record that crossing `crossing` was announced and drop it from the pending ones."""
        self._conditional_update(
            sku, "SET announced = :n", "attribute_not_exists(announced) OR announced < :n", {":n": crossing}
        )
        self._drop_pending(sku, crossing)

    def _drop_pending(self, sku: str, crossing: int) -> None:
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.delete_item(
                TableName=self.table,
                Key=key(PENDING_ANNOUNCEMENTS, sku),
                ConditionExpression="crossing <= :n",
                ExpressionAttributeValues={":n": to_value(crossing)},
            )

    def pending_announcements(self, limit: int) -> list[tuple[str, int]]:
        """Crossings flagged but not announced (their announcer died in between): (sku, crossing)."""
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="PK = :pending",
            ExpressionAttributeValues={":pending": to_value(PENDING_ANNOUNCEMENTS)},
            Limit=limit,
        )
        return [(v["sku"], v["crossing"]) for v in (from_item(i) for i in response.get("Items", []))]

    def clear_low(self, sku: str) -> bool:
        """Clear the low flag of a SKU that is above its threshold again (re-arming the alert)."""
        return self._conditional_update(
            sku,
            "SET low = :f REMOVE GSI2PK, GSI2SK",
            "low = :t AND available > threshold",
            {":t": True, ":f": False},
        )

    def _conditional_update(self, sku: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        return self.update_if(sku_pk(sku), STOCK, update, condition=condition, values=values) is not None

    # ------------------------------------------------------------ adjustments and the ledger

    def adjust(self, entry: LedgerEntry, idempotency_key: str | None) -> None:
        """Move `available` by `entry.delta` and write the ledger row, all or nothing. Raises
        `ShortOf` if `available` would fall below zero or the SKU has no stock, `KeyUsed` if the key
        was seen before."""
        values: dict[str, Any] = {":delta": entry.delta}
        condition = "attribute_exists(PK)"
        if entry.delta < 0:
            condition += " AND available >= :needed"
            values[":needed"] = -entry.delta
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
        actions = [
            self.update_action(sku_pk(entry.sku), STOCK, "ADD available :delta", condition=condition, values=values),
            self.put_new(ledger),
        ]
        if idempotency_key:
            marker = {"PK": sku_pk(entry.sku), "SK": f"ADJKEY#{idempotency_key}", "adjustmentId": entry.adjustment_id}
            actions.append(self.put_new(marker))
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 1 in failed and 2 not in failed:
                return  # the ledger row's fresh id exists: our own write, applied before its answer was lost
            if 2 in failed:
                raise KeyUsed from cancelled
            if 0 in failed:
                raise ShortOf([entry.sku]) from cancelled
            raise _busy(cancelled) from cancelled

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

    def reserve(self, order_id: str, quantities: Mapping[str, int], expires_at: datetime, now: datetime) -> None:
        """Put the hold and move each SKU's quantity from available to reserved, all or nothing.
        Raises `HoldExists` if the order has a hold already, `ShortOf` with the SKUs that lacked stock."""
        hold = {
            **self._hold_attributes(order_id, quantities, HoldStatus.HELD, now),
            "expiresAt": iso(expires_at),
            "GSI1PK": HELD_PARTITION,
            "GSI1SK": f"{iso(expires_at)}#{order_id}",
        }
        actions = [self.put_new(hold)]
        actions += [
            self._move(sku, q, "SET available = available - :q, reserved = reserved + :q", "available >= :q")
            for sku, q in quantities.items()
        ]
        self._run(actions, list(quantities), on_first=HoldExists)

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
        """HELD → COMMITTED: reserved stock becomes sold. Raises `HoldNotInStatus` if it was not HELD."""
        actions = [self._finish(hold, HoldStatus.COMMITTED, HoldStatus.HELD, now)]
        actions += [
            self._move(line.sku, line.quantity, "SET reserved = reserved - :q, sold = sold + :q", "reserved >= :q")
            for line in hold.lines
        ]
        self._run(actions, [line.sku for line in hold.lines], on_first=HoldNotInStatus)

    def release(self, hold: Hold, reason: str, now: datetime) -> None:
        """HELD → RELEASED: reserved stock goes back on sale. Raises `HoldNotInStatus` if not HELD."""
        actions = [self._finish(hold, HoldStatus.RELEASED, HoldStatus.HELD, now, reason)]
        actions += [
            self._move(
                line.sku, line.quantity, "SET reserved = reserved - :q, available = available + :q", "reserved >= :q"
            )
            for line in hold.lines
        ]
        self._run(actions, [line.sku for line in hold.lines], on_first=HoldNotInStatus)

    def reacquire(self, hold: Hold, now: datetime) -> None:
        """RELEASED → COMMITTED straight from available stock: a payment that succeeded after its hold
        expired still gets its goods if they are on the shelf. Raises `ShortOf` if they are not."""
        actions = [self._finish(hold, HoldStatus.COMMITTED, HoldStatus.RELEASED, now)]
        actions += [
            self._move(line.sku, line.quantity, "SET available = available - :q, sold = sold + :q", "available >= :q")
            for line in hold.lines
        ]
        self._run(actions, [line.sku for line in hold.lines], on_first=HoldNotInStatus)

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
        self, hold: Hold, to: HoldStatus, expected: HoldStatus, now: datetime, reason: str | None = None
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
        return self.update_action(
            hold_pk(hold.order_id),
            HOLD,
            expression,
            condition="#status = :expected",
            names={"#status": "status", "#ttl": "ttl"},
            values=values,
        )

    def _move(self, sku: str, quantity: int, update: str, condition: str) -> "TransactWriteItemTypeDef":
        return self.update_action(sku_pk(sku), STOCK, update, condition=condition, values={":q": quantity})

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


def _busy(cancelled: TransactionCancelled) -> ServiceUnavailable:
    return ServiceUnavailable(InventoryStore.busy, code="transaction_conflict", details={"reasons": cancelled.reasons})
