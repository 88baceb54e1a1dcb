"""How much of each variant is on sale, read from inventory's stock items.

Inventory owns those items; the catalog's public function may only read them (IAM says so), and this
module is the one place in the catalog that knows their key (`SKU#<sku>` / `STOCK`) and the two
attributes it reads. Rejected: copying stock into the catalog from events (a second truth that lags),
or calling inventory's admin API from a public read (a hop and an authorizer for one GetItem's worth)."""

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.dynamo import dynamodb_client, from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_ATTEMPTS = 3


@dataclass(frozen=True)
class Level:
    available: int
    threshold: int

    @property
    def in_stock(self) -> bool:
        return self.available > 0

    @property
    def is_low(self) -> bool:
        return self.available <= self.threshold


class StockLevels:
    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    def of(self, skus: Iterable[str]) -> dict[str, Level | None]:
        """Levels of the SKUs that have stock records (a product has at most 30 variants: one batch);
        `None` for a SKU whose record could not be read now (throttled), which the page shows as
        unknown rather than sold out. Eventually consistent: a page may lag a sale by a moment."""
        keys = [{"PK": {"S": f"SKU#{sku}"}, "SK": {"S": "STOCK"}} for sku in dict.fromkeys(skus)]
        if not keys or not self.table:
            return {}
        client = self._client or dynamodb_client()
        request: Any = {self.table: {"Keys": keys, "ProjectionExpression": "sku, available, threshold"}}
        levels: dict[str, Level | None] = {}
        for attempt in range(_ATTEMPTS):
            response = client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table, []):
                values = from_item(item)
                levels[values["sku"]] = Level(available=values["available"], threshold=values["threshold"])
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return levels
            if attempt < _ATTEMPTS - 1:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        for key in request[self.table]["Keys"]:
            levels[key["PK"]["S"].removeprefix("SKU#")] = None
        return levels
