"""Cancelling while Stripe is down (issue 10, finding 1): the outcome `canceled` is written only once
Stripe confirmed the cancel, a customer's cancel is handed to the workflow's compensation (which retries
for hours), and a payment made meanwhile is refunded, never kept."""

import pytest

from common.contracts import (
    AwaitPaymentInput,
    CancelPaymentInput,
    CancelPaymentResult,
    CreatePaymentIntentInput,
    PaymentIntentRef,
)
from common.money import Money
from payments import logic
from payments.errors import PaymentProviderUnavailable
from payments.store import PaymentsStore
from tests.fakes import FakeCallbacks

from .conftest import FakeGateway

ORDER = "o_01jcancelfaults00000000000"
EUR = "EUR"


def waiting_for_payment(store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks) -> PaymentIntentRef:
    task = CreatePaymentIntentInput(order_id=ORDER, amount=Money(amount=4000, currency=EUR))
    ref = logic.create_intent(store, gateway, task)
    logic.await_payment(store, callbacks, AwaitPaymentInput(order_id=ORDER, task_token="token-1"))
    return ref


def customer_cancel(store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks) -> CancelPaymentResult:
    task = CancelPaymentInput(order_id=ORDER, reason="changed my mind", refund_if_paid=False)
    return logic.cancel(store, gateway, callbacks, task)


def compensate(store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks) -> CancelPaymentResult:
    task = CancelPaymentInput(order_id=ORDER, reason="cancelled by the customer", refund_if_paid=True)
    return logic.cancel(store, gateway, callbacks, task)


def test_a_customer_cancel_during_an_outage_decides_nothing_and_wakes_the_workflow(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given a workflow waiting for the payment, and Stripe down
    waiting_for_payment(store, gateway, callbacks)
    gateway.unavailable = True

    # When the customer cancels
    result = customer_cancel(store, gateway, callbacks)

    # Then no outcome is recorded (a payment may still come), the request is, and the waiting step is
    # failed with CancelRequested so that the compensation (with its long retries) takes over
    assert (result.cancelled, result.pending, result.refunded) == (False, True, None)
    record = store.payment(ORDER)
    assert record is not None and record.outcome is None and record.cancel_requested == "changed my mind"
    assert callbacks.failed == [("token-1", "CancelRequested", "changed my mind")]


def test_the_compensation_retries_while_stripe_is_down_and_refunds_a_payment_made_meanwhile(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given a customer's cancel that Stripe could not confirm
    ref = waiting_for_payment(store, gateway, callbacks)
    gateway.unavailable = True
    customer_cancel(store, gateway, callbacks)

    # When the compensation runs while Stripe is still down, it fails retryably and writes nothing
    with pytest.raises(PaymentProviderUnavailable):
        compensate(store, gateway, callbacks)
    record = store.payment(ORDER)
    assert record is not None and record.outcome is None

    # And when Stripe is back after the customer paid anyway (the webhook recorded it)
    gateway.unavailable = False
    gateway.succeed(ref.payment_intent_id)
    logic.decide(store, callbacks, ORDER, logic.SUCCEEDED, "paid")
    result = compensate(store, gateway, callbacks)

    # Then the whole payment is refunded: the shop keeps nothing of a cancelled order
    assert (result.cancelled, result.refunded) == (True, Money(amount=4000, currency=EUR))
    assert [r["amount"] for r in gateway.refunds.values()] == [4000]


def test_a_payment_the_webhook_has_not_reported_yet_is_refunded_by_the_compensation(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given a cancel Stripe could not confirm, and a payment made at Stripe that we have not heard of
    ref = waiting_for_payment(store, gateway, callbacks)
    gateway.unavailable = True
    customer_cancel(store, gateway, callbacks)
    gateway.unavailable = False
    gateway.succeed(ref.payment_intent_id)

    # When the compensation retries
    result = compensate(store, gateway, callbacks)

    # Then Stripe's refusal to cancel a paid PaymentIntent leads to a refund, and the payment is recorded
    assert result.refunded == Money(amount=4000, currency=EUR)
    record = store.payment(ORDER)
    assert record is not None and record.outcome == logic.SUCCEEDED


def test_the_outcome_canceled_is_written_once_stripe_confirmed(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given a cancel Stripe could not confirm
    ref = waiting_for_payment(store, gateway, callbacks)
    gateway.unavailable = True
    customer_cancel(store, gateway, callbacks)

    # When Stripe is back and the compensation runs
    gateway.unavailable = False
    result = compensate(store, gateway, callbacks)

    # Then the PaymentIntent is cancelled at Stripe first, then the outcome recorded
    assert (result.cancelled, result.refunded) == (True, None)
    assert gateway.intents[ref.payment_intent_id]["status"] == "canceled"
    record = store.payment(ORDER)
    assert record is not None and record.outcome == logic.CANCELED


def test_a_cancel_requested_before_the_wait_began_fails_the_wait_at_once(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given the PaymentIntent exists, Stripe is down, and the customer cancelled before the wait began
    logic.create_intent(
        store, gateway, CreatePaymentIntentInput(order_id=ORDER, amount=Money(amount=4000, currency=EUR))
    )
    gateway.unavailable = True
    assert customer_cancel(store, gateway, callbacks).pending

    # When the workflow reaches the wait
    logic.await_payment(store, callbacks, AwaitPaymentInput(order_id=ORDER, task_token="token-2"))

    # Then the wait ends at once, so the compensation runs
    assert callbacks.failed == [("token-2", "CancelRequested", "changed my mind")]
