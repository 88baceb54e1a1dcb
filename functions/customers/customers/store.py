"""The customers table, and the only module that talks to it.

Items (one table, keys PK/SK):
- `CUSTOMER#<sub> / PROFILE {email, name, phone, marketingConsent, stripeCustomerId, defaultAddressId,
  addressCount}`.
- `CUSTOMER#<sub> / ADDRESS#<addressId>`: one per address (at most 20, counted on the profile).
- `CUSTOMER#<sub> / SUMMARY {lifetimeValue{currency: amount}, orderCount, lastOrderAt, categories{name:
  units}, version}`. While the customer has a paid order it carries `GSI1PK=LASTORDER#<day>,
  GSI1SK=<lastOrderAt>#<sub>`: the win-back job reads the days it needs, never a scan.
- `CUSTOMER#<sub> / ORDER#<orderId>`: the order as its events told it (order ids sort by time).
- `CUSTOMER#<sub> / BOUGHT#<productId> {units}`: what the customer bought, to exclude it from suggestions.
- `CUSTOMER#<sub> / NOTE#<noteId>`: support's notes. `CUSTOMER#<sub> / DEAL#<dealId>`: a win-back deal.
- `CUSTOMER#<sub> / ERASED {erasedAt}`: the customer erased their data then; the only item left of them.
  Events of orders placed before it are not applied (they would bring the history back).
- `PRODUCT#<productId> / META {name, status, category, skus, version}`: the catalog projection.
- `COPURCHASE#<a> / PRODUCT#<b> {hits}` and `BESTSELLER#<category|*> / PRODUCT#<id> {hits}`: counters.
  Each carries `GSI2PK` = its PK and `GSI2SK` = the zero-padded count then the product id, so the
  keys-only GSI2 answers "the k partners bought most often with a" in one query of k keys.
- `EVENT#<eventId> / <part>`: the parts of an event already applied, each written in the same
  transaction as its change, so an event changes things once however often it is delivered.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.dynamo import (
    Key,
    Page,
    TransactionCancelled,
    dynamodb_client,
    from_item,
    query_page,
    to_item,
    to_value,
    transact_write,
)
from common.errors import ServiceUnavailable
from customers.models import Address, Note, OrderRecord, ProductInfo, Profile, PurchasedLine, RefundEntry, Summary

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PROFILE, SUMMARY, META, ERASED = "PROFILE", "SUMMARY", "META", "ERASED"
ALL_CATEGORIES = "*"
COUNT_DIGITS = 12
MARKER_TTL = timedelta(days=30)
MAX_TRANSACTION_ACTIONS = 100


class AlreadyApplied(Exception):
    """The event (part) was applied before: its marker exists."""


class Contended(Exception):
    """Someone changed what we read before we wrote: read again and retry."""


class LimitReached(Exception):
    """The customer keeps the most addresses allowed."""


@dataclass(frozen=True)
class Counter:
    """A ranked counter: the co-purchases of (`owner`, `product_id`) or the units of a best seller."""

    partition: str
    product_id: str

    @property
    def key(self) -> tuple[str, str]:
        return self.partition, f"PRODUCT#{self.product_id}"


def customer_pk(sub: str) -> str:
    return f"CUSTOMER#{sub}"


def copurchase_partition(product_id: str) -> str:
    return f"COPURCHASE#{product_id}"


def bestseller_partition(category: str) -> str:
    return f"BESTSELLER#{category}"


def _key(pk: str, sk: str) -> Key:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def ranked(count: int, product_id: str) -> str:
    return f"{count:0{COUNT_DIGITS}d}#{product_id}"


# ---------------------------------------------------------------- item mapping


def _profile_of(sub: str, values: Mapping[str, Any]) -> Profile:
    return Profile(
        customer_id=sub,
        email=values.get("email"),
        name=values.get("name"),
        phone=values.get("phone"),
        marketing_consent=bool(values.get("marketingConsent", False)),
        stripe_customer_id=values.get("stripeCustomerId"),
        default_address_id=values.get("defaultAddressId"),
        updated_at=_dt(values.get("updatedAt")),
    )


def _address_of(values: Mapping[str, Any]) -> Address:
    return Address(
        address_id=values["addressId"],
        name=values["name"],
        line1=values["line1"],
        line2=values.get("line2"),
        city=values["city"],
        postal_code=values["postalCode"],
        country=values["country"],
        created_at=datetime.fromisoformat(values["createdAt"]),
    )


def _summary_of(values: Mapping[str, Any]) -> Summary:
    return Summary(
        lifetime_value=dict(values.get("lifetimeValue") or {}),
        order_count=values.get("orderCount", 0),
        last_order_at=_dt(values.get("lastOrderAt")),
        categories=dict(values.get("categories") or {}),
        version=values.get("version", 0),
    )


def _order_of(values: Mapping[str, Any]) -> OrderRecord:
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
    )


def _order_item(sub: str, order: OrderRecord) -> dict[str, Any]:
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
        "refunds": [{"refundId": r.refund_id, "amount": r.amount, "at": _iso(r.at)} for r in order.refunds],
        "createdAt": _iso(order.created_at),
        "version": order.version,
    }


def _summary_item(sub: str, summary: Summary) -> dict[str, Any]:
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
        last = _iso(summary.last_order_at)
        item |= {"lastOrderAt": last, "GSI1PK": f"LASTORDER#{last[:10]}", "GSI1SK": f"{last}#{sub}"}
    return item


def _product_of(values: Mapping[str, Any]) -> ProductInfo:
    return ProductInfo(
        product_id=values["productId"],
        name=values.get("name"),
        category=values.get("category"),
        active=values.get("status") == "ACTIVE",
        skus=tuple(values.get("skus") or ()),
    )


def _marker(event_id: str, part: str, now: datetime) -> "TransactWriteItemTypeDef":
    item = {"PK": f"EVENT#{event_id}", "SK": part, "at": _iso(now), "ttl": int((now + MARKER_TTL).timestamp())}
    return {"Put": {"TableName": "", "Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}}


class CustomersStore:
    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> "DynamoDBClient":
        return self._client or dynamodb_client()

    def _get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=_key(pk, sk), ConsistentRead=consistent).get("Item")
        return from_item(item) if item else None

    def _query(self, pk: str, prefix: str, *, limit: int, newest_first: bool = False) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": prefix}},
            ScanIndexForward=not newest_first,
            Limit=limit,
        )
        return [from_item(item) for item in response.get("Items", [])]

    def _batch_get(
        self, keys: Sequence[Key], *, projection: str | None = None, consistent: bool = False
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request: Any = {self.table: {"Keys": list(keys[start : start + 100]), "ConsistentRead": consistent}}
            if projection:
                request[self.table]["ProjectionExpression"] = projection
            for _ in range(5):
                response = self.client.batch_get_item(RequestItems=request)
                found += [from_item(item) for item in response.get("Responses", {}).get(self.table, [])]
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            if request:
                raise ServiceUnavailable("customers are busy; retry")
        return found

    def _transact(self, actions: list["TransactWriteItemTypeDef"]) -> None:
        for action in actions:
            next(iter(action.values()))["TableName"] = self.table  # type: ignore[index]
        transact_write(actions, client=self.client)

    # ------------------------------------------------------------ profile

    def get_profile(self, sub: str) -> Profile | None:
        values = self._get(customer_pk(sub), PROFILE)
        return _profile_of(sub, values) if values else None

    def put_profile(
        self, sub: str, *, email: str | None, name: str, phone: str | None, consent: bool, now: datetime
    ) -> Profile:
        sets = ["customerId = :sub", "#name = :name", "marketingConsent = :consent", "updatedAt = :now"]
        removes = []
        values: dict[str, Any] = {":sub": sub, ":name": name, ":consent": consent, ":now": _iso(now)}
        for attribute, value in (("phone", phone), ("email", email)):
            if value is None:
                removes.append(attribute)
            else:
                sets.append(f"{attribute} = :{attribute}")
                values[f":{attribute}"] = value
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        response = self.client.update_item(
            TableName=self.table,
            Key=_key(customer_pk(sub), PROFILE),
            UpdateExpression=expression,
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues={k: to_value(v) for k, v in values.items()},
            ReturnValues="ALL_NEW",
        )
        return _profile_of(sub, from_item(response["Attributes"]))

    def set_stripe_customer(self, sub: str, stripe_customer_id: str) -> None:
        """Keep the Stripe Customer's id on the profile (payments owns the mapping; this is a copy)."""
        self.client.update_item(
            TableName=self.table,
            Key=_key(customer_pk(sub), PROFILE),
            UpdateExpression="SET customerId = :sub, stripeCustomerId = :id",
            ExpressionAttributeValues={":sub": {"S": sub}, ":id": {"S": stripe_customer_id}},
        )

    # ------------------------------------------------------------ addresses

    def list_addresses(self, sub: str, limit: int) -> list[Address]:
        return [_address_of(v) for v in self._query(customer_pk(sub), "ADDRESS#", limit=limit)]

    def get_address(self, sub: str, address_id: str) -> Address | None:
        values = self._get(customer_pk(sub), f"ADDRESS#{address_id}")
        return _address_of(values) if values else None

    def add_address(self, sub: str, address: Address, *, make_default: bool, limit: int) -> None:
        """Put the address and count it on the profile, all or nothing; the first address (or one asked
        to be) becomes the default. Raises `LimitReached` when the customer keeps `limit` already."""
        item = {"PK": customer_pk(sub), "SK": f"ADDRESS#{address.address_id}", **_address_attributes(address)}
        default = ":id" if make_default else "if_not_exists(defaultAddressId, :id)"
        actions: list[TransactWriteItemTypeDef] = [
            {"Put": {"TableName": "", "Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}},
            {
                "Update": {
                    "TableName": "",
                    "Key": _key(customer_pk(sub), PROFILE),
                    "UpdateExpression": f"SET customerId = :sub, defaultAddressId = {default} ADD addressCount :one",
                    "ConditionExpression": "attribute_not_exists(addressCount) OR addressCount < :limit",
                    "ExpressionAttributeValues": {
                        ":sub": {"S": sub},
                        ":id": {"S": address.address_id},
                        ":one": {"N": "1"},
                        ":limit": {"N": str(limit)},
                    },
                }
            },
        ]
        try:
            self._transact(actions)
        except TransactionCancelled as cancelled:
            if 1 in cancelled.failed():
                raise LimitReached from cancelled
            raise _busy() from cancelled

    def delete_address(self, sub: str, address_id: str) -> bool:
        """Delete one of the customer's addresses; False if they have no such address."""
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Delete": {
                    "TableName": "",
                    "Key": _key(customer_pk(sub), f"ADDRESS#{address_id}"),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": "",
                    "Key": _key(customer_pk(sub), PROFILE),
                    "UpdateExpression": "ADD addressCount :minus",
                    "ExpressionAttributeValues": {":minus": {"N": "-1"}},
                }
            },
        ]
        try:
            self._transact(actions)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                return False
            raise _busy() from cancelled
        return True

    def replace_default(self, sub: str, was: str, now_default: str | None) -> None:
        """Move the default away from a deleted address, unless someone moved it already."""
        expression = "SET defaultAddressId = :next" if now_default else "REMOVE defaultAddressId"
        values: dict[str, Any] = {":was": {"S": was}}
        if now_default:
            values[":next"] = {"S": now_default}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(customer_pk(sub), PROFILE),
                UpdateExpression=expression,
                ConditionExpression="defaultAddressId = :was",
                ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return

    # ------------------------------------------------------------ history (from order events)

    def get_summary(self, sub: str) -> Summary | None:
        values = self._get(customer_pk(sub), SUMMARY)
        return _summary_of(values) if values else None

    def get_order(self, sub: str, order_id: str) -> OrderRecord | None:
        values = self._get(customer_pk(sub), f"ORDER#{order_id}")
        return _order_of(values) if values else None

    def list_orders(self, sub: str, limit: int) -> list[OrderRecord]:
        return [_order_of(v) for v in self._query(customer_pk(sub), "ORDER#", limit=limit, newest_first=True)]

    def is_applied(self, event_id: str, part: str) -> bool:
        return self._get(f"EVENT#{event_id}", part) is not None

    def mark_applied(self, event_id: str, part: str, now: datetime) -> None:
        action = _marker(event_id, part, now)["Put"]
        try:
            self.client.put_item(
                TableName=self.table, Item=action["Item"], ConditionExpression=action["ConditionExpression"]
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return

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
            _marker(event_id, "CUSTOMER", now),
            _versioned_put(_order_item(sub, order), old_order.version if old_order else None),
            _versioned_put(_summary_item(sub, summary), old_summary.version if old_summary else None),
        ]
        for product_id, units in sorted(bought.items()):
            actions.append(
                {
                    "Update": {
                        "TableName": "",
                        "Key": _key(customer_pk(sub), f"BOUGHT#{product_id}"),
                        "UpdateExpression": "SET productId = :pid ADD units :units",
                        "ExpressionAttributeValues": {":pid": {"S": product_id}, ":units": {"N": str(units)}},
                    }
                }
            )
        try:
            self._transact(actions)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 0 in failed:
                raise AlreadyApplied from cancelled
            if failed or "TransactionConflict" in cancelled.reasons:
                raise Contended from cancelled
            raise _busy() from cancelled

    def bought(self, sub: str, product_ids: Iterable[str]) -> set[str]:
        """Which of `product_ids` the customer has bought (and not had cancelled)."""
        keys = [_key(customer_pk(sub), f"BOUGHT#{pid}") for pid in dict.fromkeys(product_ids)]
        return {v["productId"] for v in self._batch_get(keys, projection="productId, units") if v.get("units", 0) > 0}

    # ------------------------------------------------------------ counters (co-purchases, best sellers)

    def counts(self, counters: Sequence[Counter]) -> dict[Counter, int]:
        by_key = {c.key: c for c in counters}
        values = (
            self._batch_get([_key(*c.key) for c in counters], projection="PK, SK, hits", consistent=True)
            if counters
            else []
        )
        found = {by_key[(v["PK"], v["SK"])]: int(v.get("hits", 0)) for v in values}
        return {c: found.get(c, 0) for c in counters}

    def add_counts(self, event_id: str, part: str, changes: Sequence[tuple[Counter, int, int]], now: datetime) -> None:
        """Move each counter from the count read to the new one, re-ranking it in GSI2, with the part's
        marker, all or nothing. `AlreadyApplied` if the part was applied; `Contended` if a counter moved."""
        actions = [_marker(event_id, part, now)]
        for counter, old, new in changes:
            pk, sk = counter.key
            actions.append(
                {
                    "Update": {
                        "TableName": "",
                        "Key": _key(pk, sk),
                        "UpdateExpression": "SET hits = :new, productId = :pid, GSI2PK = :pk, GSI2SK = :rank",
                        "ConditionExpression": "attribute_not_exists(PK) OR hits = :old",
                        "ExpressionAttributeValues": {
                            ":new": {"N": str(new)},
                            ":old": {"N": str(old)},
                            ":pid": {"S": counter.product_id},
                            ":pk": {"S": pk},
                            ":rank": {"S": ranked(new, counter.product_id)},
                        },
                    }
                }
            )
        try:
            self._transact(actions)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 0 in failed:
                raise AlreadyApplied from cancelled
            if failed or "TransactionConflict" in cancelled.reasons:
                raise Contended from cancelled
            raise _busy() from cancelled

    def top(self, partition: str, *, limit: int, start_key: Key | None = None) -> Page[tuple[str, int]]:
        """Products of a ranked partition, highest count first: (productId, count). Reads `limit` keys."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        ranked_items = []
        for item in page.items:
            values = item
            count, _, product_id = str(values["GSI2SK"]).partition("#")
            ranked_items.append((product_id, int(count)))
        return Page(ranked_items, page.next_key)

    # ------------------------------------------------------------ the product projection

    def put_product(self, product_id: str, *, name: str, status: str, skus: Sequence[str], version: int) -> bool:
        """Take a catalog version of a product unless a newer one was taken (events may come out of order)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(f"PRODUCT#{product_id}", META),
                UpdateExpression="SET productId = :pid, #name = :name, #status = :status, skus = :skus, version = :v",
                ConditionExpression="attribute_not_exists(version) OR version < :v",
                ExpressionAttributeNames={"#name": "name", "#status": "status"},
                ExpressionAttributeValues={
                    ":pid": {"S": product_id},
                    ":name": {"S": name},
                    ":status": {"S": status},
                    ":skus": to_value(list(skus)),
                    ":v": {"N": str(version)},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def note_category(self, product_id: str, *, name: str, category: str, at: datetime) -> None:
        """Learn a product's category from an order line (the catalog's event carries none); the newest
        order wins, so a replayed old order does not undo a recategorisation."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(f"PRODUCT#{product_id}", META),
                UpdateExpression=(
                    "SET productId = :pid, category = :c, categoryAt = :at, #name = if_not_exists(#name, :n)"
                ),
                ConditionExpression="attribute_not_exists(categoryAt) OR categoryAt <= :at",
                ExpressionAttributeNames={"#name": "name"},
                ExpressionAttributeValues={
                    ":pid": {"S": product_id},
                    ":c": {"S": category},
                    ":at": {"S": _iso(at)},
                    ":n": {"S": name},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return

    def products(self, product_ids: Iterable[str]) -> dict[str, ProductInfo]:
        keys = [_key(f"PRODUCT#{pid}", META) for pid in dict.fromkeys(product_ids)]
        return {p.product_id: p for p in (_product_of(v) for v in self._batch_get(keys))}

    # ------------------------------------------------------------ export and erasure

    def _all(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        """Every item of `pk` whose SK starts with `prefix`, page after page."""
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk" + (" AND begins_with(SK, :prefix)" if prefix else ""),
            "ExpressionAttributeValues": {":pk": {"S": pk}} | ({":prefix": {"S": prefix}} if prefix else {}),
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**kwargs)
            found += [from_item(item) for item in response.get("Items", [])]
            if not response.get("LastEvaluatedKey"):
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def all_orders(self, sub: str) -> list[OrderRecord]:
        """All the customer's orders, newest first."""
        return sorted((_order_of(v) for v in self._all(customer_pk(sub), "ORDER#")), key=lambda o: o.order_id)[::-1]

    def all_deals(self, sub: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in d.items() if k not in ("PK", "SK")} for d in self._all(customer_pk(sub), "DEAL#")]

    def erased_at(self, sub: str) -> datetime | None:
        values = self._get(customer_pk(sub), ERASED)
        return _dt(values.get("erasedAt")) if values else None

    def erase(self, sub: str, now: datetime) -> int:
        """Delete every item of the customer (profile, addresses, summary, orders as told by events, what
        they bought, notes, deals) and leave the `ERASED` marker, written first so that an order event
        racing the deletion cannot bring the history back. The number of items deleted; a retry deletes
        what is left."""
        self.client.put_item(
            TableName=self.table,
            Item=to_item({"PK": customer_pk(sub), "SK": ERASED, "erasedAt": _iso(now)}),
        )
        keys = [_key(v["PK"], v["SK"]) for v in self._all(customer_pk(sub), "") if v["SK"] != ERASED]
        for start in range(0, len(keys), 25):
            request: Any = {self.table: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]}
            for _ in range(5):
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                if not request:
                    break
            if request:
                raise ServiceUnavailable("customers are busy; retry")
        return len(keys)

    # ------------------------------------------------------------ notes

    def add_note(self, sub: str, note: Note) -> None:
        item = {
            "PK": customer_pk(sub),
            "SK": f"NOTE#{note.note_id}",
            "noteId": note.note_id,
            "text": note.text,
            "author": note.author,
            "at": _iso(note.at),
        }
        self.client.put_item(TableName=self.table, Item=to_item(item))

    def list_notes(self, sub: str, limit: int) -> list[Note]:
        return [
            Note(note_id=v["noteId"], text=v["text"], author=v["author"], at=datetime.fromisoformat(v["at"]))
            for v in self._query(customer_pk(sub), "NOTE#", limit=limit, newest_first=True)
        ]

    # ------------------------------------------------------------ win-back

    def last_ordered_on(self, day: str, *, start_key: Key | None, limit: int) -> Page[tuple[str, datetime]]:
        """Customers whose last paid order was on `day` (YYYY-MM-DD): (sub, lastOrderAt)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :day",
            "ExpressionAttributeValues": {":day": {"S": f"LASTORDER#{day}"}},
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        found = []
        for item in page.items:
            last, _, sub = str(item["GSI1SK"]).partition("#")
            found.append((sub, datetime.fromisoformat(last)))
        return Page(found, page.next_key)

    def claim_deal(self, sub: str, deal_id: str, code: str, now: datetime) -> dict[str, Any]:
        """The customer's deal `deal_id`, created with `code` if it did not exist."""
        item = {
            "PK": customer_pk(sub),
            "SK": f"DEAL#{deal_id}",
            "dealId": deal_id,
            "code": code,
            "createdAt": _iso(now),
        }
        try:
            self.client.put_item(
                TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            existing = self._get(customer_pk(sub), f"DEAL#{deal_id}")
            assert existing is not None
            return existing
        return from_item(to_item(item))

    def mark_deal(self, sub: str, deal_id: str, attribute: str, now: datetime) -> bool:
        """Stamp a step of a deal (`issuedAt`, `emailedAt`) once; False if it was stamped already."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(customer_pk(sub), f"DEAL#{deal_id}"),
                UpdateExpression="SET #a = :now",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(#a)",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":now": {"S": _iso(now)}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def _address_attributes(address: Address) -> dict[str, Any]:
    return {
        "addressId": address.address_id,
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postalCode": address.postal_code,
        "country": address.country,
        "createdAt": _iso(address.created_at),
    }


def _versioned_put(item: dict[str, Any], read_version: int | None) -> "TransactWriteItemTypeDef":
    """Put `item` (whose version is the next one) only if it is still at the version that was read."""
    if read_version is None:
        return {"Put": {"TableName": "", "Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}}
    return {
        "Put": {
            "TableName": "",
            "Item": to_item(item),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(read_version)}},
        }
    }


def _busy() -> ServiceUnavailable:
    return ServiceUnavailable("customers are busy; retry", code="transaction_conflict")
