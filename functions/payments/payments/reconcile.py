"""Reconciliation: what Stripe holds against what the orders say, for the PaymentIntents of a window.

The saga and the webhook keep money and orders in step; this job is the net under them. For every
PaymentIntent created in the window that names one of our orders (`metadata.orderId`):

- a payment taken for an order that is CANCELLED, REJECTED or unknown, and not refunded in full, is
  refunded (the rest of it) at Stripe: the money of an order that will not be fulfilled is never kept;
- an order that says money was taken (PAID, SHIPPED, refunded in part or whole) whose PaymentIntent did
  not succeed, whose amount differs from its total, or whose refunds differ from Stripe's, and a payment
  that its order does not explain, are flagged for staff (`AttentionRequested`, which orders turns into
  the order's attention flag);
- everything else is fine, and only counted.

Stripe is the truth about money, the orders domain (asked through its `OrderStatesFunction`, never its
table) the truth about orders. Before acting, the job reads again what it acts on (the refunds of the
PaymentIntent; the order for a refund mismatch), so a refund in flight is not taken for a difference.
Runs overlap (25 hours, hourly): a payment refunded by one run is refunded in full for the next, which
does nothing; Stripe's idempotency key (derived from the PaymentIntent and the amount) covers a retry
of the same call. Each run is recorded (`GET /admin/reconciliation`)."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from common.contracts import MAX_ORDER_STATES, AttentionRequested, OrderState
from common.dynamo import Key, Page
from common.events import DomainEvent, new_event
from common.ids import new_id
from common.money import Money
from payments.errors import PaymentProviderUnavailable, PaymentRejected
from payments.models import (
    DEFAULT_WINDOW,
    MAX_RECORDED_FINDINGS,
    Action,
    Kind,
    Outcome,
    ReconcileInput,
    ReconciliationCounts,
    ReconciliationFinding,
    ReconciliationRun,
    RefundEntry,
)
from payments.ports import Orders, Publisher, StripeLedger
from payments.store import PaymentsStore

SUCCEEDED = Outcome.SUCCEEDED
UNWANTED = {"CANCELLED": "cancelled", "REJECTED": "rejected"}
MONEY_TAKEN = frozenset({"PAID", "SHIPPED", "PARTIALLY_REFUNDED", "REFUNDED"})
IN_FLIGHT = frozenset({"PENDING", "AWAITING_PAYMENT"})
REFUND_COUNTS = frozenset({"succeeded", "pending", "requires_action"})
"""Refund statuses whose money has left us, or is leaving (a failed or canceled refund gave nothing back)."""


# ---------------------------------------------------------------- the run


@dataclass
class _Intent:
    """A PaymentIntent as reconciliation reads it."""

    id: str
    order_id: str
    status: str
    received: int
    currency: str
    created: datetime
    refunded: int | None = field(default=None, repr=False)
    """From the expanded latest charge; None when the provider did not expand it (then ask Stripe)."""

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Self | None:
        order_id = (raw.get("metadata") or {}).get("orderId")
        if not isinstance(order_id, str) or not order_id or not isinstance(raw.get("id"), str):
            return None  # not one of ours (another integration on the same Stripe account)
        charge = raw.get("latest_charge")
        if isinstance(charge, dict):
            refunded: int | None = int(charge.get("amount_refunded") or 0)
        else:  # never charged: nothing refunded; an id only (not expanded): ask for the refunds
            refunded = 0 if "latest_charge" in raw and charge is None else None
        received = raw.get("amount_received")
        return cls(
            id=raw["id"],
            order_id=order_id,
            status=str(raw.get("status", "")),
            received=int(received if received is not None else raw.get("amount") or 0),
            currency=str(raw.get("currency", "")).upper(),
            created=datetime.fromtimestamp(int(raw.get("created") or 0), UTC),
            refunded=refunded,
        )

    def money(self, amount: int) -> Money | None:
        return Money(amount=amount, currency=self.currency) if len(self.currency) == 3 else None


@dataclass
class Reconciliation:
    """One run's collaborators and what it found so far."""

    store: PaymentsStore
    stripe: StripeLedger
    orders: Orders
    now: datetime
    grace: timedelta
    findings: list[ReconciliationFinding] = field(default_factory=list)
    flags: list[DomainEvent] = field(default_factory=list)

    def run(self, since: datetime, until: datetime) -> ReconciliationRun:
        started = self.now
        listed = [i for raw in self.stripe.list_intents(_unix(since), _unix(until)) if (i := _Intent.of(raw))]
        by_id = {intent.id: intent for intent in listed}
        order_ids = list(dict.fromkeys(intent.order_id for intent in listed))
        states = self._states(order_ids)
        for intent in listed:
            if intent.status == SUCCEEDED:
                self._payment(intent, states.get(intent.order_id))
        for order_id in order_ids:
            state = states.get(order_id)
            if state is not None and state.status in MONEY_TAKEN:
                self._order(state, by_id)
        counts = ReconciliationCounts(
            payment_intents=len(listed),
            succeeded=sum(1 for i in listed if i.status == SUCCEEDED),
            orders=len(order_ids),
            ok=len(listed) - len({f.payment_intent_id for f in self.findings} & set(by_id)),
            refunded=sum(1 for f in self.findings if f.action is Action.REFUNDED),
            flagged=sum(1 for f in self.findings if f.action is Action.FLAGGED),
            failed=sum(1 for f in self.findings if f.action is Action.REFUND_FAILED),
        )
        return ReconciliationRun(
            run_id=new_id("rcn"),
            started_at=started,
            finished_at=datetime.now(UTC),
            since=since,
            until=until,
            counts=counts,
            findings=self.findings[:MAX_RECORDED_FINDINGS],
            findings_truncated=len(self.findings) > MAX_RECORDED_FINDINGS,
        )

    def _states(self, order_ids: list[str]) -> dict[str, OrderState]:
        states: dict[str, OrderState] = {}
        for chunk in _chunks(order_ids, MAX_ORDER_STATES):
            states |= {state.order_id: state for state in self.orders.states(chunk).items}
        return states

    # ------------------------------------------------------------ a payment Stripe took

    def _payment(self, intent: _Intent, state: OrderState | None) -> None:
        if state is None or state.status in UNWANTED:
            kind = (
                Kind.PAID_FOR_UNKNOWN_ORDER
                if state is None
                else Kind(f"paid_for_{UNWANTED[state.status]}_order")  # CANCELLED or REJECTED
            )
            self._refund_rest(intent, kind, known=state is not None)
            return
        if state.payment_intent_id not in (None, intent.id):
            if self._refunded(intent) < intent.received:
                self._flag(
                    intent,
                    Kind.UNEXPECTED_PAYMENT,
                    f"a second payment for order {state.order_id}, which names {state.payment_intent_id}",
                    intent.money(intent.received - self._refunded(intent)),
                )
            return
        if state.status in IN_FLIGHT and intent.created < self.now - self.grace:
            self._flag(
                intent,
                Kind.PAYMENT_NOT_APPLIED,
                f"paid at Stripe, the order is still {state.status} after {self.grace}",
                intent.money(intent.received),
            )

    def _refund_rest(self, intent: _Intent, kind: Kind, *, known: bool) -> None:
        """Refund what is left of a payment whose order will not be fulfilled. The refunds are read again
        first (Stripe's own list); the key is the PaymentIntent's and the amount's, so a retried call is
        answered, not repeated."""
        refunded = _refunded_total(self.stripe.list_refunds(intent.id))
        rest = intent.received - refunded
        if rest <= 0:
            return  # refunded in full already: fine
        why = f"reconciliation: the order is {kind.value.removeprefix('paid_for_').removesuffix('_order')}"
        try:
            made = self.stripe.refund(intent.id, rest, f"reconcile-{intent.id}-{rest}", intent.order_id)
        except PaymentProviderUnavailable as error:
            self._note(
                intent, kind, Action.REFUND_FAILED, f"{why}; Stripe unavailable, next run retries: {error}", rest
            )
            return
        except PaymentRejected as error:
            detail = f"{why}; Stripe refused the refund: {error}"
            self._note(intent, kind, Action.REFUND_FAILED, detail, rest)
            if known:
                self._request_attention(intent.order_id, intent.id, kind, detail)
            return
        self._record_refund(intent, made, why)
        self._note(intent, kind, Action.REFUNDED, why, int(made.get("amount") or rest))

    def _record_refund(self, intent: _Intent, made: dict[str, Any], why: str) -> None:
        """Keep the refund in the payment record's `refunds`, as `logic.refund` does, when the record is
        this PaymentIntent's: later refunds of the order then see what is left."""
        payment = self.store.payment(intent.order_id)
        if payment is None or payment.payment_intent_id != intent.id:
            return
        entry = RefundEntry(provider_refund_id=made["id"], amount=int(made.get("amount") or 0), reason=why)
        self.store.record_refund(intent.order_id, f"reconcile-{made['id']}", entry)

    # ------------------------------------------------------------ an order that says money was taken

    def _order(self, state: OrderState, by_id: dict[str, _Intent]) -> None:
        own = self._own_intent(state, by_id)
        if own is None or own.status != SUCCEEDED:
            status = own.status if own else "not found at Stripe"
            detail = f"the order is {state.status}, its PaymentIntent {state.payment_intent_id} is {status}"
            self._flag_order(state, own, Kind.PAID_WITHOUT_PAYMENT, detail, state.total)
            return
        if own.received != state.total.amount or own.currency != state.total.currency:
            detail = f"Stripe took {own.received} {own.currency}, the order's total is {state.total.amount}"
            self._flag_order(state, own, Kind.AMOUNT_DIFFERS, detail, own.money(own.received))
            return
        if self._refunded(own) == state.refunded_total.amount:
            return
        # A refund may be on its way into the order's record: read both sides again before saying so.
        stripe_refunded = _refunded_total(self.stripe.list_refunds(own.id))
        fresh = self._states([state.order_id]).get(state.order_id, state)
        if stripe_refunded != fresh.refunded_total.amount:
            detail = f"Stripe refunded {stripe_refunded}, the order records {fresh.refunded_total.amount}"
            self._flag_order(
                state, own, Kind.REFUNDS_DIFFER, detail, own.money(abs(stripe_refunded - fresh.refunded_total.amount))
            )

    def _own_intent(self, state: OrderState, by_id: dict[str, _Intent]) -> _Intent | None:
        if not state.payment_intent_id:
            return None
        if state.payment_intent_id in by_id:
            return by_id[state.payment_intent_id]
        try:  # created before the window, or not one Stripe knows
            return _Intent.of(self.stripe.retrieve_intent(state.payment_intent_id))
        except PaymentRejected:
            return None

    def _flag_order(
        self, state: OrderState, own: _Intent | None, kind: Kind, detail: str, amount: Money | None
    ) -> None:
        intent_id = own.id if own else state.payment_intent_id
        self.findings.append(
            ReconciliationFinding(
                payment_intent_id=intent_id,
                order_id=state.order_id,
                kind=kind,
                action=Action.FLAGGED,
                amount=amount,
                detail=detail[:500],
            )
        )
        self._request_attention(state.order_id, intent_id, kind, detail)

    # ------------------------------------------------------------ building blocks

    def _refunded(self, intent: _Intent) -> int:
        if intent.refunded is None:
            intent.refunded = _refunded_total(self.stripe.list_refunds(intent.id))
        return intent.refunded

    def _flag(self, intent: _Intent, kind: Kind, detail: str, amount: Money | None) -> None:
        self.findings.append(
            ReconciliationFinding(
                payment_intent_id=intent.id,
                order_id=intent.order_id,
                kind=kind,
                action=Action.FLAGGED,
                amount=amount,
                detail=detail[:500],
            )
        )
        self._request_attention(intent.order_id, intent.id, kind, detail)

    def _note(self, intent: _Intent, kind: Kind, action: Action, detail: str, amount: int) -> None:
        self.findings.append(
            ReconciliationFinding(
                payment_intent_id=intent.id,
                order_id=intent.order_id,
                kind=kind,
                action=action,
                amount=intent.money(amount),
                detail=detail[:500],
            )
        )

    def _request_attention(self, order_id: str, intent_id: str | None, kind: Kind, detail: str) -> None:
        """One flag per order, kind and PaymentIntent: the same finding in the next run has the same
        event id, so orders applies it once."""
        data = AttentionRequested(
            order_id=order_id[:64],
            reason=f"{kind.value}: {detail}"[:500],
            source="reconciliation",
            payment_intent_id=intent_id,
        )
        event_id = f"AttentionRequested#{order_id}#reconciliation#{kind.value}#{intent_id or '-'}"
        self.flags.append(new_event(AttentionRequested.DETAIL_TYPE, event_id, data))


