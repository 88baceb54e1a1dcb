"""Payment use cases: the payment steps of the order workflow, refunds, saved cards, erasure and Stripe's
webhook events. No HTTP, no Lambda events: Stripe, the workflow callbacks and the event bus are ports
(`payments.ports`) passed in, so tests hand in fakes of our own ports or talk to localstripe. Answers are
`common.contracts` models (what other domains read) or `payments.models`."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from common.contracts import (
    AttentionRequested,
    AwaitPaymentInput,
    CancelPaymentInput,
    CancelPaymentResult,
    CreatePaymentIntentInput,
    DisputeClosed,
    DisputeStatus,
    ForgetCustomerResult,
    PaymentDisputed,
    PaymentFailed,
    PaymentIntentRef,
    PaymentOutcome,
    PaymentSucceeded,
    RefundInput,
    RefundResult,
    RefundSucceeded,
    SavedCard,
    SavedCards,
)
from common.errors import ServiceUnavailable
from common.events import new_event
from common.money import Money
from payments import fees
from payments.errors import (
    EventInProgress,
    PaymentCanceled,
    PaymentNotFound,
    PaymentProviderUnavailable,
    PaymentRejected,
)
from payments.models import AwaitingPayment, Handled, Outcome, Payment, RefundEntry
from payments.ports import Balances, Callbacks, CustomerAccounts, Gateway, Publisher
from payments.store import PaymentsStore
from payments.stripe_events import (
    ChargeEvent,
    ChargeObject,
    DisputeEvent,
    IntentEvent,
    RefundEvent,
    StripeEventModel,
)

SUCCEEDED, FAILED, CANCELED = Outcome.SUCCEEDED, Outcome.FAILED, Outcome.CANCELED


# ---------------------------------------------------------------- workflow steps


def create_intent(
    store: PaymentsStore, gateway: Gateway, task: CreatePaymentIntentInput, *, accounts: CustomerAccounts | None = None
) -> PaymentIntentRef:
    """One PaymentIntent per order, however often the step is retried: an existing one is answered
    again; a PaymentIntent created by a losing concurrent attempt is cancelled. With `accounts`, the
    customer's Stripe Customer (created on their first payment) is named on the PaymentIntent."""
    payment = store.payment(task.order_id)
    if payment is not None and payment.outcome == CANCELED:
        raise PaymentCanceled(task.order_id)
    if payment is not None and payment.payment_intent_id:
        return _ref(gateway.retrieve_intent(payment.payment_intent_id), task.amount)
    if accounts is not None and task.customer_id:
        stripe_customer = stripe_customer_of(store, accounts, task.customer_id)
        intent = gateway.create_intent(task.order_id, task.amount, task.customer_id, stripe_customer_id=stripe_customer)
    else:
        intent = gateway.create_intent(task.order_id, task.amount, task.customer_id)
    if store.attach_intent(task.order_id, intent["id"], task.amount.amount, task.amount.currency) is None:
        kept = store.payment(task.order_id)
        # Stripe's idempotency key usually hands both attempts the same one.
        if kept is None or kept.payment_intent_id != intent["id"]:
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


def forget_customer(store: PaymentsStore, accounts: CustomerAccounts, customer_id: str) -> ForgetCustomerResult:
    """Erase what payments keeps of one of our customers: their Stripe Customer (with the cards saved to
    it, and our id in its metadata) and our record of it. The Stripe Customer goes first, so a failure
    leaves the record that finds it on the retry; one Stripe no longer knows counts as deleted.
    Idempotent: a second erasure finds nothing. Their past PaymentIntents stay at Stripe, as the books need."""
    stripe_customer = store.stripe_customer(customer_id)
    if stripe_customer is not None:
        accounts.delete_customer(stripe_customer)
        store.forget_stripe_customer(customer_id)
    return ForgetCustomerResult(customer_id=customer_id, stripe_customer_deleted=stripe_customer is not None)


def _ref(intent: dict[str, Any], amount: Money) -> PaymentIntentRef:
    return PaymentIntentRef(payment_intent_id=intent["id"], client_secret=intent["client_secret"], amount=amount)


