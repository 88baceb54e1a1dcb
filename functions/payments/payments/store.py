"""The payments table, and the only module that talks to DynamoDB.

Items (keys PK/SK):
- `PAYMENT#<orderId> / PAYMENT {paymentIntentId, amount, currency, taskToken, outcome, refunds}`: one
  per order (`models.Payment`). `outcome` (succeeded | failed | canceled) is written once, so a late or
  repeated Stripe event cannot undo a decision. `taskToken` is the workflow's AwaitPayment callback.
- `PI#<paymentIntentId> / ORDER {orderId}`: which order a PaymentIntent belongs to, written in the same
  transaction that attaches it; Stripe's events are mapped to orders through it, never their metadata.
- `EVENT#<stripeEventId> / EVENT {leaseToken, leaseUntil, processedAt, outcome}`: a Stripe event claimed
  for processing under a lease of minutes, marked processed after its outcome (dedupe), expired by TTL
  after 30 days. A claim whose holder died (a Lambda timeout) is taken over once its lease has run out.
- `RECONCILIATION / RUN#<startedAt>#<runId>`: a reconciliation run (window, counts, findings), one
  partition sorted by start so the latest come first; expired by TTL after 90 days.
- `CUSTOMER#<sub> / STRIPE {stripeCustomerId}`: the Stripe Customer of one of our customers, written
  once (the first payment creates it); saved cards live at Stripe, under that Customer.
No client secret and no card data are stored. Times are stored as `common.store.iso` writes them.
"""

import contextlib
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.dynamo import Key, Page, TransactionCancelled, check_start_key, query_page, to_item, to_value
from common.store import TableStore, iso, key
from payments.models import Claim, Outcome, Payment, ReconciliationRun, RefundEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PAYMENT = "PAYMENT"
EVENT_TTL = timedelta(days=30)
EVENT_LEASE = timedelta(minutes=2)
"""Longer than the webhook function's timeout (20 s), so a delivery still running is never doubled;
short enough that Stripe's next retry after a killed Lambda is processed."""
RUNS = "RECONCILIATION"
RUN_TTL = timedelta(days=90)


def _payment_pk(order_id: str) -> str:
    return f"PAYMENT#{order_id}"


def _customer_pk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def _intent_pk(payment_intent_id: str) -> str:
    return f"PI#{payment_intent_id}"


def _event_pk(event_id: str) -> str:
    return f"EVENT#{event_id}"


