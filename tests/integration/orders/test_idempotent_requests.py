"""Issue 12, item 3, for orders: `Idempotency-Key` on checkout (required), cancel, shipments and refunds
(a retry answers the first result, marked `Idempotent-Replayed: true`, and does nothing twice; the key with
another request is a 409), checkout's polling interval, and `Location`s a client can `GET` behind the
stage (`api_event` calls through API Gateway's own domain, stage `dev`), coupons' included. Through the
real handlers over moto, with fakes of our own ports."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from common.idempotency import LEASE, IdempotencyKeyInUse, KeyRecords, digest
from orders import admin_api, api
from orders.models import OrderStatus
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher
from tests.proxy import Answer

from .conftest import ADDRESS, CUSTOMER, FakePayments, OrderFactory

Call = Callable[..., Answer]
REPLAYED = "Idempotent-Replayed"
CRASHED = datetime(2030, 1, 1, 11, 58, tzinfo=UTC)
NOW = CRASHED + LEASE + LEASE / 2


@pytest.fixture
def call(
    ports: Ports, store: OrdersStore, monkeypatch: pytest.MonkeyPatch, api_event: Any, lambda_context: Any
) -> Call:
    """Call the customer's (or, `as_staff`, an admin's) handler as API Gateway would, on its own domain
    under the stage `dev`, the use cases wired to this test's store and fakes."""
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    monkeypatch.setattr(api, "ports", lambda: ports)
    monkeypatch.setattr(admin_api, "ports", lambda: ports)
    monkeypatch.setattr(api.metrics, "namespace", "Storekeeper")

    def send(method: str, path: str, *, as_staff: bool = False, key: str | None = None, **kwargs: Any) -> Answer:
        if key is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), "Idempotency-Key": key}
        if as_staff:
            event = api_event(method, path, groups=["admin"], sub="admin-1", **kwargs)
            return Answer.of(admin_api.handler(event, lambda_context))
        return Answer.of(api.handler(api_event(method, path, sub=CUSTOMER.sub, **kwargs), lambda_context))

    return send


def follow(call: Call, location: str, **kwargs: Any) -> Answer:
    """GET a `Location` as a client on the same host would: it carries the stage, the route does not."""
    assert location.startswith("/dev/"), location
    return call("GET", location.removeprefix("/dev"), **kwargs)


CHECKOUT = {"items": [{"sku": "TEE-RED-M", "quantity": 1}], "shippingAddress": ADDRESS}


def test_checkout_without_a_key_is_refused_with_its_own_400(call: Call) -> None:
    answer = call("POST", "/orders", body=CHECKOUT)
    assert (answer.status, answer.error_code) == (400, "idempotency_key_required")


def test_a_retried_checkout_answers_the_first_order_marked_replayed(call: Call) -> None:
    # Given a checkout with a key
    first = call("POST", "/orders", body=CHECKOUT, key="checkout-replay-0001")
    assert first.status == 202, first.body
    order_id = first.body["orderId"]

    # Then it says where to follow the order, behind the stage, and how often to look
    assert first.headers["Location"] == f"/dev/orders/{order_id}"
    assert int(first.headers["Retry-After"]) >= 1
    assert REPLAYED not in first.headers
    assert follow(call, first.headers["Location"]).body["orderId"] == order_id

    # When it is retried with the same key, and the key is used for another body
    again = call("POST", "/orders", body=CHECKOUT, key="checkout-replay-0001")
    other = call(
        "POST", "/orders", body={**CHECKOUT, "items": [{"sku": "MUG-BLUE", "quantity": 1}]}, key="checkout-replay-0001"
    )

    # Then the retry answers the same order, marked replayed; the other body is a 409
    assert (again.status, again.body["orderId"], again.headers.get(REPLAYED)) == (202, order_id, "true")
    assert again.headers["Location"] == first.headers["Location"]
    assert (other.status, other.error_code) == (409, "idempotency_key_reused")


def test_a_retried_cancel_asks_payments_once_and_answers_the_order(
    call: Call, given_order: OrderFactory, payments: FakePayments
) -> None:
    # Given two orders awaiting payment
    order, another = given_order(OrderStatus.AWAITING_PAYMENT), given_order(OrderStatus.AWAITING_PAYMENT)
    path = f"/orders/{order.order_id}/cancel"

    # When the customer cancels one with a key, retries, then reuses the key for another reason or order
    first = call("POST", path, body={"reason": "changed my mind"}, key="cancel-key-000001")
    again = call("POST", path, body={"reason": "changed my mind"}, key="cancel-key-000001")
    other_reason = call("POST", path, body={"reason": "found it cheaper"}, key="cancel-key-000001")
    other_order = call(
        "POST", f"/orders/{another.order_id}/cancel", body={"reason": "changed my mind"}, key="cancel-key-000001"
    )

    # Then payments was asked once; the retry answers the order, marked replayed; the rest are 409s
    assert first.status == 202, first.body
    assert REPLAYED not in first.headers
    assert (again.status, again.body["orderId"], again.headers.get(REPLAYED)) == (202, order.order_id, "true")
    assert [c.order_id for c in payments.cancels] == [order.order_id]
    assert (other_reason.status, other_reason.error_code) == (409, "idempotency_key_reused")
    assert (other_order.status, other_order.error_code) == (409, "idempotency_key_reused")
    # And both answers point at the order, readable there
    assert first.headers["Location"] == again.headers["Location"] == f"/dev/orders/{order.order_id}"
    assert follow(call, first.headers["Location"]).status == 200


