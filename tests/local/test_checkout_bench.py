"""The checkout benchmark's arithmetic (`bench/checkout.py`): how a phase's wall time is split between our
code, the local AWS and the local Stripe, and how DynamoDB request units are estimated from the calls."""

from typing import Any

import pytest

from bench.checkout import Seen, estimated_units, split
from local.workers import Call, Invocation


def _seen(function: str, start: float, end: float, *calls: Call, event: Any = None) -> Seen:
    invocation = Invocation(function, "r", event or {}, start, end, start, end, False, tuple(calls))
    return Seen(invocation, function, None, "", "")


def _aws(name: str, start: float, end: float, items: int = 1, *, consistent: bool = False, wire: float = 0.0) -> Call:
    return Call("aws", name, start, end, items, consistent, wire)


def test_a_phase_splits_into_our_code_aws_calls_stripe_calls_and_the_hops_between_handlers() -> None:
    # Given an API handler (0-10 s) that waits on a nested invoke (1-4) and a DynamoDB call (6-7), the nested
    # handler (2-3) with no call, then a gap (10-12) and a task (12-15) with a Stripe call (13-14)
    api = _seen(
        "OrdersApiFunction",
        0,
        10,
        _aws("lambda.Invoke", 1, 4, wire=2.5),
        _aws("dynamodb.GetItem", 6, 7, wire=0.75),
    )
    nested = _seen("PriceSkusFunction", 2, 3)
    task = _seen("CreatePaymentIntentFunction", 12, 15, Call("stripe", "POST /v1/payment_intents", 13, 14, 1, False, 1))
    # When the phase runs from 0 to 16
    phase = split([api, nested, task], (0, 16))
    # Then the nested handler's code counts once as ours, the outer handler's wait on it does not
    assert phase.ours_by_function == {"OrdersApiFunction": 6, "PriceSkusFunction": 1, "CreatePaymentIntentFunction": 2}
    assert (phase.total, phase.ours, phase.stripe) == (16, 9, 1)
    # And the rest is the local AWS: its calls (1-2, 3-4, 6-7) and the time no handler ran (10-12, 15-16)
    assert phase.aws == 6
    assert phase.between == 3
    assert phase.sdk == pytest.approx(0.5 + 0.25)  # the calls' time off the wire
    assert phase.ours + phase.aws + phase.stripe == phase.total


def test_only_the_phases_window_is_counted() -> None:
    handler = _seen("OrderTransitionFunction", 0, 10, _aws("dynamodb.UpdateItem", 4, 6))
    phase = split([handler], (5, 8))
    assert (phase.total, phase.ours, phase.aws, phase.between) == (3, 2, 1, 0)


def test_a_handler_counts_only_until_it_hands_the_order_to_the_workflow() -> None:
    # Given a webhook (0-10) that sends the task token back (2-3), then calls Stripe (4-8) beside the
    # workflow, whose next task (5-9) runs meanwhile
    webhook = _seen(
        "PaymentsWebhookFunction",
        0,
        10,
        _aws("stepfunctions.SendTaskSuccess", 2, 3),
        Call("stripe", "GET /v1/payment_intents/{id}", 4, 8, 1, False, 4),
    )
    task = _seen("CommitStockFunction", 5, 9, _aws("dynamodb.TransactWriteItems", 6, 8))
    # When the phase runs from 0 to 9
    phase = split([webhook, task], (0, 9))
    # Then the Stripe call after the handover is not the phase's: the workflow never waited on it
    assert phase.stripe == 0
    assert phase.ours_by_function == {"PaymentsWebhookFunction": 2, "CommitStockFunction": 2}
    assert (phase.ours, phase.aws, phase.between) == (4, 5, 2)


def test_request_units_are_estimated_per_item_with_dynamodbs_costs() -> None:
    calls = _seen(
        "F",
        0,
        1,
        _aws("dynamodb.GetItem", 0, 0, consistent=True),  # 1 read
        _aws("dynamodb.BatchGetItem", 0, 0, 4),  # 4 eventually consistent reads: 2
        _aws("dynamodb.TransactWriteItems", 0, 0, 3),  # 3 transactional writes: 6
        _aws("dynamodb.UpdateItem", 0, 0),  # 1
        _aws("dynamodb.Query", 0, 0, 20),  # 20 half-KB items: 3 started 4 KB, eventually consistent: 1.5
        _aws("events.PutEvents", 0, 0, 2),  # not DynamoDB
    )
    assert estimated_units([calls]) == (1 + 2 + 1.5, 6 + 1)