def await_payment(store: PaymentsStore, callbacks: Callbacks, task: AwaitPaymentInput) -> AwaitingPayment:
    """Store the callback token. If Stripe's verdict arrived first, resume the workflow right away."""
    payment = store.register_token(task.order_id, task.task_token)
    if payment.outcome is not None:
        _resume(callbacks, payment, task.task_token)
    elif payment.cancel_requested:  # a customer's cancel that Stripe could not confirm yet
        callbacks.fail(task.task_token, "CancelRequested", payment.cancel_requested)
    return AwaitingPayment(order_id=task.order_id)


def _resume(callbacks: Callbacks, payment: Payment, token: str) -> None:
    if payment.outcome == SUCCEEDED:
        output = PaymentOutcome(
            order_id=payment.order_id,
            payment_intent_id=payment.payment_intent_id or "",
            amount_received=payment.amount,
        )
        callbacks.succeed(token, output.model_dump(mode="json", by_alias=True))
    elif payment.outcome == FAILED:
        callbacks.fail(token, "PaymentFailed", payment.outcome_detail or "the payment failed")
    else:
        callbacks.fail(token, "PaymentCanceled", payment.outcome_detail or "the payment was cancelled")


def decide(store: PaymentsStore, callbacks: Callbacks, order_id: str, outcome: Outcome, detail: str) -> bool:
    """Record the payment's outcome once and resume the workflow if it waits; False if it was decided."""
    payment = store.decide(order_id, outcome, detail)
    if payment is None:
        return False
    if payment.task_token:
        _resume(callbacks, payment, payment.task_token)
    return True


def cancel(
    store: PaymentsStore, gateway: Gateway, callbacks: Callbacks, task: CancelPaymentInput
) -> CancelPaymentResult:
    """Make sure the order keeps no money. The outcome `canceled` is written only once Stripe has
    confirmed that the PaymentIntent can no longer take money (or there never was one), so a payment
    made while Stripe was unreachable is still seen and refunded. For a compensation
    (`refund_if_paid`), a payment that was taken is refunded; Stripe being down raises
    `PaymentProviderUnavailable`, which the workflow retries for hours. A customer's request leaves a
    taken payment alone (the shipment step refunds it) and, when Stripe is down, hands the cancel to the
    workflow (`pending`): the waiting step is failed with `CancelRequested`, and the compensation retries."""
    payment = store.payment(task.order_id)
    if _outcome(payment) == SUCCEEDED:
        return _cancel_paid(store, gateway, task)
    if payment is not None and payment.payment_intent_id:
        try:
            status = _cancel_at_stripe(gateway, payment.payment_intent_id)
        except PaymentProviderUnavailable:
            if task.refund_if_paid:
                raise
            return _hand_to_workflow(store, callbacks, task)
        if status == SUCCEEDED:  # paid while we were deciding: the payment stands until refunded
            decide(store, callbacks, task.order_id, SUCCEEDED, "paid")
            return _cancel_paid(store, gateway, task)
    decide(store, callbacks, task.order_id, CANCELED, task.reason)
    if _outcome(store.payment(task.order_id)) == SUCCEEDED:  # the webhook's verdict won the race to the record
        return _cancel_paid(store, gateway, task)
    return CancelPaymentResult(order_id=task.order_id, cancelled=True)


def _outcome(payment: Payment | None) -> Outcome | None:
    return payment.outcome if payment is not None else None


def _cancel_at_stripe(gateway: Gateway, intent_id: str) -> str:
    """Cancel the PaymentIntent; its status after (`canceled`, or `succeeded` when it was paid first).
    A PaymentIntent Stripe is still processing cannot be decided yet: that is retried like an outage."""
    cancelled = gateway.cancel_intent(intent_id)
    status = str((cancelled or gateway.retrieve_intent(intent_id)).get("status") or "")
    if status in (CANCELED, SUCCEEDED):
        return status
    raise PaymentProviderUnavailable(f"the PaymentIntent is {status or 'in an unknown state'}; try again later")


def _cancel_paid(store: PaymentsStore, gateway: Gateway, task: CancelPaymentInput) -> CancelPaymentResult:
    if not task.refund_if_paid:
        return CancelPaymentResult(order_id=task.order_id, cancelled=False)
    return _refund_rest(store, gateway, task.order_id, task.reason)


def _hand_to_workflow(store: PaymentsStore, callbacks: Callbacks, task: CancelPaymentInput) -> CancelPaymentResult:
    """Stripe cannot confirm a customer's cancel now: remember the request and wake the waiting step, so
    the workflow's compensation (which retries with backoff) cancels or refunds when Stripe is back."""
    payment = store.request_cancel(task.order_id, task.reason)
    if payment.task_token and payment.outcome is None:
        callbacks.fail(payment.task_token, "CancelRequested", task.reason)
    return CancelPaymentResult(order_id=task.order_id, cancelled=False, pending=True)


