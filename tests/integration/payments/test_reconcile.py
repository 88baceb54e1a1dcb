"""Reconciliation (`payments.reconcile`) with the real Stripe library against localstripe, the payments
table in moto, and fakes of our own ports for the orders domain and the bus. Each test starts from an
empty localstripe: it lists every PaymentIntent it holds (it cannot filter on `created`)."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from common.contracts import AttentionRequested, OrderState, OrderStatesOutput
from common.errors import ValidationFailed
from common.money import Money
from local.stripe import SECRET_KEY, pay
from payments import admin_api
from payments import gateway as gateway_module
from payments.errors import PaymentProviderUnavailable, PaymentRejected
from payments.gateway import StripeGateway
from payments.models import Action, Kind, ReconcileInput, ReconciliationRun
from payments.reconcile import reconcile
from payments.store import PaymentsStore
from tests.fakes import FakePublisher
from tests.integration.conftest import free_port
from tests.template import function_environment

from .conftest import _template

EUR = "EUR"
NOW_INPUT = ReconcileInput()


def eur(amount: int) -> Money:
    return Money(amount=amount, currency=EUR)


@pytest.fixture
def localstripe(localstripe_server: str) -> str:
    """localstripe, emptied: no PaymentIntent of another test is listed."""
    requests.delete(f"{localstripe_server}/_config/data", timeout=5).raise_for_status()
    return localstripe_server


@pytest.fixture
def stripe(localstripe: str) -> StripeGateway:
    return StripeGateway(SECRET_KEY, api_base=localstripe, timeout=5)


@dataclass
class FakeOrders:
    """Our `Orders` port: the orders domain as reconciliation sees it. `then` replaces an order's state
    after its first read (something changed in between); `asked` records every call."""

    orders: dict[str, OrderState] = field(default_factory=dict)
    then: dict[str, OrderState] = field(default_factory=dict)
    asked: list[list[str]] = field(default_factory=list)

    def put(self, order_id: str, status: str, total: int, intent_id: str | None, refunded: int = 0) -> None:
        self.orders[order_id] = OrderState(
            order_id=order_id,
            status=status,
            total=eur(total),
            refunded_total=eur(refunded),
            payment_intent_id=intent_id,
        )

    def states(self, order_ids: list[str]) -> OrderStatesOutput:
        self.asked.append(list(order_ids))
        items = [self.orders[i] for i in order_ids if i in self.orders]
        for order_id in order_ids:
            if order_id in self.then:
                self.orders[order_id] = self.then.pop(order_id)
        return OrderStatesOutput(items=items, unknown=[i for i in order_ids if i not in self.orders])


@pytest.fixture
def orders() -> FakeOrders:
    return FakeOrders()


@pytest.fixture
def publish() -> FakePublisher:
    return FakePublisher()


Paid = Callable[..., str]


@pytest.fixture
def paid(stripe: StripeGateway, localstripe: str, store: PaymentsStore) -> Paid:
    """Factory: a PaymentIntent for `order_id` that the customer paid at Stripe (or left unpaid), with
    the payment record the workflow would have written (`outcome`, if given); its id."""

    def make(order_id: str, amount: int = 1500, *, outcome: str | None = None, pays: bool = True) -> str:
        intent = stripe.create_intent(order_id, eur(amount), None)
        store.attach_intent(order_id, intent["id"], amount, EUR)
        if outcome:
            store.decide(order_id, outcome, outcome)
        if pays:
            assert pay(localstripe, order_id)["status"] == "succeeded"
        return str(intent["id"])

    return make


def refunded_at_stripe(stripe: StripeGateway, intent_id: str) -> int:
    return sum(int(r["amount"]) for r in stripe.list_refunds(intent_id))


def run(store: PaymentsStore, stripe: Any, orders: FakeOrders, publish: FakePublisher, **kw: Any) -> ReconciliationRun:
    ran, findings = reconcile(store, stripe, orders, publish, kw.pop("task", NOW_INPUT), **kw)
    assert findings == ran.findings  # fewer than the record's limit: the record holds them all
    return ran


def attention(publish: FakePublisher) -> list[AttentionRequested]:
    return [AttentionRequested.model_validate(e.envelope.data) for e in publish.events]


# ---------------------------------------------------------------- (a) money kept for an order not to be fulfilled


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("CANCELLED", Kind.PAID_FOR_CANCELLED_ORDER),
        ("REJECTED", Kind.PAID_FOR_REJECTED_ORDER),
        (None, Kind.PAID_FOR_UNKNOWN_ORDER),
    ],
)
def test_a_payment_for_an_order_that_will_not_be_fulfilled_is_refunded_once(
    store: PaymentsStore,
    stripe: StripeGateway,
    orders: FakeOrders,
    publish: FakePublisher,
    paid: Paid,
    status: str | None,
    kind: Kind,
) -> None:
    # Given an order cancelled (or rejected, or never created) whose PaymentIntent was paid afterwards
    order_id = f"o_reconcile_{kind.value}"
    intent_id = paid(order_id, 1500, outcome="canceled")
    if status:
        orders.put(order_id, status, 1500, intent_id)

    # When reconciliation runs
    first = run(store, stripe, orders, publish)

    # Then the whole payment is refunded at Stripe, recorded, and nobody is bothered
    assert [(f.payment_intent_id, f.order_id, f.kind, f.action) for f in first.findings] == [
        (intent_id, order_id, kind, Action.REFUNDED)
    ]
    assert first.findings[0].amount == eur(1500)
    assert first.counts.refunded == 1 and first.counts.flagged == 0 and first.counts.ok == 0
    assert refunded_at_stripe(stripe, intent_id) == 1500
    record = store.payment(order_id)
    assert record is not None and record.refunded == 1500
    assert publish.events == []

    # And a second run (hourly runs overlap) refunds nothing
    second = run(store, stripe, orders, publish)
    assert second.findings == [] and second.counts.ok == 1 and second.counts.refunded == 0
    assert refunded_at_stripe(stripe, intent_id) == 1500
    assert len(stripe.list_refunds(intent_id)) == 1


def test_only_the_rest_of_a_partly_refunded_payment_is_refunded(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given a cancelled order's payment of which 400 was refunded already
    intent_id = paid("o_reconcile_partly", 1500, outcome="canceled")
    stripe.refund(intent_id, 400, "o_reconcile_partly-cancellation", "o_reconcile_partly")
    orders.put("o_reconcile_partly", "CANCELLED", 1500, intent_id, refunded=400)

    # When reconciliation runs
    ran = run(store, stripe, orders, publish)

    # Then the 1,100 left are refunded, and no more
    assert [(f.kind, f.action, f.amount) for f in ran.findings] == [
        (Kind.PAID_FOR_CANCELLED_ORDER, Action.REFUNDED, eur(1100))
    ]
    assert refunded_at_stripe(stripe, intent_id) == 1500


def test_a_cancelled_order_refunded_in_full_is_fine(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given a cancelled order whose payment the workflow refunded, and an unpaid cancelled order
    intent_id = paid("o_reconcile_done", 1500, outcome="canceled")
    stripe.refund(intent_id, 1500, "o_reconcile_done-cancellation", "o_reconcile_done")
    orders.put("o_reconcile_done", "CANCELLED", 1500, intent_id, refunded=1500)
    unpaid = paid("o_reconcile_unpaid", 900, outcome="canceled", pays=False)
    orders.put("o_reconcile_unpaid", "CANCELLED", 900, unpaid)

    # When reconciliation runs
    ran = run(store, stripe, orders, publish)

    # Then there is nothing to say about either
    assert ran.findings == [] and publish.events == []
    assert (ran.counts.payment_intents, ran.counts.succeeded, ran.counts.orders, ran.counts.ok) == (2, 1, 2, 2)


def test_a_refund_stripe_refuses_is_flagged_for_staff(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given a cancelled order's payment, and a Stripe that refuses the refund (and one that is down)
    intent_id = paid("o_reconcile_refused", 1500, outcome="canceled")
    orders.put("o_reconcile_refused", "CANCELLED", 1500, intent_id)

    class Refusing(StripeGateway):
        error: Exception = PaymentRejected("Stripe refused the request: charge_disputed")

        def refund(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            raise self.error

    refusing = Refusing(SECRET_KEY, api_base=stripe._api_base, timeout=5)

    # When reconciliation runs
    ran = run(store, refusing, orders, publish)

    # Then the refund is reported as failed and the order flagged for staff
    assert [(f.kind, f.action) for f in ran.findings] == [(Kind.PAID_FOR_CANCELLED_ORDER, Action.REFUND_FAILED)]
    assert ran.counts.failed == 1
    [flag] = attention(publish)
    assert (flag.order_id, flag.source, flag.payment_intent_id) == ("o_reconcile_refused", "reconciliation", intent_id)

    # And a Stripe that is briefly down is only reported: the next run retries, nobody is paged
    Refusing.error = PaymentProviderUnavailable("Stripe is unreachable: APIConnectionError")
    again = FakePublisher()
    ran = run(store, refusing, orders, again)
    assert [f.action for f in ran.findings] == [Action.REFUND_FAILED] and again.events == []
    assert refunded_at_stripe(stripe, intent_id) == 0


# ---------------------------------------------------------------- (b) orders that say money was taken


def test_a_paid_order_without_a_succeeded_payment_is_flagged(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given an order marked PAID whose PaymentIntent was never paid (a forged or misapplied event)
    intent_id = paid("o_reconcile_forged", 4000, pays=False)
    orders.put("o_reconcile_forged", "PAID", 4000, intent_id)

    # When reconciliation runs
    ran = run(store, stripe, orders, publish)

    # Then it is flagged for staff, once per run with a stable event id, and nothing is refunded
    assert [(f.payment_intent_id, f.kind, f.action) for f in ran.findings] == [
        (intent_id, Kind.PAID_WITHOUT_PAYMENT, Action.FLAGGED)
    ]
    [flag] = attention(publish)
    assert flag.order_id == "o_reconcile_forged" and flag.reason.startswith("paid_without_payment")
    first_id = publish.events[0].envelope.event_id
    run(store, stripe, orders, publish)
    assert publish.events[1].envelope.event_id == first_id


def test_a_paid_order_whose_payment_is_not_its_total_is_flagged(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given an order of 40.00 marked PAID by a payment of 1 cent
    intent_id = paid("o_reconcile_cent", 1)
    orders.put("o_reconcile_cent", "PAID", 4000, intent_id)

    # When reconciliation runs
    ran = run(store, stripe, orders, publish)

    # Then it is flagged
    assert [(f.kind, f.action, f.amount) for f in ran.findings] == [(Kind.AMOUNT_DIFFERS, Action.FLAGGED, eur(1))]
    assert len(attention(publish)) == 1


def test_refunds_that_differ_from_stripes_are_flagged(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given a shipped order with a refund of 500 at Stripe that the order does not record
    intent_id = paid("o_reconcile_refunds", 2000)
    stripe.refund(intent_id, 500, "o_reconcile_refunds-r1", "o_reconcile_refunds")
    orders.put("o_reconcile_refunds", "SHIPPED", 2000, intent_id, refunded=0)

    # When reconciliation runs
    ran = run(store, stripe, orders, publish)

    # Then it is flagged, and nothing is refunded
    assert [(f.kind, f.action, f.amount) for f in ran.findings] == [(Kind.REFUNDS_DIFFER, Action.FLAGGED, eur(500))]
    assert len(attention(publish)) == 1
    assert refunded_at_stripe(stripe, intent_id) == 500


def test_a_refund_on_its_way_into_the_order_is_not_a_difference(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given a refund made at Stripe that the order records a moment after reconciliation first read it
    intent_id = paid("o_reconcile_inflight", 2000)
    stripe.refund(intent_id, 500, "o_reconcile_inflight-r1", "o_reconcile_inflight")
    orders.put("o_reconcile_inflight", "PAID", 2000, intent_id, refunded=0)
    orders.then["o_reconcile_inflight"] = orders.orders["o_reconcile_inflight"].model_copy(
        update={"status": "PARTIALLY_REFUNDED", "refunded_total": eur(500)}
    )

    # When reconciliation runs
    ran = run(store, stripe, orders, publish)

    # Then it read the order again and found nothing to say
    assert ran.findings == [] and publish.events == []
    assert orders.asked[-1] == ["o_reconcile_inflight"]


# ---------------------------------------------------------------- (c) everything else, and the edges


def test_paid_orders_that_agree_with_stripe_are_fine(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given a paid order, a partly refunded one, and one awaiting a payment made seconds ago
    a = paid("o_reconcile_ok_a", 1500)
    b = paid("o_reconcile_ok_b", 3000)
    stripe.refund(b, 1000, "o_reconcile_ok_b-r1", "o_reconcile_ok_b")
    c = paid("o_reconcile_ok_c", 700)
    orders.put("o_reconcile_ok_a", "PAID", 1500, a)
    orders.put("o_reconcile_ok_b", "PARTIALLY_REFUNDED", 3000, b, refunded=1000)
    orders.put("o_reconcile_ok_c", "AWAITING_PAYMENT", 700, c)

    # When reconciliation runs
    ran = run(store, stripe, orders, publish)

    # Then all is well
    assert ran.findings == [] and publish.events == [] and ran.counts.ok == 3


def test_a_payment_its_order_never_took_up_is_flagged_after_the_grace(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given a payment whose order still awaits it
    intent_id = paid("o_reconcile_stuck", 700)
    orders.put("o_reconcile_stuck", "AWAITING_PAYMENT", 700, intent_id)

    # When reconciliation runs two hours later (the grace is one)
    later = datetime.now(UTC) + timedelta(hours=2)
    ran = run(store, stripe, orders, publish, now=later, grace=timedelta(hours=1))

    # Then staff are told
    assert [(f.kind, f.action) for f in ran.findings] == [(Kind.PAYMENT_NOT_APPLIED, Action.FLAGGED)]


def test_a_second_payment_of_an_order_is_flagged(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, paid: Paid
) -> None:
    # Given a paid order, and another PaymentIntent naming it that was paid too
    own = paid("o_reconcile_twice", 1500)
    orders.put("o_reconcile_twice", "PAID", 1500, own)
    other = stripe.create_intent("o_reconcile_twice-again", eur(1500), None)
    assert pay(stripe._api_base, "o_reconcile_twice-again")["status"] == "succeeded"
    requests.post(  # then made to name the order, by someone else's hand
        f"{stripe._api_base}/v1/payment_intents/{other['id']}",
        data={"metadata[orderId]": "o_reconcile_twice"},
        auth=(SECRET_KEY, ""),
        timeout=5,
    ).raise_for_status()

    # When reconciliation runs
    ran = run(store, stripe, orders, publish)

    # Then the stray payment is flagged (staff decide), the order's own is fine
    assert [(f.payment_intent_id, f.kind) for f in ran.findings] == [(other["id"], Kind.UNEXPECTED_PAYMENT)]


def test_payments_of_other_integrations_and_outside_the_window_are_left_alone(
    store: PaymentsStore, stripe: StripeGateway, orders: FakeOrders, publish: FakePublisher, localstripe: str
) -> None:
    # Given a paid PaymentIntent that names no order of ours
    response = requests.post(
        f"{localstripe}/v1/payment_intents",
        data={"amount": 500, "currency": "eur", "payment_method": "pm_card_visa"},
        auth=(SECRET_KEY, ""),
        timeout=5,
    )
    response.raise_for_status()
    requests.post(
        f"{localstripe}/v1/payment_intents/{response.json()['id']}/confirm", auth=(SECRET_KEY, ""), timeout=5
    ).raise_for_status()

    # When reconciliation runs now, and over a window that ended yesterday
    now = run(store, stripe, orders, publish)
    past = ReconcileInput(since=datetime.now(UTC) - timedelta(days=3), until=datetime.now(UTC) - timedelta(days=1))
    before = run(store, stripe, orders, publish, task=past)

    # Then it touched nothing
    assert now.counts.payment_intents == 0 and now.findings == []
    assert before.counts.payment_intents == 0 and before.since == past.since
    assert refunded_at_stripe(stripe, response.json()["id"]) == 0


def test_every_page_of_stripes_list_is_read(
    monkeypatch: pytest.MonkeyPatch,
    store: PaymentsStore,
    stripe: StripeGateway,
    orders: FakeOrders,
    publish: FakePublisher,
    paid: Paid,
) -> None:
    # Given five paid orders that were cancelled, and pages of two
    monkeypatch.setattr(gateway_module, "LIST_PAGE", 2)
    intents = [paid(f"o_reconcile_page_{n}", 100 + n, outcome="canceled") for n in range(5)]
    for n, intent_id in enumerate(intents):
        orders.put(f"o_reconcile_page_{n}", "CANCELLED", 100 + n, intent_id)

    # When reconciliation runs
    ran = run(store, stripe, orders, publish)

    # Then all five were found and refunded
    assert sorted(f.payment_intent_id or "" for f in ran.findings) == sorted(intents)
    assert all(refunded_at_stripe(stripe, i) > 0 for i in intents)


def test_a_window_must_run_forwards_and_be_bounded() -> None:
    now = datetime.now(UTC)
    with pytest.raises(ValidationFailed):
        ReconcileInput(since=now, until=now - timedelta(hours=1)).window(now)
    with pytest.raises(ValidationFailed):
        ReconcileInput(since=now - timedelta(days=40)).window(now)
    # a scheduler's own event carries no window: the last 25 hours
    scheduled = ReconcileInput.model_validate({"version": "0", "detail-type": "Scheduled Event", "detail": {}})
    assert scheduled.window(now) == (now - timedelta(hours=25), now)


def test_a_stripe_outage_fails_the_run_and_records_nothing(
    store: PaymentsStore, orders: FakeOrders, publish: FakePublisher
) -> None:
    # Given a Stripe nobody answers for
    down = StripeGateway(SECRET_KEY, api_base=f"http://127.0.0.1:{free_port()}", timeout=0.5)

    # When reconciliation runs, it fails with the retryable error (the scheduler retries) and records nothing
    with pytest.raises(PaymentProviderUnavailable):
        reconcile(store, down, orders, publish, NOW_INPUT)
    assert store.runs(start_key=None, limit=10).items == []


# ---------------------------------------------------------------- the runs, as staff read them


def test_staff_read_the_latest_runs_newest_first(
    monkeypatch: pytest.MonkeyPatch,
    store: PaymentsStore,
    stripe: StripeGateway,
    orders: FakeOrders,
    publish: FakePublisher,
    paid: Paid,
    api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
) -> None:
    # Given the admin function's environment, and two runs: one that refunded, one with nothing to do
    for name, value in function_environment(_template()[1], "PaymentsAdminFunction").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Storekeeper")
    intent_id = paid("o_reconcile_api", 1500, outcome="canceled")
    orders.put("o_reconcile_api", "CANCELLED", 1500, intent_id)
    at = datetime.now(UTC)
    first = run(store, stripe, orders, publish, now=at)
    second = run(store, stripe, orders, publish, now=at + timedelta(seconds=1))

    def get(groups: list[str], query: dict[str, Any] | None = None) -> tuple[int, Any]:
        event = api_event("GET", "/admin/reconciliation", groups=groups, sub="staff-1", query=query)
        answer = admin_api.handler(event, lambda_context)
        return int(answer["statusCode"]), json.loads(answer["body"])

    # When an admin reads them, a page of one at a time
    status, page = get(["admin"], {"limit": 1})
    status_2, page_2 = get(["admin"], {"limit": 1, "cursor": page["nextCursor"]})

    # Then the newest comes first, with its window, counts and findings
    assert (status, status_2) == (200, 200)
    assert [page["items"][0]["runId"], page_2["items"][0]["runId"]] == [second.run_id, first.run_id]
    assert page_2["items"][0]["findings"] == [
        {
            "paymentIntentId": intent_id,
            "orderId": "o_reconcile_api",
            "kind": "paid_for_cancelled_order",
            "action": "refunded",
            "amount": {"amount": 1500, "currency": "EUR"},
            "detail": "reconciliation: the order is cancelled",
        }
    ]
    assert page_2["items"][0]["counts"]["refunded"] == 1 and "since" in page_2["items"][0]

    # And support staff may not, nor a cursor of another query
    assert get(["support"])[0] == 403
    assert get(["admin"], {"cursor": "bm90LWEtY3Vyc29y"})[0] == 400
