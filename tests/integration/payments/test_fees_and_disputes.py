"""Stripe's fee and net on `PaymentSucceeded` and `RefundSucceeded`, read from the balance transactions
through a fake of our own `Balances` port (on the real table, moto); what happens when they cannot be
read; and the dispute webhooks (`charge.dispute.created` / `.closed`) published as `PaymentDisputed` and
`DisputeClosed`, or refused whole when malformed."""

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel

from common.contracts import DisputeClosed, DisputeStatus, PaymentDisputed, PaymentSucceeded, RefundSucceeded
from common.events import DomainEvent
from common.money import Money
from local.stripe import event, stripe_fee
from payments import logic
from payments.errors import MalformedEvent, PaymentProviderUnavailable
from payments.models import Handled
from payments.store import PaymentsStore
from payments.stripe_events import parse_event
from payments.wiring import BALANCE_TIMEOUT_SECONDS
from tests.fakes import FakeCallbacks, FakePublisher

from .conftest import FakeGateway, WebhookWorld, webhook_environment

ORDER = "o_01jfeestest000000000000000"
INTENT = "pi_fees_1"
AMOUNT = 2500


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


@dataclass
class FakeBalances:
    """Our `Balances` port, as Stripe answers: the PaymentIntent names its latest charge, the charge its
    balance transaction; refunds have their own (fee 0: Stripe keeps its fee). `unavailable` makes every
    call raise `PaymentProviderUnavailable`; `transactions` may be edited to answer something odd."""

    unavailable: bool = False
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        fee = stripe_fee(AMOUNT)
        self.transactions["txn_charge"] = {
            "id": "txn_charge",
            "object": "balance_transaction",
            "amount": AMOUNT,
            "fee": fee,
            "net": AMOUNT - fee,
            "currency": "eur",
            "type": "charge",
        }

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.unavailable:
            raise PaymentProviderUnavailable("Stripe is unreachable (fake)")

    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]:
        self._call("retrieve_intent")
        return {"id": payment_intent_id, "object": "payment_intent", "latest_charge": "ch_fees_1"}

    def retrieve_charge(self, charge_id: str) -> dict[str, Any]:
        self._call("retrieve_charge")
        return {"id": charge_id, "object": "charge", "balance_transaction": "txn_charge"}

    def retrieve_balance_transaction(self, balance_transaction_id: str) -> dict[str, Any]:
        self._call("retrieve_balance_transaction")
        return dict(self.transactions[balance_transaction_id])

    def list_refunds(self, payment_intent_id: str) -> list[dict[str, Any]]:
        self._call("list_refunds")
        return [dict(r) for r in self.refunds]

    def refund(self, amount: int, created: int) -> None:
        """Stripe made a refund (and its balance transaction)."""
        number = len(self.refunds) + 1
        self.refunds.append(
            {
                "id": f"re_fees_{number}",
                "object": "refund",
                "amount": amount,
                "status": "succeeded",
                "created": created,
                "balance_transaction": f"txn_refund_{number}",
            }
        )
        self.transactions[f"txn_refund_{number}"] = {
            "id": f"txn_refund_{number}",
            "amount": -amount,
            "fee": 0,
            "net": -amount,
            "currency": "eur",
            "type": "refund",
        }


@pytest.fixture
def balances() -> FakeBalances:
    return FakeBalances()


@pytest.fixture
def paid_store(store: PaymentsStore) -> PaymentsStore:
    assert store.attach_intent(ORDER, INTENT, AMOUNT, "EUR") is not None
    return store


def handle(
    store: PaymentsStore, payload: dict[str, Any], balances: FakeBalances | None
) -> tuple[Handled, list[DomainEvent]]:
    publisher = FakePublisher()
    factory: Callable[[], FakeBalances] | None = (lambda: balances) if balances is not None else None
    handled = logic.process_event(
        store, FakeCallbacks(), publisher, parse_event(payload), lambda: FakeGateway(), balances=factory
    )
    return handled, publisher.events


def data[M: BaseModel](published: DomainEvent, model: type[M]) -> M:
    """What the event carries, read through its contract model."""
    assert published.detail_type == model.DETAIL_TYPE  # type: ignore[attr-defined]
    return model.model_validate(published.envelope.data)