def _refund_rest(store: PaymentsStore, gateway: Gateway, order_id: str, reason: str) -> CancelPaymentResult:
    """Refund whatever of the payment is not refunded yet (nothing left is not an error: a retry)."""
    payment = store.payment(order_id)
    if payment is None or ("cancellation" not in payment.refunds and payment.left_to_refund <= 0):
        return CancelPaymentResult(order_id=order_id, cancelled=True)
    result = refund(store, gateway, RefundInput(order_id=order_id, refund_id="cancellation", reason=reason))
    return CancelPaymentResult(order_id=order_id, cancelled=True, refunded=result.amount)


def refund(store: PaymentsStore, gateway: Gateway, task: RefundInput) -> RefundResult:
    """Refund part or all of a taken payment. The order's refund id is the idempotency key at Stripe
    and in our record, so a retried refund is answered, not repeated. The amount is set aside on the
    record (a conditional write) before Stripe is called, so refunds running at once never add up to
    more than was taken; Stripe's refusal gives it back."""
    payment = store.payment(task.order_id)
    if payment is None or not payment.payment_intent_id or payment.currency is None:
        raise PaymentNotFound(task.order_id)
    if task.refund_id in payment.refunds:
        return _refund_result(task, payment.refunds[task.refund_id], payment)
    if task.amount is not None and task.amount.currency != payment.currency:
        raise PaymentRejected(f"refunds of this order are in {payment.currency}")
    held = payment.refund_holds.get(task.refund_id)
    wanted = held.amount if held else _set_aside(store, payment, task)
    refund_key = f"{task.order_id}-{task.refund_id}"
    try:
        made = gateway.refund(payment.payment_intent_id, wanted, refund_key, task.order_id)
    except PaymentRejected:
        store.release_refund(task.order_id, task.refund_id, wanted)
        raise
    entry = RefundEntry(provider_refund_id=made["id"], amount=int(made["amount"]), reason=task.reason)
    after = store.record_refund(task.order_id, task.refund_id, entry) or store.payment(task.order_id) or payment
    return _refund_result(task, after.refunds.get(task.refund_id, entry), after)


def _set_aside(store: PaymentsStore, payment: Payment, task: RefundInput) -> int:
    """Set the refund's amount aside on the payment record: what is asked, or all that is neither
    refunded nor set aside for another refund. `PaymentRejected` if that much is not left; a retryable
    `ServiceUnavailable` if a concurrent attempt of this very refund set it aside first."""
    not_refunded = payment.left_to_refund
    remaining = not_refunded - payment.held
    wanted = remaining if task.amount is None else task.amount.amount
    if wanted <= 0 or wanted > remaining:
        raise PaymentRejected(f"cannot refund {wanted}: {remaining} of the payment is left to refund")
    if store.reserve_refund(task.order_id, task.refund_id, wanted, left=not_refunded) is not None:
        return wanted
    current = store.payment(task.order_id)
    if current is not None and (task.refund_id in current.refund_holds or task.refund_id in current.refunds):
        raise ServiceUnavailable("this refund is being made right now; retry")
    raise PaymentRejected(f"cannot refund {wanted}: another refund of this payment took what was left")


def _refund_result(task: RefundInput, entry: RefundEntry, payment: Payment) -> RefundResult:
    currency = str(payment.currency)
    return RefundResult(
        order_id=task.order_id,
        refund_id=task.refund_id,
        provider_refund_id=entry.provider_refund_id,
        amount=Money(amount=entry.amount, currency=currency),
        refunded_total=Money(amount=payment.refunded, currency=currency),
    )


# ---------------------------------------------------------------- Stripe's webhooks

DUPLICATE = "duplicate"
LATE_REFUNDED = "late: refunded, the order will not be fulfilled"
LATE_ALREADY_REFUNDED = "late: already refunded"


class _Mismatch(Exception):
    def __init__(self, why: str, order_id: str | None, payment_intent_id: str | None) -> None:
        super().__init__(why)
        self.order_id = order_id
        self.payment_intent_id = payment_intent_id


