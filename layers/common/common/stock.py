"""Inventory's stock read model: the key of a SKU's stock item and the one way another domain reads it.

Inventory owns the stock items and writes them with `stock_key` (its store imports it from here); the
catalog's product page and customers' recommendations read them, read-only (IAM says so), through
`StockReader`, as `common.contracts.StockLevel`. So the key and the attribute names are written down
once, next to the model, and a change to them is one change that every reader follows. It lives in the
layer, not in inventory's package, because the readers are other functions that cannot import it.

A hot SKU may hold its available units in several items (shards, issue 16): the stock item is shard 0 and
says how many stock items exist (`shardItems`, absent: 1); shards 1.. are `SKU#<sku>` / `STOCK#<n>`. The
stock item's `available` is then shard 0's share only, so a reader sums the shards: `StockReader` does,
with one more batch read for the SKUs that have shard items (a SKU with one item costs nothing more).
Rejected: copying stock into each reader from events (a second truth that lags behind sales), or an API
hop to inventory for a public page (an authorizer and a round trip for one batch read)."""

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from common.contracts import StockLevel
from common.dynamo import Key, batch_get, dynamodb_client, from_item
from common.store import key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STOCK_SK = "STOCK"
_PK_PREFIX = "SKU#"
PROJECTION = ", ".join(StockLevel.model_fields)
"""The attributes a reader needs; they are `StockLevel`'s field names, stored under the same names."""
SHARD_ITEMS = "shardItems"
"""On the stock item: how many stock items hold the SKU's units (itself included; absent: 1). It only grows,
so a reader sums every shard that still holds units after the SKU's shard count was lowered."""


def stock_pk(sku: str) -> str:
    return f"{_PK_PREFIX}{sku}"


def stock_key(sku: str) -> Key:
    """The key of a SKU's stock item (`SKU#<sku>` / `STOCK`), for inventory's writes and every read."""
    return key(stock_pk(sku), STOCK_SK)


def shard_key(sku: str, shard: int) -> Key:
    """The key of shard `shard` of a SKU's stock: the stock item itself for 0, `STOCK#<n>` after it."""
    return key(stock_pk(sku), STOCK_SK if shard == 0 else f"{STOCK_SK}#{shard}")


class StockReader:
    """Reads stock levels from inventory's table, eventually consistent (a page may lag a sale by a
    moment), with `common.dynamo.batch_get`'s retries and backoff."""

    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    def levels(self, skus: Iterable[str]) -> dict[str, StockLevel | None]:
        """The level of each SKU that has a stock item. A SKU without one is absent (never stocked); a
        SKU whose item DynamoDB left unprocessed after every retry (throttled) maps to None: unknown
        now, which a reader must not show as sold out."""
        keys = [stock_key(sku) for sku in dict.fromkeys(skus)]
        if not keys or not self.table:
            return {}
        client = self._client or dynamodb_client()
        items, unprocessed = batch_get(client, self.table, keys, projection=f"{PROJECTION}, {SHARD_ITEMS}")
        levels: dict[str, StockLevel | None] = {}
        shard_keys = []
        for item in items:
            values = from_item(item)
            level = StockLevel.model_validate(values)
            levels[level.sku] = level
            shard_keys += [shard_key(level.sku, n) for n in range(1, values.get(SHARD_ITEMS, 1))]
        for unread in unprocessed:
            levels[_sku_of(unread)] = None
        if shard_keys:
            self._add_shards(client, levels, shard_keys)
        return levels

    def _add_shards(self, client: "DynamoDBClient", levels: dict[str, StockLevel | None], keys: list[Key]) -> None:
        """Add the units of shards 1.. to each sharded SKU's level (a shard left unread: the level is unknown)."""
        parts, unprocessed = batch_get(client, self.table, keys, projection="sku, available")
        extra: Counter[str] = Counter()
        for part in parts:
            values = from_item(part)
            extra[values["sku"]] += values["available"]
        for sku, units in extra.items():
            level = levels.get(sku)
            if level is not None:
                levels[sku] = level.model_copy(update={"available": level.available + units})
        for unread in unprocessed:
            levels[_sku_of(unread)] = None

    def in_stock(self, skus: Iterable[str]) -> set[str]:
        """The SKUs with units available now. One that could not be read counts as out of stock, for a
        reader that would rather suggest one product fewer than a sold-out one."""
        return {sku for sku, level in self.levels(skus).items() if level is not None and level.in_stock}


def _sku_of(item_key: Key) -> str:
    return str(item_key["PK"]["S"]).removeprefix(_PK_PREFIX)
