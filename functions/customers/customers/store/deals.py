"""Win-back deals (`CUSTOMER#<sub> / DEAL#<dealId> {dealId, code, createdAt, issuedAt, emailedAt}`) and
the customers they are for, found through GSI1 (`LASTORDER#<day>`, kept on the history's summary)."""

from datetime import datetime
from typing import Any

from common.dynamo import Key, Page, query_page
from common.store import iso
from customers.store.base import CustomersTable, customer_pk


class DealStore(CustomersTable):
    def last_ordered_on(self, day: str, *, start_key: Key | None, limit: int) -> Page[tuple[str, datetime]]:
        """Customers whose last paid order was on `day` (YYYY-MM-DD): (sub, lastOrderAt)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :day",
            "ExpressionAttributeValues": {":day": {"S": f"LASTORDER#{day}"}},
            "Limit": limit,
        }
        page = query_page(self.client, request, start_key)
        found = []
        for item in page.items:
            last, _, sub = str(item["GSI1SK"]).partition("#")
            found.append((sub, datetime.fromisoformat(last)))
        return Page(found, page.next_key)

    def claim_deal(self, sub: str, deal_id: str, code: str, now: datetime) -> dict[str, Any]:
        """The customer's deal `deal_id`, created with `code` if it did not exist."""
        item = {"PK": customer_pk(sub), "SK": f"DEAL#{deal_id}", "dealId": deal_id, "code": code, "createdAt": iso(now)}
        if self.put_if_absent(item):
            return item
        existing = self.get(customer_pk(sub), f"DEAL#{deal_id}")
        assert existing is not None
        return existing

    def mark_deal(self, sub: str, deal_id: str, attribute: str, now: datetime) -> bool:
        """Stamp a step of a deal (`issuedAt`, `emailedAt`) once; False if it was stamped already."""
        stamped = self.update_if(
            customer_pk(sub),
            f"DEAL#{deal_id}",
            "SET #a = :now",
            condition="attribute_exists(PK) AND attribute_not_exists(#a)",
            names={"#a": attribute},
            values={":now": iso(now)},
        )
        return stamped is not None

    def all_deals(self, sub: str) -> list[dict[str, Any]]:
        deals = self.query_all(customer_pk(sub), "DEAL#")
        return [{k: v for k, v in deal.items() if k not in ("PK", "SK")} for deal in deals]
