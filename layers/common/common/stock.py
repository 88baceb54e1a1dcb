"""Inventory's stock read model: the key of a SKU's stock item and the one way another domain reads it.

Inventory owns the stock items and writes them with `stock_key` (its store imports it from here); the
catalog's product page and customers' recommendations read them, read-only (IAM says so), through
`StockReader`, as `common.contracts.StockLevel`. So the key and the attribute names are written down
once, next to the model, and a change to them is one change that every reader follows. It lives in the
layer, not in inventory's package, because the readers are other functions that cannot import it.
Rejected: copying stock into each reader from events (a second truth that lags behind sales), or an API
hop to inventory for a public page (an authorizer and a round trip for one batch read)."""

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


def stock_pk(sku: str) -> str:
    return f"{_PK_PREFIX}{sku}"


def stock_key(sku: str) -> Key:
    """The key of a SKU's stock item (`SKU#<sku>` / `STOCK`), for inventory's writes and every read."""
    return key(stock_pk(sku), STOCK_SK)


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
        items, unprocessed = batch_get(client, self.table, keys, projection=PROJECTION)
        levels: dict[str, StockLevel | None] = {}
        for item in items:
            level = StockLevel.model_validate(from_item(item))
            levels[level.sku] = level
        for unread in unprocessed:
            levels[unread["PK"]["S"].removeprefix(_PK_PREFIX)] = None
        return levels

    def in_stock(self, skus: Iterable[str]) -> set[str]:
        """The SKUs with units available now. One that could not be read counts as out of stock, for a
        reader that would rather suggest one product fewer than a sold-out one."""
        return {sku for sku, level in self.levels(skus).items() if level is not None and level.in_stock}
