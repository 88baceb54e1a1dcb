"""A customer's purchase history as the order events told it: `CUSTOMER#<sub> / ORDER#<orderId>` (order
ids sort by time), the `SUMMARY {lifetimeValue{currency: amount}, orderCount, lastOrderAt, categories
{name: units}, version}` and `BOUGHT#<productId> {units}` (what they bought, so suggestions leave it out).

While the customer has a paid order the summary carries `GSI1PK=LASTORDER#<day>,
GSI1SK=<lastOrderAt>#<sub>`: the win-back job reads the days it needs (`customers.store.deals`)."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.store import iso, key, parse_time
from customers.models import OrderRecord, PurchasedLine, RefundEntry, Summary
from customers.store.base import SUMMARY, CustomersTable, customer_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def summary_of(values: Mapping[str, Any]) -> Summary:
    return Summary(
        lifetime_value=dict(values.get("lifetimeValue") or {}),
        order_count=values.get("orderCount", 0),
        last_order_at=parse_time(values.get("lastOrderAt")),
        categories=dict(values.get("categories") or {}),
        version=values.get("version", 0),
    )


def summary_item(sub: str, summary: Summary) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": customer_pk(sub),
        "SK": SUMMARY,
        "customerId": sub,
        "lifetimeValue": summary.lifetime_value,
        "orderCount": summary.order_count,
        "categories": summary.categories,
        "version": summary.version,
    }
    if summary.last_order_at is not None:
        last = iso(summary.last_order_at)
        item |= {"lastOrderAt": last, "GSI1PK": f"LASTORDER#{last[:10]}", "GSI1SK": f"{last}#{sub}"}
    return item


def order_of(values: Mapping[str, Any]) -> OrderRecord:
    return OrderRecord(
        order_id=values["orderId"],
        status=values["status"],
        currency=values["currency"],
        total=values["total"],
        refunded=values.get("refunded", 0),
        paid=values.get("paid", False),
        cancelled=values.get("cancelled", False),
        lines=tuple(PurchasedLine.model_validate(line) for line in values.get("lines", [])),
        refunds=tuple(
            RefundEntry(refund_id=r["refundId"], amount=r["amount"], at=datetime.fromisoformat(r["at"]))
            for r in values.get("refunds", [])
        ),
        created_at=datetime.fromisoformat(values["createdAt"]),
        version=values.get("version", 0),
        reported_payment_status=values.get("paymentStatus"),
        reported_fulfillment_status=values.get("fulfillmentStatus"),
    )


def order_item(sub: str, order: OrderRecord) -> dict[str, Any]:
    reported = {
        "paymentStatus": order.reported_payment_status,
        "fulfillmentStatus": order.reported_fulfillment_status,
    }
    return {
        "PK": customer_pk(sub),
        "SK": f"ORDER#{order.order_id}",
        "orderId": order.order_id,
        "status": order.status,
        "currency": order.currency,
        "total": order.total,
        "refunded": order.refunded,
        "paid": order.paid,
        "cancelled": order.cancelled,
        "lines": [line.model_dump() for line in order.lines],
        "refunds": [{"refundId": r.refund_id, "amount": r.amount, "at": iso(r.at)} for r in order.refunds],
        "createdAt": iso(order.created_at),
        "version": order.version,
    } | {name: status.value for name, status in reported.items() if status is not None}


class HistoryStore(CustomersTable):
    def get_summary(self, sub: str) -> Summary | None:
        values = self.get(customer_pk(sub), SUMMARY)
        return summary_of(values) if values else None

    def get_order(self, sub: str, order_id: str) -> OrderRecord | None:
        values = self.get(customer_pk(sub), f"ORDER#{order_id}")
        return order_of(values) if values else None

    def list_orders(self, sub: str, limit: int) -> list[OrderRecord]:
        return [order_of(v) for v in self.query_prefix(customer_pk(sub), "ORDER#", limit=limit, newest_first=True)]

    def all_orders(self, sub: str) -> list[OrderRecord]:
        """All the customer's orders, newest first."""
        orders = (order_of(v) for v in self.query_all(customer_pk(sub), "ORDER#"))
        return sorted(orders, key=lambda o: o.order_id, reverse=True)

    def apply_order(
        self,
        sub: str,
        event_id: str,
        *,
        before: tuple[OrderRecord | None, Summary | None],
        after: tuple[OrderRecord, Summary],
        bought: Mapping[str, int],
        now: datetime,
    ) -> None:
        """Write the order and the summary as they are after one event, with the event's marker, in one
        transaction guarded by the versions read. Raises `AlreadyApplied` for a repeated event,
        `Contended` when another event of the customer got in between (read again, retry)."""
        old_order, old_summary = before
        order, summary = after
        actions: list[TransactWriteItemTypeDef] = [
            self.marker(event_id, "CUSTOMER", now),
            self.versioned_put(order_item(sub, order), old_order.version if old_order else None),
            self.versioned_put(summary_item(sub, summary), old_summary.version if old_summary else None),
        ]
        for product_id, units in sorted(bought.items()):
            actions.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": key(customer_pk(sub), f"BOUGHT#{product_id}"),
                        "UpdateExpression": "SET productId = :pid ADD units :units",
                        "ExpressionAttributeValues": {":pid": {"S": product_id}, ":units": {"N": str(units)}},
                    }
                }
            )
        self.apply_once(actions)

    def bought(self, sub: str, product_ids: Iterable[str]) -> set[str]:
        """Which of `product_ids` the customer has bought (and not had cancelled)."""
        keys = [key(customer_pk(sub), f"BOUGHT#{pid}") for pid in dict.fromkeys(product_ids)]
        return {v["productId"] for v in self.batch_read(keys, projection="productId, units") if v.get("units", 0) > 0}
