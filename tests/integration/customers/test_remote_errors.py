"""Other domains' errors as customers answers them: the adapters (`customers.adapters`) recognise orders'
`CouponCodeTaken` by its type (a win-back retry: success), and any other failure of another domain's
function is a 5xx that carries none of its message, whatever that message says. The real adapters,
with a stubbed Lambda client."""

from collections.abc import Callable
from typing import Any

import pytest

from common.contracts import IssueCouponInput
from common.invoke import DependencyFailed
from customers import api
from customers.adapters import LambdaCoupons, LambdaOrders, LambdaPayments
from tests.lambda_stub import StubbedLambda

from .conftest import World

Event = Callable[..., dict[str, Any]]
REQUEST = IssueCouponInput(
    code="WB-0123456789",
    type="percent",
    value=15,
    customer_ids=["ada"],
    valid_until="2030-05-31T12:00:00+00:00",
)


@pytest.fixture
def remote(world: World, monkeypatch: pytest.MonkeyPatch) -> StubbedLambda:
    return StubbedLambda(monkeypatch)


def test_a_coupon_code_orders_already_has_is_issued(remote: StubbedLambda) -> None:
    # Given orders refusing the code because an earlier attempt of the same deal created it
    remote.fails("CouponCodeTaken", f"coupon {REQUEST.code} exists already")

    # When the win-back job issues it, the code is the deal's
    assert LambdaCoupons().issue(REQUEST) == REQUEST.code


@pytest.mark.parametrize(
    ("error_type", "message"),
    [
        ("Conflict", "this coupon already exists in another form"),
        ("ValidationError", "1 validation error: code does not exist in the allowed pattern"),
        ("KeyError", "'code'"),
    ],
)
def test_any_other_failure_of_orders_is_not_taken_for_success(
    remote: StubbedLambda, error_type: str, message: str
) -> None:
    # Given orders failing otherwise, even with "exist" in its message
    remote.fails(error_type, message)

    # When the coupon is issued, the failure is a 5xx of customers' own, with none of orders' text
    with pytest.raises(DependencyFailed) as raised:
        LambdaCoupons().issue(REQUEST)
    assert message not in str(raised.value)


def test_erasure_with_orders_failing_unexpectedly_is_a_503_and_forgets_nothing(
    world: World, remote: StubbedLambda, api_event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Alice with a profile, and orders' anonymising function crashing
    profile = {"name": "Alice", "marketingConsent": False}
    assert world.call(api_event("PUT", "/me", sub="alice", body=profile)).status == 200
    monkeypatch.setattr(api, "orders", LambdaOrders)
    remote.fails("TypeError", "unsupported operand (orders' internals)")

    # When she asks to be erased
    answer = world.call(api_event("DELETE", "/me", sub="alice"))

    # Then the answer is a 503 without orders' message, and nothing was deleted
    assert (answer.status, answer.body["error"]["code"]) == (503, "dependency_failed")
    assert "internals" not in str(answer.body)
    assert world.payments.forgotten == [] and world.logins.deleted == []
    assert world.call(api_event("GET", "/me", sub="alice")).body["name"] == "Alice"


def test_saved_cards_with_payments_failing_unexpectedly_is_a_503(
    world: World, remote: StubbedLambda, api_event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "payments", LambdaPayments)
    remote.fails("AttributeError", "'NoneType' object has no attribute 'id' (payments' internals)")

    answer = world.call(api_event("GET", "/me/payment-methods", sub="alice"))

    assert (answer.status, answer.body["error"]["code"]) == (503, "dependency_failed")
    assert "internals" not in str(answer.body)
