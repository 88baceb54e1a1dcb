"""`POST /payments/webhook` as Lambda calls it: Stripe's signature checked over the raw body before
anything is read or written, events applied once however often Stripe delivers them."""

import json
import time
from typing import Any

import pytest
from botocore.stub import Stubber

from common.events import events_client
from local.stripe import event, sign
from payments import logic, webhook
from payments.models import Handled
from payments.store import PaymentsStore
from tests.fakes import FakeCallbacks

from .conftest import STAGE, WEBHOOK_SECRET, WebhookWorld, webhook_environment

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

ORDER = "o_01jwebhooktest0000000000000"
INTENT = "pi_webhook_1"


def intent(order_id: str | None = ORDER, *, amount: int = 2500, **extra: Any) -> dict[str, Any]:
    """A PaymentIntent as Stripe puts it in an event's `data.object`."""
    return {
        "id": INTENT,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "eur",
        "status": "succeeded",
        "metadata": {"orderId": order_id} if order_id else {},
        **extra,
    }


def charge(amount_refunded: int, *, amount: int = 2500) -> dict[str, Any]:
    return {
        "id": "ch_webhook_1",
        "object": "charge",
        "payment_intent": INTENT,
        "amount": amount,
        "amount_refunded": amount_refunded,
        "currency": "eur",
        "metadata": {"orderId": ORDER},
    }


def given_payment(world: WebhookWorld, amount: int = 2500) -> None:
    assert world.store.attach_intent(ORDER, INTENT, amount, "EUR") is not None


def detail_types(events: list[dict[str, Any]]) -> list[str]:
    return [e["detail-type"] for e in events]


# ---------------------------------------------------------------- what is refused, and that it writes nothing


def _forged(text: str) -> dict[str, Any]:
    return {"payload": text, "signature": sign(text, "whsec_someone_else")}


def _tampered(text: str) -> dict[str, Any]:
    return {"payload": text.replace('"amount": 2500', '"amount": 1'), "signature": sign(text, WEBHOOK_SECRET)}


def _stale(text: str) -> dict[str, Any]:
    return {"payload": text, "timestamp": int(time.time()) - 301}  # default tolerance: 300 s


def _unsigned(text: str) -> dict[str, Any]:
    return {"payload": text, "signed": False}


@pytest.mark.parametrize(
    "attack", [_forged, _tampered, _stale, _unsigned], ids=["forged", "tampered", "stale", "missing"]
)
def test_an_unverifiable_event_is_refused_and_changes_nothing(webhook_world: WebhookWorld, attack: Any) -> None:
    # Given an order with a PaymentIntent, and a succeeded event whose signature cannot be verified
    given_payment(webhook_world)
    before = webhook_world.items()
    text = json.dumps(event("payment_intent.succeeded", intent()))
    assert '"amount": 2500' in text

    # When Stripe (or someone) posts it
    answer = webhook_world.deliver(**attack(text))

    # Then it is a 400 in the one error shape
    assert answer.status == 400
    assert set(answer.body) == {"error"}
    assert set(answer.error) == {"code", "message", "details", "requestId"}
    assert answer.error["code"] == "invalid_signature"
    # And nothing was written (no dedupe claim, no outcome) and nothing published
    assert webhook_world.items() == before
    assert webhook_world.published() == []


def test_an_event_inside_the_tolerance_is_accepted(webhook_world: WebhookWorld) -> None:
    # Given a succeeded event signed 290 s ago (the tolerance is 300 s)
    given_payment(webhook_world)

    # When it is delivered
    answer = webhook_world.deliver(event("payment_intent.succeeded", intent()), timestamp=int(time.time()) - 290)

    # Then it is applied
    assert (answer.status, answer.body) == (200, {"received": True, "outcome": "succeeded"})


def test_a_base64_body_is_verified_over_its_decoded_bytes(webhook_world: WebhookWorld) -> None:
    # Given an event with non-ASCII text, signed over its UTF-8 bytes, that API Gateway hands over base64-encoded
    given_payment(webhook_world)
    payload = event("payment_intent.succeeded", intent(description="Café crème für Jürgen ✓"))
    text = json.dumps(payload, ensure_ascii=False)

    # When it is delivered
    answer = webhook_world.deliver(text, base64_encoded=True)

    # Then the signature matched the decoded body and the payment is recorded
    assert (answer.status, answer.body["outcome"]) == (200, "succeeded")
    record = webhook_world.store.payment(ORDER)
    assert record is not None and record.outcome == "succeeded"


# ---------------------------------------------------------------- once, however often Stripe delivers


