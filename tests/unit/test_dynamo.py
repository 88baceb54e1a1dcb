from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from common.dynamo import TransactionCancelled, from_item, to_item, transact_write

ACTIONS: list[Any] = [{"Put": {"TableName": "t", "Item": {"PK": {"S": "a"}}}}]


@pytest.fixture
def client(aws_env: None) -> Any:
    return boto3.client("dynamodb", region_name="eu-west-1")


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the backoff waits instead of sleeping them."""
    waits: list[float] = []
    monkeypatch.setattr("common.dynamo.time.sleep", waits.append)
    return waits


def cancelled(*codes: str) -> dict[str, Any]:
    return {"CancellationReasons": [{"Code": code} for code in codes]}


def test_items_round_trip_with_integers_as_int_and_none_dropped() -> None:
    # Given plain values, including None and a nested map with a fraction
    values = {"PK": "A", "n": 3, "price": Decimal("2.5"), "tags": ["x"], "nested": {"v": 7}, "gone": None}

    # When they are stored and read back
    item = to_item(values)
    back = from_item(item)

    # Then None is absent, whole numbers come back as int, fractions as Decimal
    assert "gone" not in item
    assert back == {"PK": "A", "n": 3, "price": Decimal("2.5"), "tags": ["x"], "nested": {"v": 7}}
    assert type(back["n"]) is int


def test_a_transaction_lost_to_a_conflict_is_retried_then_succeeds(client: Any, no_backoff: list[float]) -> None:
    # Given DynamoDB cancels the first attempt only for a conflict with another transaction
    with Stubber(client) as stub:
        stub.add_client_error(
            "transact_write_items", "TransactionCanceledException", modeled_fields=cancelled("TransactionConflict")
        )
        stub.add_response("transact_write_items", {})

        # When the transaction is written
        transact_write(ACTIONS, token="tok-1", client=client)

        # Then it was retried once after a backoff, and both attempts were consumed
        stub.assert_no_pending_responses()
    assert len(no_backoff) == 1


def test_conflicts_that_never_clear_become_transaction_cancelled(client: Any, no_backoff: list[float]) -> None:
    # Given every attempt is lost to a conflict
    with Stubber(client) as stub:
        for _ in range(4):
            stub.add_client_error(
                "transact_write_items", "TransactionCanceledException", modeled_fields=cancelled("TransactionConflict")
            )

        # When the transaction is written
        with pytest.raises(TransactionCancelled) as raised:
            transact_write(ACTIONS, client=client)

    # Then it gave up after its attempts, with the reasons for the store to map
    assert raised.value.reasons == ["TransactionConflict"]
    assert len(no_backoff) == 3


def test_a_failed_condition_is_not_retried(client: Any, no_backoff: list[float]) -> None:
    # Given the second action's condition fails
    with Stubber(client) as stub:
        stub.add_client_error(
            "transact_write_items",
            "TransactionCanceledException",
            modeled_fields=cancelled("None", "ConditionalCheckFailed"),
        )

        # When the transaction is written
        with pytest.raises(TransactionCancelled) as raised:
            transact_write(ACTIONS * 2, client=client)

    # Then it fails at once, pointing at action 1
    assert raised.value.failed() == [1]
    assert no_backoff == []


def test_other_aws_errors_pass_through(client: Any) -> None:
    # Given throttling (botocore's retry mode owns that)
    with Stubber(client) as stub:
        stub.add_client_error("transact_write_items", "ProvisionedThroughputExceededException")

        # When the transaction is written
        # Then the ClientError reaches the caller unchanged
        with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
            transact_write(ACTIONS, client=client)


def test_the_client_request_token_is_sent_when_given(client: Any) -> None:
    # Given an idempotency token
    with Stubber(client) as stub:
        stub.add_response(
            "transact_write_items", {}, expected_params={"TransactItems": ACTIONS, "ClientRequestToken": "tok-2"}
        )

        # When the transaction is written
        transact_write(ACTIONS, token="tok-2", client=client)

        # Then DynamoDB received it
        stub.assert_no_pending_responses()


def test_resends_of_a_plain_write_outlast_a_transactions_hold_even_at_their_shortest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the jitter at its lowest every time
    from common import dynamo

    monkeypatch.setattr("random.uniform", lambda low, _high: low)
    conflict = (None, {"Error": {"Code": "TransactionConflictException"}})

    # When a write keeps meeting a transaction until the hook gives up
    waits: list[float] = []
    while (wait := dynamo._write_conflict_backoff(len(waits) + 1, response=conflict)) is not None:
        waits.append(wait)

    # Then the resends together wait longer than a transaction holds its items, even a slow one on a busy
    # machine (a CI run lost a 0.3 s hold to five resends that had spent their budget in ~0.1 s)
    assert sum(waits) >= 0.6
    assert dynamo._write_conflict_backoff(1, response=(None, {"Error": {"Code": "ThrottlingException"}})) is None
