"""Ranked counters: `COPURCHASE#<a> / PRODUCT#<b> {hits}` (how often b was bought with a) and
`BESTSELLER#<category|*> / PRODUCT#<id> {hits}` (units sold). Each carries `GSI2PK` = its PK and
`GSI2SK` = the zero-padded count then the product id, so the keys-only GSI2 answers "the k partners
bought most often with a" in one query of k keys. An update expression cannot spell a number into that
key, so every write reads the counts first and moves each counter from the count read, on the condition
that it is still the one read."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.batches import write_chunk
from common.dynamo import Key, Page, TransactionCancelled, query_page
from common.store import key
from customers.store.base import Contended, CustomersTable, busy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

ALL_CATEGORIES = "*"
COUNT_DIGITS = 12
COUNTED = "COUNTS#0"
"""The marker part of an order counted in a merged batch: the part name its one chunk had when orders
were counted one by one, so an order counted then is not counted again."""


@dataclass(frozen=True)
class Counter:
    """A ranked counter: the co-purchases of (`owner`, `product_id`) or the units of a best seller."""

    partition: str
    product_id: str

    @property
    def key(self) -> tuple[str, str]:
        return self.partition, f"PRODUCT#{self.product_id}"


def copurchase_partition(product_id: str) -> str:
    return f"COPURCHASE#{product_id}"


def bestseller_partition(category: str) -> str:
    return f"BESTSELLER#{category}"


def ranked(count: int, product_id: str) -> str:
    return f"{count:0{COUNT_DIGITS}d}#{product_id}"


class CounterStore(CustomersTable):
    def counts(self, counters: Sequence[Counter]) -> dict[Counter, int]:
        by_key = {c.key: c for c in counters}
        values = (
            self.batch_read([key(*c.key) for c in counters], projection="PK, SK, hits", consistent=True)
            if counters
            else []
        )
        found = {by_key[(v["PK"], v["SK"])]: int(v.get("hits", 0)) for v in values}
        return {c: found.get(c, 0) for c in counters}

    def add_counts(self, event_id: str, part: str, changes: Sequence[tuple[Counter, int, int]], now: datetime) -> None:
        """Move each counter from the count read to the new one, re-ranking it in GSI2, with the part's
        marker, all or nothing. `AlreadyApplied` if the part was applied; `Contended` if a counter moved."""
        self.apply_once([self.marker(event_id, part, now), *(self._move(*change) for change in changes)])

    def add_batch_counts(
        self, event_ids: Sequence[str], changes: Sequence[tuple[Counter, int, int]], now: datetime
    ) -> None:
        """Move each counter from the count read to the new one (the batch's events' sum) with a `COUNTED`
        marker per event, all or nothing: at most 100 actions together. `SeenBefore` names the events
        counted before (nothing was written), `Contended` if a counter moved since it was read, a 503 when
        DynamoDB stayed busy (conflicts after their retries, throttling)."""
        markers = [self.marker(event_id, COUNTED, now) for event_id in event_ids]
        try:
            write_chunk(self.transact, event_ids, markers, [self._move(*change) for change in changes], busy=busy)
        except TransactionCancelled as moved:
            raise Contended from moved

    def _move(self, counter: Counter, old: int, new: int) -> "TransactWriteItemTypeDef":
        pk, sk = counter.key
        return self.update_action(
            pk,
            sk,
            "SET hits = :new, productId = :pid, GSI2PK = :pk, GSI2SK = :rank",
            condition="attribute_not_exists(PK) OR hits = :old",
            values={
                ":new": new,
                ":old": old,
                ":pid": counter.product_id,
                ":pk": pk,
                ":rank": ranked(new, counter.product_id),
            },
        )

    def top(self, partition: str, *, limit: int, start_key: Key | None = None) -> Page[tuple[str, int]]:
        """Products of a ranked partition, highest count first: (productId, count). Reads `limit` keys."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        page = query_page(self.client, request, start_key)
        found = []
        for item in page.items:
            count, _, product_id = str(item["GSI2SK"]).partition("#")
            found.append((product_id, int(count)))
        return Page(found, page.next_key)
