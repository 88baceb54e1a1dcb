"""`payments.logic` on the real table (moto) with fakes of our own ports: the Gateway (Stripe) and the
workflow's Callbacks. One test talks to localstripe through the official library, when it is installed."""

import time
from typing import Any

import pytest

from common.contracts import (
    AwaitPaymentInput,
    CancelPaymentInput,
    CreatePaymentIntentInput,
    PaymentIntentRef,
    RefundInput,
)
from common.money import Money
from local.stripe import SECRET_KEY, pay
from payments import logic, tasks
from payments.errors import PaymentCanceled, PaymentProviderUnavailable, PaymentRejected
from payments.gateway import StripeGateway
from payments.store import PaymentsStore
from tests.fakes import FakeCallbacks
from tests.integration.conftest import free_port
from tests.template import function_environment

from .conftest import FakeGateway

ORDER = "o_01jlogictest000000000000000"
EUR = "EUR"


def eur(amount: int) -> Money:
    return Money(amount=amount, currency=EUR)


def create(store: PaymentsStore, gateway: FakeGateway, amount: int = 1000) -> PaymentIntentRef:
    return logic.create_intent(store, gateway, CreatePaymentIntentInput(order_id=ORDER, amount=eur(amount)))


def given_paid(store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks, amount: int = 1000) -> str:
    """An order whose PaymentIntent succeeded and whose outcome is recorded; its PaymentIntent id."""
    ref = create(store, gateway, amount)
    gateway.succeed(ref.payment_intent_id)
    assert logic.decide(store, callbacks, ORDER, logic.SUCCEEDED, "paid")
    return ref.payment_intent_id


def refund(store: PaymentsStore, gateway: FakeGateway, refund_id: str, amount: int | None) -> Any:
    task = RefundInput(
        order_id=ORDER, refund_id=refund_id, amount=None if amount is None else eur(amount), reason="return"
    )
    return logic.refund(store, gateway, task)


# ---------------------------------------------------------------- CreatePaymentIntent


def test_a_retried_create_answers_the_same_intent(store: PaymentsStore, gateway: FakeGateway) -> None:
    # Given the step created the order's PaymentIntent
    first = create(store, gateway)

    # When the step is retried
    second = create(store, gateway)

    # Then Stripe was asked to create once, and both answers name the same PaymentIntent
    assert gateway.calls["create_intent"] == 1
    assert second == first
    assert first.amount == eur(1000)
    record = store.payment(ORDER)
    assert record is not None and record.payment_intent_id == first.payment_intent_id


