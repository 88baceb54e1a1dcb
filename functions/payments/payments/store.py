"""The payments table, and the only module that talks to DynamoDB.

Items (keys PK/SK):
- `PAYMENT#<orderId> / PAYMENT {paymentIntentId, amount, currency, taskToken, outcome, refunds}`: one
  per order. `outcome` (succeeded | failed | canceled) is written once, so a late or repeated Stripe
  event cannot undo a decision. `taskToken` is the workflow's AwaitPayment callback.
- `PI#<paymentIntentId> / ORDER {orderId}`: which order a PaymentIntent belongs to, written in the same
  transaction that attaches it; Stripe's events are mapped to orders through it, never their metadata.
- `EVENT#<stripeEventId> / EVENT {leaseToken, leaseUntil, processedAt, outcome}`: a Stripe event claimed
  for processing under a lease of minutes, marked processed after its outcome (dedupe), expired by TTL
  after 30 days. A claim whose holder died (a Lambda timeout) is taken over once its lease has run out.
- `RECONCILIATION / RUN#<startedAt>#<runId>`: a reconciliation run (window, counts, findings), one
  partition sorted by start so the latest come first; expired by TTL after 90 days.
- `CUSTOMER#<sub> / STRIPE {stripeCustomerId}`: the Stripe Customer of one of our customers, written
  once (the first payment creates it); saved cards live at Stripe, under that Customer.
No client secret and no card data are stored.
"""

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PAYMENT = "PAYMENT"
EVENT_TTL = timedelta(days=30)
EVENT_LEASE = timedelta(minutes=2)
"""Longer than the webhook function's timeout (20 s), so a delivery still running is never doubled;
short enough that Stripe's next retry after a killed Lambda is processed."""
RUNS = "RECONCILIATION"
RUN_TTL = timedelta(days=90)


def _key(order_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"PAYMENT#{order_id}"}, "SK": {"S": PAYMENT}}


def _customer_key(customer_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"CUSTOMER#{customer_id}"}, "SK": {"S": "STRIPE"}}


def _intent_key(payment_intent_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"PI#{payment_intent_id}"}, "SK": {"S": "ORDER"}}


