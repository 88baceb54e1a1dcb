"""The orders table, and the only module that talks to DynamoDB.

Items (keys PK/SK):
- `ORDER#<id> / META`: the order with its lines, totals, status history, refunds (a map by refund id)
  and, while it awaits payment, the PaymentIntent's client secret. `GSI1PK=CUSTOMER#<sub>,
  GSI1SK=<createdAt>#<id>` lists a customer's orders newest first; `GSI2PK=STATUS#<status>` the same
  for staff by status; `GSI3PK=ATTENTION, GSI3SK=<since>#<id>` (sparse: only while flagged) lists the
  orders that need staff, oldest first.
- `IDEMPOTENCY#<sub>#<key> / META {orderId, requestHash}`: written in the order's own transaction,
  so two racing checkouts with one key create one order.
Every status change is conditional on the statuses it may come from (`models.ALLOWED_FROM`).
"""

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from common.dynamo import (
    Key,
    Page,
    TransactionCancelled,
    check_start_key,
    dynamodb_client,
    from_item,
    query_page,
    to_item,
    to_value,
    transact_write,
)
from common.errors import ServiceUnavailable
from orders.coupons import Coupon
from orders.models import ALLOWED_FROM, REFUNDABLE, Order, OrderStatus, Refund, RefundHold, StatusChange

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

META = "META"
ATTENTION = "ATTENTION"


class KeyTaken(Exception):
    """The customer's idempotency key already names an order."""


class CouponUsedUp(Exception):
    """The coupon's redemption limit (`per_customer` False) or the customer's own limit was reached."""

    def __init__(self, per_customer: bool) -> None:
        super().__init__("per customer" if per_customer else "in total")
        self.per_customer = per_customer


class CouponExists(Exception):
    pass


COUPONS = "COUPONS"


def coupon_pk(code: str) -> str:
    return f"COUPON#{code}"


def _coupon_use_key(code: str, customer_id: str) -> Key:
    return {"PK": {"S": coupon_pk(code)}, "SK": {"S": f"CUSTOMER#{customer_id}"}}


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def _key(pk: str) -> Key:
    return {"PK": {"S": pk}, "SK": {"S": META}}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _change(status: OrderStatus, at: datetime, reason: str | None) -> dict[str, Any]:
    return StatusChange(status=status, at=at, reason=reason).model_dump(mode="json")


def _item_of(order: Order) -> dict[str, Any]:
    values = order.model_dump(mode="json", exclude={"refunds"})
    values["refunds"] = {r.refund_id: r.model_dump(mode="json") for r in order.refunds}
    created = _iso(order.created_at)
    return {
        **{k: v for k, v in values.items() if v is not None},
        "PK": order_pk(order.order_id),
        "SK": META,
        "GSI1PK": f"CUSTOMER#{order.customer_id}",
        "GSI1SK": f"{created}#{order.order_id}",
        "GSI2PK": f"STATUS#{order.status.value}",
        "GSI2SK": f"{created}#{order.order_id}",
    }


def _coupon_of(values: dict[str, Any]) -> Coupon:
    return Coupon.model_validate({k: v for k, v in values.items() if not k.startswith("GSI") and k not in ("PK", "SK")})


def _order_of(values: dict[str, Any]) -> Order:
    refunds = sorted((Refund.model_validate(r) for r in (values.get("refunds") or {}).values()), key=lambda r: r.at)
    data = {k: v for k, v in values.items() if not k.startswith("GSI") and k not in ("PK", "SK")}
    data["refunds"] = tuple(refunds)
    return Order.model_validate(data)


