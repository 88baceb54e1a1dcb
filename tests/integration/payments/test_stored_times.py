"""Every time payments stores is written in the one stored format (`common.store.iso`: UTC, microseconds,
`Z`), so times from every domain sort and compare as text (issue 11: payments wrote `+00:00`)."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from common.contracts import CreatePaymentIntentInput, OrderStatesOutput, RefundInput
from common.dynamo import from_item
from common.money import Money
from payments import logic
from payments.errors import PaymentProviderUnavailable
from payments.models import ReconcileInput
from payments.reconcile import reconcile
from payments.store import PaymentsStore
from tests.fakes import FakeCallbacks, FakePublisher

from .conftest import FakeGateway

ORDER = "o_stored_times"
STORED_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TIME_ATTRIBUTES = ("createdAt", "decidedAt", "heldAt", "receivedAt", "processedAt")


class NoIntents:
    """Stripe with nothing in the window: reconciliation only records its run."""

    def list_intents(self, created_from: int, created_to: int) -> Iterable[dict[str, Any]]:
        return []

    def list_refunds(self, payment_intent_id: str) -> list[dict[str, Any]]:
        return []

    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]:
        raise AssertionError("not asked")

    def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]:
        raise AssertionError("not asked")


class NoOrders:
    def states(self, order_ids: list[str]) -> OrderStatesOutput:
        return OrderStatesOutput(items=[], unknown=order_ids)


def _times(value: Any) -> list[tuple[str, str]]:
    """Every stored time attribute in an item, however deep (refund holds are nested)."""
    if isinstance(value, dict):
        found = [(k, v) for k, v in value.items() if k in TIME_ATTRIBUTES and isinstance(v, str)]
        return found + [t for v in value.values() for t in _times(v)]
    return []


def _items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return [from_item(item) for item in dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]]


def test_every_stored_time_is_utc_with_microseconds_and_z(
    store: PaymentsStore, gateway: FakeGateway, callbacks: FakeCallbacks, dynamodb: Any
) -> None:
    # Given a payment attached, decided, with a refund held and a Stripe event claimed and finished
    amount = Money(amount=1000, currency="EUR")
    logic.create_intent(store, gateway, CreatePaymentIntentInput(order_id=ORDER, amount=amount))
    logic.decide(store, callbacks, ORDER, logic.SUCCEEDED, "paid")
    gateway.unavailable = True  # the refund's amount stays set aside (`heldAt`)
    with pytest.raises(PaymentProviderUnavailable):
        logic.refund(store, gateway, RefundInput(order_id=ORDER, refund_id="r1", reason="test"))
    claim = store.claim_event("evt_times", "payment_intent.succeeded")
    assert claim.token is not None
    store.finish_event("evt_times", "succeeded")

    # When a reconciliation run is recorded too
    reconcile(store, NoIntents(), NoOrders(), FakePublisher(), ReconcileInput(until=datetime.now(UTC)))

    # Then every time attribute, and the run's sort key, is in the one format
    items = _items(dynamodb, store.table)
    times = [t for item in items for t in _times(item)]
    assert {name for name, _ in times} == set(TIME_ATTRIBUTES)
    assert [(name, value) for name, value in times if not STORED_TIME.match(value)] == []
    (run,) = [item for item in items if item["PK"] == "RECONCILIATION"]
    started = run["SK"].split("#")[1]
    assert STORED_TIME.match(started), run["SK"]