def test_the_same_event_ten_times_is_applied_once(webhook_world: WebhookWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an order with a PaymentIntent, and a count of the outcome writes the handler attempts
    given_payment(webhook_world)
    writes: list[str] = []
    real_decide = PaymentsStore.decide

    def counted(self: PaymentsStore, order_id: str, outcome: str, detail: str | None = None) -> Any:
        writes.append(outcome)
        return real_decide(self, order_id, outcome, detail)

    monkeypatch.setattr(PaymentsStore, "decide", counted)
    succeeded = event("payment_intent.succeeded", intent())

    # When Stripe delivers the same event ten times
    answers = [webhook_world.deliver(succeeded) for _ in range(10)]

    # Then every delivery is acknowledged: one applied, nine recognised as duplicates
    assert [a.status for a in answers] == [200] * 10
    assert [a.body["outcome"] for a in answers] == ["succeeded"] + ["duplicate"] * 9
    # And the outcome was written once, and one PaymentSucceeded published with a stable id
    assert writes == ["succeeded"]
    published = webhook_world.published()
    assert detail_types(published) == ["PaymentSucceeded"]
    assert published[0]["source"] == "storekeeper.payments"
    assert published[0]["detail"]["eventId"] == f"PaymentSucceeded#{ORDER}"
    assert published[0]["detail"]["data"] == {
        "orderId": ORDER,
        "paymentIntentId": INTENT,
        "amount": {"amount": 2500, "currency": "EUR"},
        # No Stripe key in this world: the fee is unknown, and said so (null), never 0.
        "fee": None,
        "net": None,
        "chargeId": None,
        "balanceTransactionId": None,
    }


def test_a_failure_after_success_changes_nothing(webhook_world: WebhookWorld) -> None:
    # Given a payment Stripe said succeeded
    given_payment(webhook_world)
    assert webhook_world.deliver(event("payment_intent.succeeded", intent())).body["outcome"] == "succeeded"
    webhook_world.published()  # drained

    # When a payment_failed for it arrives late
    failed = intent(status="requires_payment_method", last_payment_error={"message": "Your card was declined."})
    answer = webhook_world.deliver(event("payment_intent.payment_failed", failed))

    # Then it is acknowledged as late, the outcome stays succeeded, and nothing is published for it
    assert (answer.status, answer.body["outcome"]) == (200, "late: the payment was already decided otherwise")
    record = webhook_world.store.payment(ORDER)
    assert record is not None
    assert (record.outcome, record.outcome_detail) == ("succeeded", "paid")
    assert webhook_world.published() == []


@pytest.mark.parametrize("kind", ["customer.created", "payment_intent.created", "invoice.paid"])
def test_event_types_we_do_not_handle_are_acknowledged(webhook_world: WebhookWorld, kind: str) -> None:
    # Given an order with a PaymentIntent
    given_payment(webhook_world)

    # When Stripe sends an event type we do not act on
    answer = webhook_world.deliver(event(kind, intent()))

    # Then it is a 200 (Stripe stops retrying), the payment is untouched and nothing is published
    assert (answer.status, answer.body) == (200, {"received": True, "outcome": f"ignored: {kind}"})
    record = webhook_world.store.payment(ORDER)
    assert record is not None and record.outcome is None
    assert webhook_world.published() == []


def test_an_event_without_an_order_is_ignored(webhook_world: WebhookWorld) -> None:
    # Given a succeeded PaymentIntent that was not made for an order (no metadata.orderId)
    before = len(webhook_world.items())

    # When Stripe sends it
    answer = webhook_world.deliver(event("payment_intent.succeeded", intent(order_id=None)))

    # Then it is acknowledged and ignored: only the dedupe claim is written, no payment, no event
    assert (answer.status, answer.body["outcome"]) == (200, "ignored: no order")
    items = webhook_world.items()
    assert len(items) == before + 1
    assert items[-1]["PK"]["S"].startswith("EVENT#")
    assert webhook_world.published() == []


def test_during_a_secret_rotation_both_secrets_are_accepted(webhook_world: WebhookWorld) -> None:
    # Given the secret is being rotated: the parameter holds the new and the old one
    webhook_world.set_secret("whsec_new,whsec_old")
    given_payment(webhook_world)

    # When events arrive signed with either, and one with a secret no longer listed
    new = webhook_world.deliver(event("payment_intent.created", intent()), secret="whsec_new")
    old = webhook_world.deliver(event("payment_intent.succeeded", intent()), secret="whsec_old")
    retired = webhook_world.deliver(event("payment_intent.canceled", intent()), secret=WEBHOOK_SECRET)

    # Then both listed secrets verify, and the retired one does not
    assert (new.status, old.status) == (200, 200)
    assert old.body["outcome"] == "succeeded"
    assert (retired.status, retired.error["code"]) == (400, "invalid_signature")


def test_refunds_are_recorded_and_never_move_backwards(webhook_world: WebhookWorld) -> None:
    # Given a paid order of 25.00
    given_payment(webhook_world)

    # When Stripe reports 10.00 refunded, then all 25.00, then (late) the 10.00 again in a new event
    answers = [
        webhook_world.deliver(event("charge.refunded", charge(1000))),
        webhook_world.deliver(event("charge.refunded", charge(2500))),
        webhook_world.deliver(event("charge.refunded", charge(1000))),
    ]

    # Then each is acknowledged, and the recorded total only ever grew
    assert [(a.status, a.body["outcome"]) for a in answers] == [(200, "refund recorded")] * 3
    record = webhook_world.store.payment(ORDER)
    assert record is not None and record.amount_refunded == 2500
    # And the RefundSucceeded ids are per total: the late one repeats an id consumers already applied
    published = webhook_world.published()
    assert detail_types(published) == ["RefundSucceeded"] * 3
    assert [e["detail"]["eventId"] for e in published] == [
        f"RefundSucceeded#{ORDER}#1000",
        f"RefundSucceeded#{ORDER}#2500",
        f"RefundSucceeded#{ORDER}#1000",
    ]


def test_a_waiting_workflow_is_resumed_once(webhook_world: WebhookWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the order's workflow waits on AwaitPayment's token
    given_payment(webhook_world)
    webhook_world.store.register_token(ORDER, "token-await-payment")
    fake = FakeCallbacks()
    monkeypatch.setattr(webhook, "callbacks", lambda: fake)

    # When Stripe says the payment succeeded, twice
    for _ in range(2):
        webhook_world.deliver(event("payment_intent.succeeded", intent()))

    # Then the workflow is resumed once, with what it was paid
    assert fake.succeeded == [
        ("token-await-payment", {"orderId": ORDER, "paymentIntentId": INTENT, "amountReceived": 2500})
    ]
    assert fake.failed == []


# ---------------------------------------------------------------- failures: Stripe's redelivery must be processed


def test_a_failed_event_is_released_for_the_redelivery(
    webhook_world: WebhookWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given processing fails once (before anything is applied)
    given_payment(webhook_world)
    real_handle = logic.handle_event
    failures = iter([RuntimeError("DynamoDB had a bad moment")])

    def flaky(*args: Any) -> Handled:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_handle(*args)

    monkeypatch.setattr(logic, "handle_event", flaky)
    succeeded = event("payment_intent.succeeded", intent())

    # When Stripe delivers the event, and redelivers it after the error
    first = webhook_world.deliver(succeeded)
    claims_between = [i for i in webhook_world.items() if i["PK"]["S"].startswith("EVENT#")]
    second = webhook_world.deliver(succeeded)

    # Then the first answer is a 5xx (Stripe retries), with the claim released, and the redelivery is processed
    assert first.status >= 500 and first.error["code"] == "internal_error"
    assert claims_between == []
    assert (second.status, second.body["outcome"]) == (200, "succeeded")
    assert detail_types(webhook_world.published()) == ["PaymentSucceeded"]


def test_a_publish_failure_after_the_outcome_write_is_published_on_redelivery(webhook_world: WebhookWorld) -> None:
    # Given the bus refuses the first PaymentSucceeded (EventBridge answers a failed entry)
    given_payment(webhook_world)
    succeeded = event("payment_intent.succeeded", intent())
    with Stubber(events_client()) as bus:
        bus.add_response(
            "put_events",
            {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}]},
        )
        # When Stripe delivers the event (the answer is an error, so Stripe will redeliver)
        first = webhook_world.deliver(succeeded)
        bus.assert_no_pending_responses()
    assert first.status >= 500
    # And redelivers it
    second = webhook_world.deliver(succeeded)

    # Then the redelivery publishes what the first attempt could not
    assert second.status == 200
    assert detail_types(webhook_world.published()) == ["PaymentSucceeded"]


# ---------------------------------------------------------------- the deployed environment


def test_the_webhook_runs_with_the_environment_the_template_gives_it(
    webhook_world: WebhookWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given exactly the variables the template gives the webhook function, the Stripe key's parameter
    # among them (a payment for an order that will not be fulfilled is refunded right there)
    assert webhook_environment()["STRIPE_SECRET_KEY_PARAMETER"] == f"/storekeeper/{STAGE}/stripe/secret-key"
    given_payment(webhook_world)

    # When Stripe delivers a valid event
    answer = webhook_world.deliver(event("payment_intent.succeeded", intent()))

    # Then it is applied
    assert (answer.status, answer.body) == (200, {"received": True, "outcome": "succeeded"})