def process_event(
    store: PaymentsStore,
    callbacks: Callbacks,
    publish: Publisher,
    event: StripeEventModel,
    gateway: Callable[[], Gateway],
    balances: Callable[[], Balances] | None = None,
) -> Handled:
    """Apply one Stripe event once, however often Stripe delivers it. The event is claimed under a lease
    of minutes (`PaymentsStore.claim_event`) and marked processed after its outcome, so a Lambda killed
    mid-event leaves nothing that outlives the lease: Stripe's next redelivery processes it. A delivery
    that fails gives its claim back at once; one that finds another delivery at work raises
    `EventInProgress` (a 503: Stripe retries)."""
    claim = store.claim_event(event.id, event.type)
    if claim.done:
        return Handled(outcome=DUPLICATE)
    if claim.token is None:
        raise EventInProgress("this event is being processed by another delivery; retry later")
    try:
        handled = handle_event(store, callbacks, publish, event, gateway, balances)
    except Exception:
        store.release_event(event.id, claim.token)  # let Stripe's redelivery try again at once
        raise
    store.finish_event(event.id, handled.outcome)
    return handled


def handle_event(
    store: PaymentsStore,
    callbacks: Callbacks,
    publish: Publisher,
    event: StripeEventModel,
    gateway: Callable[[], Gateway],
    balances: Callable[[], Balances] | None = None,
) -> Handled:
    """Apply one verified, well-formed Stripe event. Its order is found through its PaymentIntent (the
    `PI#` pointer written when the intent was attached), and the event must agree with the payment we
    recorded (PaymentIntent, amount, currency): a signed event can still name another order in its
    metadata or carry another amount, and then nothing changes. Events may come twice, late or out of
    order: the outcome is written once (a `payment_failed` after `succeeded` changes nothing), and what
    we publish carries a stable id. A payment that succeeds after the order's payment was decided
    `failed` or `canceled` is refunded in full at once (`gateway` is built only then). With `balances`,
    `PaymentSucceeded` and `RefundSucceeded` carry Stripe's fee and net (`payments.fees`: best effort)."""
    try:
        if isinstance(event, IntentEvent):
            return _on_intent(store, callbacks, publish, event, gateway, balances)
        if isinstance(event, ChargeEvent):
            return _on_charge_refunded(store, publish, event.data.object, balances)
        if isinstance(event, RefundEvent):
            return _on_refund(store, publish, event)
        if isinstance(event, DisputeEvent):
            return _on_dispute(store, publish, event)
    except _Mismatch as mismatch:
        return Handled(
            outcome="ignored: does not match the payment",
            order_id=mismatch.order_id,
            payment_intent_id=mismatch.payment_intent_id,
            mismatch=str(mismatch),
        )
    return Handled(outcome=f"ignored: {event.type}")


def _on_intent(
    store: PaymentsStore,
    callbacks: Callbacks,
    publish: Publisher,
    event: IntentEvent,
    gateway: Callable[[], Gateway],
    balances: Callable[[], Balances] | None,
) -> Handled:
    intent = event.data.object
    pointed = store.order_of_intent(intent.id)
    named = intent.metadata.get("orderId")
    if pointed is not None and named is not None and named != pointed:
        raise _Mismatch("its metadata names another order than its PaymentIntent's", pointed, intent.id)
    order_id = pointed or named  # metadata alone only for intents attached before the pointer existed
    if order_id is None:
        return Handled(outcome="ignored: no order", payment_intent_id=intent.id)
    payment = _matching_payment(store, order_id, intent.id, intent.currency, intent.amount)

    def done(outcome: str, fee_unknown: str | None = None) -> Handled:
        return Handled(outcome=outcome, order_id=order_id, payment_intent_id=intent.id, fee_unknown=fee_unknown)

    if event.type == "payment_intent.succeeded":
        received = intent.amount if intent.amount_received is None else intent.amount_received
        if intent.status != SUCCEEDED or received != payment.amount:
            raise _Mismatch("it says succeeded, but not for the order's amount", order_id, intent.id)
        decided = decide(store, callbacks, order_id, SUCCEEDED, "paid")
        if not decided:
            earlier = _outcome(store.payment(order_id))
            if earlier in (FAILED, CANCELED):
                return done(_refund_late_payment(store, gateway, order_id, intent.id, str(earlier)))
        currency = str(payment.currency)
        kept = fees.charge_balance(balances, intent.id, currency)
        data = PaymentSucceeded(
            order_id=order_id,
            payment_intent_id=intent.id,
            amount=Money(amount=payment.amount, currency=currency),
            fee=kept.fee,
            net=kept.net,
            charge_id=kept.charge_id,
            balance_transaction_id=kept.balance_transaction_id,
        )
        # Published again on a redelivery (same id, consumers drop it): the first attempt may have died here.
        publish([new_event(PaymentSucceeded.DETAIL_TYPE, f"PaymentSucceeded#{order_id}", data)])
        return done("succeeded" if decided else DUPLICATE, kept.unknown)
    if event.type == "payment_intent.payment_failed":
        reason = (intent.last_payment_error.message if intent.last_payment_error else None) or "the card was declined"
        decided = decide(store, callbacks, order_id, FAILED, reason)
        if not decided and _outcome(store.payment(order_id)) != FAILED:
            return done("late: the payment was already decided otherwise")
        failed = PaymentFailed(order_id=order_id, payment_intent_id=intent.id, reason=reason)
        publish([new_event(PaymentFailed.DETAIL_TYPE, f"PaymentFailed#{order_id}", failed)])
        return done("failed" if decided else DUPLICATE)
    decided = decide(store, callbacks, order_id, CANCELED, "cancelled at Stripe")
    return done("canceled" if decided else "duplicate or late")