def test_no_intent_is_created_after_the_customer_cancelled(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given the customer cancelled before the payment step ran
    result = logic.cancel(
        store, gateway, callbacks, CancelPaymentInput(order_id=ORDER, reason="changed my mind", refund_if_paid=False)
    )
    assert result.cancelled

    # When the payment step runs
    with pytest.raises(PaymentCanceled):
        create(store, gateway)

    # Then Stripe was never asked for a PaymentIntent
    assert gateway.calls["create_intent"] == 0


def test_the_losing_create_of_a_race_cancels_its_extra_intent(store: PaymentsStore, gateway: FakeGateway) -> None:
    # Given another attempt attaches its own PaymentIntent while this one is talking to Stripe
    winner: dict[str, Any] = {}

    def concurrent_attempt(order_id: str) -> None:
        winner.update(gateway.new_intent(order_id, eur(1000)))
        assert store.attach_intent(order_id, winner["id"], 1000, EUR) is not None

    gateway.on_create = concurrent_attempt

    # When this attempt finishes
    ref = create(store, gateway)

    # Then it answers the winner's PaymentIntent, and the extra one it made is cancelled at Stripe
    assert ref.payment_intent_id == winner["id"]
    extra = [i for i in gateway.intents.values() if i["id"] != winner["id"]]
    assert [i["status"] for i in extra] == ["canceled"]
    assert gateway.intents[winner["id"]]["status"] == "requires_payment_method"
    assert gateway.calls["cancel_intent"] == 1


def test_the_losing_create_of_a_race_leaves_a_shared_intent_alone(store: PaymentsStore, gateway: FakeGateway) -> None:
    # Given another attempt of the same step creates (same idempotency key, so Stripe answers the same
    # PaymentIntent) and attaches it while this attempt is talking to Stripe
    def concurrent_attempt(order_id: str) -> None:
        intent = gateway.create_intent(order_id, eur(1000), None)
        assert store.attach_intent(order_id, intent["id"], 1000, EUR) is not None

    gateway.on_create = concurrent_attempt

    # When this attempt finishes
    ref = create(store, gateway)

    # Then the PaymentIntent the order keeps can still be paid
    assert gateway.intents[ref.payment_intent_id]["status"] != "canceled"


def test_stripe_unavailable_is_retryable_and_writes_nothing(store: PaymentsStore, gateway: FakeGateway) -> None:
    # Given Stripe cannot be reached
    gateway.unavailable = True

    # When the step runs
    with pytest.raises(PaymentProviderUnavailable):
        create(store, gateway)

    # Then the error is the one the workflow retries, and no record claims a PaymentIntent
    assert store.payment(ORDER) is None


# ---------------------------------------------------------------- AwaitPayment and the verdict


def test_a_verdict_before_the_token_resumes_the_workflow_at_once(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given the webhook recorded the success before the workflow reached AwaitPayment
    ref = create(store, gateway, 2500)
    assert logic.decide(store, callbacks, ORDER, logic.SUCCEEDED, "paid")
    assert callbacks.succeeded == []  # nobody was waiting yet

    # When AwaitPayment stores its token
    logic.await_payment(store, callbacks, AwaitPaymentInput(order_id=ORDER, task_token="token-1"))

    # Then the workflow is resumed right away with the payment
    assert callbacks.succeeded == [
        ("token-1", {"orderId": ORDER, "paymentIntentId": ref.payment_intent_id, "amountReceived": 2500})
    ]
    assert callbacks.failed == []


def test_a_decline_before_the_token_fails_the_step_at_once(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given the webhook recorded a decline first
    create(store, gateway)
    assert logic.decide(store, callbacks, ORDER, logic.FAILED, "Your card was declined.")

    # When AwaitPayment stores its token
    logic.await_payment(store, callbacks, AwaitPaymentInput(order_id=ORDER, task_token="token-1"))

    # Then the step fails with the error the workflow catches
    assert callbacks.failed == [("token-1", "PaymentFailed", "Your card was declined.")]


def test_a_waiting_workflow_is_resumed_when_the_verdict_comes(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given the workflow waits
    create(store, gateway)
    logic.await_payment(store, callbacks, AwaitPaymentInput(order_id=ORDER, task_token="token-1"))
    assert (callbacks.succeeded, callbacks.failed) == ([], [])

    # When the verdict comes
    logic.decide(store, callbacks, ORDER, logic.SUCCEEDED, "paid")

    # Then the waiting step is resumed
    assert [token for token, _ in callbacks.succeeded] == ["token-1"]


def test_a_payment_is_decided_once(store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks) -> None:
    # Given a waiting workflow
    create(store, gateway)
    logic.await_payment(store, callbacks, AwaitPaymentInput(order_id=ORDER, task_token="token-1"))

    # When the payment is decided twice, the second time differently
    first = logic.decide(store, callbacks, ORDER, logic.SUCCEEDED, "paid")
    second = logic.decide(store, callbacks, ORDER, logic.FAILED, "declined")

    # Then only the first counts, and the workflow was resumed once
    assert (first, second) == (True, False)
    record = store.payment(ORDER)
    assert record is not None and record.outcome == logic.SUCCEEDED
    assert len(callbacks.succeeded) == 1 and callbacks.failed == []


# ---------------------------------------------------------------- CancelPayment


def test_a_customer_cancel_of_an_unpaid_order_cancels_the_intent(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given an unpaid PaymentIntent and a workflow waiting on it
    ref = create(store, gateway)
    logic.await_payment(store, callbacks, AwaitPaymentInput(order_id=ORDER, task_token="token-1"))

    # When the customer cancels
    task = CancelPaymentInput(order_id=ORDER, reason="changed my mind", refund_if_paid=False)
    result = logic.cancel(store, gateway, callbacks, task)

    # Then the payment is cancelled, at Stripe too, and the waiting step is told
    assert (result.cancelled, result.refunded) == (True, None)
    assert gateway.intents[ref.payment_intent_id]["status"] == "canceled"
    assert callbacks.failed == [("token-1", "PaymentCanceled", "changed my mind")]


def test_a_customer_cancel_leaves_a_taken_payment_alone(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given a payment that succeeded
    given_paid(store, gateway, callbacks)

    # When the customer's cancellation asks payments to cancel without refunding
    task = CancelPaymentInput(order_id=ORDER, reason="too late", refund_if_paid=False)
    result = logic.cancel(store, gateway, callbacks, task)

    # Then nothing is cancelled and nothing refunded: the shipment step undoes it
    assert (result.cancelled, result.refunded) == (False, None)
    assert gateway.calls["refund"] == 0 and gateway.calls["cancel_intent"] == 0
    record = store.payment(ORDER)
    assert record is not None and record.outcome == logic.SUCCEEDED and not record.refunds


def test_a_compensation_refunds_the_rest_of_a_taken_payment_once(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given a payment of 10.00 that succeeded, of which 3.00 were refunded already
    given_paid(store, gateway, callbacks)
    refund(store, gateway, "r_partial", 300)

    # When the workflow's compensation cancels the payment, and is retried
    task = CancelPaymentInput(order_id=ORDER, reason="could not commit stock", refund_if_paid=True)
    first = logic.cancel(store, gateway, callbacks, task)
    second = logic.cancel(store, gateway, callbacks, task)

    # Then the remaining 7.00 were refunded, once
    assert (first.cancelled, first.refunded) == (True, eur(700))
    assert second == first
    assert gateway.calls["refund"] == 2  # the partial one and the rest
    assert sorted(r["amount"] for r in gateway.refunds.values()) == [300, 700]


def test_paid_while_cancelling_is_refunded_by_a_compensation(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given the customer paid at Stripe, but the webhook has not told us yet
    ref = create(store, gateway)
    gateway.succeed(ref.payment_intent_id)

    # When a compensation cancels the payment
    task = CancelPaymentInput(order_id=ORDER, reason="stock gone", refund_if_paid=True)
    result = logic.cancel(store, gateway, callbacks, task)

    # Then Stripe refused the cancel, so the money taken was refunded in full
    assert (result.cancelled, result.refunded) == (True, eur(1000))
    assert [r["amount"] for r in gateway.refunds.values()] == [1000]


# ---------------------------------------------------------------- RefundPayment


def test_refunds_partial_then_rest_and_never_more(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given a payment of 10.00 that succeeded
    given_paid(store, gateway, callbacks)

    # When 4.00 are refunded, then more than the rest is asked, then the rest
    partial = refund(store, gateway, "r1", 400)
    with pytest.raises(PaymentRejected):
        refund(store, gateway, "r2", 700)
    rest = refund(store, gateway, "r3", None)

    # Then the partial and the rest were made, the over-refund was refused before Stripe saw it
    assert (partial.amount, partial.refunded_total) == (eur(400), eur(400))
    assert (rest.amount, rest.refunded_total) == (eur(600), eur(1000))
    assert gateway.calls["refund"] == 2
    # And nothing is left to refund
    with pytest.raises(PaymentRejected):
        refund(store, gateway, "r4", 1)


def test_a_refund_in_another_currency_is_rejected(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given a payment in EUR
    given_paid(store, gateway, callbacks)

    # When a refund in USD is asked
    task = RefundInput(order_id=ORDER, refund_id="r1", amount=Money(amount=100, currency="USD"), reason="x")
    with pytest.raises(PaymentRejected):
        logic.refund(store, gateway, task)

    # Then Stripe was not asked
    assert gateway.calls["refund"] == 0


def test_a_retried_refund_is_answered_not_repeated(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks
) -> None:
    # Given a refund that was made and recorded
    given_paid(store, gateway, callbacks)
    first = refund(store, gateway, "r1", 250)

    # When the task is retried with the same refund id
    second = refund(store, gateway, "r1", 250)

    # Then the answer is the same refund, and Stripe was asked once
    assert second == first
    assert gateway.calls["refund"] == 1


def test_a_refund_retried_before_its_write_has_one_effect(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the first attempt's write fails after Stripe made the refund
    given_paid(store, gateway, callbacks)
    real_record = PaymentsStore.record_refund
    failures = iter([RuntimeError("the Lambda timed out")])

    def flaky(self: PaymentsStore, *args: Any) -> Any:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_record(self, *args)

    monkeypatch.setattr(PaymentsStore, "record_refund", flaky)
    with pytest.raises(RuntimeError):
        refund(store, gateway, "r1", 250)

    # When the task is retried
    result = refund(store, gateway, "r1", 250)

    # Then Stripe was asked twice under one idempotency key, so one refund exists, and it is recorded
    assert gateway.calls["refund"] == 2
    assert len(gateway.refunds) == 1
    assert (result.amount, result.refunded_total) == (eur(250), eur(250))


# ---------------------------------------------------------------- the deployed environment


def test_await_payment_runs_with_the_environment_the_template_gives_it(
    store: PaymentsStore, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    # Given exactly the variables the template gives AwaitPaymentFunction
    from .conftest import _template

    variables = function_environment(_template()[1], "AwaitPaymentFunction")
    monkeypatch.delenv("STRIPE_SECRET_KEY_PARAMETER", raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert variables["PAYMENTS_TABLE"] == store.table

    # When the step runs (no verdict yet, so nothing is resumed)
    answer = tasks.await_payment_handler({"orderId": ORDER, "taskToken": "token-1"}, lambda_context)

    # Then it stored the token
    assert answer == {"orderId": ORDER, "waiting": True}


# ---------------------------------------------------------------- the real library against localstripe


@pytest.fixture
def localstripe(localstripe_server: str) -> str:
    return localstripe_server


def test_the_stripe_gateway_against_localstripe(localstripe: str) -> None:
    # Given the real gateway (the official library) pointed at localstripe
    gateway = StripeGateway(SECRET_KEY, api_base=localstripe, timeout=5)
    order_id = f"o_{int(time.time() * 1000)}"

    # When a PaymentIntent is created, read back and cancelled
    created = gateway.create_intent(order_id, eur(1999), "cust-1")
    read = gateway.retrieve_intent(created["id"])
    cancelled = gateway.cancel_intent(created["id"])

    # Then Stripe's shapes come back as plain dicts with our metadata
    assert created["client_secret"] and created["amount"] == 1999 and created["currency"] == "eur"
    assert read["id"] == created["id"] and read["metadata"] == {"orderId": order_id, "customerId": "cust-1"}
    assert cancelled is not None and cancelled["status"] == "canceled"

    # And for a paid PaymentIntent: a cancel is refused (None) and refunds add up to the amount
    paid_order = f"{order_id}-paid"
    paid = gateway.create_intent(paid_order, eur(1000), None)
    assert pay(localstripe, paid_order)["status"] == "succeeded"
    assert gateway.cancel_intent(paid["id"]) is None
    first = gateway.refund(paid["id"], 400, f"{paid_order}-r1", paid_order)
    rest = gateway.refund(paid["id"], 600, f"{paid_order}-r2", paid_order)
    assert (first["amount"], rest["amount"]) == (400, 600)
    assert first["id"] != rest["id"]
    # (localstripe accepts refunds past the amount, so Stripe's refusal is covered with the fake gateway)


def test_an_unreachable_stripe_is_unavailable_quickly() -> None:
    # Given a gateway pointed at a port nobody listens on
    gateway = StripeGateway(SECRET_KEY, api_base=f"http://127.0.0.1:{free_port()}", timeout=0.5)

    # When a PaymentIntent is asked for
    started = time.monotonic()
    with pytest.raises(PaymentProviderUnavailable):
        gateway.create_intent("o_unreachable", eur(1000), None)

    # Then the error is the retryable one, within a few seconds (the library's own retries included)
    assert time.monotonic() - started < 5
