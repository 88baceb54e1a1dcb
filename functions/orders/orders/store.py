"""The orders table, and the only module that talks to DynamoDB.

Items (keys PK/SK):
- `ORDER#<id> / META`: the order with its lines, totals, status history, refunds (a map by refund id)
  and, while it awaits payment, the PaymentIntent's client secret. `GSI1PK=CUSTOMER#<sub>,
  GSI1SK=<createdAt>#<id>` lists a customer's orders newest first; `GSI2PK=STATUS#<status>` the same
  for staff by status; `GSI3PK=ATTENTION, GSI3SK=<since>#<id>` (sparse: only while flagged) lists the
  orders that need staff, oldest first; `GSI4PK=EMAIL#<lowercased email>, GSI4SK=<createdAt>#<id>`
  (sparse: only while the order keeps its buyer's email; erasure removes it) lists a buyer's orders by
  email. Staff's filtered list (`filtered`) queries one of GSI1, GSI4 or GSI2 by creation time.
- `IDEMPOTENCY#<sub>#<key> / META {orderId, requestHash}`: written in the order's own transaction,
  so two racing checkouts with one key create one order.
- `SHIPMETHOD#<id> / META`: a shipping method (`common.pricing.ShippingMethod`, archived ones kept);
  `GSI1PK=SHIPMETHODS` lists them all in one query (a shop has a handful: a country's methods are
  that list filtered, no scan, no per-country copies to keep in step).
- `COUPON#<code> / META`: a coupon's rules (`GSI1PK=COUPONS` lists them). Its uses are counted in
  `COUPON#<code> / ALLOW#<n> {used, cap}` for n < its `shards` (`cap` absent: no limit), written with it:
  a checkout takes one use from one shard chosen at random (`used < cap`), so a crowd redeeming one
  coupon shares no item, and the order records the shard (`coupon_shard`) that a cancellation gives it
  back to. A coupon made before shards (no `shards`) counts on its own item (`redemptions`), as one shard.
  `COUPON#<code> / CUSTOMER#<sub> {count}`: one customer's uses of it (their own limit).
- `OFFER#<customerId> / COUPON#<code> {code}`: a coupon issued to that customer (its `customerIds`), so
  `GET /me/offers` is one query; the coupon's own items stay the truth about its rules and uses.
- `TAXRATE#<country> / META {standard, categories}`: a country's rates, percent as decimal strings
  (exact); `GSI1PK=TAXRATES, GSI1SK=<country>` lists them.
Every status change is conditional on the statuses it may come from (`models.ALLOWED_FROM`).
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from common.contracts import OrderLine
from common.dynamo import BUSY_REASONS, Key, Page, TransactionCancelled, check_start_key, query_page, to_item
from common.errors import ServiceUnavailable
from common.pricing import ShippingMethod, TaxRates
from common.store import TableStore, iso, key
from orders.coupons import Coupon, allowances
from orders.models import ALLOWED_FROM, REFUNDABLE, Actor, Order, OrderStatus, Refund, RefundHold, StatusChange

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


class _ShardRefused(Exception):
    """A checkout's transaction failed only on the coupon's allowance item (`reason`: `SHARD_REFUSALS`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


COUPONS = "COUPONS"
ALLOW_PREFIX = "ALLOW#"
SHARD_REFUSALS = ("ConditionalCheckFailed", *BUSY_REASONS)
"""Why a checkout's take from one allowance shard may fail, each answered by trying another shard: it
is used up, another transaction holds it, or it is past its throughput."""
REDEEM_ATTEMPTS = 6


OFFER_PREFIX = "OFFER#"


def coupon_pk(code: str) -> str:
    return f"COUPON#{code}"


def _coupon_use_key(code: str, customer_id: str) -> Key:
    return key(coupon_pk(code), f"CUSTOMER#{customer_id}")


def _allowance_key(code: str, shard: int) -> Key:
    return key(coupon_pk(code), f"{ALLOW_PREFIX}{shard}")


@dataclass(frozen=True)
class CouponUse:
    """The coupon use an order holds: whose, and the allowance shard it was taken from (None: the
    coupon's own item, for coupons and orders made before shards) — where a cancellation gives it back."""

    code: str
    customer_id: str
    shard: int | None = None

    @classmethod
    def of(cls, order: Order) -> "CouponUse | None":
        return cls(order.coupon_code, order.customer_id, order.coupon_shard) if order.coupon_code else None


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def idempotency_pk(customer_id: str, idempotency_key: str) -> str:
    return f"IDEMPOTENCY#{customer_id}#{idempotency_key}"


def _change(
    status: OrderStatus, at: datetime, reason: str | None, actor: Actor | None = None, **extra: Any
) -> dict[str, Any]:
    """A history entry as stored; fields a change does not have (a refund's, a staff member's) are left
    out: the workflow's and the customer's own changes carry no `actor`."""
    change = StatusChange(status=status, at=at, reason=reason, actor=actor, **extra).model_dump(mode="json")
    return {k: v for k, v in change.items() if v is not None or k not in ("refund_id", "lines", "actor")}


def _item_of(order: Order) -> dict[str, Any]:
    values = order.model_dump(mode="json", exclude={"refunds"})
    values["refunds"] = {r.refund_id: r.model_dump(mode="json") for r in order.refunds}
    created = iso(order.created_at)
    return {
        **{k: v for k, v in values.items() if v is not None},
        "PK": order_pk(order.order_id),
        "SK": META,
        "GSI1PK": f"CUSTOMER#{order.customer_id}",
        "GSI1SK": f"{created}#{order.order_id}",
        "GSI2PK": f"STATUS#{order.status.value}",
        "GSI2SK": f"{created}#{order.order_id}",
    } | ({"GSI4PK": email_key(order.email), "GSI4SK": f"{created}#{order.order_id}"} if order.email else {})


def email_key(email: str) -> str:
    """GSI4's partition of a buyer's email: emails compare case-insensitively."""
    return f"EMAIL#{email.strip().casefold()}"


@dataclass(frozen=True)
class OrderFilter:
    """Staff's filter of the order list (`filtered`): each given field must hold. `start`/`end` are
    the first and last UTC day of creation, both included."""

    status: OrderStatus | None = None
    customer_id: str | None = None
    email: str | None = None
    start: date | None = None
    end: date | None = None

    def index(self) -> tuple[str, str]:
        """The index and partition to query: the most selective filter given (a customer, then an email,
        then a status); the others are a filter on what it reads."""
        if self.customer_id is not None:
            return "GSI1", f"CUSTOMER#{self.customer_id}"
        if self.email is not None:
            return "GSI4", email_key(self.email)
        return "GSI2", f"STATUS#{(self.status or OrderStatus.PAID).value}"


def _allowance_item(code: str, shard: int, cap: int | None) -> dict[str, Any]:
    """A new coupon's allowance shard: nothing used; `cap` uses (none: unlimited, only counted)."""
    return {"PK": coupon_pk(code), "SK": f"{ALLOW_PREFIX}{shard}", "used": 0} | (
        {"cap": cap} if cap is not None else {}
    )


def _has_room(allowance: dict[str, Any]) -> bool:
    return "cap" not in allowance or int(allowance.get("used", 0)) < int(allowance["cap"])


def _coupon_of(values: dict[str, Any]) -> Coupon:
    return Coupon.model_validate({k: v for k, v in values.items() if not k.startswith("GSI") and k not in ("PK", "SK")})


def _order_of(values: dict[str, Any]) -> Order:
    refunds = sorted((Refund.model_validate(r) for r in (values.get("refunds") or {}).values()), key=lambda r: r.at)
    data = {k: v for k, v in values.items() if not k.startswith("GSI") and k not in ("PK", "SK")}
    data["refunds"] = tuple(refunds)
    return Order.model_validate(data)


class OrdersStore(TableStore):
    busy = "orders are busy; retry"

    # ------------------------------------------------------------ checkout

    def create(self, order: Order, idempotency_key: str, request_hash: str, coupon: Coupon | None = None) -> None:
        """Write the order with its idempotency marker and, with a coupon, one redemption of it (from one
        allowance shard, and by this customer), all or nothing: `KeyTaken`, `CouponUsedUp`. A shard that
        refuses (used up, held by another checkout, throttled) sends the checkout to another that has uses
        left, read afresh; only when none has is the coupon used up."""
        marker = {
            "PK": idempotency_pk(order.customer_id, idempotency_key),
            "SK": META,
            "orderId": order.order_id,
            "requestHash": request_hash,
        }
        if coupon is not None and coupon.shards is not None:
            self._create_on_a_shard(marker, order, coupon)
            return
        redeem = self._redeem_on_coupon(coupon, order.customer_id) if coupon else []
        try:
            self._create([self.put_new(marker), self.put_new(_item_of(order)), *redeem])
        except _ShardRefused as refused:  # a coupon made before shards: its own item refused
            if refused.reason == "ConditionalCheckFailed":
                raise CouponUsedUp(per_customer=False) from refused
            raise ServiceUnavailable("orders are busy; retry", code="transaction_conflict") from refused

    def _create_on_a_shard(self, marker: dict[str, Any], order: Order, coupon: Coupon) -> None:
        """The checkout's transaction taking its use from a shard at random, then (refused) from one of
        those read to have a use left; the order records the shard that gave it."""
        shards = list(range(coupon.shards or 1))
        for _ in range(REDEEM_ATTEMPTS):
            shard = self.pick_shard(shards)
            placed = order.model_copy(update={"coupon_shard": shard})
            take = [self._take(coupon, shard), self._customer_use(coupon, order.customer_id)]
            try:
                self._create([self.put_new(marker), self.put_new(_item_of(placed)), *take])
                return
            except _ShardRefused:
                shards = self.shards_with_room(coupon)
                if not shards:
                    raise CouponUsedUp(per_customer=False) from None
        raise ServiceUnavailable("coupon redemptions are busy; retry", code="transaction_conflict")

    def _create(self, actions: list[Any]) -> None:
        """Run a checkout's transaction: [marker, order, coupon use in total, coupon use by customer]."""
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 0 in failed:
                raise KeyTaken from cancelled
            if 3 in failed:
                raise CouponUsedUp(per_customer=True) from cancelled
            if len(cancelled.reasons) > 2 and cancelled.reasons[2] in SHARD_REFUSALS:
                raise _ShardRefused(cancelled.reasons[2]) from cancelled
            raise ServiceUnavailable("orders are busy; retry", code="transaction_conflict") from cancelled

    def pick_shard(self, shards: Sequence[int]) -> int:
        """One of `shards` at random, so a crowd spreads evenly over a coupon's allowance items."""
        return random.choice(shards)

    def shards_with_room(self, coupon: Coupon) -> list[int]:
        """The allowance shards of a sharded coupon that have a use left, read consistently."""
        return sorted(int(i["SK"].removeprefix(ALLOW_PREFIX)) for i in self._allowances(coupon.code) if _has_room(i))

    def _take(self, coupon: Coupon, shard: int) -> dict[str, Any]:
        """One use from allowance `shard`, within its cap if the coupon has one (unlimited: just counted)."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": _allowance_key(coupon.code, shard),
            "UpdateExpression": "ADD #used :one",
            "ExpressionAttributeNames": {"#used": "used"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
        if coupon.max_redemptions is not None:
            update["ConditionExpression"] = "#used < #cap"
            update["ExpressionAttributeNames"]["#cap"] = "cap"
        return {"Update": update}

    def _customer_use(self, coupon: Coupon, customer_id: str) -> dict[str, Any]:
        """One use by this customer, within their limit if the coupon has one: a per-customer item, which
        only this customer's checkouts write."""
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
        return {"Update": use}

    def _redeem_on_coupon(self, coupon: Coupon, customer_id: str) -> list[Any]:
        """One use of a coupon made before shards: counted on its own item (its one shard), within its limit."""
        total_limit = "attribute_exists(PK) AND attribute_not_exists(shards)"
        values: dict[str, Any] = {":one": {"N": "1"}}
        if coupon.max_redemptions is not None:
            total_limit += " AND redemptions < :max"
            values[":max"] = {"N": str(coupon.max_redemptions)}
        total = {
            "TableName": self.table,
            "Key": key(coupon_pk(coupon.code), META),
            "UpdateExpression": "ADD redemptions :one",
            "ConditionExpression": total_limit,
            "ExpressionAttributeValues": values,
        }
        return [{"Update": total}, self._customer_use(coupon, customer_id)]

    def _give_back(self, use: CouponUse) -> list[Any]:
        """A use of the coupon returned (a cancelled or rejected order) to the shard it was taken from, and
        to its customer. Unconditional: it rides in the transaction of the order's own status change, which
        happens once."""
        minus = {":minus": {"N": "-1"}}
        total = {
            "TableName": self.table,
            "Key": key(coupon_pk(use.code), META) if use.shard is None else _allowance_key(use.code, use.shard),
            "UpdateExpression": "ADD #used :minus",
            "ExpressionAttributeNames": {"#used": "redemptions" if use.shard is None else "used"},
            "ExpressionAttributeValues": minus,
        }
        by_customer = {
            "TableName": self.table,
            "Key": _coupon_use_key(use.code, use.customer_id),
            "UpdateExpression": "ADD #count :minus",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": minus,
        }
        return [{"Update": total}, {"Update": by_customer}]

    # ------------------------------------------------------------ coupons

    def put_coupon(self, coupon: Coupon) -> None:
        """Write a new coupon with its `shards` allowance items (its cap split over them), all or nothing;
        `CouponExists` if the code is taken."""
        item = {
            **{k: v for k, v in coupon.model_dump(mode="json").items() if v is not None},
            "PK": coupon_pk(coupon.code),
            "SK": META,
            "GSI1PK": COUPONS,
            "GSI1SK": coupon.code,
        }
        shards = coupon.shards or 0  # None: a coupon as made before shards (tests of the old shape)
        caps: list[int | None] = (
            list(allowances(coupon.max_redemptions, shards))
            if coupon.max_redemptions is not None and shards
            else [None] * shards
        )
        allowance_puts: list[Any] = [
            {"Put": {"TableName": self.table, "Item": to_item(_allowance_item(coupon.code, n, cap))}}
            for n, cap in enumerate(caps)
        ]
        try:
            self.transact([self.put_new(item), *allowance_puts])
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                raise CouponExists from cancelled
            raise ServiceUnavailable(self.busy, code="transaction_conflict") from cancelled

    def get_coupon(self, code: str) -> Coupon | None:
        """The coupon with its uses so far (summed over its allowance shards)."""
        item = self.get(coupon_pk(code), META)
        return self._with_uses(_coupon_of(item)) if item else None

    def end_coupon(self, code: str, at: datetime, *, drop_start: bool) -> Coupon | None:
        """Set the coupon's `valid_until` to `at` (and remove its `valid_from`, when the coupon had not
        begun: now it never will); the coupon after, with its uses, or None if there is no such coupon.
        Only its rules item changes: checkouts redeeming it meanwhile write its allowance items."""
        item = self.update_if(
            coupon_pk(code),
            META,
            "SET valid_until = :until" + (" REMOVE valid_from" if drop_start else ""),
            condition="attribute_exists(PK)",
            values={":until": iso(at)},
        )
        return self._with_uses(_coupon_of(item)) if item else None

    def _with_uses(self, coupon: Coupon, allowances: list[dict[str, Any]] | None = None) -> Coupon:
        """`coupon` with the uses of its allowance shards added (read here unless given)."""
        if coupon.shards is None:
            return coupon
        found = self._allowances(coupon.code) if allowances is None else allowances
        used = sum(int(i.get("used", 0)) for i in found)
        return coupon.model_copy(update={"redemptions": coupon.redemptions + used})

    def _allowances(self, code: str) -> list[dict[str, Any]]:
        """A coupon's allowance shards: one small consistent query of its partition."""
        return self.query_all(coupon_pk(code), ALLOW_PREFIX)

    def put_offers(self, coupon: Coupon) -> None:
        """One `OFFER#<customerId> / COUPON#<code>` item per customer a coupon is issued to, so that a
        customer's offers are one query (`GET /me/offers`), never a scan of the coupons. Unconditional
        puts, up to 100 to a transaction: writing them again (a retried issue) changes nothing."""
        items = [
            {"PK": f"{OFFER_PREFIX}{customer_id}", "SK": f"COUPON#{coupon.code}", "code": coupon.code}
            for customer_id in dict.fromkeys(coupon.customer_ids or [])
        ]
        for start in range(0, len(items), 100):
            self.transact([{"Put": {"TableName": self.table, "Item": to_item(i)}} for i in items[start : start + 100]])

    def offer_codes(self, customer_id: str) -> list[str]:
        """The codes of the coupons issued to `customer_id`, in code order."""
        return [str(item["code"]) for item in self.query_all(f"{OFFER_PREFIX}{customer_id}", "COUPON#")]

    def coupon_uses(self, code: str, customer_id: str) -> int:
        item = self.get(coupon_pk(code), f"CUSTOMER#{customer_id}")
        return int(item.get("count", 0)) if item else 0

    def list_coupons(self, *, start_key: Key | None, limit: int) -> Page[Coupon]:
        """A page of coupons with their uses: every allowance shard of the page in one batch read."""
        page = self.index_page("GSI1", COUPONS, start_key=start_key, limit=limit)
        coupons = [_coupon_of(i) for i in page.items]
        keys = [_allowance_key(c.code, n) for c in coupons for n in range(c.shards or 0)]
        by_code: dict[str, list[dict[str, Any]]] = {c.code: [] for c in coupons}
        for allowance in self.batch_read(keys, consistent=True) if keys else []:
            by_code[allowance["PK"].removeprefix(coupon_pk(""))].append(allowance)
        return Page([self._with_uses(c, by_code[c.code]) for c in coupons], page.next_key)

    def has_orders(self, customer_id: str, *, excluding: str) -> bool:
        """Whether the customer has an order, other than `excluding`, that was not cancelled or rejected."""
        page = self.by_customer(customer_id, start_key=None, limit=25)
        dead = (OrderStatus.CANCELLED, OrderStatus.REJECTED)
        return any(o.order_id != excluding and o.status not in dead for o in page.items)

    def idempotency_record(self, customer_id: str, idempotency_key: str) -> tuple[str, str] | None:
        item = self.get(idempotency_pk(customer_id, idempotency_key), META)
        return (item["orderId"], item["requestHash"]) if item else None

    # ------------------------------------------------------------ reads

    def get_order(self, order_id: str) -> Order | None:
        item = self.get(order_pk(order_id), META)
        return _order_of(item) if item else None

    def by_customer(self, customer_id: str, *, start_key: Key | None, limit: int) -> Page[Order]:
        return self._query("GSI1", f"CUSTOMER#{customer_id}", start_key, limit)

    def by_status(self, status: OrderStatus, *, start_key: Key | None, limit: int) -> Page[Order]:
        return self._query("GSI2", f"STATUS#{status.value}", start_key, limit)

    def filtered(self, wanted: OrderFilter, *, start_key: Key | None, limit: int) -> Page[Order]:
        """One page of the orders `wanted` names, newest first: a query of the index of its most selective
        filter (`OrderFilter.index`), the creation days as a range of its sort key, the other filters
        applied to what the page read. So a page may hold fewer than `limit` orders (none, even) while
        its next key goes on: DynamoDB counts `limit` before filtering."""
        index, partition = wanted.index()
        check_start_key(start_key, ("PK", "SK", f"{index}PK", f"{index}SK"), f"{index}PK", partition)
        names = {"#pk": f"{index}PK", "#sk": f"{index}SK"}
        values: dict[str, Any] = {":pk": partition}
        condition = "#pk = :pk"
        low = wanted.start.isoformat() if wanted.start else None
        high = f"{wanted.end.isoformat()}T~" if wanted.end else None  # "~" sorts after any time of that day
        if low and high:
            condition += " AND #sk BETWEEN :low AND :high"
            values |= {":low": low, ":high": high}
        elif low:
            condition += " AND #sk >= :low"
            values[":low"] = low
        elif high:
            condition += " AND #sk <= :high"
            values[":high"] = high
        filters = []
        if wanted.status is not None and index != "GSI2":
            filters.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = wanted.status.value
        if wanted.customer_id is not None and index != "GSI1":
            filters.append("customer_id = :customer")
            values[":customer"] = wanted.customer_id
        if wanted.email is not None and index != "GSI4":
            filters.append("GSI4PK = :email")
            values[":email"] = email_key(wanted.email)
        if low is None and high is None:
            del names["#sk"]
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        page = query_page(self.client, request, start_key)
        return Page([_order_of(i) for i in page.items], page.next_key)

    def needing_attention(self, *, start_key: Key | None, limit: int) -> Page[Order]:
        return self._query("GSI3", ATTENTION, start_key, limit, newest_first=False)

    def _query(
        self, index: str, partition: str, start_key: Key | None, limit: int, *, newest_first: bool = True
    ) -> Page[Order]:
        page = self.index_page(index, partition, start_key=start_key, limit=limit, newest_first=newest_first)
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
        give_back: CouponUse | None = None,
        actor: Actor | None = None,
    ) -> Order | None:
        """Move the order to `to` if its status allows it (and `condition` holds), appending to its
        history (with the staff `actor` who made the move, if one did); the order after, or None if the
        conditions failed. `give_back` returns the order's coupon use in the same transaction."""
        moving = _StatusChange(to, now, reason, actor)
        values = dict(moving.values)
        assignments = list(moving.assignments)
        names = {"#status": "status"}
        for i, (attribute, value) in enumerate((sets or {}).items()):
            names[f"#set{i}"] = attribute
            values[f":set{i}"] = value
            assignments.append(f"#set{i} = :set{i}")
        expression = "SET " + ", ".join(assignments)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        full_condition = moving.allowed + (f" AND {condition}" if condition else "")
        if give_back is None:
            return self._update(order_id, expression, full_condition, values, names)
        guarded = _guarded(expression, full_condition, values, names)
        update = self.update_action(order_pk(order_id), META, expression, **guarded)
        try:
            self.transact([update, *self._give_back(give_back)])
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                return None
            raise ServiceUnavailable("orders are busy; retry", code="transaction_conflict") from cancelled
        return self.get_order(order_id)

    def set_fields(
        self, order_id: str, sets: dict[str, Any], *, condition: str, values: dict[str, Any] | None = None
    ) -> Order | None:
        """Set attributes (no status change) if `condition` holds; the order after, or None."""
        names = {f"#set{i}": attribute for i, attribute in enumerate(sets)}
        all_values = {f":set{i}": value for i, value in enumerate(sets.values())} | (values or {})
        expression = "SET " + ", ".join(f"#set{i} = :set{i}" for i in range(len(sets)))
        return self._update(order_id, expression, condition, all_values, names | {"#status": "status"})

    def flag(self, order_id: str, attention: dict[str, Any]) -> tuple[Order, bool] | None:
        """Flag the order for staff (listed by `needing_attention`): the order, and whether this raised
        the flag (False: it was up already, and keeps its `since`, the queue's order, with the newest
        reason). None if there is no such order."""
        since = f"{attention['since']}#{order_id}"
        expression = "SET attention = :attention, GSI3PK = :attn, GSI3SK = if_not_exists(GSI3SK, :since)"
        values = {":attention": attention, ":attn": ATTENTION, ":since": since}
        item = self.update_if(
            order_pk(order_id), META, expression, **_guarded(expression, "attribute_exists(PK)", values, {})
        )
        return (_order_of(item), item.get("GSI3SK") == since) if item else None

    def set_dispute(self, order_id: str, attribute: str, value: dict[str, Any]) -> Order | None:
        """Write one half of the order's dispute (`dispute` when opened, `dispute_closed` when decided)
        whole; the order after, or None if there is no such order."""
        return self._update(
            order_id, "SET #dispute = :dispute", "attribute_exists(PK)", {":dispute": value}, {"#dispute": attribute}
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

    def reserve_refund(
        self, order_id: str, refund_id: str, hold: RefundHold, *, left: int, returned: dict[str, int] | None = None
    ) -> Order | None:
        """Set `hold.amount` aside for refund `refund_id` before payments is asked, so that of refunds
        racing for the same money only one gets it. `refund_left` counts down what may still be set
        aside; `left` (what the caller read as not yet refunded) starts it on the order's first refund.
        A refund by line also sets its units aside: each SKU's `returned_units` counter moves from the
        count the caller read (`returned`, which its amounts were computed from) to that plus the hold's
        units, so of two refunds computed from the same count only one is set aside (the other reads
        again); its shipping is taken once (`shipping_refunded`). None if less is left, the counts
        moved, the shipping was given back, the order cannot be refunded, or the id is recorded or held."""
        self._ensure_map(order_id, "refund_holds")
        if hold.lines:
            self._ensure_map(order_id, "returned_units")
        statuses = {f":refundable{i}": s.value for i, s in enumerate(sorted(REFUNDABLE))}
        values: dict[str, Any] = {":hold": hold.model_dump(mode="json"), ":amount": hold.amount.amount, ":left": left}
        names = {"#status": "status", "#rid": refund_id}
        sets = ["refund_holds.#rid = :hold", "refund_left = if_not_exists(refund_left, :left) - :amount"]
        conditions = [
            f"#status IN ({', '.join(statuses)})",
            "attribute_not_exists(refunds.#rid)",
            "attribute_not_exists(refund_holds.#rid)",
            "(attribute_not_exists(refund_left) OR refund_left >= :amount)",
        ]
        for i, line in enumerate(hold.lines):
            before = (returned or {}).get(line.sku, 0)
            names[f"#sku{i}"] = line.sku
            values |= {f":was{i}": before, f":now{i}": before + line.quantity}
            sets.append(f"returned_units.#sku{i} = :now{i}")
            counted = f"returned_units.#sku{i} = :was{i}"
            conditions.append(f"(attribute_not_exists(returned_units.#sku{i}) OR {counted})" if not before else counted)
        if hold.shipping is not None:
            values[":rid"] = refund_id
            sets.append("shipping_refunded = :rid")
            conditions.append("attribute_not_exists(shipping_refunded)")
        return self._update(order_id, "SET " + ", ".join(sets), " AND ".join(conditions), values | statuses, names)

    def release_refund(self, order_id: str, refund_id: str, hold: RefundHold) -> Order | None:
        """Give back what a refund that payments refused had set aside — its amount, its units and the
        shipping — once; None if it held nothing."""
        values: dict[str, Any] = {":amount": hold.amount.amount}
        names = {"#rid": refund_id}
        sets = ["refund_left = refund_left + :amount"]
        removes = ["refund_holds.#rid"]
        for i, line in enumerate(hold.lines):
            names[f"#sku{i}"] = line.sku
            values[f":units{i}"] = line.quantity
            sets.append(f"returned_units.#sku{i} = returned_units.#sku{i} - :units{i}")
        if hold.shipping is not None:
            removes.append("shipping_refunded")
        return self._update(
            order_id,
            "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes),
            "attribute_exists(refund_holds.#rid)",
            values,
            names,
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
        refunded_merchandise_net: dict[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> Order | None:
        """Record one refund under its id with the new totals (the refunded total and, for an order
        whose lines carry their net, the refunded merchandise net) and status, and drop its hold; the
        history entry names the refund and the units it gave back. None if the status does not allow
        it, that refund was recorded before (a retry), or the refunded total is no longer
        `refunded_before` (another refund was recorded meanwhile: read again and recompute)."""
        returned = tuple(OrderLine(sku=line.sku, quantity=line.quantity) for line in refund.lines) or None
        moving = _StatusChange(to, now, f"refunded: {refund.reason}", actor, refund_id=refund.refund_id, lines=returned)
        values: dict[str, Any] = moving.values | {
            ":refund": refund.model_dump(mode="json"),
            ":total": refunded_total,
            ":before": refunded_before,
            ":restocked": restocked,
        }
        assignments = [
            *moving.assignments,
            "refunds.#rid = :refund",
            "refunded_total = :total",
            "restocked = :restocked",
        ]
        if refunded_merchandise_net is not None:
            values[":net"] = refunded_merchandise_net
            assignments.append("refunded_merchandise_net = :net")
        return self._update(
            order_id,
            "SET " + ", ".join(assignments) + " REMOVE refund_holds.#rid",
            f"{moving.allowed} AND attribute_not_exists(refunds.#rid) AND refunded_total.#amount = :before",
            values,
            {"#status": "status", "#rid": refund.refund_id, "#amount": "amount"},
        )

    def _ensure_map(self, order_id: str, attribute: str) -> None:
        """Give an order written before `attribute` existed an empty map there, so a path in it can be set."""
        self.update_if(
            order_pk(order_id),
            META,
            "SET #map = :empty",
            condition="attribute_exists(PK) AND attribute_not_exists(#map)",
            values={":empty": {}},
            names={"#map": attribute},
        )

    def redact(self, order_id: str, customer_id: str, sets: dict[str, Any]) -> bool:
        """Overwrite the customer's personal data on an order (`sets`: attribute → redacted value), drop
        their email and mark it `anonymised`, if the order is still the customer's; False if it is not (or
        is gone)."""
        names = {f"#set{i}": attribute for i, attribute in enumerate(sets)}
        values = {f":set{i}": value for i, value in enumerate(sets.values())}
        assignments = [f"{name} = :set{i}" for i, name in enumerate(names)]
        redacted = self.update_if(
            order_pk(order_id),
            META,
            "SET " + ", ".join([*assignments, "anonymised = :yes"]) + " REMOVE client_secret, email, GSI4PK, GSI4SK",
            condition="attribute_exists(PK) AND customer_id = :customer",
            values={**values, ":yes": True, ":customer": customer_id},
            names=names,
        )
        return redacted is not None

    def _update(
        self, order_id: str, expression: str, condition: str, values: dict[str, Any], names: dict[str, str]
    ) -> Order | None:
        """A conditional update of an existing order; the order after it, or None if a condition failed."""
        guarded = _guarded(expression, condition, values, names)
        item = self.update_if(order_pk(order_id), META, expression, **guarded)
        return _order_of(item) if item else None

    # ------------------------------------------------------------ pricing configuration

    def put_shipping_method(self, method: ShippingMethod) -> None:
        """Write (create or replace) a shipping method under its id."""
        item = {
            **{k: v for k, v in method.model_dump(mode="json", by_alias=True).items() if v is not None},
            "PK": f"{SHIPMETHOD}#{method.shipping_method_id}",
            "SK": META,
            "GSI1PK": SHIPMETHODS,
            "GSI1SK": method.shipping_method_id,
        }
        self.client.put_item(TableName=self.table, Item=to_item(item))

    def shipping_method(self, shipping_method_id: str) -> ShippingMethod | None:
        """One method by id, archived or not (an order keeps naming the method it was priced with)."""
        item = self.get(f"{SHIPMETHOD}#{shipping_method_id}", META)
        return _shipping_method_of(item) if item else None

    def all_shipping_methods(self) -> list[ShippingMethod]:
        """Every method, archived ones included, by id (one query of a short list)."""
        return [_shipping_method_of(i) for i in self._index_all(SHIPMETHODS)]

    def shipping_methods(self, country: str) -> list[ShippingMethod]:
        """The active methods that serve `country`, by id."""
        return [m for m in self.all_shipping_methods() if not m.archived and country in m.countries]

    def has_shipping_methods(self) -> bool:
        """Whether any active method exists: a shop without one charges no shipping and ships anywhere
        (as before methods existed); a shop with some ships only where they serve."""
        return any(not m.archived for m in self.all_shipping_methods())

    def put_tax_rates(self, rates: TaxRates) -> None:
        """Write (replace) a country's rates; percents kept as decimal strings, so they stay exact."""
        item = {
            "PK": f"{TAXRATE}#{rates.country}",
            "SK": META,
            "GSI1PK": TAXRATES,
            "GSI1SK": rates.country,
            "country": rates.country,
            "standard": str(rates.standard),
            "categories": {name: str(rate) for name, rate in rates.categories.items()},
        }
        self.client.put_item(TableName=self.table, Item=to_item(item))

    def tax_rates(self, country: str) -> TaxRates | None:
        item = self.get(f"{TAXRATE}#{country}", META)
        return _tax_rates_of(item) if item else None

    def all_tax_rates(self) -> list[TaxRates]:
        return [_tax_rates_of(i) for i in self._index_all(TAXRATES)]

    def _index_all(self, partition: str) -> list[dict[str, Any]]:
        """Every item of a GSI1 partition, page after page (the pricing lists are short)."""
        items: list[dict[str, Any]] = []
        start: Key | None = None
        while True:
            page = self.index_page("GSI1", partition, start_key=start, limit=100, newest_first=False)
            items += page.items
            if page.next_key is None:
                return items
            start = page.next_key


SHIPMETHOD, SHIPMETHODS = "SHIPMETHOD", "SHIPMETHODS"
TAXRATE, TAXRATES = "TAXRATE", "TAXRATES"


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not k.startswith("GSI") and k not in ("PK", "SK")}


def _shipping_method_of(values: dict[str, Any]) -> ShippingMethod:
    return ShippingMethod.model_validate(_plain(values))


def _tax_rates_of(values: dict[str, Any]) -> TaxRates:
    return TaxRates(
        country=values["country"],
        standard=Decimal(values["standard"]),
        categories={name: Decimal(rate) for name, rate in (values.get("categories") or {}).items()},
    )


class _StatusChange:
    """What every status change writes (status, its GSI key, the time, a history entry) and the
    condition that the order's status allows it (`models.ALLOWED_FROM`)."""

    def __init__(
        self, to: OrderStatus, now: datetime, reason: str | None, actor: Actor | None = None, **extra: Any
    ) -> None:
        allowed = sorted(s.value for s in ALLOWED_FROM[to])
        self.values: dict[str, Any] = {
            ":to": to.value,
            ":status_key": f"STATUS#{to.value}",
            ":now": iso(now),
            ":change": [_change(to, now, reason, actor, **extra)],
            **{f":from{i}": status for i, status in enumerate(allowed)},
        }
        self.assignments = (
            "#status = :to",
            "GSI2PK = :status_key",
            "updated_at = :now",
            "history = list_append(history, :change)",
        )
        self.allowed = f"#status IN ({', '.join(f':from{i}' for i in range(len(allowed)))})"


def _guarded(expression: str, condition: str, values: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """An order update's condition (the order exists, and `condition`), values and the attribute names
    the expressions use (DynamoDB refuses unused ones), as `update_if` and `update_action` take them."""
    return {
        "condition": f"attribute_exists(PK) AND ({condition})",
        "values": values,
        "names": {k: v for k, v in names.items() if k in expression or k in condition},
    }
