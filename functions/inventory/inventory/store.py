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
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.contracts import OrderLine
from common.dynamo import (
    Key,
    Page,
    TransactionCancelled,
    batch_get,
    check_start_key,
    dynamodb_client,
    from_item,
    query_page,
    to_item,
    transact_write,
)
from common.errors import ServiceUnavailable
from inventory.models import Hold, HoldStatus, LedgerEntry, Stock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

STOCK = "STOCK"
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


def sku_pk(sku: str) -> str:
    return f"SKU#{sku}"


def hold_pk(order_id: str) -> str:
    return f"HOLD#{order_id}"


def _key(pk: str, sk: str) -> Key:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _stock_of(values: Mapping[str, Any]) -> Stock:
    return Stock(
        sku=values["sku"],
        available=values["available"],
        reserved=values["reserved"],
        sold=values["sold"],
        threshold=values["threshold"],
        low=values.get("low", False),
        crossings=values.get("crossings", 0),
        announced=values.get("announced", 0),
    )


def _hold_of(values: Mapping[str, Any]) -> Hold:
    expires = values.get("expiresAt")
    return Hold(
        order_id=values["orderId"],
        lines=tuple(OrderLine(sku=line["sku"], quantity=line["quantity"]) for line in values.get("lines", [])),
        status=HoldStatus(values["status"]),
        expires_at=datetime.fromisoformat(expires) if expires else None,
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


class InventoryStore:
    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> "DynamoDBClient":
        return self._client or dynamodb_client()

    # ------------------------------------------------------------ stock

    def create_stock(self, sku: str, threshold: int) -> bool:
        """Start a SKU at zero (flagged low: nothing is on the shelf). False if it already exists."""
        item = {
            "PK": sku_pk(sku),
            "SK": STOCK,
            "sku": sku,
            "available": 0,
            "reserved": 0,
            "sold": 0,
            "threshold": threshold,
            "low": True,
            "crossings": 0,
            "GSI1PK": STOCK,
            "GSI1SK": sku,
            "GSI2PK": LOW_PARTITION,
            "GSI2SK": sku,
        }
        try:
            self.client.put_item(
                TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get_stock(self, sku: str) -> Stock | None:
        item = self.client.get_item(TableName=self.table, Key=_key(sku_pk(sku), STOCK), ConsistentRead=True).get("Item")
        return _stock_of(from_item(item)) if item else None

    def get_stocks(self, skus: Iterable[str], *, consistent: bool = True) -> dict[str, Stock]:
        """Stock of each SKU that has a record, by SKU."""
        keys = [_key(sku_pk(sku), STOCK) for sku in dict.fromkeys(skus)]
        items, unprocessed = batch_get(self.client, self.table, keys, consistent=consistent)
        if unprocessed:
            raise ServiceUnavailable("inventory is busy; retry")
        stocks = [_stock_of(from_item(item)) for item in items]
        return {stock.sku: stock for stock in stocks}

    def set_threshold(self, sku: str, threshold: int) -> Stock | None:
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key=_key(sku_pk(sku), STOCK),
                UpdateExpression="SET threshold = :t",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":t": _n(threshold)},
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return _stock_of(from_item(response["Attributes"]))

    def flag_low(self, stock: Stock) -> bool:
        """Flag a SKU low, as crossing number `stock.crossings + 1`, if nobody flagged it since `stock`
        was read and it is still low; in the same transaction, note the crossing as not yet announced."""
        pending = {"PK": PENDING_ANNOUNCEMENTS, "SK": stock.sku, "sku": stock.sku, "crossing": stock.crossings + 1}
        update = {
            "Update": {
                "TableName": self.table,
                "Key": _key(sku_pk(stock.sku), STOCK),
                "UpdateExpression": "SET low = :t, crossings = :next, GSI2PK = :low, GSI2SK = sku",
                "ConditionExpression": "low = :f AND crossings = :seen AND available <= threshold",
                "ExpressionAttributeValues": {
                    ":t": {"BOOL": True},
                    ":f": {"BOOL": False},
                    ":next": _n(stock.crossings + 1),
                    ":seen": _n(stock.crossings),
                    ":low": _s(LOW_PARTITION),
                },
            }
        }
        try:
            transact_write([update, {"Put": {"TableName": self.table, "Item": to_item(pending)}}], client=self.client)  # type: ignore[list-item]
        except TransactionCancelled as cancelled:
            if cancelled.failed():
                return False
            raise _busy(cancelled) from cancelled
        return True

    def mark_announced(self, sku: str, crossing: int) -> None:
        """Record that crossing `crossing` was announced and drop it from the pending ones."""
        self._conditional_update(
            sku, "SET announced = :n", "attribute_not_exists(announced) OR announced < :n", {":n": _n(crossing)}
        )
        self._drop_pending(sku, crossing)

    def _drop_pending(self, sku: str, crossing: int) -> None:
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.delete_item(
                TableName=self.table,
                Key=_key(PENDING_ANNOUNCEMENTS, sku),
                ConditionExpression="crossing <= :n",
                ExpressionAttributeValues={":n": _n(crossing)},
            )

    def pending_announcements(self, limit: int) -> list[tuple[str, int]]:
        """Crossings flagged but not announced (their announcer died in between): (sku, crossing)."""
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="PK = :pending",
            ExpressionAttributeValues={":pending": _s(PENDING_ANNOUNCEMENTS)},
            Limit=limit,
        )
        return [(v["sku"], v["crossing"]) for v in (from_item(i) for i in response.get("Items", []))]

    def clear_low(self, sku: str) -> bool:
        """Clear the low flag of a SKU that is above its threshold again (re-arming the alert)."""
        return self._conditional_update(
            sku,
            "SET low = :f REMOVE GSI2PK, GSI2SK",
            "low = :t AND available > threshold",
            {":t": {"BOOL": True}, ":f": {"BOOL": False}},
        )

    def _conditional_update(self, sku: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(sku_pk(sku), STOCK),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # ------------------------------------------------------------ adjustments and the ledger

    def adjust(self, entry: LedgerEntry, idempotency_key: str | None) -> None:
        """Move `available` by `entry.delta` and write the ledger row, all or nothing. Raises
        `ShortOf` if `available` would fall below zero or the SKU has no stock, `KeyUsed` if the key
        was seen before."""
        values: dict[str, Any] = {":delta": _n(entry.delta)}
        condition = "attribute_exists(PK)"
        if entry.delta < 0:
            condition += " AND available >= :needed"
            values[":needed"] = _n(-entry.delta)
        ledger = {
            "PK": sku_pk(entry.sku),
            "SK": f"LEDGER#{entry.adjustment_id}",
            "adjustmentId": entry.adjustment_id,
            "sku": entry.sku,
            "delta": entry.delta,
            "reason": entry.reason,
            "note": entry.note,
            "actor": entry.actor,
            "at": _iso(entry.at),
            "idempotencyKey": idempotency_key,
        }
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _key(sku_pk(entry.sku), STOCK),
                    "UpdateExpression": "ADD available :delta",
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": values,
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(ledger),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        if idempotency_key:
            marker = {"PK": sku_pk(entry.sku), "SK": f"ADJKEY#{idempotency_key}", "adjustmentId": entry.adjustment_id}
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(marker),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        try:
            transact_write(actions, client=self.client)
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
        marker = self.client.get_item(
            TableName=self.table, Key=_key(sku_pk(sku), f"ADJKEY#{idempotency_key}"), ConsistentRead=True
        ).get("Item")
        if not marker:
            return None
        adjustment_id = from_item(marker)["adjustmentId"]
        row = self.client.get_item(
            TableName=self.table, Key=_key(sku_pk(sku), f"LEDGER#{adjustment_id}"), ConsistentRead=True
        ).get("Item")
        return _ledger_of(from_item(row)) if row else None

    def ledger(self, sku: str, *, start_key: Key | None, limit: int) -> Page[LedgerEntry]:
        """Adjustments of a SKU, newest first (adjustment ids sort by time)."""
        check_start_key(start_key, ("PK", "SK"), "PK", sku_pk(sku))
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :ledger)",
            "ExpressionAttributeValues": {":pk": _s(sku_pk(sku)), ":ledger": _s("LEDGER#")},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        items = [_ledger_of(item) for item in page.items]
        return Page(items, page.next_key)

    def list_stock(self, *, low_only: bool, start_key: Key | None, limit: int) -> Page[Stock]:
        """SKUs by name from a keys-only index, then their counters by batch read."""
        index, partition = ("GSI2", LOW_PARTITION) if low_only else ("GSI1", STOCK)
        check_start_key(start_key, ("PK", "SK", f"{index}PK", f"{index}SK"), f"{index}PK", partition)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": f"{index}PK"},
            "ExpressionAttributeValues": {":pk": _s(partition)},
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        skus = [item["PK"].removeprefix("SKU#") for item in page.items]
        stocks = self.get_stocks(skus, consistent=False)
        return Page([stocks[sku] for sku in skus if sku in stocks], page.next_key)

    # ------------------------------------------------------------ holds

    def get_hold(self, order_id: str) -> Hold | None:
        item = self.client.get_item(TableName=self.table, Key=_key(hold_pk(order_id), HOLD), ConsistentRead=True).get(
            "Item"
        )
        return _hold_of(from_item(item)) if item else None

    def reserve(self, order_id: str, quantities: Mapping[str, int], expires_at: datetime, now: datetime) -> None:
        """Put the hold and move each SKU's quantity from available to reserved, all or nothing.
        Raises `HoldExists` if the order has a hold already, `ShortOf` with the SKUs that lacked stock."""
        hold = {
            **self._hold_attributes(order_id, quantities, HoldStatus.HELD, now),
            "expiresAt": _iso(expires_at),
            "GSI1PK": HELD_PARTITION,
            "GSI1SK": f"{_iso(expires_at)}#{order_id}",
        }
        actions: list[TransactWriteItemTypeDef] = [
            {"Put": {"TableName": self.table, "Item": to_item(hold), "ConditionExpression": "attribute_not_exists(PK)"}}
        ]
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
        try:
            self.client.put_item(
                TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

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
            "ExpressionAttributeValues": {":held": _s(HELD_PARTITION), ":now": _s(_iso(now))},
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        keys = [_key(item["PK"], HOLD) for item in page.items]  # the index holds keys only: one batch read
        items, unprocessed = batch_get(self.client, self.table, keys, consistent=True)
        if unprocessed:
            raise ServiceUnavailable("inventory is busy; retry")
        holds = sorted((_hold_of(from_item(item)) for item in items), key=lambda h: h.expires_at or now)
        return Page([hold for hold in holds if hold.status is HoldStatus.HELD], page.next_key)

    def rename_release(self, order_id: str, reason: str, *, replacing: str) -> bool:
        """Replace the reason of a released hold (an expiry followed by a cancellation becomes a
        cancellation, which a late payment must not undo)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(hold_pk(order_id), HOLD),
                UpdateExpression="SET releaseReason = :reason",
                ConditionExpression="#status = :released AND releaseReason = :replacing",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":reason": _s(reason),
                    ":released": _s(HoldStatus.RELEASED.value),
                    ":replacing": _s(replacing),
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

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
            "createdAt": _iso(now),
            "updatedAt": _iso(now),
        }

    def _finish(
        self, hold: Hold, to: HoldStatus, expected: HoldStatus, now: datetime, reason: str | None = None
    ) -> "TransactWriteItemTypeDef":
        expression = "SET #status = :to, updatedAt = :now, #ttl = :ttl REMOVE GSI1PK, GSI1SK"
        values: dict[str, Any] = {
            ":to": _s(to.value),
            ":expected": _s(expected.value),
            ":now": _s(_iso(now)),
            ":ttl": _n(int((now + FINISHED_HOLD_TTL).timestamp())),
        }
        if reason:
            expression = expression.replace("SET ", "SET releaseReason = :reason, ", 1)
            values[":reason"] = _s(reason)
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(hold_pk(hold.order_id), HOLD),
                "UpdateExpression": expression,
                "ConditionExpression": "#status = :expected",
                "ExpressionAttributeNames": {"#status": "status", "#ttl": "ttl"},
                "ExpressionAttributeValues": values,
            }
        }

    def _move(self, sku: str, quantity: int, update: str, condition: str) -> "TransactWriteItemTypeDef":
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(sku_pk(sku), STOCK),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeValues": {":q": _n(quantity)},
            }
        }

    def _run(
        self, actions: list["TransactWriteItemTypeDef"], skus: Sequence[str], *, on_first: Callable[[], Exception]
    ) -> None:
        """Run a hold transaction: action 0 is the hold, action i > 0 the stock of `skus[i - 1]`."""
        try:
            transact_write(actions, client=self.client)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 0 in failed:
                raise on_first() from cancelled
            short = [skus[i - 1] for i in failed if i > 0]
            if short:
                raise ShortOf(short) from cancelled
            raise _busy(cancelled) from cancelled


def _busy(cancelled: TransactionCancelled) -> ServiceUnavailable:
    return ServiceUnavailable(
        "inventory is busy; retry", code="transaction_conflict", details={"reasons": cancelled.reasons}
    )