def _event_key(event_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": "EVENT"}}


@dataclass(frozen=True)
class Claim:
    """What claiming a Stripe event found: this delivery holds the lease (`token`), or the event was
    processed already (`done`), or another delivery holds a live lease (neither)."""

    token: str | None = None
    done: bool = False


class PaymentsStore:
    def __init__(
        self, table: str, client: "DynamoDBClient | None" = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.table = table
        self._client = client
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def client(self) -> "DynamoDBClient":
        return self._client or dynamodb_client()

    def get(self, order_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=_key(order_id), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def attach_intent(self, order_id: str, payment_intent_id: str, amount: int, currency: str) -> dict[str, Any] | None:
        """Record the order's PaymentIntent unless it has one or a decided outcome, and, in the same
        transaction, the `PI#` pointer from the PaymentIntent to the order; the whole item after, or None
        if it had one (the caller then reads what is there)."""
        values = {":order": order_id, ":pi": payment_intent_id, ":amount": amount, ":currency": currency}
        attach: Any = {
            "TableName": self.table,
            "Key": _key(order_id),
            "UpdateExpression": "SET orderId = :order, paymentIntentId = :pi, amount = :amount, "
            "currency = :currency, createdAt = :now",
            "ConditionExpression": "attribute_not_exists(paymentIntentId) AND attribute_not_exists(outcome)",
            "ExpressionAttributeValues": {k: to_value(v) for k, v in (values | {":now": _now()}).items()},
        }
        pointer: Any = {
            "TableName": self.table,
            "Item": {**_intent_key(payment_intent_id), "orderId": to_value(order_id)},
            "ConditionExpression": "attribute_not_exists(PK) OR orderId = :order",
            "ExpressionAttributeValues": {":order": to_value(order_id)},
        }
        try:
            transact_write([{"Update": attach}, {"Put": pointer}], client=self.client)
        except TransactionCancelled:
            return None
        return self.get(order_id)

    def order_of_intent(self, payment_intent_id: str) -> str | None:
        """The order a PaymentIntent was attached to; None for one we never attached."""
        item = self.client.get_item(TableName=self.table, Key=_intent_key(payment_intent_id), ConsistentRead=True)
        return str(from_item(item["Item"])["orderId"]) if "Item" in item else None

    def register_token(self, order_id: str, token: str) -> dict[str, Any]:
        """Store the AwaitPayment callback token (a retried task brings a new one); the whole item after."""
        item = self._update(
            order_id, "SET orderId = :order, taskToken = :token", None, {":order": order_id, ":token": token}
        )
        assert item is not None
        return item

    def request_cancel(self, order_id: str, reason: str) -> dict[str, Any]:
        """Remember a cancel that Stripe could not confirm yet (the workflow's compensation finishes it);
        the whole item after."""
        item = self._update(
            order_id,
            "SET orderId = :order, cancelRequested = if_not_exists(cancelRequested, :reason)",
            None,
            {":order": order_id, ":reason": reason},
        )
        assert item is not None
        return item

    def decide(self, order_id: str, outcome: str, detail: str | None = None) -> dict[str, Any] | None:
        """Write the payment's outcome if none was written yet; the whole item after, or None if an
        outcome was already decided (a duplicate, or a late event that must change nothing)."""
        return self._update(
            order_id,
            "SET orderId = :order, outcome = :outcome, outcomeDetail = :detail, decidedAt = :now",
            "attribute_not_exists(outcome)",
            {":order": order_id, ":outcome": outcome, ":detail": detail or outcome, ":now": _now()},
        )

    def reserve_refund(self, order_id: str, refund_id: str, amount: int, *, left: int) -> dict[str, Any] | None:
        """Set `amount` aside for refund `refund_id` before Stripe is asked, so that of refunds racing for
        the same payment only one gets the money. `refundLeft` counts down what may still be set aside;
        `left` (what the caller read as not yet refunded) starts it. The whole item after, or None if
        less is left or the id is recorded or held already."""
        return self._update(
            order_id,
            "SET refundHolds.#refund = :hold, refundLeft = if_not_exists(refundLeft, :left) - :amount",
            "attribute_exists(paymentIntentId) AND attribute_not_exists(refunds.#refund) "
            "AND attribute_not_exists(refundHolds.#refund) "
            "AND (attribute_not_exists(refundLeft) OR refundLeft >= :amount)",
            {":hold": {"amount": amount, "heldAt": _now()}, ":amount": amount, ":left": left},
            names={"#refund": refund_id},
            init_refunds=True,
        )

    def release_refund(self, order_id: str, refund_id: str, amount: int) -> None:
        """Give back what a refund Stripe refused had set aside (once)."""
        self._update(
            order_id,
            "SET refundLeft = refundLeft + :amount REMOVE refundHolds.#refund",
            "attribute_exists(refundHolds.#refund)",
            {":amount": amount},
            names={"#refund": refund_id},
        )

    def record_refund(self, order_id: str, refund_id: str, refund: dict[str, Any]) -> dict[str, Any] | None:
        """Record one refund of the order under its own id (dropping what it held); None if that refund
        was recorded before."""
        return self._update(
            order_id,
            "SET refunds.#refund = :refund REMOVE refundHolds.#refund",
            "attribute_exists(refunds) AND attribute_not_exists(refunds.#refund)",
            {":refund": refund},
            names={"#refund": refund_id},
            init_refunds=True,
        )

    def record_refunded_total(self, order_id: str, amount_refunded: int) -> None:
        """What Stripe says was refunded in all (from `charge.refunded`), never moving backwards."""
        self._update(
            order_id,
            "SET amountRefunded = :total",
            "attribute_exists(PK) AND (attribute_not_exists(amountRefunded) OR amountRefunded < :total)",
            {":total": amount_refunded},
        )

    # ------------------------------------------------------------ Stripe Customers

    def stripe_customer(self, customer_id: str) -> str | None:
        """The Stripe Customer of one of our customers (their Cognito sub), if they have paid before."""
        item = self.client.get_item(TableName=self.table, Key=_customer_key(customer_id), ConsistentRead=True).get(
            "Item"
        )
        return str(from_item(item)["stripeCustomerId"]) if item else None

    def keep_stripe_customer(self, customer_id: str, stripe_customer_id: str) -> str:
        """Record the customer's Stripe Customer unless one was recorded first; the one that is kept."""
        item = {**_customer_key(customer_id), "customerId": to_value(customer_id)}
        item["stripeCustomerId"] = to_value(stripe_customer_id)
        try:
            self.client.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(PK)")
        except self.client.exceptions.ConditionalCheckFailedException:
            kept = self.stripe_customer(customer_id)
            assert kept is not None
            return kept
        return stripe_customer_id

    def forget_stripe_customer(self, customer_id: str) -> None:
        """Delete the record of the customer's Stripe Customer (erasure); nothing to delete is fine."""
        self.client.delete_item(TableName=self.table, Key=_customer_key(customer_id))

    # ------------------------------------------------------------ Stripe events (dedupe)

    def claim_event(self, event_id: str, event_type: str, *, lease: timedelta = EVENT_LEASE) -> Claim:
        """Claim a Stripe event for processing, for `lease`. One conditional write: it succeeds for a new
        event and for one whose earlier claim was never finished and whose lease has run out (its Lambda
        was killed), so no claim outlives its holder by more than the lease."""
        now = self._clock()
        token = uuid.uuid4().hex
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_event_key(event_id),
                UpdateExpression="SET #type = :type, receivedAt = if_not_exists(receivedAt, :now), "
                "leaseToken = :token, leaseUntil = :until, #ttl = :ttl ADD attempts :one",
                ConditionExpression="attribute_not_exists(PK) OR (attribute_not_exists(processedAt) "
                "AND (attribute_not_exists(leaseUntil) OR leaseUntil < :epoch))",
                ExpressionAttributeNames={"#type": "type", "#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":type": to_value(event_type),
                    ":now": to_value(now.isoformat()),
                    ":token": to_value(token),
                    ":until": to_value(int((now + lease).timestamp())),
                    ":ttl": to_value(int((now + EVENT_TTL).timestamp())),
                    ":one": to_value(1),
                    ":epoch": to_value(int(now.timestamp())),
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            item = self.client.get_item(TableName=self.table, Key=_event_key(event_id), ConsistentRead=True).get("Item")
            return Claim(done=bool(item and "processedAt" in item))
        return Claim(token=token)

    def finish_event(self, event_id: str, outcome: str) -> None:
        """Mark a claimed event processed, after its outcome was written: from now on it is a duplicate."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table,
                Key=_event_key(event_id),
                UpdateExpression="SET processedAt = :now, outcome = :outcome REMOVE leaseToken, leaseUntil",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":now": to_value(self._clock().isoformat()), ":outcome": to_value(outcome)},
            )

    def release_event(self, event_id: str, token: str) -> None:
        """Give back the claim of an event whose processing failed, so Stripe's redelivery is processed at
        once; only our own claim, never one that another delivery finished or took over."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.delete_item(
                TableName=self.table,
                Key=_event_key(event_id),
                ConditionExpression="leaseToken = :token AND attribute_not_exists(processedAt)",
                ExpressionAttributeValues={":token": to_value(token)},
            )

    # ------------------------------------------------------------ reconciliation runs

    def save_run(self, run: dict[str, Any]) -> None:
        """Record one reconciliation run (`runId`, `startedAt`, ...) in the runs' partition, sorted by
        start; a retried write of the same run overwrites it."""
        item = {**run, "PK": RUNS, "SK": f"RUN#{run['startedAt']}#{run['runId']}", "ttl": _ttl(RUN_TTL)}
        self.client.put_item(TableName=self.table, Item=to_item(item))

    def runs(self, *, start_key: Key | None, limit: int) -> Page[dict[str, Any]]:
        """Reconciliation runs, newest first, resumed after `start_key` (a page's `next_key`)."""
        check_start_key(start_key, ("PK", "SK"), "PK", RUNS)
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :runs AND begins_with(SK, :run)",
            "ExpressionAttributeValues": {":runs": {"S": RUNS}, ":run": {"S": "RUN#"}},
            "ScanIndexForward": False,
            "Limit": limit,
            "ConsistentRead": True,
        }
        page = query_page(self.client, request, start_key)
        strip = ("PK", "SK", "ttl")
        return Page([{k: v for k, v in i.items() if k not in strip} for i in page.items], page.next_key)

    # ------------------------------------------------------------ building blocks

    def _update(
        self,
        order_id: str,
        expression: str,
        condition: str | None,
        values: dict[str, Any],
        *,
        names: dict[str, str] | None = None,
        init_refunds: bool = False,
    ) -> dict[str, Any] | None:
        if init_refunds:
            self._ensure_refunds_map(order_id)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": _key(order_id),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": {k: to_value(v) for k, v in values.items()},
            "ReturnValues": "ALL_NEW",
        }
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            response = self.client.update_item(**kwargs)
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return from_item(response["Attributes"])

    def _ensure_refunds_map(self, order_id: str) -> None:
        """Give the record its `refunds` and `refundHolds` maps if it has not both, so paths in them can be set."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table,
                Key=_key(order_id),
                UpdateExpression="SET refunds = if_not_exists(refunds, :empty), "
                "refundHolds = if_not_exists(refundHolds, :empty)",
                ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(refunds) "
                "OR attribute_not_exists(refundHolds))",
                ExpressionAttributeValues={":empty": {"M": {}}},
            )


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _ttl(keep: timedelta) -> int:
    return int((datetime.now(UTC) + keep).timestamp())