def succeeded() -> dict[str, Any]:
    return event(
        "payment_intent.succeeded",
        {
            "id": INTENT,
            "object": "payment_intent",
            "amount": AMOUNT,
            "amount_received": AMOUNT,
            "currency": "eur",
            "status": "succeeded",
            "metadata": {"orderId": ORDER},
        },
    )


def charge_refunded(total: int) -> dict[str, Any]:
    return event(
        "charge.refunded",
        {
            "id": "ch_fees_1",
            "object": "charge",
            "payment_intent": INTENT,
            "amount": AMOUNT,
            "amount_refunded": total,
            "currency": "eur",
        },
    )


DISPUTE_FEE = 2000
"""Stripe's dispute fee in the euro area (20.00 EUR), withdrawn with the disputed amount."""


def dispute(
    kind: str,
    status: str,
    *,
    amount: int = AMOUNT,
    intent: str = INTENT,
    balance_transactions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    listed = {} if balance_transactions is None else {"balance_transactions": balance_transactions}
    return event(
        kind,
        {
            "id": "dp_fees_1",
            "object": "dispute",
            "charge": "ch_fees_1",
            "payment_intent": intent,
            "amount": amount,
            "currency": "eur",
            "reason": "fraudulent",
            "status": status,
            "created": 1795771400,
        }
        | listed,
    )


def withdrawal(*, fee: int = DISPUTE_FEE, currency: str = "eur") -> dict[str, Any]:
    """The balance transaction of a dispute's funds withdrawn, as Stripe lists it in the dispute."""
    return {
        "id": "txn_dp_out",
        "object": "balance_transaction",
        "amount": -AMOUNT,
        "fee": fee,
        "net": -AMOUNT - fee,
        "currency": currency,
        "type": "adjustment",
    }


def reinstatement(*, fee_returned: int = DISPUTE_FEE) -> dict[str, Any]:
    """The balance transaction of a dispute won: the amount back, and what Stripe gives back of its fee."""
    return {
        "id": "txn_dp_back",
        "object": "balance_transaction",
        "amount": AMOUNT,
        "fee": -fee_returned,
        "net": AMOUNT + fee_returned,
        "currency": "eur",
        "type": "adjustment",
    }


# ---------------------------------------------------------------- PaymentSucceeded


def test_a_payment_publishes_stripes_fee_and_net(paid_store: PaymentsStore, balances: FakeBalances) -> None:
    # When Stripe says the payment succeeded
    handled, published = handle(paid_store, succeeded(), balances)

    # Then PaymentSucceeded carries the fee and net of the charge's balance transaction, and which they are
    assert handled.outcome == "succeeded" and handled.fee_unknown is None
    (only,) = published
    paid = data(only, PaymentSucceeded)
    fee = stripe_fee(AMOUNT)
    assert (paid.fee, paid.net) == (eur(fee), eur(AMOUNT - fee))
    assert (paid.charge_id, paid.balance_transaction_id) == ("ch_fees_1", "txn_charge")


def test_stripe_down_for_the_fee_still_takes_the_payment_and_says_the_fee_is_unknown(
    paid_store: PaymentsStore, balances: FakeBalances
) -> None:
    # Given Stripe cannot be reached for the balance transaction
    balances.unavailable = True

    # When Stripe says the payment succeeded
    handled, published = handle(paid_store, succeeded(), balances)

    # Then the payment is recorded all the same, and published without a fee (None, never 0), said why
    assert handled.outcome == "succeeded"
    assert handled.fee_unknown is not None and "PaymentProviderUnavailable" in handled.fee_unknown
    record = paid_store.payment(ORDER)
    assert record is not None and record.outcome == logic.SUCCEEDED
    (only,) = published
    paid = data(only, PaymentSucceeded)
    assert (paid.fee, paid.net, paid.balance_transaction_id) == (None, None, None)


@pytest.mark.parametrize(
    "odd",
    [
        {"currency": "usd"},  # settled in another currency: not the payment's fee
        {"net": AMOUNT},  # fee and net do not add up
        {"fee": "40"},  # not an amount
    ],
    ids=["other-currency", "does-not-add-up", "not-an-amount"],
)
def test_a_balance_transaction_we_cannot_trust_leaves_the_fee_unknown(
    paid_store: PaymentsStore, balances: FakeBalances, odd: dict[str, Any]
) -> None:
    balances.transactions["txn_charge"] |= odd

    handled, published = handle(paid_store, succeeded(), balances)

    assert handled.outcome == "succeeded" and handled.fee_unknown
    assert data(published[0], PaymentSucceeded).fee is None


def test_a_gateway_that_cannot_be_built_leaves_the_fee_unknown(paid_store: PaymentsStore) -> None:
    def no_key() -> FakeBalances:
        raise RuntimeError("no secret key")

    publisher = FakePublisher()
    handled = logic.process_event(
        paid_store, FakeCallbacks(), publisher, parse_event(succeeded()), lambda: FakeGateway(), balances=no_key
    )

    assert handled.outcome == "succeeded" and handled.fee_unknown == "no Stripe gateway: RuntimeError"
    assert data(publisher.events[0], PaymentSucceeded).fee is None


# ---------------------------------------------------------------- RefundSucceeded


def test_each_refund_is_published_with_its_own_amount_fee_and_net_even_out_of_order(
    paid_store: PaymentsStore, balances: FakeBalances
) -> None:
    # Given two refunds at Stripe: 300, then 700
    handle(paid_store, succeeded(), balances)
    balances.refund(300, created=100)
    balances.refund(700, created=200)

    # When their charge.refunded events come in the wrong order
    _, second = handle(paid_store, charge_refunded(1000), balances)
    _, first = handle(paid_store, charge_refunded(300), balances)

    # Then each names the refund that reached its total, with Stripe's fee kept (0 back) and the net
    late, early = data(second[0], RefundSucceeded), data(first[0], RefundSucceeded)
    assert (late.refund_id, late.amount, late.fee, late.net) == ("re_fees_2", eur(700), eur(0), eur(700))
    assert (early.refund_id, early.amount, early.fee, early.net) == ("re_fees_1", eur(300), eur(0), eur(300))
    assert (late.refunded_total, early.refunded_total) == (eur(1000), eur(300))


def test_a_refund_whose_balance_cannot_be_read_is_published_with_its_total_only(
    paid_store: PaymentsStore, balances: FakeBalances
) -> None:
    handle(paid_store, succeeded(), balances)
    balances.refund(500, created=100)
    balances.unavailable = True

    handled, published = handle(paid_store, charge_refunded(500), balances)

    assert handled.outcome == "refund recorded" and handled.fee_unknown
    refunded = data(published[0], RefundSucceeded)
    assert refunded.refunded_total == eur(500) and (refunded.refund_id, refunded.fee, refunded.net) == (None,) * 3


# ---------------------------------------------------------------- disputes


def test_a_dispute_is_published_when_opened_and_with_its_outcome_when_closed(paid_store: PaymentsStore) -> None:
    # When the customer's bank disputes the charge, and the shop loses
    opened, opened_events = handle(paid_store, dispute("charge.dispute.created", "needs_response"), None)
    closed, closed_events = handle(paid_store, dispute("charge.dispute.closed", "lost"), None)

    # Then PaymentDisputed, then DisputeClosed LOST, for the order, under ids from the dispute
    assert (opened.outcome, closed.outcome) == ("dispute opened", "dispute closed: LOST")
    (was_opened,) = opened_events
    (was_closed,) = closed_events
    disputed, decided = data(was_opened, PaymentDisputed), data(was_closed, DisputeClosed)
    assert (disputed.order_id, disputed.amount, disputed.reason) == (ORDER, eur(AMOUNT), "fraudulent")
    assert decided.status is DisputeStatus.LOST
    assert (was_opened.envelope.event_id, was_closed.envelope.event_id) == (
        "PaymentDisputed#dp_fees_1",
        "DisputeClosed#dp_fees_1",
    )


@pytest.mark.parametrize(("status", "outcome"), [("won", DisputeStatus.WON), ("warning_closed", DisputeStatus.WON)])
def test_a_dispute_closed_in_the_shops_favour_is_won(
    paid_store: PaymentsStore, status: str, outcome: DisputeStatus
) -> None:
    _, published = handle(paid_store, dispute("charge.dispute.closed", status), None)
    assert data(published[0], DisputeClosed).status is outcome


def test_a_dispute_carries_stripes_dispute_fee_and_what_a_win_gives_back(paid_store: PaymentsStore) -> None:
    # When a dispute opens with its funds withdrawn (the amount and Stripe's fee), and the shop wins it
    _, opened = handle(
        paid_store, dispute("charge.dispute.created", "needs_response", balance_transactions=[withdrawal()]), None
    )
    listed = [withdrawal(), reinstatement()]
    _, closed = handle(paid_store, dispute("charge.dispute.closed", "won", balance_transactions=listed), None)

    # Then the opening carries the fee, and the win what Stripe gave back of it
    assert data(opened[0], PaymentDisputed).fee == eur(DISPUTE_FEE)
    assert data(closed[0], DisputeClosed).fee_returned == eur(DISPUTE_FEE)


@pytest.mark.parametrize(
    ("listed", "fee"),
    [
        ([], eur(0)),  # an inquiry: nothing withdrawn, no fee
        (None, None),  # the payload lists no balance transactions: unknown, never 0
        ([withdrawal(currency="usd")], None),  # settled in another currency than the payment's
        ([withdrawal(fee=-5)], None),  # a withdrawal's fee is never negative
    ],
)
def test_a_dispute_fee_is_zero_only_when_nothing_was_withdrawn(
    paid_store: PaymentsStore, listed: list[dict[str, Any]] | None, fee: Money | None
) -> None:
    _, opened = handle(
        paid_store, dispute("charge.dispute.created", "needs_response", balance_transactions=listed), None
    )
    assert data(opened[0], PaymentDisputed).fee == fee


def test_a_dispute_lost_gives_no_fee_back(paid_store: PaymentsStore) -> None:
    listed = [withdrawal(), reinstatement()]  # whatever it lists, Stripe keeps its fee on a loss
    _, closed = handle(paid_store, dispute("charge.dispute.closed", "lost", balance_transactions=listed), None)
    assert data(closed[0], DisputeClosed).fee_returned == eur(0)


def test_a_dispute_of_another_amount_or_payment_publishes_nothing(paid_store: PaymentsStore) -> None:
    larger, published = handle(paid_store, dispute("charge.dispute.created", "needs_response", amount=AMOUNT + 1), None)
    assert larger.mismatch and published == []
    unknown, published = handle(
        paid_store, dispute("charge.dispute.created", "needs_response", intent="pi_not_ours"), None
    )
    assert unknown.outcome.startswith("ignored") and published == []


def test_a_closed_dispute_without_an_outcome_is_refused_before_anything_is_written(
    webhook_world: WebhookWorld,
) -> None:
    # Given a payment, and a validly signed `charge.dispute.closed` whose status is not an outcome
    assert webhook_world.store.attach_intent(ORDER, INTENT, AMOUNT, "EUR") is not None
    before = webhook_world.items()
    malformed = dispute("charge.dispute.closed", "under_review")
    with pytest.raises(MalformedEvent):
        parse_event(malformed)

    # When it is delivered
    answer = webhook_world.deliver(malformed)

    # Then it is a 400 naming the malformed event, nothing is written and nothing published
    assert (answer.status, answer.error["code"]) == (400, "malformed_event")
    assert webhook_world.items() == before
    assert webhook_world.published() == []


def test_a_stripe_that_hangs_on_the_fee_read_costs_the_webhook_one_short_timeout(
    webhook_world: WebhookWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the webhook's real Stripe gateway pointed at a Stripe that accepts connections and never answers
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{silent.getsockname()[1]}")
        environment = webhook_environment()
        webhook_world.ssm.put_parameter(
            Name=environment["STRIPE_SECRET_KEY_PARAMETER"], Value="sk_test_silent", Type="SecureString"
        )
        assert webhook_world.store.attach_intent(ORDER, INTENT, AMOUNT, "EUR") is not None

        # When Stripe says the payment succeeded
        started = time.monotonic()
        answer = webhook_world.deliver(succeeded())
        took = time.monotonic() - started
    finally:
        silent.close()

    # Then the payment is acknowledged after one short read timeout (no retries), well inside the
    # function's 20 s, and published with its fee unknown
    assert answer.status == 200 and answer.body["outcome"] == "succeeded"
    assert BALANCE_TIMEOUT_SECONDS <= took < BALANCE_TIMEOUT_SECONDS + 5
    (published,) = webhook_world.published()
    assert published["detail-type"] == "PaymentSucceeded" and published["detail"]["data"]["fee"] is None
