"""`common.invoke`: another domain's failure reaches the caller's adapter by name only when the adapter
expects it; anything else is a 5xx that carries none of the callee's message."""

import pytest

from common.errors import ServiceUnavailable
from common.invoke import DependencyFailed, RemoteError, invoke
from tests.lambda_stub import StubbedLambda

SECRET_DETAIL = "KeyError: 'internal detail of payments'"


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> StubbedLambda:
    return StubbedLambda(monkeypatch)


def test_an_expected_failure_comes_back_by_name_with_its_message(remote: StubbedLambda) -> None:
    remote.fails("PaymentRejected", "Stripe refused the request: charge_already_refunded")

    with pytest.raises(RemoteError) as raised:
        invoke("RefundPaymentFunction", {"orderId": "o_1"}, expected={"PaymentRejected"})

    assert (raised.value.error_type, raised.value.message) == (
        "PaymentRejected",
        "Stripe refused the request: charge_already_refunded",
    )


def test_an_unexpected_failure_is_a_5xx_without_the_callees_message(
    remote: StubbedLambda, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a callee that fails with a type its caller does not know
    remote.fails("KeyError", SECRET_DETAIL)

    # When it is invoked
    with pytest.raises(DependencyFailed) as raised:
        invoke("arn:aws:lambda:eu-west-1:123456789012:function:RefundPaymentFunction", {}, expected={"PaymentRejected"})

    # Then the caller gets a 503-class error that says nothing of the callee's, and logs only its type
    assert isinstance(raised.value, ServiceUnavailable) and raised.value.code == "dependency_failed"
    assert "internal detail" not in str(raised.value) and "KeyError" not in str(raised.value)
    (record,) = [r for r in caplog.records if r.name == "invoke"]
    assert (getattr(record, "function", None), getattr(record, "errorType", None)) == (
        "RefundPaymentFunction",
        "KeyError",
    )
    assert "internal detail" not in str(record.__dict__)


def test_a_known_type_the_caller_did_not_expect_is_unexpected(remote: StubbedLambda) -> None:
    remote.fails("PaymentRejected", "Stripe refused the request")

    with pytest.raises(DependencyFailed):
        invoke("CancelPaymentFunction", {})


def test_a_transient_failure_is_a_retryable_503_even_when_expected(remote: StubbedLambda) -> None:
    remote.fails("PaymentProviderUnavailable", "Stripe is unreachable")

    with pytest.raises(ServiceUnavailable) as raised:
        invoke("RefundPaymentFunction", {}, expected={"PaymentProviderUnavailable"})

    assert not isinstance(raised.value, DependencyFailed)
    assert raised.value.message == "RefundPaymentFunction is briefly unavailable; retry"


def test_an_answer_comes_back_as_it_was_given(remote: StubbedLambda) -> None:
    remote.answers({"code": "WB-1"})

    assert invoke("IssueCouponFunction", {"code": "WB-1"}) == {"code": "WB-1"}
    remote.all_used()
