"""Payments' errors as orders answers them: the adapter (`orders.adapters.LambdaPayments`) turns a refusal
payments names (`PaymentRejected`, `PaymentNotFound`) into orders' own `RefundNotPossible` (409); any
other failure of the refund function is a 503 that says nothing of payments' message, and keeps the
amount set aside so that a retry under the same key finishes the refund. Through the staff API, with
the real adapter and a stubbed Lambda client."""

import json
from typing import Any

import pytest

from orders import admin_api, wiring
from orders.models import OrderStatus
from orders.store import OrdersStore
from tests.fakes import FakePublisher
from tests.lambda_stub import StubbedLambda

from .conftest import OrderFactory

KEY = "refund-key-remote-0001"


@pytest.fixture
def remote(store: OrdersStore, monkeypatch: pytest.MonkeyPatch, publish: FakePublisher) -> StubbedLambda:
    """The refund route wired as deployed (the template's variables matter only for names here), with
    payments behind a stubbed Lambda client and the bus a fake."""
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    monkeypatch.setenv("REFUND_PAYMENT_FUNCTION", "RefundPaymentFunction")
    monkeypatch.setattr(wiring, "publisher", lambda: publish)
    return StubbedLambda(monkeypatch)


def refund(api_event: Any, lambda_context: Any, order_id: str) -> tuple[int, dict[str, Any]]:
    event = api_event(
        "POST",
        f"/orders/{order_id}/refunds",
        body={"reason": "returned"},
        groups=["admin"],
        headers={"Idempotency-Key": KEY},
    )
    raw: dict[str, Any] = admin_api.handler(event, lambda_context)
    return int(raw["statusCode"]), json.loads(raw["body"])


@pytest.mark.parametrize("error_type", ["PaymentRejected", "PaymentNotFound"])
def test_a_refusal_payments_names_is_a_409_refund_not_possible(
    store: OrdersStore,
    given_order: OrderFactory,
    remote: StubbedLambda,
    api_event: Any,
    lambda_context: Any,
    error_type: str,
) -> None:
    # Given a shipped order, and payments refusing its refund
    order = given_order(OrderStatus.SHIPPED)
    remote.fails(error_type, "Stripe refused the request: charge_disputed")

    # When staff refund it
    status, body = refund(api_event, lambda_context, order.order_id)

    # Then orders answers its own 409, saying why, and gives back the amount it set aside
    assert (status, body["error"]["code"]) == (409, "refund_not_possible")
    assert (
        body["error"]["message"]
        == "the payment provider refused the refund: Stripe refused the request: charge_disputed"
    )
    current = store.get_order(order.order_id)
    assert current is not None and current.refund_holds == {} and current.status is OrderStatus.SHIPPED


def test_an_unknown_failure_of_payments_is_a_503_without_its_message(
    store: OrdersStore,
    given_order: OrderFactory,
    remote: StubbedLambda,
    publish: FakePublisher,
    api_event: Any,
    lambda_context: Any,
) -> None:
    # Given a shipped order, and a refund function that crashes
    order = given_order(OrderStatus.SHIPPED)
    remote.fails("KeyError", "'paymentIntentId' (payments' internals)")

    # When staff refund it
    status, body = refund(api_event, lambda_context, order.order_id)

    # Then the answer is a 503 that says nothing of payments' error, and the amount stays set aside
    assert (status, body["error"]["code"]) == (503, "dependency_failed")
    assert "paymentIntentId" not in json.dumps(body) and "KeyError" not in json.dumps(body)
    current = store.get_order(order.order_id)
    assert current is not None and list(current.refund_holds) != [] and current.refunds == ()

    # And when the request is retried with the same key once payments works, the order is refunded once
    remote.answers(
        {
            "orderId": order.order_id,
            "refundId": next(iter(current.refund_holds)),
            "providerRefundId": "re_1",
            "amount": order.total.model_dump(),
            "refundedTotal": order.total.model_dump(),
        }
    )
    status, body = refund(api_event, lambda_context, order.order_id)
    assert (status, body["status"]) == (200, "REFUNDED"), body
    assert publish.types == ["OrderRefunded"]
    remote.all_used()
