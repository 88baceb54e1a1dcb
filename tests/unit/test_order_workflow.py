"""The order workflow's definition (statemachines/order.asl.json) read as data: the promises that keep
money and stock from being lost on a fault path (issue 10, findings 1, 2, 6 and 7)."""

import json
from pathlib import Path
from typing import Any

import pytest

ASL = Path(__file__).resolve().parents[2] / "statemachines" / "order.asl.json"
STATES: dict[str, dict[str, Any]] = json.loads(ASL.read_text())["States"]
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
# Steps after which money or stock is at stake: they must outlast an outage of hours, not seconds.
PATIENT = ["Compensate", "ReleaseStock", "MarkCancelled", "RefundPayment", "RestockOrder", "MarkCancelledAfterPayment"]
PATIENT += ["MarkPaid", "MarkShipped", "MarkRejected", "NeedsAttention"]
TASKS = [name for name, state in STATES.items() if state["Type"] == "Task"]


def retry_seconds(retrier: dict[str, Any]) -> float:
    """The longest a retrier keeps trying: the sum of its waits (without jitter)."""
    interval, rate = float(retrier.get("IntervalSeconds", 1)), float(retrier.get("BackoffRate", 2.0))
    cap = float(retrier.get("MaxDelaySeconds", 1e12))
    return sum(min(interval * rate**attempt, cap) for attempt in range(int(retrier.get("MaxAttempts", 3))))


@pytest.mark.parametrize("name", TASKS)
def test_every_task_retries_lambdas_transient_errors(name: str) -> None:
    # A throttle on AwaitPayment or AwaitShipment must not cancel an order being paid (finding 6)
    retried = {error for retrier in STATES[name].get("Retry", []) for error in retrier["ErrorEquals"]}
    assert retried >= LAMBDA_TRANSIENT, f"{name} does not retry {sorted(LAMBDA_TRANSIENT - retried)}"


@pytest.mark.parametrize("name", PATIENT)
def test_compensations_retry_an_outage_for_hours(name: str) -> None:
    (retrier,) = [r for r in STATES[name]["Retry"] if "PaymentProviderUnavailable" in r["ErrorEquals"]]
    assert {"ServiceUnavailable", "PaymentProviderUnavailable"} <= set(retrier["ErrorEquals"])
    assert retry_seconds(retrier) >= 3 * 3600, f"{name} gives up after {retry_seconds(retrier):.0f} s"


def test_no_failure_ends_unseen_every_catch_flags_the_order_for_staff() -> None:
    # Every path ends in a terminal status or a flag staff see: only the flagging step itself may fail
    # straight to Broken (and it retries for hours first)
    to_broken = [name for name, state in STATES.items() for c in state.get("Catch", []) if c["Next"] == "Broken"]
    assert to_broken == ["NeedsAttention"]
    assert STATES["NeedsAttention"]["Next"] == "WaitingForStaff"


def test_a_cancel_stripe_could_not_confirm_goes_to_the_compensation() -> None:
    catches = {error: c["Next"] for c in STATES["AwaitPayment"]["Catch"] for error in c["ErrorEquals"]}
    assert catches["CancelRequested"] == "CancelledByCustomer"
    assert STATES["CancelledByCustomer"]["Next"] == "Compensate"


def test_a_free_order_skips_the_payment() -> None:
    assert STATES["ReserveStock"]["Next"] == "IsPaymentNeeded"
    (free,) = STATES["IsPaymentNeeded"]["Choices"]
    assert (free["Variable"], free["NumericEquals"], free["Next"]) == ("$.amount.amount", 0, "CommitStock")
    assert STATES["IsPaymentNeeded"]["Default"] == "CreatePaymentIntent"


@pytest.mark.parametrize(
    ("resume", "step"), [("compensate", "Compensate"), ("refund", "RefundPayment"), ("shipment", "AwaitShipment")]
)
def test_a_redrive_resumes_at_its_step(resume: str, step: str) -> None:
    route = STATES["Route"]
    targets = {c["StringEquals"]: c["Next"] for c in route["Choices"] if "StringEquals" in c}
    assert targets[resume] == step and route["Default"] == "ReserveStock"
    assert route["Choices"][0] == {"Variable": "$.resume", "IsPresent": False, "Next": "ReserveStock"}