class OrdersStore:
    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> "DynamoDBClient":
        return self._client or dynamodb_client()

    # ------------------------------------------------------------ checkout

    def create(self, order: Order, idempotency_key: str, request_hash: str, coupon: Coupon | None = None) -> None:
        """Write the order with its idempotency marker and, with a coupon, one redemption of it (in total
        and by this customer), all or nothing: `KeyTaken`, `CouponUsedUp`."""
        marker = {
            "PK": f"IDEMPOTENCY#{order.customer_id}#{idempotency_key}",
            "SK": META,
            "orderId": order.order_id,
            "requestHash": request_hash,
        }
        new = "attribute_not_exists(PK)"
        actions: list[Any] = [
            {"Put": {"TableName": self.table, "Item": to_item(marker), "ConditionExpression": new}},
            {"Put": {"TableName": self.table, "Item": to_item(_item_of(order)), "ConditionExpression": new}},
        ]
        if coupon is not None:
            actions += self._redeem(coupon, order.customer_id)
        try:
            transact_write(actions, client=self.client)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 0 in failed:
                raise KeyTaken from cancelled
            if 2 in failed or 3 in failed:
                raise CouponUsedUp(per_customer=3 in failed) from cancelled
            raise ServiceUnavailable("orders are busy; retry", code="transaction_conflict") from cancelled

    def _redeem(self, coupon: Coupon, customer_id: str) -> list[Any]:
        """One use of the coupon, in total and by this customer, each within its limit if it has one."""
        total_limit = "attribute_exists(PK)"
        values: dict[str, Any] = {":one": {"N": "1"}}
        if coupon.max_redemptions is not None:
            total_limit += " AND redemptions < :max"
            values[":max"] = {"N": str(coupon.max_redemptions)}
        use: dict[str, Any] = {
            "TableName": self.table,
            "Key": _coupon_use_key(coupon.code, customer_id),
            "UpdateExpression": "ADD #count :one",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
        if coupon.max_per_customer is not None:
            use["ConditionExpression"] = "attribute_not_exists(#count) OR #count < :max"
            use["ExpressionAttributeValues"][":max"] = {"N": str(coupon.max_per_customer)}
        total = {
            "TableName": self.table,
            "Key": _key(coupon_pk(coupon.code)),
            "UpdateExpression": "ADD redemptions :one",
            "ConditionExpression": total_limit,
            "ExpressionAttributeValues": values,
        }
        return [{"Update": total}, {"Update": use}]

    def _give_back(self, code: str, customer_id: str) -> list[Any]:
        """A use of the coupon returned (a cancelled or rejected order). Unconditional: it rides in the
        transaction of the order's own status change, which happens once."""
        minus = {":minus": {"N": "-1"}}
        total = {
            "TableName": self.table,
            "Key": _key(coupon_pk(code)),
            "UpdateExpression": "ADD redemptions :minus",
            "ExpressionAttributeValues": minus,
        }
        use = {
            "TableName": self.table,
            "Key": _coupon_use_key(code, customer_id),
            "UpdateExpression": "ADD #count :minus",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": minus,
        }
        return [{"Update": total}, {"Update": use}]

    # ------------------------------------------------------------ coupons

    def put_coupon(self, coupon: Coupon) -> None:
        item = {
            **{k: v for k, v in coupon.model_dump(mode="json").items() if v is not None},
            "PK": coupon_pk(coupon.code),
            "SK": META,
            "GSI1PK": COUPONS,
            "GSI1SK": coupon.code,
        }
        try:
            self.client.put_item(
                TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            raise CouponExists from error

    def get_coupon(self, code: str) -> Coupon | None:
        item = self.client.get_item(TableName=self.table, Key=_key(coupon_pk(code)), ConsistentRead=True).get("Item")
        return _coupon_of(from_item(item)) if item else None

    def coupon_uses(self, code: str, customer_id: str) -> int:
        key = _coupon_use_key(code, customer_id)
        item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return int(from_item(item).get("count", 0)) if item else 0

    def list_coupons(self, *, start_key: Key | None, limit: int) -> Page[Coupon]:
        check_start_key(start_key, ("PK", "SK", "GSI1PK", "GSI1SK"), "GSI1PK", COUPONS)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :coupons",
            "ExpressionAttributeValues": {":coupons": {"S": COUPONS}},
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        return Page([_coupon_of(i) for i in page.items], page.next_key)

    def has_orders(self, customer_id: str, *, excluding: str) -> bool:
        """Whether the customer has an order, other than `excluding`, that was not cancelled or rejected."""
        page = self.by_customer(customer_id, start_key=None, limit=25)
        dead = (OrderStatus.CANCELLED, OrderStatus.REJECTED)
        return any(o.order_id != excluding and o.status not in dead for o in page.items)

    def idempotency_record(self, customer_id: str, idempotency_key: str) -> tuple[str, str] | None:
        item = self.client.get_item(
            TableName=self.table, Key=_key(f"IDEMPOTENCY#{customer_id}#{idempotency_key}"), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        values = from_item(item)
        return values["orderId"], values["requestHash"]

    # ------------------------------------------------------------ reads

    def get(self, order_id: str) -> Order | None:
        item = self.client.get_item(TableName=self.table, Key=_key(order_pk(order_id)), ConsistentRead=True).get("Item")
        return _order_of(from_item(item)) if item else None

    def by_customer(self, customer_id: str, *, start_key: Key | None, limit: int) -> Page[Order]:
        return self._query("GSI1", f"CUSTOMER#{customer_id}", start_key, limit)

    def by_status(self, status: OrderStatus, *, start_key: Key | None, limit: int) -> Page[Order]:
        return self._query("GSI2", f"STATUS#{status.value}", start_key, limit)

    def needing_attention(self, *, start_key: Key | None, limit: int) -> Page[Order]:
        return self._query("GSI3", ATTENTION, start_key, limit, newest_first=False)

    def _query(
        self, index: str, partition: str, start_key: Key | None, limit: int, *, newest_first: bool = True
    ) -> Page[Order]:
        check_start_key(start_key, ("PK", "SK", f"{index}PK", f"{index}SK"), f"{index}PK", partition)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": f"{index}PK"},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        return Page([_order_of(i) for i in page.items], page.next_key)

    # ------------------------------------------------------------ changes

    def transition(
        self,
        order_id: str,
        to: OrderStatus,
        now: datetime,
        *,
        reason: str | None = None,
        sets: dict[str, Any] | None = None,
        removes: tuple[str, ...] = (),
        condition: str | None = None,
        give_back: tuple[str, str] | None = None,
    ) -> Order | None:
        """Move the order to `to` if its status allows it (and `condition` holds), appending to its
        history; the order after, or None if the conditions failed. `give_back` (coupon code, customer)
        returns a coupon use in the same transaction."""
        allowed = sorted(s.value for s in ALLOWED_FROM[to])
        values: dict[str, Any] = {
            ":to": to.value,
            ":status_key": f"STATUS#{to.value}",
            ":now": _iso(now),
            ":change": [_change(to, now, reason)],
            **{f":from{i}": status for i, status in enumerate(allowed)},
        }
        assignments = [
            "#status = :to",
            "GSI2PK = :status_key",
            "updated_at = :now",
            "history = list_append(history, :change)",
        ]
        names = {"#status": "status"}
        for i, (attribute, value) in enumerate((sets or {}).items()):
            names[f"#set{i}"] = attribute
            values[f":set{i}"] = value
            assignments.append(f"#set{i} = :set{i}")
        expression = "SET " + ", ".join(assignments)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        allowed_expr = f"#status IN ({', '.join(f':from{i}' for i in range(len(allowed)))})"
        full_condition = allowed_expr + (f" AND {condition}" if condition else "")
        if give_back is None:
            return self._update(order_id, expression, full_condition, values, names)
        update = self._update_request(order_id, expression, full_condition, values, names)
        del update["ReturnValues"]
        try:
            actions: list[Any] = [{"Update": update}, *self._give_back(*give_back)]
            transact_write(actions, client=self.client)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                return None
            raise ServiceUnavailable("orders are busy; retry", code="transaction_conflict") from cancelled
        return self.get(order_id)

    def set_fields(
        self, order_id: str, sets: dict[str, Any], *, condition: str, values: dict[str, Any] | None = None
    ) -> Order | None:
        """Set attributes (no status change) if `condition` holds; the order after, or None."""
        names = {f"#set{i}": attribute for i, attribute in enumerate(sets)}
        all_values = {f":set{i}": value for i, value in enumerate(sets.values())} | (values or {})
        expression = "SET " + ", ".join(f"#set{i} = :set{i}" for i in range(len(sets)))
        return self._update(order_id, expression, condition, all_values, names | {"#status": "status"})

    def flag(self, order_id: str, attention: dict[str, Any]) -> Order | None:
        """Flag the order for staff (listed by `needing_attention`). A flag already raised keeps its
        `since` (the queue's order) and takes the newest reason. None if there is no such order."""
        since = str(attention["since"])
        values = {":attention": attention, ":attn": ATTENTION, ":since": f"{since}#{order_id}"}
        return self._update(
            order_id,
            "SET attention = :attention, GSI3PK = :attn, GSI3SK = if_not_exists(GSI3SK, :since)",
            "attribute_exists(PK)",
            values,
            {},
        )

    def clear_flag(self, order_id: str, history: dict[str, Any], *, redrives: bool = False) -> Order | None:
        """Take the order off the staff queue, noting why in its history (and counting a re-drive, whose
        number names the new execution); None if it was not flagged."""
        expression = "SET history = list_append(history, :change)" + (
            ", redrives = if_not_exists(redrives, :zero) + :one" if redrives else ""
        )
        values: dict[str, Any] = {":change": [history]} | ({":zero": 0, ":one": 1} if redrives else {})
        return self._update(
            order_id, expression + " REMOVE attention, GSI3PK, GSI3SK", "attribute_exists(attention)", values, {}
        )

    def reserve_refund(self, order_id: str, refund_id: str, hold: RefundHold, *, left: int) -> Order | None:
        """Set `hold.amount` aside for refund `refund_id` before payments is asked, so that of refunds
        racing for the same money only one gets it. `refund_left` counts down what may still be set
        aside; `left` (what the caller read as not yet refunded) starts it on the order's first refund.
        None if less is left, the order cannot be refunded, or the id is recorded or held already."""
        self._ensure_map(order_id, "refund_holds")
        statuses = {f":refundable{i}": s.value for i, s in enumerate(sorted(REFUNDABLE))}
        values: dict[str, Any] = {":hold": hold.model_dump(mode="json"), ":amount": hold.amount.amount, ":left": left}
        return self._update(
            order_id,
            "SET refund_holds.#rid = :hold, refund_left = if_not_exists(refund_left, :left) - :amount",
            f"#status IN ({', '.join(statuses)}) AND attribute_not_exists(refunds.#rid) "
            "AND attribute_not_exists(refund_holds.#rid) "
            "AND (attribute_not_exists(refund_left) OR refund_left >= :amount)",
            values | statuses,
            {"#status": "status", "#rid": refund_id},
        )

    def release_refund(self, order_id: str, refund_id: str, amount: int) -> Order | None:
        """Give back what a refund that payments refused had set aside (once); None if it held nothing."""
        return self._update(
            order_id,
            "SET refund_left = refund_left + :amount REMOVE refund_holds.#rid",
            "attribute_exists(refund_holds.#rid)",
            {":amount": amount},
            {"#rid": refund_id},
        )

    def record_refund(
        self,
        order_id: str,
        refund: Refund,
        *,
        to: OrderStatus,
        refunded_total: dict[str, Any],
        refunded_before: int,
        restocked: bool,
        now: datetime,
    ) -> Order | None:
        """Record one refund under its id with the new total and status, and drop its hold; None if the
        status does not allow it, that refund was recorded before (a retry), or the refunded total is no
        longer `refunded_before` (another refund was recorded meanwhile: read again and recompute)."""
        allowed = sorted(s.value for s in ALLOWED_FROM[to])
        values: dict[str, Any] = {
            ":to": to.value,
            ":status_key": f"STATUS#{to.value}",
            ":now": _iso(now),
            ":change": [_change(to, now, f"refunded: {refund.reason}")],
            ":refund": refund.model_dump(mode="json"),
            ":total": refunded_total,
            ":before": refunded_before,
            ":restocked": restocked,
            **{f":from{i}": status for i, status in enumerate(allowed)},
        }
        expression = (
            "SET #status = :to, GSI2PK = :status_key, updated_at = :now, history = list_append(history, :change), "
            "refunds.#rid = :refund, refunded_total = :total, restocked = :restocked REMOVE refund_holds.#rid"
        )
        allowed_expr = f"#status IN ({', '.join(f':from{i}' for i in range(len(allowed)))})"
        return self._update(
            order_id,
            expression,
            f"{allowed_expr} AND attribute_not_exists(refunds.#rid) AND refunded_total.#amount = :before",
            values,
            {"#status": "status", "#rid": refund.refund_id, "#amount": "amount"},
        )

    def _ensure_map(self, order_id: str, attribute: str) -> None:
        """Give an order written before `attribute` existed an empty map there, so a path in it can be set."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table,
                Key=_key(order_pk(order_id)),
                UpdateExpression="SET #map = :empty",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(#map)",
                ExpressionAttributeNames={"#map": attribute},
                ExpressionAttributeValues={":empty": {"M": {}}},
            )

    def redact(self, order_id: str, customer_id: str, sets: dict[str, Any]) -> bool:
        """Overwrite the customer's personal data on an order (`sets`: attribute → redacted value) and mark
        it `anonymised`, if the order is still the customer's; False if it is not (or is gone)."""
        names = {f"#set{i}": attribute for i, attribute in enumerate(sets)}
        values = {f":set{i}": to_value(value) for i, value in enumerate(sets.values())}
        assignments = [f"{name} = :set{i}" for i, name in enumerate(names)]
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(order_pk(order_id)),
                UpdateExpression="SET " + ", ".join([*assignments, "anonymised = :yes"]) + " REMOVE client_secret",
                ConditionExpression="attribute_exists(PK) AND customer_id = :customer",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":yes": {"BOOL": True}, ":customer": {"S": customer_id}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _update(
        self, order_id: str, expression: str, condition: str, values: dict[str, Any], names: dict[str, str]
    ) -> Order | None:
        try:
            response = self.client.update_item(**self._update_request(order_id, expression, condition, values, names))
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return _order_of(from_item(response["Attributes"]))

    def _update_request(
        self, order_id: str, expression: str, condition: str, values: dict[str, Any], names: dict[str, str]
    ) -> dict[str, Any]:
        used_names = {k: v for k, v in names.items() if k in expression or k in condition}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": _key(order_pk(order_id)),
            "UpdateExpression": expression,
            "ConditionExpression": f"attribute_exists(PK) AND ({condition})",
            "ExpressionAttributeValues": {k: to_value(v) for k, v in values.items()},
            "ReturnValues": "ALL_NEW",
        }
        if used_names:
            kwargs["ExpressionAttributeNames"] = used_names
        return kwargs
