"""Payment use cases. No HTTP, no Lambda events: Stripe, the workflow callbacks and the event bus are
ports passed in (`Gateway`, `Callbacks`, `Publisher`), so tests hand in fakes of our own ports or
talk to localstripe."""

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common.contracts import (
    AwaitPaymentInput,
    CancelPaymentInput,
    CancelPaymentResult,
    CreatePaymentIntentInput,
    PaymentFailed,
    PaymentIntentRef,
    PaymentOutcome,
    PaymentSucceeded,
    RefundInput,
    RefundResult,
    RefundSucceeded,
)
from common.events import DomainEvent, new_event
from common.money import Money
from payments.errors import PaymentCanceled, PaymentNotFound, PaymentRejected
from payments.store import PaymentsStore

Publisher = Callable[[list[DomainEvent]], None]
SUCCEEDED, FAILED, CANCELED = "succeeded", "failed", "canceled"


class Gateway(Protocol):
    def create_intent(
        self, order_id: str, amount: Money, customer_id: str | None, *, stripe_customer_id: str | None = None
    ) -> dict[str, Any]: ...
    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]: ...
    def cancel_intent(self, payment_intent_id: str) -> dict[str, Any] | None: ...
    def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]: ...


class CustomerAccounts(Protocol):
    """Stripe Customers and the cards saved to them (the same Stripe gateway, as a port of its own so
    that the order steps work without it)."""

    def create_customer(self, customer_id: str) -> str: ...
    def delete_customer(self, stripe_customer_id: str) -> None: ...
    def list_cards(self, stripe_customer_id: str) -> list[dict[str, Any]]: ...