def reconcile(
    store: PaymentsStore,
    stripe: StripeLedger,
    orders: Orders,
    publish: Publisher,
    task: ReconcileInput,
    *,
    now: datetime | None = None,
    grace: timedelta = timedelta(hours=1),
    window: timedelta = DEFAULT_WINDOW,
) -> tuple[ReconciliationRun, list[ReconciliationFinding]]:
    """Reconcile the PaymentIntents created in the task's window (default: the `window` up to now):
    refund what must not be kept, flag what staff must look at, record the run, then publish the flags.
    Answers the run as recorded and every finding (the record keeps the first `MAX_RECORDED_FINDINGS`).
    The run is recorded before the flags are published, so a failed publish (raised: the scheduler
    retries) leaves the record of what was done."""
    at = now or datetime.now(UTC)
    since, until = task.window(at, window)
    reconciliation = Reconciliation(store=store, stripe=stripe, orders=orders, now=at, grace=grace)
    run = reconciliation.run(since, until)
    store.save_run(run)
    if reconciliation.flags:
        publish(reconciliation.flags)
    return run, reconciliation.findings


def latest_runs(store: PaymentsStore, *, start_key: Key | None, limit: int) -> Page[ReconciliationRun]:
    """The recorded runs, newest first, resumed after `start_key` (a page's `next_key`)."""
    return store.runs(start_key=start_key, limit=limit)


def _refunded_total(refunds: Iterable[dict[str, Any]]) -> int:
    return sum(int(r.get("amount") or 0) for r in refunds if r.get("status", "succeeded") in REFUND_COUNTS)


def _unix(at: datetime) -> int:
    return int(at.timestamp())


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
