"""DynamoDB and EventBridge faults injected exactly with botocore's Stubber, on the client the store (or
the handler) uses. botocore's own retries (AWS_CONFIG) never see a stubbed answer, so what a test sees
is what the code does once its SDK has given up: the error must surface, and nothing may be half-done."""

import os
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

import common.dynamo
from common.dynamo import dynamodb_client
from common.errors import ServiceUnavailable
from common.events import publish as publish_to_bus
from inventory import logic
from inventory.models import AdjustmentIn, HoldStatus
from inventory.store import HoldExists, InventoryStore
from tests.bus import BusObserver
from tests.fakes import FakePublisher
from tests.proxy import Answer

from .conftest import REGION, T0, WINDOW, StockFactory, counters, order, raw_items

CONFLICT_ATTEMPTS = common.dynamo._CONFLICT_ATTEMPTS  # the policy under test
THROTTLES = ["ProvisionedThroughputExceededException", "ThrottlingException"]
ApiEvent = Callable[..., dict[str, Any]]
CallAdmin = Callable[[dict[str, Any]], Answer]


class Backoff:
    """Stands in for `time` inside `common.dynamo`: records each pause between conflicting attempts
    instead of sleeping, and runs `on_pause` there (the moment the other transaction would finish)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self.on_pause: Callable[[], None] | None = None

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if self.on_pause:
            self.on_pause()


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    fake = Backoff()
    monkeypatch.setattr(common.dynamo, "time", fake)
    return fake


@pytest.fixture
def stub(store: InventoryStore) -> Iterator[Stubber]:
    """A Stubber on the store's client, not yet active: a test queues faults, then activates it."""
    stubber = Stubber(store.client)
    yield stubber
    stubber.deactivate()


def conflicts(stubber: Stubber, *, actions: int, times: int) -> None:
    """Queue `times` transactions cancelled because every item was in another transaction."""
    for _ in range(times):
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            service_message="Transaction cancelled, please refer cancellation reasons for specific reasons",
            http_status_code=400,
            modeled_fields={
                "CancellationReasons": [{"Code": "TransactionConflict", "Message": "Transaction is ongoing"}] * actions
            },
        )


def throttle(stubber: Stubber, operation: str, code: str) -> None:
    stubber.add_client_error(operation, service_error_code=code, service_message="Rate exceeded", http_status_code=400)


# ---------------------------------------------------------------- transaction conflicts


def test_a_reserve_that_conflicts_on_every_attempt_is_unavailable_and_holds_nothing(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory, stub: Stubber, backoff: Backoff
) -> None:
    # Given stock, and a table where every attempt of the reserve transaction meets a conflict
    given_stock("TEE-S", 5)
    conflicts(stub, actions=2, times=CONFLICT_ATTEMPTS)

    # When the order reserves
    with stub, pytest.raises(ServiceUnavailable) as raised:
        logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)

    # Then it tried as often as the policy allows, backing off in between, and answers 503 "retry"
    stub.assert_no_pending_responses()
    assert len(backoff.pauses) == CONFLICT_ATTEMPTS - 1
    assert raised.value.code == "transaction_conflict"
    assert raised.value.details == {"reasons": ["TransactionConflict", "TransactionConflict"]}
    # And nothing was held
    assert counters(store, "TEE-S") == (5, 0, 0)
    assert store.get_hold("o-1") is None


def test_a_reserve_whose_conflict_clears_during_the_backoff_holds_once(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory, stub: Stubber, backoff: Backoff
) -> None:
    # Given a first attempt that meets a conflict, which is over by the time the store retries
    given_stock("TEE-S", 5)
    conflicts(stub, actions=2, times=1)
    backoff.on_pause = stub.deactivate

    # When the order reserves
    stub.activate()
    result = logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)

    # Then the second attempt held the stock, once
    assert len(backoff.pauses) == 1
    assert (result.status, result.changed) == ("HELD", True)
    assert counters(store, "TEE-S") == (3, 2, 0)


