"""Refunds racing for the same payment (issue 10, finding 8): whatever orders asks, payments never
refunds more than was taken, because the amount is set aside on the payment record (a conditional
write) before Stripe is called."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from common.contracts import CreatePaymentIntentInput, RefundInput
from common.money import Money
from local.aws import MotoServer, client
from payments import logic
from payments.errors import PaymentRejected
from payments.store import PaymentsStore
from tests.fakes import FakeCallbacks
from tests.template import set_environment

from .conftest import FakeGateway, create_payments_table

ORDER = "o_01jrefundrace00000000000000"


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def given_paid(store: PaymentsStore, gateway: FakeGateway, amount: int = 1000) -> None:
    ref = logic.create_intent(store, gateway, CreatePaymentIntentInput(order_id=ORDER, amount=eur(amount)))
    gateway.succeed(ref.payment_intent_id)
    assert logic.decide(store, FakeCallbacks(), ORDER, logic.SUCCEEDED, "paid")


def full_refund(refund_id: str) -> RefundInput:
    return RefundInput(order_id=ORDER, refund_id=refund_id, amount=None, reason="return")


class LockedGateway(FakeGateway):
    """The fake gateway, safe to call from several threads, remembering each refund it made."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.made: list[str] = []
        self.refuse = False

    def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]:
        with self.lock:
            if self.refuse:
                raise PaymentRejected("Stripe refused the request: charge_disputed")
            made = super().refund(payment_intent_id, amount, refund_key, order_id)
            self.made.append(refund_key)
            return made


def test_a_second_full_refund_while_the_first_is_at_stripe_is_refused(store: PaymentsStore) -> None:
    # Given a payment of 10.00, and Stripe that, while making a first full refund, sees a second one
    # (another refund id) asked
    inner: list[Any] = []

    class Racing(LockedGateway):
        def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]:
            if not inner:
                inner.append("asked")
                try:
                    inner.append(logic.refund(store, self, full_refund("r_second")))
                except PaymentRejected as refused:
                    inner.append(refused)
            return super().refund(payment_intent_id, amount, refund_key, order_id)

    gateway = Racing()
    given_paid(store, gateway)

    # When the first completes
    first = logic.refund(store, gateway, full_refund("r_first"))

    # Then the second was refused before Stripe saw it, and exactly the payment was refunded
    assert isinstance(inner[1], PaymentRejected)
    assert gateway.made == [f"{ORDER}-r_first"]
    assert (first.amount, first.refunded_total) == (eur(1000), eur(1000))


def test_a_refund_stripe_refused_gives_its_amount_back(store: PaymentsStore) -> None:
    # Given a full refund Stripe refused
    gateway = LockedGateway()
    given_paid(store, gateway)
    gateway.refuse = True
    with pytest.raises(PaymentRejected):
        logic.refund(store, gateway, full_refund("r_refused"))

    # When another is asked once Stripe takes it
    gateway.refuse = False
    made = logic.refund(store, gateway, full_refund("r_again"))

    # Then all of the payment could still be refunded
    assert made.refunded_total == eur(1000)


def test_a_refund_retried_after_its_amount_was_set_aside_carries_on(
    store: PaymentsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a refund whose first attempt died after setting its amount aside, before Stripe answered
    gateway = LockedGateway()
    given_paid(store, gateway)
    real_refund = LockedGateway.refund
    failures = iter([TimeoutError("the Lambda timed out")])

    def flaky(self: LockedGateway, *args: Any) -> dict[str, Any]:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_refund(self, *args)

    monkeypatch.setattr(LockedGateway, "refund", flaky)
    with pytest.raises(TimeoutError):
        logic.refund(store, gateway, RefundInput(order_id=ORDER, refund_id="r1", amount=eur(400), reason="x"))

    # When the task is retried, and another refund asks for more than the rest
    retried = logic.refund(store, gateway, RefundInput(order_id=ORDER, refund_id="r1", amount=eur(400), reason="x"))
    with pytest.raises(PaymentRejected):
        logic.refund(store, gateway, RefundInput(order_id=ORDER, refund_id="r2", amount=eur(601), reason="x"))

    # Then the retry refunded its 4.00 once, and only the 6.00 left remain to refund
    assert (retried.amount, retried.refunded_total) == (eur(400), eur(400))
    assert gateway.made == [f"{ORDER}-r1"]
    assert logic.refund(store, gateway, full_refund("r3")).amount == eur(600)


RACERS = 10


@pytest.fixture
def server_store(server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> PaymentsStore:
    """The template's PaymentsTable under a name of its own on the shared moto server."""
    set_environment(monkeypatch)
    dynamodb = client("dynamodb", server.endpoint)
    table = create_payments_table(dynamodb, f"payments-refund-race-{threading.get_ident()}")
    return PaymentsStore(table, client=dynamodb)


def test_parallel_full_refunds_refund_the_payment_once(server_store: PaymentsStore) -> None:
    # Given a payment of 10.00 (moto in server mode: real concurrency)
    gateway = LockedGateway()
    given_paid(server_store, gateway)
    go = threading.Barrier(RACERS)

    def attempt(i: int) -> str:
        go.wait()
        try:
            logic.refund(server_store, gateway, full_refund(f"r_race_{i}"))
        except PaymentRejected:
            return "refused"
        return "refunded"

    # When ten full refunds under different ids run at once
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = Counter(pool.map(attempt, range(RACERS)))

    # Then one was made at Stripe, the others refused, and the record adds up to the payment
    assert outcomes == {"refunded": 1, "refused": RACERS - 1}
    assert len(gateway.made) == 1
    record = server_store.payment(ORDER)
    assert record is not None
    assert sum(r.amount for r in record.refunds.values()) == 1000
