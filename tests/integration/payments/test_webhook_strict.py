"""The webhook trusts nothing but the PaymentIntent we recorded (issue 10, findings 3, 4, 5 and the late
payment): claims that a killed Lambda cannot keep, events mapped to orders through their PaymentIntent
and checked against the recorded amount, timestamps refused both ways, malformed events refused before
anything is written, and a payment for an order that will not be fulfilled refunded at once."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.stripe import event
from payments import logic, webhook
from payments.models import RefundEntry
from payments.store import EVENT_LEASE, PaymentsStore
from payments.stripe_events import parse_event
from tests.fakes import FakeCallbacks

from .conftest import FakeGateway, WebhookWorld
from .test_webhook import INTENT, ORDER, charge, detail_types, given_payment, intent

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

EVENTS = Path(__file__).resolve().parents[3] / "events" / "stripe"
OTHER_ORDER = "o_01jwebhookother00000000000"


def payment_items(world: WebhookWorld) -> list[dict[str, Any]]:
    return [i for i in world.items() if not i["PK"]["S"].startswith("EVENT#")]


def claims(world: WebhookWorld) -> list[dict[str, Any]]:
    return [i for i in world.items() if i["PK"]["S"].startswith("EVENT#")]


def metric_names(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The metrics the handler flushed to stdout (CloudWatch's embedded metric format)."""
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    return [
        metric["Name"]
        for record in records
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", [])
        for metric in directive["Metrics"]
    ]


class Clock:
    """The time the webhook's store sees: a test moves it on instead of waiting."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(webhook_world: WebhookWorld, monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(
        webhook, "store", lambda: PaymentsStore(webhook_world.table, client=webhook_world.dynamodb, clock=clock)
    )
    return clock


@pytest.fixture
def stripe(monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    """The Stripe the webhook refunds through (a fake of our own port), holding the order's PaymentIntent."""
    fake = FakeGateway()
    fake.intents[INTENT] = {"id": INTENT, "amount": 2500, "currency": "eur", "status": "succeeded"}
    monkeypatch.setattr(webhook, "gateway", lambda: fake)
    return fake


# ---------------------------------------------------------------- finding 3: claims with a lease


class LambdaKilled(BaseException):
    """What Lambda's timeout does to a handler: nothing after this point runs, no `except` included."""