def test_a_commit_that_conflicts_on_every_attempt_leaves_the_hold_and_a_retry_sells_once(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory, stub: Stubber, backoff: Backoff
) -> None:
    # Given a held order, and a commit whose transaction always conflicts (its reads go to the table)
    given_stock("TEE-S", 5)
    logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)
    hold = store.get_hold("o-1")
    assert hold is not None
    conflicts(stub, actions=2, times=CONFLICT_ATTEMPTS)

    # When the store commits it
    with stub, pytest.raises(ServiceUnavailable):
        store.commit(hold, T0)

    # Then the hold is still held and nothing was sold
    assert counters(store, "TEE-S") == (3, 2, 0)
    assert store.get_hold("o-1").status is HoldStatus.HELD  # type: ignore[union-attr]
    # And the workflow's retry sells it once
    assert logic.commit(store, "o-1", publish=publish, now=T0).changed
    assert counters(store, "TEE-S") == (3, 0, 2)


def test_a_condition_failure_next_to_a_conflict_is_final(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory, stub: Stubber, backoff: Backoff
) -> None:
    # Given a reserve transaction cancelled because the hold exists, while a stock item was also busy
    given_stock("TEE-S", 5)
    stub.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": "ConditionalCheckFailed"}, {"Code": "TransactionConflict"}]},
    )

    # When the store reserves
    # Then the failed condition decides at once (no backoff, no second attempt): the hold exists
    with stub, pytest.raises(HoldExists):
        store.reserve("o-1", {"TEE-S": 2}, T0 + WINDOW, T0)
    stub.assert_no_pending_responses()
    assert backoff.pauses == []
    assert counters(store, "TEE-S") == (5, 0, 0)


# ---------------------------------------------------------------- throttling


@pytest.mark.parametrize("code", THROTTLES)
def test_a_throttled_reserve_surfaces_and_applies_nothing(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory, stub: Stubber, backoff: Backoff, code: str
) -> None:
    # Given a table that throttles the reserve transaction (after botocore's own retries)
    given_stock("TEE-S", 5)
    throttle(stub, "transact_write_items", code)

    # When the order reserves
    with stub, pytest.raises(ClientError) as raised:
        logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)

    # Then the throttling error itself surfaces (for the task's Retry), not retried as a conflict
    assert raised.value.response["Error"]["Code"] == code
    assert backoff.pauses == []
    # And nothing was applied; the retry holds once
    assert counters(store, "TEE-S") == (5, 0, 0)
    assert store.get_hold("o-1") is None
    assert logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0).changed
    assert counters(store, "TEE-S") == (3, 2, 0)


@pytest.mark.parametrize("code", THROTTLES)
def test_a_throttled_read_before_commit_surfaces_and_leaves_the_hold(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory, stub: Stubber, code: str
) -> None:
    # Given a held order, and a table that throttles the commit's read of the hold
    given_stock("TEE-S", 5)
    logic.reserve(store, order("o-1", ("TEE-S", 2)), window=WINDOW, publish=publish, now=T0)
    throttle(stub, "get_item", code)

    # When the order commits
    with stub, pytest.raises(ClientError):
        logic.commit(store, "o-1", publish=publish, now=T0)

    # Then nothing moved
    assert counters(store, "TEE-S") == (3, 2, 0)
    assert store.get_hold("o-1").status is HoldStatus.HELD  # type: ignore[union-attr]


def test_a_throttled_adjustment_with_a_key_applies_once_when_retried(
    store: InventoryStore, publish: FakePublisher, stub: Stubber
) -> None:
    # Given a SKU, and a first attempt at a keyed restock that is throttled
    logic.ensure_stock(store, ["TEE-S"], threshold=0)
    throttle(stub, "transact_write_items", "ProvisionedThroughputExceededException")
    restock = AdjustmentIn(delta=5, reason="restock")
    with stub, pytest.raises(ClientError):
        logic.adjust(store, "TEE-S", restock, actor="staff-1", idempotency_key="po-77-line-1", publish=publish)
    # (no ledger row, no key, no change)
    assert counters(store, "TEE-S") == (0, 0, 0)
    assert [i for i in raw_items(store) if i["SK"]["S"] != "STOCK"] == []

    # When staff retry with the same key, twice
    _, _, first = logic.adjust(
        store, "TEE-S", restock, actor="staff-1", idempotency_key="po-77-line-1", publish=publish
    )
    _, stock, second = logic.adjust(
        store, "TEE-S", restock, actor="staff-1", idempotency_key="po-77-line-1", publish=publish
    )

    # Then the first retry applies it, the second answers it
    assert (first, second) == (True, False)
    assert stock.available == 5