class SavedCard(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    brand: str
    last4: str
    exp_month: int
    exp_year: int


class ListPaymentMethodsInput(BaseModel):
    """`ListPaymentMethodsFunction`'s input (customers' `GET /me/payment-methods` invokes it)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    customer_id: str = Field(min_length=1, max_length=128)


class SavedCards(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    stripe_customer_id: str | None = Field(description="None until the customer's first payment")
    items: list[SavedCard]


class Callbacks(Protocol):
    def succeed(self, token: str, output: dict[str, Any]) -> bool: ...
    def fail(self, token: str, error: str, cause: str) -> bool: ...


# ---------------------------------------------------------------- workflow steps


def create_intent(
    store: PaymentsStore, gateway: Gateway, task: CreatePaymentIntentInput, *, accounts: CustomerAccounts | None = None
) -> PaymentIntentRef:
    """One PaymentIntent per order, however often the step is retried: an existing one is answered
    again; a PaymentIntent created by a losing concurrent attempt is cancelled. With `accounts`, the
    customer's Stripe Customer (created on their first payment) is named on the PaymentIntent."""
    record = store.get(task.order_id) or {}
    if record.get("outcome") == CANCELED:
        raise PaymentCanceled(task.order_id)
    if record.get("paymentIntentId"):
        return _ref(gateway.retrieve_intent(record["paymentIntentId"]), task.amount)
    if accounts is not None and task.customer_id:
        stripe_customer = stripe_customer_of(store, accounts, task.customer_id)
        intent = gateway.create_intent(task.order_id, task.amount, task.customer_id, stripe_customer_id=stripe_customer)
    else:
        intent = gateway.create_intent(task.order_id, task.amount, task.customer_id)
    if store.attach_intent(task.order_id, intent["id"], task.amount.amount, task.amount.currency) is None:
        kept = (store.get(task.order_id) or {}).get("paymentIntentId")
        if kept != intent["id"]:  # Stripe's idempotency key usually hands both attempts the same one
            gateway.cancel_intent(intent["id"])
        return create_intent(store, gateway, task, accounts=accounts)
    return _ref(intent, task.amount)


def stripe_customer_of(store: PaymentsStore, accounts: CustomerAccounts, customer_id: str) -> str:
    """The customer's Stripe Customer, created on first use. Two first payments racing each create
    one; the first recorded is kept and the other deleted at Stripe (where idempotency keys did not
    already hand both the same)."""
    known = store.stripe_customer(customer_id)
    if known:
        return known
    created = accounts.create_customer(customer_id)
    kept = store.keep_stripe_customer(customer_id, created)
    if kept != created:
        accounts.delete_customer(created)
    return kept


def saved_cards(store: PaymentsStore, accounts: CustomerAccounts, customer_id: str) -> SavedCards:
    """The cards saved at Stripe for one of our customers: brand, last 4 and expiry, nothing more."""
    stripe_customer = store.stripe_customer(customer_id)
    if stripe_customer is None:
        return SavedCards(stripe_customer_id=None, items=[])
    cards = [
        SavedCard(
            brand=str(card.get("brand") or "unknown"),
            last4=str(card.get("last4") or ""),
            exp_month=int(card.get("exp_month") or 0),
            exp_year=int(card.get("exp_year") or 0),
        )
        for card in accounts.list_cards(stripe_customer)
    ]
    return SavedCards(stripe_customer_id=stripe_customer, items=cards)


def _ref(intent: dict[str, Any], amount: Money) -> PaymentIntentRef:
    return PaymentIntentRef(payment_intent_id=intent["id"], client_secret=intent["client_secret"], amount=amount)


def await_payment(store: PaymentsStore, callbacks: Callbacks, task: AwaitPaymentInput) -> None:
    """Store the callback token. If Stripe's verdict arrived first, resume the workflow right away."""
    record = store.register_token(task.order_id, task.task_token)
    if record.get("outcome"):
        _resume(callbacks, record)


def _resume(callbacks: Callbacks, record: dict[str, Any]) -> None:
    token, outcome = record["taskToken"], record["outcome"]
    if outcome == SUCCEEDED:
        output = PaymentOutcome(
            order_id=record["orderId"],
            payment_intent_id=record.get("paymentIntentId", ""),
            amount_received=int(record.get("amountReceived", record.get("amount", 0))),
        )
        callbacks.succeed(token, output.model_dump(mode="json", by_alias=True))
    elif outcome == FAILED:
        callbacks.fail(token, "PaymentFailed", record.get("outcomeDetail") or "the payment failed")
    else:
        callbacks.fail(token, "PaymentCanceled", record.get("outcomeDetail") or "the payment was cancelled")


def decide(store: PaymentsStore, callbacks: Callbacks, order_id: str, outcome: str, detail: str) -> bool:
    """Record the payment's outcome once and resume the workflow if it waits; False if it was decided."""
    record = store.decide(order_id, outcome, detail)
    if record is None:
        return False
    if record.get("taskToken"):
        _resume(callbacks, record)
    return True


def cancel(
    store: PaymentsStore, gateway: Gateway, callbacks: Callbacks, task: CancelPaymentInput
) -> CancelPaymentResult:
    """Make sure the order keeps no money: an undecided payment becomes cancelled (the waiting workflow
    is told), its PaymentIntent is cancelled at Stripe, and, for a compensation, a payment that was
    taken is refunded. A customer's request (`refund_if_paid` False) leaves a taken payment alone."""
    decide(store, callbacks, task.order_id, CANCELED, task.reason)
    record = store.get(task.order_id) or {}
    intent_id = record.get("paymentIntentId")
    if record.get("outcome") == SUCCEEDED:
        if not task.refund_if_paid:
            return CancelPaymentResult(order_id=task.order_id, cancelled=False)
        return _refund_rest(store, gateway, task.order_id, task.reason)
    if intent_id and gateway.cancel_intent(intent_id) is None:
        intent = gateway.retrieve_intent(intent_id)
        if intent.get("status") == SUCCEEDED and task.refund_if_paid:  # paid while we were deciding
            return _refund_rest(store, gateway, task.order_id, task.reason)
    return CancelPaymentResult(order_id=task.order_id, cancelled=True)


def _refund_rest(store: PaymentsStore, gateway: Gateway, order_id: str, reason: str) -> CancelPaymentResult:
    result = refund(store, gateway, RefundInput(order_id=order_id, refund_id="cancellation", reason=reason))
    return CancelPaymentResult(order_id=order_id, cancelled=True, refunded=result.amount)


def refund(store: PaymentsStore, gateway: Gateway, task: RefundInput) -> RefundResult:
    """Refund part or all of a taken payment. The order's refund id is the idempotency key at Stripe
    and in our record, so a retried refund is answered, not repeated."""
    record = store.get(task.order_id)
    if record is None or not record.get("paymentIntentId"):
        raise PaymentNotFound(task.order_id)
    currency = record["currency"]
    refunds: dict[str, Any] = record.get("refunds") or {}
    if task.refund_id in refunds:
        return _refund_result(task, refunds[task.refund_id], refunds, currency)
    if task.amount is not None and task.amount.currency != currency:
        raise PaymentRejected(f"refunds of this order are in {currency}")
    already = sum(int(r["amount"]) for r in refunds.values())
    remaining = int(record["amount"]) - already
    wanted = remaining if task.amount is None else task.amount.amount
    if wanted <= 0 or wanted > remaining:
        raise PaymentRejected(f"cannot refund {wanted}: {remaining} of the payment is left to refund")
    made = gateway.refund(record["paymentIntentId"], wanted, f"{task.order_id}-{task.refund_id}", task.order_id)
    entry = {"providerRefundId": made["id"], "amount": int(made["amount"]), "reason": task.reason}
    after = store.record_refund(task.order_id, task.refund_id, entry)
    final = (after or store.get(task.order_id) or {}).get("refunds") or {}
    return _refund_result(task, final.get(task.refund_id, entry), final, currency)


def _refund_result(task: RefundInput, entry: dict[str, Any], refunds: dict[str, Any], currency: str) -> RefundResult:
    total = sum(int(r["amount"]) for r in refunds.values())
    return RefundResult(
        order_id=task.order_id,
        refund_id=task.refund_id,
        provider_refund_id=entry["providerRefundId"],
        amount=Money(amount=int(entry["amount"]), currency=currency),
        refunded_total=Money(amount=total, currency=currency),
    )


# ---------------------------------------------------------------- Stripe's webhooks


def handle_event(store: PaymentsStore, callbacks: Callbacks, publish: Publisher, event: dict[str, Any]) -> str:
    """Apply one verified Stripe event. Events may come twice, late or out of order: the outcome is
    written once (a `payment_failed` after `succeeded` changes nothing), and what we publish carries a
    stable id. Returns what was done, for the log."""
    kind = event.get("type", "")
    obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
    order_id = (obj.get("metadata") or {}).get("orderId")
    if not order_id:
        return "ignored: no order"
    if kind == "payment_intent.succeeded":
        decided = decide(store, callbacks, order_id, SUCCEEDED, "paid")
        if not decided and not _outcome_is(store, order_id, SUCCEEDED):
            return "late: the payment was already decided otherwise"
        amount = Money(amount=int(obj.get("amount_received") or obj["amount"]), currency=str(obj["currency"]).upper())
        data = PaymentSucceeded(order_id=order_id, payment_intent_id=obj["id"], amount=amount)
        # Published again on a redelivery (same id, consumers drop it): the first attempt may have died here.
        publish([new_event(PaymentSucceeded.DETAIL_TYPE, f"PaymentSucceeded#{order_id}", data)])
        return "succeeded" if decided else "duplicate"
    if kind == "payment_intent.payment_failed":
        reason = ((obj.get("last_payment_error") or {}).get("message")) or "the card was declined"
        decided = decide(store, callbacks, order_id, FAILED, reason)
        if not decided and not _outcome_is(store, order_id, FAILED):
            return "late: the payment was already decided otherwise"
        failed = PaymentFailed(order_id=order_id, payment_intent_id=obj["id"], reason=reason)
        publish([new_event(PaymentFailed.DETAIL_TYPE, f"PaymentFailed#{order_id}", failed)])
        return "failed" if decided else "duplicate"
    if kind == "payment_intent.canceled":
        return (
            "canceled" if decide(store, callbacks, order_id, CANCELED, "cancelled at Stripe") else "duplicate or late"
        )
    if kind == "charge.refunded":
        total = int(obj.get("amount_refunded") or 0)
        store.record_refunded_total(order_id, total)
        currency = str(obj.get("currency", "")).upper()
        refunded = RefundSucceeded(
            order_id=order_id,
            payment_intent_id=str(obj.get("payment_intent") or ""),
            refunded_total=Money(amount=total, currency=currency),
        )
        publish([new_event(RefundSucceeded.DETAIL_TYPE, f"RefundSucceeded#{order_id}#{total}", refunded)])
        return "refund recorded"
    return f"ignored: {kind}"


def _outcome_is(store: PaymentsStore, order_id: str, outcome: str) -> bool:
    return (store.get(order_id) or {}).get("outcome") == outcome
