"""Which SKUs are on sale, read from inventory's stock items, read-only.

Inventory owns those items; the customers functions that recommend may only read them (IAM says so),
and this module is the one place in customers that knows their key (`SKU#<sku>` / `STOCK`) and the
attribute it reads. The same choice as the catalog's product page (see docs/decisions.md): a lagging
copy fed by events would recommend sold-out goods; an API hop would cost more than one batch read."""

import random
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from common.dynamo import dynamodb_client, from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_ATTEMPTS = 3


class StockLevels:
    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    def in_stock(self, skus: Iterable[str]) -> set[str]:
        """The SKUs with units available now (eventually consistent). A SKU that could not be read
        (throttled) counts as out of stock: better one suggestion fewer than a sold-out one."""
        wanted = list(dict.fromkeys(skus))
        client = self._client or dynamodb_client()
        found: set[str] = set()
        for start in range(0, len(wanted), 100):
            keys = [{"PK": {"S": f"SKU#{sku}"}, "SK": {"S": "STOCK"}} for sku in wanted[start : start + 100]]
            request: Any = {self.table: {"Keys": keys, "ProjectionExpression": "sku, available"}}
            for attempt in range(_ATTEMPTS):
                response = client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    values = from_item(item)
                    if values.get("available", 0) > 0:
                        found.add(values["sku"])
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                if attempt < _ATTEMPTS - 1:
                    time.sleep(random.uniform(0, 0.02 * 2**attempt))
        return found