def test_a_throttled_bus_after_the_hold_surfaces_and_the_sweeper_announces_later(
    store: InventoryStore, given_stock: StockFactory
) -> None:
    # Given a SKU one unit above its threshold, and EventBridge throttling the StockLow it will cause
    given_stock("TEE-S", 4, threshold=3)
    events = boto3.client("events", region_name=REGION)
    throttled_bus = partial(publish_to_bus, domain="inventory", bus_name="store-events", client=events)
    bus_stub = Stubber(events)
    throttle(bus_stub, "put_events", "ThrottlingException")

    # When the order reserves the unit that crosses the threshold
    with bus_stub, pytest.raises(ClientError) as raised:
        logic.reserve(store, order("o-1", ("TEE-S", 1)), window=WINDOW, publish=throttled_bus, now=T0)

    # Then the error surfaces; the hold was written whole before the publish, and a retry keeps it once
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert counters(store, "TEE-S") == (3, 1, 0)
    recorder = FakePublisher()
    assert not logic.reserve(store, order("o-1", ("TEE-S", 1)), window=WINDOW, publish=recorder, now=T0).changed
    assert counters(store, "TEE-S") == (3, 1, 0)
    # And the crossing is not lost: the next sweep announces it
    logic.sweep(store, is_waiting=lambda _order_id: False, publish=recorder, now=T0)
    assert [e.envelope.event_id for e in recorder.events] == ["StockLow#TEE-S#1"]


# ---------------------------------------------------------------- the admin API


@pytest.fixture
def shelf(admin_world: InventoryStore) -> InventoryStore:
    """TEE-S with 5 available (threshold 2) in the admin function's table."""
    logic.ensure_stock(admin_world, ["TEE-S"], threshold=2)
    logic.adjust(
        admin_world,
        "TEE-S",
        AdjustmentIn(delta=5, reason="restock"),
        actor="setup",
        idempotency_key=None,
        publish=lambda _events: None,
    )
    return admin_world