class PaymentsStore(TableStore):
    busy = "the payments store is busy; retry"

    def __init__(
        self, table: str, client: "DynamoDBClient | None" = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(table, client)
        self._clock = clock or (lambda: datetime.now(UTC))

    def payment(self, order_id: str) -> Payment | None:
        item = self.get(_payment_pk(order_id), PAYMENT)
        return Payment.model_validate(item) if item else None

    def attach_intent(self, order_id: str, payment_intent_id: str, amount: int, currency: str) -> Payment | None:
        """Record the order's PaymentIntent unless it has one or a decided outcome, and, in the same
        transaction, the `PI#` pointer from the PaymentIntent to the order; the payment after, or None if
        it had one (the caller then reads what is there)."""
        attach = self.update_action(
            _payment_pk(order_id),
            PAYMENT,
            "SET orderId = :order, paymentIntentId = :pi, amount = :amount, currency = :currency, createdAt = :now",
            condition="attribute_not_exists(paymentIntentId) AND attribute_not_exists(outcome)",
            values={
                ":order": order_id,
                ":pi": payment_intent_id,
                ":amount": amount,
                ":currency": currency,
                ":now": self._now(),
            },
        )
        pointer: Any = {
            "Put": {
                "Item": {**key(_intent_pk(payment_intent_id), "ORDER"), "orderId": to_value(order_id)},
                "ConditionExpression": "attribute_not_exists(PK) OR orderId = :order",
                "ExpressionAttributeValues": {":order": to_value(order_id)},
            }
        }
        actions: list[TransactWriteItemTypeDef] = [attach, pointer]
        try:
            self.transact(actions)
        except TransactionCancelled:
            return None
        return self.payment(order_id)

    def order_of_intent(self, payment_intent_id: str) -> str | None:
        """The order a PaymentIntent was attached to; None for one we never attached."""
        item = self.get(_intent_pk(payment_intent_id), "ORDER")
        return str(item["orderId"]) if item else None

    def register_token(self, order_id: str, token: str) -> Payment:
        """Store the AwaitPayment callback token (a retried task brings a new one); the payment after."""
        return self._set(order_id, "SET orderId = :order, taskToken = :token", {":token": token})

    def request_cancel(self, order_id: str, reason: str) -> Payment:
        """Remember a cancel that Stripe could not confirm yet (the workflow's compensation finishes it);
        the payment after."""
        update = "SET orderId = :order, cancelRequested = if_not_exists(cancelRequested, :reason)"
        return self._set(order_id, update, {":reason": reason})

    def decide(self, order_id: str, outcome: Outcome | str, detail: str | None = None) -> Payment | None:
        """Write the payment's outcome if none was written yet; the payment after, or None if an outcome
        was already decided (a duplicate, or a late event that must change nothing)."""
        return self._set_if(
            order_id,
            "SET orderId = :order, outcome = :outcome, outcomeDetail = :detail, decidedAt = :now",
            "attribute_not_exists(outcome)",
            {":order": order_id, ":outcome": str(outcome), ":detail": detail or str(outcome), ":now": self._now()},
        )

    def reserve_refund(self, order_id: str, refund_id: str, amount: int, *, left: int) -> Payment | None:
        """Set `amount` aside for refund `refund_id` before Stripe is asked, so that of refunds racing for
        the same payment only one gets the money. `refundLeft` counts down what may still be set aside;
        `left` (what the caller read as not yet refunded) starts it. The payment after, or None if less
        is left or the id is recorded or held already."""
        self._ensure_refund_maps(order_id)
        return self._set_if(
            order_id,
            "SET refundHolds.#refund = :hold, refundLeft = if_not_exists(refundLeft, :left) - :amount",
            "attribute_exists(paymentIntentId) AND attribute_not_exists(refunds.#refund) "
            "AND attribute_not_exists(refundHolds.#refund) "
            "AND (attribute_not_exists(refundLeft) OR refundLeft >= :amount)",
            {":hold": {"amount": amount, "heldAt": self._now()}, ":amount": amount, ":left": left},
            names={"#refund": refund_id},
        )

    def release_refund(self, order_id: str, refund_id: str, amount: int) -> None:
        """Give back what a refund Stripe refused had set aside (once)."""
        self._set_if(
            order_id,
            "SET refundLeft = refundLeft + :amount REMOVE refundHolds.#refund",
            "attribute_exists(refundHolds.#refund)",
            {":amount": amount},
            names={"#refund": refund_id},
        )

    def record_refund(self, order_id: str, refund_id: str, refund: RefundEntry) -> Payment | None:
        """Record one refund of the order under its own id (dropping what it held); None if that refund
        was recorded before."""
        self._ensure_refund_maps(order_id)
        return self._set_if(
            order_id,
            "SET refunds.#refund = :refund REMOVE refundHolds.#refund",
            "attribute_exists(refunds) AND attribute_not_exists(refunds.#refund)",
            {":refund": refund.model_dump(mode="json", by_alias=True)},
            names={"#refund": refund_id},
        )

    def record_refunded_total(self, order_id: str, amount_refunded: int) -> None:
        """What Stripe says was refunded in all (from `charge.refunded`), never moving backwards."""
        self._set_if(
            order_id,
            "SET amountRefunded = :total",
            "attribute_exists(PK) AND (attribute_not_exists(amountRefunded) OR amountRefunded < :total)",
            {":total": amount_refunded},
        )

    # ------------------------------------------------------------ Stripe Customers

    def stripe_customer(self, customer_id: str) -> str | None:
        """The Stripe Customer of one of our customers (their Cognito sub), if they have paid before."""
        item = self.get(_customer_pk(customer_id), "STRIPE")
        return str(item["stripeCustomerId"]) if item else None

    def keep_stripe_customer(self, customer_id: str, stripe_customer_id: str) -> str:
        """Record the customer's Stripe Customer unless one was recorded first; the one that is kept."""
        item = {"PK": _customer_pk(customer_id), "SK": "STRIPE", "customerId": customer_id}
        if self.put_if_absent(item | {"stripeCustomerId": stripe_customer_id}):
            return stripe_customer_id
        kept = self.stripe_customer(customer_id)
        assert kept is not None
        return kept

    def forget_stripe_customer(self, customer_id: str) -> None:
        """Delete the record of the customer's Stripe Customer (erasure); nothing to delete is fine."""
        self.client.delete_item(TableName=self.table, Key=key(_customer_pk(customer_id), "STRIPE"))

    # ------------------------------------------------------------ Stripe events (dedupe)

    def claim_event(self, event_id: str, event_type: str, *, lease: timedelta = EVENT_LEASE) -> Claim:
        """Claim a Stripe event for processing, for `lease`. One conditional write: it succeeds for a new
        event and for one whose earlier claim was never finished and whose lease has run out (its Lambda
        was killed), so no claim outlives its holder by more than the lease."""
        now = self._clock()
        token = uuid.uuid4().hex
        claimed = self.update_if(
            _event_pk(event_id),
            "EVENT",
            "SET #type = :type, receivedAt = if_not_exists(receivedAt, :now), "
            "leaseToken = :token, leaseUntil = :until, #ttl = :ttl ADD attempts :one",
            condition="attribute_not_exists(PK) OR (attribute_not_exists(processedAt) "
            "AND (attribute_not_exists(leaseUntil) OR leaseUntil < :epoch))",
            names={"#type": "type", "#ttl": "ttl"},
            values={
                ":type": event_type,
                ":now": iso(now),
                ":token": token,
                ":until": int((now + lease).timestamp()),
                ":ttl": int((now + EVENT_TTL).timestamp()),
                ":one": 1,
                ":epoch": int(now.timestamp()),
            },
        )
        if claimed is None:
            item = self.get(_event_pk(event_id), "EVENT")
            return Claim(done=bool(item and "processedAt" in item))
        return Claim(token=token)

    def finish_event(self, event_id: str, outcome: str) -> None:
        """Mark a claimed event processed, after its outcome was written: from now on it is a duplicate."""
        self.update_if(
            _event_pk(event_id),
            "EVENT",
            "SET processedAt = :now, outcome = :outcome REMOVE leaseToken, leaseUntil",
            condition="attribute_exists(PK)",
            values={":now": iso(self._clock()), ":outcome": outcome},
        )

    def release_event(self, event_id: str, token: str) -> None:
        """Give back the claim of an event whose processing failed, so Stripe's redelivery is processed at
        once; only our own claim, never one that another delivery finished or took over."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.delete_item(
                TableName=self.table,
                Key=key(_event_pk(event_id), "EVENT"),
                ConditionExpression="leaseToken = :token AND attribute_not_exists(processedAt)",
                ExpressionAttributeValues={":token": to_value(token)},
            )

    # ------------------------------------------------------------ reconciliation runs

    def save_run(self, run: ReconciliationRun) -> None:
        """Record one reconciliation run in the runs' partition, sorted by start; a retried write of the
        same run overwrites it."""
        sort = f"RUN#{iso(run.started_at)}#{run.run_id}"
        item = run.model_dump(mode="json", by_alias=True) | {"PK": RUNS, "SK": sort, "ttl": self._ttl(RUN_TTL)}
        self.client.put_item(TableName=self.table, Item=to_item(item))

    def runs(self, *, start_key: Key | None, limit: int) -> Page[ReconciliationRun]:
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
        return Page([ReconciliationRun.model_validate(item) for item in page.items], page.next_key)

    # ------------------------------------------------------------ building blocks

    def _set(self, order_id: str, update: str, values: Mapping[str, Any]) -> Payment:
        item = self.update(_payment_pk(order_id), PAYMENT, update, values={":order": order_id, **values})
        return Payment.model_validate(item)

    def _set_if(
        self,
        order_id: str,
        update: str,
        condition: str,
        values: Mapping[str, Any],
        *,
        names: Mapping[str, str] | None = None,
    ) -> Payment | None:
        item = self.update_if(_payment_pk(order_id), PAYMENT, update, condition=condition, values=values, names=names)
        return Payment.model_validate(item) if item else None

    def _ensure_refund_maps(self, order_id: str) -> None:
        self.ensure_maps(_payment_pk(order_id), PAYMENT, "refunds", "refundHolds")

    def _now(self) -> str:
        return iso(self._clock())

    def _ttl(self, keep: timedelta) -> int:
        return int((self._clock() + keep).timestamp())