def _matching_payment(
    store: PaymentsStore, order_id: str, payment_intent_id: str, currency: str, amount: int
) -> Payment:
    """The order's payment, if the event's PaymentIntent, amount and currency are the recorded ones."""
    payment = store.payment(order_id)
    if payment is None or payment.payment_intent_id != payment_intent_id:
        raise _Mismatch("it is not the order's PaymentIntent", order_id, payment_intent_id)
    if currency.upper() != payment.currency or amount != payment.amount:
        raise _Mismatch("its amount or currency is not the order's", order_id, payment_intent_id)
    return payment


def _refund_late_payment(
    store: PaymentsStore, gateway: Callable[[], Gateway], order_id: str, payment_intent_id: str, earlier: str
) -> str:
    """Refund a payment taken for an order that will not be fulfilled: all of it that is not refunded yet,
    under a refund id derived from the PaymentIntent (Stripe's idempotency key and our record's), so a
    redelivery refunds nothing more. Stripe being down raises: the webhook answers 5xx and Stripe
    redelivers; reconciliation is the second net."""
    refund_id = f"late-{payment_intent_id}"
    payment = store.payment(order_id)
    if payment is None or (refund_id not in payment.refunds and payment.left_to_refund <= 0):
        return LATE_ALREADY_REFUNDED
    task = RefundInput(order_id=order_id, refund_id=refund_id, reason=f"paid after the payment was {earlier}")
    try:
        refund(store, gateway(), task)
    except PaymentRejected:
        after = store.payment(order_id)
        if after is None or after.left_to_refund <= 0:  # another path refunded it meanwhile
            return LATE_ALREADY_REFUNDED
        raise
    return LATE_REFUNDED


def _on_charge_refunded(
    store: PaymentsStore, publish: Publisher, charge: ChargeObject, balances: Callable[[], Balances] | None
) -> Handled:
    """Stripe's refunded total of the order's charge; the order is found through `payment_intent`, never
    the charge's own metadata (which Stripe does not promise to carry). With `balances`, the event names
    the refund that reached this total, with its fee effect and net (`payments.fees.refund_balance`)."""
    pointed = store.order_of_intent(charge.payment_intent) if charge.payment_intent else None
    if charge.payment_intent is None or pointed is None:
        return Handled(outcome="ignored: not an order's PaymentIntent", payment_intent_id=charge.payment_intent)
    payment = _matching_payment(store, pointed, charge.payment_intent, charge.currency, charge.amount)
    if charge.amount_refunded > charge.amount:
        raise _Mismatch("it refunds more than the charge", pointed, charge.payment_intent)
    total = charge.amount_refunded
    store.record_refunded_total(pointed, total)
    currency = str(payment.currency)
    made = fees.refund_balance(balances, charge.payment_intent, total, currency)
    refunded = RefundSucceeded(
        order_id=pointed,
        payment_intent_id=charge.payment_intent,
        refunded_total=Money(amount=total, currency=currency),
        refund_id=made.refund_id,
        amount=made.amount,
        fee=made.fee,
        net=made.net,
    )
    publish([new_event(RefundSucceeded.DETAIL_TYPE, f"RefundSucceeded#{pointed}#{total}", refunded)])
    return Handled(
        outcome="refund recorded", order_id=pointed, payment_intent_id=charge.payment_intent, fee_unknown=made.unknown
    )