def assert_error(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer.body
    assert set(answer.body) == {"error"}
    assert set(answer.error) == {"code", "message", "details", "requestId"}
    assert answer.error["code"] == code
    assert isinstance(answer.error["message"], str) and answer.error["message"]


def adjustment(delta: int, reason: str = "restock") -> dict[str, Any]:
    return {"delta": delta, "reason": reason}


@pytest.mark.parametrize("code", THROTTLES)
def test_a_throttled_read_through_the_api_is_503(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent, code: str
) -> None:
    # Given the handler's DynamoDB client throttles its next call
    with Stubber(dynamodb_client()) as stubbed:
        throttle(stubbed, "get_item", code)

        # When an admin reads a SKU
        answer = call_admin(api_event("GET", "/inventory/TEE-S", groups=["admin"]))

    # Then the API says "retry shortly" in the one error shape
    assert_error(answer, 503, "service_unavailable")


def test_a_throttled_adjustment_through_the_api_is_503_and_applies_nothing(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent
) -> None:
    # Given the handler's DynamoDB client throttles the adjustment's transaction
    with Stubber(dynamodb_client()) as stubbed:
        throttle(stubbed, "transact_write_items", "ProvisionedThroughputExceededException")

        # When an admin removes two units
        answer = call_admin(
            api_event("POST", "/inventory/TEE-S/adjustments", body=adjustment(-2, "shrinkage"), groups=["admin"])
        )

    # Then it is a 503, and neither the stock nor the ledger changed
    assert_error(answer, 503, "service_unavailable")
    assert counters(shelf, "TEE-S") == (5, 0, 0)
    assert len(logic.ledger(shelf, "TEE-S", cursor=None, limit=10)[0]) == 1


def test_an_adjustment_that_keeps_conflicting_is_503_transaction_conflict(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent, backoff: Backoff
) -> None:
    # Given every attempt of the adjustment's transaction meets a conflict
    with Stubber(dynamodb_client()) as stubbed:
        conflicts(stubbed, actions=2, times=CONFLICT_ATTEMPTS)

        # When an admin restocks
        answer = call_admin(api_event("POST", "/inventory/TEE-S/adjustments", body=adjustment(3), groups=["admin"]))

    # Then the answer is a 503 the client may retry, naming the conflict; nothing was applied
    assert_error(answer, 503, "transaction_conflict")
    assert answer.error["details"] == {"reasons": ["TransactionConflict", "TransactionConflict"]}
    assert counters(shelf, "TEE-S") == (5, 0, 0)


ROUTES = [
    ("GET", "/inventory", None),
    ("GET", "/inventory/TEE-S", None),
    ("PUT", "/inventory/TEE-S", {"lowStockThreshold": 1}),
    ("POST", "/inventory/TEE-S/adjustments", adjustment(1)),
    ("GET", "/inventory/TEE-S/ledger", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_a_customer_may_not_use_the_stock_api(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent, method: str, path: str, body: Any
) -> None:
    # Given a signed-in customer (no staff group)
    # When they call any inventory route
    answer = call_admin(api_event(method, path, body=body, groups=["customer"]))
    # Then it is forbidden, and nothing changed
    assert_error(answer, 403, "forbidden")
    assert counters(shelf, "TEE-S") == (5, 0, 0)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_an_anonymous_caller_is_401(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent, method: str, path: str, body: Any
) -> None:
    # Given no claims at all
    # When any inventory route is called
    # Then the caller must sign in
    assert_error(call_admin(api_event(method, path, body=body)), 401, "unauthorized")


@pytest.mark.parametrize(("method", "path", "body"), [r for r in ROUTES if r[0] != "GET"])
def test_support_may_read_but_not_change_stock(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent, method: str, path: str, body: Any
) -> None:
    # Given support staff
    # When they read, and when they try to change stock
    read = call_admin(api_event("GET", "/inventory/TEE-S", groups=["support"]))
    change = call_admin(api_event(method, path, body=body, groups=["support"]))
    # Then reading is allowed, changing is forbidden
    assert read.status == 200
    assert_error(change, 403, "forbidden")
    assert counters(shelf, "TEE-S") == (5, 0, 0)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/inventory/tee-s", None),
        ("PUT", "/inventory/tee-s", {"lowStockThreshold": 1}),
        ("POST", "/inventory/-TEE/adjustments", adjustment(1)),
        ("GET", "/inventory/TEE%20S/ledger", None),
    ],
)
def test_an_invalid_sku_in_the_path_is_422(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent, method: str, path: str, body: Any
) -> None:
    # Given a path whose SKU breaks the SKU pattern
    # When an admin calls it
    answer = call_admin(api_event(method, path, body=body, groups=["admin"]))
    # Then the path parameter is named as invalid
    assert_error(answer, 422, "validation_failed")
    assert any(detail["field"] == "path.sku" for detail in answer.error["details"]), answer.error


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/inventory/NOPE-1", None),
        ("PUT", "/inventory/NOPE-1", {"lowStockThreshold": 1}),
        ("POST", "/inventory/NOPE-1/adjustments", adjustment(1)),
        ("GET", "/inventory/NOPE-1/ledger", None),
    ],
)
def test_an_unknown_sku_is_404_and_nothing_is_created(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent, method: str, path: str, body: Any
) -> None:
    # Given a well-formed SKU inventory has no record of
    # When an admin calls it
    answer = call_admin(api_event(method, path, body=body, groups=["admin"]))
    # Then it is not found, and no record appeared
    assert_error(answer, 404, "stock_not_found")
    assert shelf.get_stock("NOPE-1") is None


def test_an_adjustment_below_zero_is_409_with_what_is_available(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent
) -> None:
    # Given 5 available
    # When an admin removes 6
    answer = call_admin(
        api_event("POST", "/inventory/TEE-S/adjustments", body=adjustment(-6, "shrinkage"), groups=["admin"])
    )
    # Then it conflicts with the stock, says how much there is, and changes nothing
    assert_error(answer, 409, "insufficient_stock")
    assert answer.error["details"] == {"sku": "TEE-S", "delta": -6, "available": 5}
    assert counters(shelf, "TEE-S") == (5, 0, 0)


