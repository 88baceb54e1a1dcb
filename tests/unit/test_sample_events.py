"""The sample events in `events/` (for `sam local invoke -e`, and for people) must stay true: each
task input parses into the model its handler reads, each API event names a route of the template with
claims exactly where the route needs them, each Stripe event is one the webhook handles, and each SQS
batch (`jobs/*_batch.json`) carries bus events their consumer reads."""

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from common.contracts import (
    AwaitPaymentInput,
    CancelPaymentInput,
    CreatePaymentIntentInput,
    HoldRef,
    PriceSkusInput,
    RefundInput,
    ReserveStockInput,
    RestockInput,
)
from local.template import Template
from orders.tasks import AwaitShipmentInput, TransitionInput

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
TASK_MODELS: dict[str, type[BaseModel]] = {
    "reserve_stock": ReserveStockInput,
    "commit_stock": HoldRef,
    "release_stock": HoldRef,
    "restock": RestockInput,
    "create_payment_intent": CreatePaymentIntentInput,
    "await_payment": AwaitPaymentInput,
    "cancel_payment": CancelPaymentInput,
    "refund_payment": RefundInput,
    "transition_paid": TransitionInput,
    "transition_rejected": TransitionInput,
    "await_shipment": AwaitShipmentInput,
    "price_skus": PriceSkusInput,
}


@pytest.mark.parametrize("path", sorted((EVENTS / "tasks").glob("*.json")), ids=lambda p: p.stem)
def test_task_inputs_parse(path: Path) -> None:
    TASK_MODELS[path.stem].model_validate(json.loads(path.read_text()))


def test_the_rejection_sample_carries_its_short_skus() -> None:
    task = TransitionInput.model_validate(json.loads((EVENTS / "tasks" / "transition_rejected.json").read_text()))
    reason, short = task.why()
    assert reason is not None
    assert reason.startswith("not enough stock")
    assert short == [{"sku": "MUG-INK", "requested": 2, "available": 1}]


@pytest.mark.parametrize("path", sorted((EVENTS / "api").rglob("*.json")), ids=lambda p: p.stem)
def test_api_events_name_a_route(path: Path) -> None:
    event = json.loads(path.read_text())
    routes = {(r.method, r.path): r for r in Template(ROOT / "template.yaml").routes()}
    route = routes[(event["httpMethod"], event["resource"])]
    has_claims = "authorizer" in event["requestContext"]
    assert has_claims == (route.authorizer is not None)


@pytest.mark.parametrize("path", sorted((EVENTS / "stripe").glob("*.json")), ids=lambda p: p.stem)
def test_stripe_events_are_for_an_order(path: Path) -> None:
    event = json.loads(path.read_text())
    assert event["type"] == path.stem
    found = event["data"]["object"]
    if found["object"] == "dispute":  # Stripe's dispute names the PaymentIntent, never our metadata
        assert found["payment_intent"].startswith("pi_")
    else:
        assert found["metadata"]["orderId"].startswith("o_")


@pytest.mark.parametrize("path", sorted((EVENTS / "stripe").glob("*.json")), ids=lambda p: p.stem)
def test_stripe_events_are_read_by_the_webhook_as_the_events_they_are(path: Path) -> None:
    from payments.stripe_events import OtherEvent, parse_event

    assert not isinstance(parse_event(json.loads(path.read_text())), OtherEvent)


@pytest.mark.parametrize("path", sorted((EVENTS / "jobs").glob("*_batch.json")), ids=lambda p: p.stem)
def test_queue_batches_carry_bus_events_their_consumer_reads(path: Path) -> None:
    from common.batches import read_batch

    event = json.loads(path.read_text())
    batch = read_batch(event)
    assert batch.dropped == []
    assert len(batch.events) == len(event["Records"]) > 0
    assert {record["eventSource"] for record in event["Records"]} == {"aws:sqs"}