def _on_refund(store: PaymentsStore, publish: Publisher, event: RefundEvent) -> Handled:
    """A refund Stripe could not complete means the customer did not get the money back: staff are told
    (`AttentionRequested`). Other refund updates are acknowledged; `charge.refunded` carries the totals."""
    made = event.data.object
    pointed = store.order_of_intent(made.payment_intent) if made.payment_intent else None
    if made.payment_intent is None or pointed is None:
        return Handled(outcome="ignored: not an order's PaymentIntent", payment_intent_id=made.payment_intent)
    payment = store.payment(pointed)
    if payment is None or made.currency.upper() != payment.currency or made.amount > payment.amount:
        raise _Mismatch("its amount or currency is not the order's", pointed, made.payment_intent)
    if event.type != "refund.failed" and made.status not in ("failed", "canceled"):
        return Handled(outcome=f"ignored: {event.type}", order_id=pointed, payment_intent_id=made.payment_intent)
    attention = AttentionRequested(
        order_id=pointed,
        reason=f"Stripe could not complete refund {made.id} of {made.amount} {payment.currency}",
        source="webhook",
        payment_intent_id=made.payment_intent,
    )
    publish([new_event(AttentionRequested.DETAIL_TYPE, f"AttentionRequested#{pointed}#{made.id}", attention)])
    return Handled(outcome="refund failed: staff told", order_id=pointed, payment_intent_id=made.payment_intent)


def _on_dispute(store: PaymentsStore, publish: Publisher, event: DisputeEvent) -> Handled:
    """A dispute of an order's charge opened (`PaymentDisputed`) or closed (`DisputeClosed`, WON or LOST).
    The order is found through the dispute's `payment_intent` (Stripe sets it for a PaymentIntent's
    charge), and the dispute must be in the payment's currency and at most its amount: otherwise nothing
    is published. Each carries what Stripe charged, or gave back, of its dispute fee (`fees.dispute_fees`,
    from the balance transactions the dispute lists). Each is published under an id from the dispute and
    its status, so a redelivery is dropped by consumers; a `closed` that comes before `created` is
    published all the same (consumers keep both halves)."""
    dispute = event.data.object
    pointed = store.order_of_intent(dispute.payment_intent) if dispute.payment_intent else None
    if dispute.payment_intent is None or pointed is None:
        return Handled(outcome="ignored: not an order's PaymentIntent", payment_intent_id=dispute.payment_intent)
    payment = store.payment(pointed)
    if payment is None or dispute.currency.upper() != payment.currency or dispute.amount > payment.amount:
        raise _Mismatch("its amount or currency is not the order's", pointed, dispute.payment_intent)
    amount = Money(amount=dispute.amount, currency=str(payment.currency))
    charged = fees.dispute_fees(dispute, str(payment.currency))
    at = datetime.fromtimestamp(event.created, UTC).isoformat().replace("+00:00", "Z")
    if event.type == "charge.dispute.created":
        opened = PaymentDisputed(
            order_id=pointed,
            payment_intent_id=dispute.payment_intent,
            dispute_id=dispute.id,
            amount=amount,
            reason=dispute.reason,
            opened_at=datetime.fromtimestamp(dispute.created, UTC).isoformat().replace("+00:00", "Z"),
            fee=charged.fee,
        )
        publish([new_event(PaymentDisputed.DETAIL_TYPE, f"PaymentDisputed#{dispute.id}", opened)])
        outcome = "dispute opened"
    else:
        status = DisputeStatus.LOST if dispute.status == "lost" else DisputeStatus.WON  # won, warning_closed
        closed = DisputeClosed(
            order_id=pointed,
            payment_intent_id=dispute.payment_intent,
            dispute_id=dispute.id,
            amount=amount,
            status=status,
            closed_at=at,
            # Lost: Stripe keeps its fee, whatever the dispute lists.
            fee_returned=charged.returned if status is DisputeStatus.WON else Money(amount=0, currency=amount.currency),
        )
        publish([new_event(DisputeClosed.DETAIL_TYPE, f"DisputeClosed#{dispute.id}", closed)])
        outcome = f"dispute closed: {status.value}"
    return Handled(outcome=outcome, order_id=pointed, payment_intent_id=dispute.payment_intent)
