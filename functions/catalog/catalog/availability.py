"""How much of each variant is on sale, read from inventory's stock items.

Inventory owns those items; the catalog's public function may only read them (IAM says so), and this
module is the one place in the catalog that knows their key (`SKU#<sku>` / `STOCK`) and the two
attributes it reads. Rejected: copying stock into the catalog from events (a second truth that lags),
or calling inventory's admin API from a public read (a hop and an authorizer for one GetItem's worth)."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.dynamo import batch_get, dynamodb_client, from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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
        items, unprocessed = batch_get(client, self.table, keys, projection="sku, available, threshold")
        levels: dict[str, Level | None] = {}
        for item in items:
            values = from_item(item)
            levels[values["sku"]] = Level(available=values["available"], threshold=values["threshold"])
        for key in unprocessed:
            levels[key["PK"]["S"].removeprefix("SKU#")] = None
        return levels