def test_a_claim_left_by_a_killed_lambda_is_processed_after_its_lease(
    webhook_world: WebhookWorld, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a delivery whose Lambda was killed (its timeout) after claiming the event, before applying it
    given_payment(webhook_world)
    succeeded = event("payment_intent.succeeded", intent())
    real_handle = logic.handle_event

    def killed(*_: Any) -> Any:
        raise LambdaKilled

    monkeypatch.setattr(logic, "handle_event", killed)
    with pytest.raises(LambdaKilled):
        webhook_world.deliver(succeeded)
    monkeypatch.setattr(logic, "handle_event", real_handle)
    assert len(claims(webhook_world)) == 1

    # When Stripe redelivers it while the lease still runs
    early = webhook_world.deliver(succeeded)

    # Then it is not taken for a duplicate: Stripe is told to retry, and nothing is applied yet
    assert (early.status, early.error["code"]) == (503, "event_in_progress")
    record = webhook_world.store.payment(ORDER)
    assert record is not None and record.outcome is None

    # When Stripe redelivers it after the lease ran out
    clock.now += EVENT_LEASE + timedelta(seconds=1)
    late = webhook_world.deliver(succeeded)

    # Then it is processed, once
    assert (late.status, late.body["outcome"]) == (200, "succeeded")
    record = webhook_world.store.payment(ORDER)
    assert record is not None and record.outcome == "succeeded"
    assert detail_types(webhook_world.published()) == ["PaymentSucceeded"]


def test_a_processed_event_stays_a_duplicate_after_the_lease(webhook_world: WebhookWorld, clock: Clock) -> None:
    # Given an event that was processed
    given_payment(webhook_world)
    succeeded = event("payment_intent.succeeded", intent())
    assert webhook_world.deliver(succeeded).body["outcome"] == "succeeded"
    webhook_world.published()  # drained

    # When Stripe delivers it again long after the lease would have run out
    clock.now += timedelta(days=1)
    again = webhook_world.deliver(succeeded)

    # Then it is a duplicate: acknowledged, nothing published again
    assert (again.status, again.body["outcome"]) == (200, "duplicate")
    assert webhook_world.published() == []
    (claim,) = claims(webhook_world)
    assert claim["outcome"]["S"] == "succeeded" and "leaseUntil" not in claim


def test_a_released_claim_never_removes_a_claim_another_delivery_took_over(webhook_world: WebhookWorld) -> None:
    # Given a claim whose lease ran out, taken over by a second delivery
    store = webhook_world.store
    first = store.claim_event("evt_takeover", "payment_intent.succeeded", lease=timedelta(seconds=-1))
    second = store.claim_event("evt_takeover", "payment_intent.succeeded")
    assert first.token is not None and second.token is not None

    # When the first (slow) delivery fails and gives its claim back
    store.release_event("evt_takeover", first.token)

    # Then the second delivery's claim is still there, and a third delivery must wait for it
    assert store.claim_event("evt_takeover", "payment_intent.succeeded").token is None


# ---------------------------------------------------------------- finding 4: nothing but the PaymentIntent


def _one_cent() -> dict[str, Any]:
    return intent(amount=1)


def _another_intent() -> dict[str, Any]:
    return {**intent(), "id": "pi_someone_elses"}


def _other_currency() -> dict[str, Any]:
    return intent(currency="usd")


def _less_received() -> dict[str, Any]:
    return {**intent(), "amount_received": 1}


def _metadata_of_another_order() -> dict[str, Any]:
    return intent(order_id=OTHER_ORDER)


@pytest.mark.parametrize(
    "forge",
    [_one_cent, _another_intent, _other_currency, _less_received, _metadata_of_another_order],
    ids=["1-cent", "another-payment-intent", "other-currency", "less-received", "metadata-of-another-order"],
)
def test_a_signed_event_that_contradicts_the_payment_changes_nothing(
    webhook_world: WebhookWorld,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    forge: Callable[[], dict[str, Any]],
) -> None:
    # Given a 25.00 order waiting for its payment, and another order waiting too
    given_payment(webhook_world)
    assert webhook_world.store.attach_intent(OTHER_ORDER, "pi_other_order", 2500, "EUR") is not None
    webhook_world.store.register_token(ORDER, "token-await-payment")
    fake = FakeCallbacks()
    monkeypatch.setattr(webhook, "callbacks", lambda: fake)
    before = payment_items(webhook_world)
    capsys.readouterr()

    # When a correctly signed payment_intent.succeeded arrives that does not match the recorded payment
    answer = webhook_world.deliver(event("payment_intent.succeeded", forge()))

    # Then Stripe gets a 2xx (retrying would bring the same event), and nothing changed or was published
    assert (answer.status, answer.body["outcome"]) == (200, "ignored: does not match the payment")
    assert payment_items(webhook_world) == before
    assert webhook_world.published() == []
    assert (fake.succeeded, fake.failed) == ([], [])
    # And it was logged as a security event, and counted
    security = [r for r in caplog.records if getattr(r, "security", None) == "webhook_mismatch"]
    assert [r.levelname for r in security] == ["WARNING"]
    assert "WebhookMismatch" in metric_names(capsys)


def test_a_payment_intent_event_is_mapped_through_its_payment_intent(webhook_world: WebhookWorld) -> None:
    # Given an order with a PaymentIntent (attaching it wrote the PaymentIntent's pointer to the order)
    given_payment(webhook_world)
    pointer = [i for i in webhook_world.items() if i["PK"]["S"] == f"PI#{INTENT}"]
    assert [(i["SK"]["S"], i["orderId"]["S"]) for i in pointer] == [("ORDER", ORDER)]

    # When Stripe's event carries no metadata at all
    answer = webhook_world.deliver(event("payment_intent.succeeded", intent(order_id=None)))

    # Then the order is found through the PaymentIntent and paid
    assert (answer.status, answer.body["outcome"]) == (200, "succeeded")
    record = webhook_world.store.payment(ORDER)
    assert record is not None and record.outcome == "succeeded"


def test_refunds_are_mapped_through_the_payment_intent_not_the_charge_metadata(webhook_world: WebhookWorld) -> None:
    # Given a paid order of 25.00, and another order's PaymentIntent
    given_payment(webhook_world)
    assert webhook_world.store.attach_intent(OTHER_ORDER, "pi_other_order", 2500, "EUR") is not None

    # When Stripe reports a refund of our PaymentIntent's charge without metadata, and one of the other
    # order's PaymentIntent whose charge metadata names our order
    ours = {**charge(1000), "metadata": {}}
    misleading = {**charge(2500), "payment_intent": "pi_other_order"}
    answers = [
        webhook_world.deliver(event("charge.refunded", ours)),
        webhook_world.deliver(event("charge.refunded", misleading)),
    ]

    # Then each refund is recorded on the order of its PaymentIntent
    assert [a.body["outcome"] for a in answers] == ["refund recorded", "refund recorded"]
    mine, other = webhook_world.store.payment(ORDER), webhook_world.store.payment(OTHER_ORDER)
    assert mine is not None and other is not None
    assert (mine.amount_refunded, other.amount_refunded) == (1000, 2500)
    published = webhook_world.published()
    assert [e["detail"]["data"]["orderId"] for e in published] == [ORDER, OTHER_ORDER]


def test_a_refund_of_an_unknown_payment_intent_changes_nothing(webhook_world: WebhookWorld) -> None:
    # Given a paid order
    given_payment(webhook_world)
    before = payment_items(webhook_world)

    # When a charge.refunded arrives for a PaymentIntent we never attached, naming our order in metadata
    answer = webhook_world.deliver(event("charge.refunded", {**charge(2500), "payment_intent": "pi_unknown"}))

    # Then it is acknowledged and ignored
    assert (answer.status, answer.body["outcome"]) == (200, "ignored: not an order's PaymentIntent")
    assert payment_items(webhook_world) == before
    assert webhook_world.published() == []


def test_a_failed_refund_is_flagged_for_staff(webhook_world: WebhookWorld) -> None:
    # Given a paid order
    given_payment(webhook_world)
    refund = {
        "id": "re_webhook_1",
        "object": "refund",
        "payment_intent": INTENT,
        "amount": 2500,
        "currency": "eur",
        "status": "failed",
    }

    # When Stripe says one of its refunds failed (the customer did not get the money back)
    answer = webhook_world.deliver(event("refund.failed", refund))

    # Then staff are asked to look at the order
    assert (answer.status, answer.body["outcome"]) == (200, "refund failed: staff told")
    (attention,) = webhook_world.published()
    assert attention["detail-type"] == "AttentionRequested"
    assert attention["detail"]["data"]["orderId"] == ORDER
    assert attention["detail"]["data"]["source"] == "webhook"


def test_attaching_an_intent_writes_its_pointer_once(webhook_world: WebhookWorld) -> None:
    # Given an order whose PaymentIntent was attached
    store = webhook_world.store
    given_payment(webhook_world)

    # When a second PaymentIntent is attached to the same order (a losing concurrent attempt)
    again = store.attach_intent(ORDER, "pi_loser", 2500, "EUR")

    # Then it is refused, and neither the record nor any pointer names the loser
    assert again is None
    assert store.order_of_intent("pi_loser") is None
    assert store.order_of_intent(INTENT) == ORDER
    record = store.payment(ORDER)
    assert record is not None and record.payment_intent_id == INTENT


# ---------------------------------------------------------------- finding 5: timestamps and shapes


def test_a_signature_from_the_future_is_refused(webhook_world: WebhookWorld) -> None:
    # Given a succeeded event signed an hour, then 301 s, ahead of our clock (the tolerance is 300 s)
    given_payment(webhook_world)
    before = webhook_world.items()

    # When they are delivered
    answers = [
        webhook_world.deliver(event("payment_intent.succeeded", intent()), timestamp=int(time.time()) + ahead)
        for ahead in (3600, 301)
    ]

    # Then both are refused, and nothing is written
    assert [(a.status, a.error["code"]) for a in answers] == [(400, "invalid_signature")] * 2
    assert webhook_world.items() == before
    assert webhook_world.published() == []


def test_a_signature_slightly_ahead_is_accepted(webhook_world: WebhookWorld) -> None:
    # Given a succeeded event signed 60 s ahead of our clock (clocks drift a little)
    given_payment(webhook_world)

    # When it is delivered
    answer = webhook_world.deliver(event("payment_intent.succeeded", intent()), timestamp=int(time.time()) + 60)

    # Then it is applied
    assert (answer.status, answer.body["outcome"]) == (200, "succeeded")


def _with_object(**changes: Any) -> str:
    obj = intent()
    for name, value in changes.items():
        if value is _MISSING:
            obj.pop(name)
        else:
            obj[name] = value
    return json.dumps(event("payment_intent.succeeded", obj))


_MISSING = object()
_NESTED = "[" * 20_000 + "]" * 20_000
MALFORMED: dict[str, str] = {
    "array-body": json.dumps([event("payment_intent.succeeded", intent())]),
    "missing-amount": _with_object(amount=_MISSING),
    "non-string-id": json.dumps({**event("payment_intent.succeeded", intent()), "id": 12345}),
    "non-string-type": json.dumps({**event("payment_intent.succeeded", intent()), "type": ["payment_intent"]}),
    "metadata-not-an-object": _with_object(metadata="o_01jwebhooktest0000000000000"),
    "metadata-a-list": _with_object(metadata=[{"orderId": ORDER}]),
    "amount-a-string": _with_object(amount="2500", amount_received="2500"),
    "amount-a-float": _with_object(amount=2500.0, amount_received=2500.0),
    "amount-a-bool": _with_object(amount=True, amount_received=True),
    "amount-negative": _with_object(amount=-2500, amount_received=-2500),
    "amount-huge": _with_object(amount=10**40, amount_received=10**40),
    "amount-5000-digits": _with_object(amount=int("9" * 4000), amount_received=0).replace("9" * 4000, "9" * 5000),
    "payment-intent-id-not-a-string": _with_object(id=42),
    "data-not-an-object": json.dumps({**event("payment_intent.succeeded", intent()), "data": "x"}),
    "no-object": json.dumps({**event("payment_intent.succeeded", intent()), "data": {}}),
    "deep-nesting": json.dumps(event("customer.created", {"id": "cus_1"})).replace('"cus_1"', _NESTED),
    "charge-without-amount-refunded": json.dumps(
        event("charge.refunded", {k: v for k, v in charge(1000).items() if k != "amount_refunded"})
    ),
    "not-json": '{"id": "evt_1", "type": ',
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_but_malformed_event_is_a_400_and_writes_nothing(webhook_world: WebhookWorld, text: str) -> None:
    # Given an order with a PaymentIntent, and a correctly signed body that is not an event we can read
    given_payment(webhook_world)
    before = webhook_world.items()

    # When it is delivered
    answer = webhook_world.deliver(text)

    # Then it is a 400 in the one error shape, not a 500
    assert answer.status == 400, answer.body
    assert set(answer.body) == {"error"} and set(answer.error) == {"code", "message", "details", "requestId"}
    assert answer.error["code"] != "invalid_signature"
    # And nothing was written (not even a claim) and nothing published
    assert webhook_world.items() == before
    assert webhook_world.published() == []


def test_a_malformed_event_names_the_wrong_fields_not_their_values(webhook_world: WebhookWorld) -> None:
    # When an event arrives whose amount is a string
    answer = webhook_world.deliver(_with_object(amount="2500"))

    # Then the answer says where the event is wrong, without echoing what it held
    assert (answer.status, answer.error["code"]) == (400, "malformed_event")
    assert {
        "field": "intent.data.object.amount",
        "message": "not what a Stripe event holds here",
        "type": "int_type",
    } in answer.error["details"]
    assert "2500" not in json.dumps(answer.body)


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.stem)
def test_the_sample_events_parse(path: Path) -> None:
    parsed = parse_event(json.loads(path.read_text()))
    assert parsed.type == path.stem
    assert type(parsed).__name__ != "OtherEvent"


# ---------------------------------------------------------------- a payment for an order that will not be fulfilled


@pytest.mark.parametrize("earlier", ["failed", "canceled"])
def test_a_payment_after_a_decline_or_a_cancel_is_refunded(
    webhook_world: WebhookWorld,
    stripe: FakeGateway,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    earlier: str,
) -> None:
    # Given an order whose payment was decided failed (a decline) or cancelled, and its workflow told so
    given_payment(webhook_world)
    assert webhook_world.store.decide(ORDER, earlier) is not None
    fake = FakeCallbacks()
    monkeypatch.setattr(webhook, "callbacks", lambda: fake)
    capsys.readouterr()

    # When the customer's second attempt succeeds at Stripe anyway, and Stripe delivers it twice
    succeeded = event("payment_intent.succeeded", intent())
    answers = [webhook_world.deliver(succeeded) for _ in range(2)]

    # Then the whole payment is refunded at Stripe once, under a key derived from the PaymentIntent
    assert [(a.status, a.body["outcome"]) for a in answers] == [(200, logic.LATE_REFUNDED), (200, "duplicate")]
    assert stripe.calls["refund"] == 1
    (made,) = stripe.refunds.values()
    assert (made["payment_intent"], made["amount"]) == (INTENT, 2500)
    assert list(stripe.refunds) == [f"{ORDER}-late-{INTENT}"]
    # And recorded on the payment, whose outcome stays what it was
    record = webhook_world.store.payment(ORDER)
    assert record is not None and record.outcome == earlier
    reason = f"paid after the payment was {earlier}"
    assert record.refunds == {f"late-{INTENT}": RefundEntry(provider_refund_id=made["id"], amount=2500, reason=reason)}
    # And nothing that would mark the order paid was published, nor the workflow resumed
    assert webhook_world.published() == []
    assert (fake.succeeded, fake.failed) == ([], [])
    assert "LatePaymentsRefunded" in metric_names(capsys)


def test_a_late_payment_refund_that_stripe_cannot_make_is_retried_by_stripe(
    webhook_world: WebhookWorld, stripe: FakeGateway
) -> None:
    # Given a cancelled order's payment succeeded, while Stripe cannot take a refund
    given_payment(webhook_world)
    assert webhook_world.store.decide(ORDER, "canceled") is not None
    succeeded = event("payment_intent.succeeded", intent())
    stripe.unavailable = True

    # When Stripe delivers the event
    first = webhook_world.deliver(succeeded)

    # Then the answer is a 5xx, so Stripe redelivers, and the claim is given back
    assert (first.status, first.error["code"]) == (503, "payment_provider_unavailable")
    assert claims(webhook_world) == []

    # When Stripe is back and redelivers
    stripe.unavailable = False
    second = webhook_world.deliver(succeeded)

    # Then the payment is refunded
    assert (second.status, second.body["outcome"]) == (200, logic.LATE_REFUNDED)
    record = webhook_world.store.payment(ORDER)
    assert record is not None and record.refunds[f"late-{INTENT}"].amount == 2500


def test_a_late_payment_already_refunded_is_not_refunded_again(
    webhook_world: WebhookWorld, stripe: FakeGateway
) -> None:
    # Given a cancelled order whose payment the workflow's compensation refunded in full already
    given_payment(webhook_world)
    assert webhook_world.store.decide(ORDER, "canceled") is not None
    entry = RefundEntry(provider_refund_id="re_cancel", amount=2500, reason="cancelled")
    assert webhook_world.store.record_refund(ORDER, "cancellation", entry) is not None

    # When the succeeded event arrives
    answer = webhook_world.deliver(event("payment_intent.succeeded", intent()))

    # Then nothing more is refunded
    assert (answer.status, answer.body["outcome"]) == (200, logic.LATE_ALREADY_REFUNDED)
    assert stripe.calls["refund"] == 0
