"""The payments table, and the only module that talks to DynamoDB.

Items (keys PK/SK):
- `PAYMENT#<orderId> / PAYMENT {paymentIntentId, amount, currency, taskToken, outcome, refunds}`: one
  per order. `outcome` (succeeded | failed | canceled) is written once, so a late or repeated Stripe
  event cannot undo a decision. `taskToken` is the workflow's AwaitPayment callback.
- `EVENT#<stripeEventId> / EVENT`: a processed Stripe event (dedupe), expired by TTL after 30 days.
- `CUSTOMER#<sub> / STRIPE {stripeCustomerId}`: the Stripe Customer of one of our customers, written
  once (the first payment creates it); saved cards live at Stripe, under that Customer.
No client secret and no card data are stored.
"""

import contextlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.dynamo import dynamodb_client, from_item, to_item, to_value

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PAYMENT = "PAYMENT"
EVENT_TTL = timedelta(days=30)


def _key(order_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"PAYMENT#{order_id}"}, "SK": {"S": PAYMENT}}


def _customer_key(customer_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"CUSTOMER#{customer_id}"}, "SK": {"S": "STRIPE"}}


class PaymentsStore:
    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> "DynamoDBClient":
        return self._client or dynamodb_client()

    def get(self, order_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=_key(order_id), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def attach_intent(self, order_id: str, payment_intent_id: str, amount: int, currency: str) -> dict[str, Any] | None:
        """Record the order's PaymentIntent unless it has one or a decided outcome; None if it had
        (the caller then reads what is there)."""
        return self._update(
            order_id,
            "SET orderId = :order, paymentIntentId = :pi, amount = :amount, currency = :currency, createdAt = :now",
            "attribute_not_exists(paymentIntentId) AND attribute_not_exists(outcome)",
            {":order": order_id, ":pi": payment_intent_id, ":amount": amount, ":currency": currency, ":now": _now()},
        )

    def register_token(self, order_id: str, token: str) -> dict[str, Any]:
        """Store the AwaitPayment callback token (a retried task brings a new one); the whole item after."""
        item = self._update(
            order_id, "SET orderId = :order, taskToken = :token", None, {":order": order_id, ":token": token}
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

    def record_refund(self, order_id: str, refund_id: str, refund: dict[str, Any]) -> dict[str, Any] | None:
        """Record one refund of the order under its own id; None if that refund was recorded before."""
        return self._update(
            order_id,
            "SET refunds.#refund = :refund",
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

    # ------------------------------------------------------------ Stripe events (dedupe)

    def claim_event(self, event_id: str, event_type: str) -> bool:
        """Claim a Stripe event for processing; False if it was processed (or is being) already."""
        now = datetime.now(UTC)
        item = {
            "PK": f"EVENT#{event_id}",
            "SK": "EVENT",
            "type": event_type,
            "receivedAt": now.isoformat(),
            "ttl": int((now + EVENT_TTL).timestamp()),
        }
        try:
            self.client.put_item(
                TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_event(self, event_id: str) -> None:
        """Forget a claimed event whose processing failed, so Stripe's redelivery is processed."""
        self.client.delete_item(TableName=self.table, Key={"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": "EVENT"}})

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
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table,
                Key=_key(order_id),
                UpdateExpression="SET refunds = :empty",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(refunds)",
                ExpressionAttributeValues={":empty": {"M": {}}},
            )


def _now() -> str:
    return datetime.now(UTC).isoformat()