def test_an_adjustment_is_201_and_its_idempotency_key_makes_a_retry_apply_once(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent
) -> None:
    # Given 5 available
    def post(body: dict[str, Any]) -> Answer:
        return call_admin(
            api_event(
                "POST",
                "/inventory/TEE-S/adjustments",
                body=body,
                groups=["admin"],
                sub="staff-7",
                headers={"Idempotency-Key": "po-77-line-1"},
            )
        )

    # When an admin restocks 3 with a key, and the client retries the same request
    first = post(adjustment(3) | {"note": "PO 77"})
    again = post(adjustment(3) | {"note": "PO 77"})

    # Then both answers describe the one adjustment, which applied once, by that admin
    assert (first.status, again.status) == (201, 201)
    assert first.headers["Location"] == "/dev/inventory/TEE-S/ledger"  # behind the stage the request came through
    assert (first.headers.get("Idempotent-Replayed"), again.headers.get("Idempotent-Replayed")) == (None, "true")
    assert again.body["adjustment"] == first.body["adjustment"]
    assert first.body["adjustment"]["actor"] == "staff-7"
    assert first.body["stock"]["available"] == 8
    assert counters(shelf, "TEE-S") == (8, 0, 0)
    # And the same key with another body is refused
    assert_error(post(adjustment(4)), 409, "idempotency_key_reused")
    assert counters(shelf, "TEE-S") == (8, 0, 0)


def test_a_malformed_idempotency_key_is_422(shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent) -> None:
    # Given a key shorter than the allowed pattern
    # When an admin sends an adjustment with it
    answer = call_admin(
        api_event(
            "POST",
            "/inventory/TEE-S/adjustments",
            body=adjustment(1),
            groups=["admin"],
            headers={"Idempotency-Key": "k"},
        )
    )
    # Then it is refused before anything is applied
    assert answer.status == 422
    assert counters(shelf, "TEE-S") == (5, 0, 0)


def test_threshold_ledger_and_low_listing_through_the_api(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent
) -> None:
    # Given 5 available, threshold 2
    # When an admin raises the threshold to 5 and a support agent lists the low SKUs
    put = call_admin(api_event("PUT", "/inventory/TEE-S", body={"lowStockThreshold": 5}, groups=["admin"]))
    low = call_admin(api_event("GET", "/inventory", query={"lowStock": "true"}, groups=["support"]))
    ledger = call_admin(api_event("GET", "/inventory/TEE-S/ledger", query={"limit": 1}, groups=["support"]))

    # Then the SKU is low by its new threshold and listed so
    assert put.status == 200, put.body
    assert (put.body["lowStockThreshold"], put.body["lowStock"], put.body["onHand"]) == (5, True, 5)
    assert low.status == 200
    assert [item["sku"] for item in low.body["items"]] == ["TEE-S"]
    # And its ledger shows the restock
    assert ledger.status == 200
    assert [(e["delta"], e["reason"]) for e in ledger.body["items"]] == [(5, "restock")]


def test_a_low_stock_crossing_through_the_api_reaches_the_bus(
    shelf: InventoryStore, call_admin: CallAdmin, api_event: ApiEvent
) -> None:
    # Given the bus delivers inventory's events to a queue
    bus = os.environ["EVENT_BUS_NAME"]
    observer = BusObserver.on(boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION), bus)

    # When an admin removes 3 of 5 (threshold 2)
    answer = call_admin(
        api_event("POST", "/inventory/TEE-S/adjustments", body=adjustment(-3, "shrinkage"), groups=["admin"])
    )

    # Then one StockLow for the first crossing is on the bus
    assert answer.status == 201, answer.body
    details = observer.published()
    assert [(d["detail-type"], d["detail"]["eventId"]) for d in details] == [("StockLow", "StockLow#TEE-S#1")]
    assert details[0]["detail"]["data"] == {"sku": "TEE-S", "available": 2, "threshold": 2, "crossing": 1}
