"""Erasure: every item of a customer goes, and `CUSTOMER#<sub> / ERASED {erasedAt}` stays, the only
item left of them. Events of orders placed before it are not applied (they would bring the history back)."""

import random
import time
from datetime import datetime
from typing import Any

from common.errors import ServiceUnavailable
from common.store import iso, key, parse_time
from customers.store.base import BUSY, ERASED, CustomersTable, customer_pk

_BATCH = 25
_ATTEMPTS = 5


class ErasureStore(CustomersTable):
    def erased_at(self, sub: str) -> datetime | None:
        values = self.get(customer_pk(sub), ERASED)
        return parse_time(values.get("erasedAt")) if values else None

    def erase(self, sub: str, now: datetime) -> int:
        """Delete every item of the customer (profile, addresses, summary, orders as told by events, what
        they bought, notes, deals) and leave the `ERASED` marker, written first so that an order event
        racing the deletion cannot bring the history back. The number of items deleted; a retry deletes
        what is left."""
        self.client.put_item(
            TableName=self.table, Item={"PK": {"S": customer_pk(sub)}, "SK": {"S": ERASED}, "erasedAt": {"S": iso(now)}}
        )
        keys = [key(v["PK"], v["SK"]) for v in self.query_all(customer_pk(sub)) if v["SK"] != ERASED]
        for start in range(0, len(keys), _BATCH):
            request: Any = {self.table: [{"DeleteRequest": {"Key": k}} for k in keys[start : start + _BATCH]]}
            for attempt in range(_ATTEMPTS):
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                if not request:
                    break
                if attempt < _ATTEMPTS - 1:
                    time.sleep(random.uniform(0, 0.02 * 2**attempt))
            if request:
                raise ServiceUnavailable(BUSY)
        return len(keys)