def test_a_cancel_that_failed_can_be_retried_with_its_key(call: Call, given_order: OrderFactory) -> None:
    # Given a shipped order, which cannot be cancelled
    order = given_order(OrderStatus.SHIPPED)
    path = f"/orders/{order.order_id}/cancel"

    # When the customer tries twice with one key
    first = call("POST", path, key="cancel-key-000002")
    again = call("POST", path, key="cancel-key-000002")

    # Then each try is answered for itself (a failure is no result to replay), not "in use"
    assert (first.status, first.error_code) == (409, "not_cancellable")
    assert (again.status, again.error_code) == (409, "not_cancellable")


def test_a_retried_shipment_is_announced_once(call: Call, given_order: OrderFactory, publish: FakePublisher) -> None:
    # Given a paid order
    order = given_order(OrderStatus.PAID)
    path = f"/orders/{order.order_id}/shipments"
    shipment = {"carrier": "DHL", "trackingNumber": "JD0100"}

    # When staff record its shipment with a key, retry, and reuse the key for another parcel
    first = call("POST", path, as_staff=True, body=shipment, key="ship-key-00000001")
    again = call("POST", path, as_staff=True, body=shipment, key="ship-key-00000001")
    other = call("POST", path, as_staff=True, body={**shipment, "trackingNumber": "JD0101"}, key="ship-key-00000001")

    # Then it shipped and was announced once; the retry answers the order, marked replayed
    assert (first.status, first.body["status"]) == (200, "SHIPPED"), first.body
    assert REPLAYED not in first.headers
    assert (again.status, again.body["status"], again.headers.get(REPLAYED)) == (200, "SHIPPED", "true")
    assert len(publish.of_type("OrderShipped")) == 1
    assert (other.status, other.error_code) == (409, "idempotency_key_reused")


def test_a_retried_refund_is_marked_replayed(call: Call, given_order: OrderFactory, payments: FakePayments) -> None:
    order = given_order(OrderStatus.PAID)
    body = {"amount": {"amount": 500, "currency": "EUR"}, "reason": "late"}
    path = f"/orders/{order.order_id}/refunds"

    first = call("POST", path, as_staff=True, body=body, key="refund-key-000001")
    again = call("POST", path, as_staff=True, body=body, key="refund-key-000001")

    assert first.status == 200, first.body
    assert REPLAYED not in first.headers
    assert (again.status, again.headers.get(REPLAYED)) == (200, "true")
    assert len(payments.refunds) == 1


def test_a_created_coupon_is_readable_at_its_location(call: Call) -> None:
    # Given a coupon created by staff
    created = call("POST", "/coupons", as_staff=True, body={"code": "SPRING-10", "type": "percent", "value": 10})
    assert created.status == 201, created.body

    # Then its Location answers it (any case of the code finds it); an unknown code is a 404
    assert created.headers["Location"] == "/dev/coupons/SPRING-10"
    found = follow(call, created.headers["Location"], as_staff=True)
    assert (found.status, found.body["code"], found.body["value"]) == (200, "SPRING-10", 10)
    assert call("GET", "/coupons/spring-10", as_staff=True).body["code"] == "SPRING-10"
    missing = call("GET", "/coupons/NOPE-123", as_staff=True)
    assert (missing.status, missing.error_code) == (404, "coupon_not_found")
    # (who may read it: the admin only, tests/e2e/test_authorization_matrix.py)


# ---------------------------------------------------------------- the key records themselves (common.idempotency)


def test_a_key_whose_first_request_is_under_way_is_in_use_then_answered(store: OrdersStore) -> None:
    keys = KeyRecords(store, "test", lambda: NOW)
    retries: list[str] = []

    def first() -> str:
        # While the first request is under way, a retry with its key is told to come back (a 503)
        with pytest.raises(IdempotencyKeyInUse):
            keys.once("who", "key-underway-01", {"a": 1}, lambda: "twice!", result_of=str, replay=str)
        retries.append("refused")
        return "made-1"

    assert keys.once("who", "key-underway-01", {"a": 1}, first, result_of=str, replay=str) == "made-1"
    # Once it is done, a retry is answered with what it made, without doing anything
    again = keys.once("who", "key-underway-01", {"a": 1}, lambda: "twice!", result_of=str, replay=lambda r: f"={r}")
    assert (retries, again) == (["refused"], "=made-1")


def test_a_key_whose_first_request_died_is_taken_over_after_its_lease(store: OrdersStore) -> None:
    # Given a key claimed by a request that died before finishing (its function timed out)
    store.put_if_absent(
        {
            "PK": "IDEMPOTENCY#test#who#key-crashed-001",
            "SK": "META",
            "requestHash": digest({"a": 1}),
            "state": "STARTED",
            "claim": "dead",
            "claimedAt": "2030-01-01T11:58:00.000000Z",
        }
    )
    keys = KeyRecords(store, "test", lambda: NOW)

    # Then a retry within the lease is told to come back, and one after it does the change itself
    with pytest.raises(IdempotencyKeyInUse):
        KeyRecords(store, "test", lambda: CRASHED + LEASE / 2).once(
            "who", "key-crashed-001", {"a": 1}, lambda: "early", result_of=str, replay=str
        )
    assert keys.once("who", "key-crashed-001", {"a": 1}, lambda: "made", result_of=str, replay=str) == "made"
    assert keys.once("who", "key-crashed-001", {"a": 1}, lambda: "twice!", result_of=str, replay=str) == "made"
