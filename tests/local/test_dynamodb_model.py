"""The local AWS's DynamoDB model (`local.dynamodb_model`), against moto in server mode as the stack runs it:
overlapping transactions cancel each other, a write to a held item is refused, a hot item throttles while
its neighbours do not, transactions cost double, and the answers are the ones botocore and
`common.dynamo.transact_write` handle on AWS. The serial model stays as it was."""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, NamedTuple

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from common import dynamo
from common.store import TableStore
from local.aws import MotoServer
from local.dynamodb_model import COUNTERS_PATH, ItemLimits, item_size, read_units, write_units
from local.template import REGION

ServerFactory = Callable[..., MotoServer]


@pytest.fixture
def start_server() -> Iterator[ServerFactory]:
    """Starts MotoServers on free ports (a test picks its model and limits); stops them after the test."""
    started: list[MotoServer] = []

    def start(dynamodb_model: str = "aws", limits: ItemLimits | None = None) -> MotoServer:
        server = MotoServer(port=0, dynamodb_model=dynamodb_model, limits=limits or ItemLimits())
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _client(server: MotoServer, *, attempts: int = 1) -> Any:
    """A DynamoDB client that shows each answer as it came (no retries unless asked)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}, max_pool_connections=20),
    )


def _table(dynamodb: Any) -> str:
    name = f"model-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "STOCK"}}


def _take(table: str, pk: str, hold: str) -> list[Any]:
    """A reserve-shaped transaction: a new hold and one unit off the stock item `pk`."""
    return [
        {"Put": {"TableName": table, "Item": {"PK": {"S": f"HOLD#{hold}"}, "SK": {"S": "META"}}}},
        {
            "Update": {
                "TableName": table,
                "Key": _key(pk),
                "UpdateExpression": "SET n = n - :one",
                "ConditionExpression": "n >= :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
    ]


def _counters(server: MotoServer) -> dict[str, Any]:
    """The AWS model's counters (every test server here but the serial model's has them)."""
    counters = server.dynamodb_counters()
    assert counters is not None
    return counters


def _wait_until_held(server: MotoServer, items: int, deadline: float = 5.0) -> None:
    ends = time.monotonic() + deadline
    while _counters(server)["held"] < items:
        if time.monotonic() > ends:
            raise AssertionError(f"no request came to hold {items} items within {deadline} s")
        time.sleep(0.005)


def _code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def _in_flight(dynamodb: Any, items: list[dict[str, Any]]) -> Future[Any]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(dynamodb.transact_write_items, TransactItems=items)
    pool.shutdown(wait=False)
    return future


class Held(NamedTuple):
    """A stock item `SKU#A` of 5 units in a new table, and `first`: a transaction taking one unit, in
    flight and holding its two items."""

    server: MotoServer
    dynamodb: Any
    table: str
    first: Future[Any]


def _sku_held(start_server: ServerFactory, window: float) -> Held:
    """Start an AWS-model server whose transactions hold their items for `window` seconds, and hold `SKU#A`."""
    server = start_server(limits=ItemLimits(transaction_window=window))
    dynamodb = _client(server)
    table = _table(dynamodb)
    dynamodb.put_item(TableName=table, Item={**_key("SKU#A"), "n": {"N": "5"}})
    first = _in_flight(dynamodb, _take(table, "SKU#A", "o1"))
    _wait_until_held(server, 2)
    return Held(server, dynamodb, table, first)


def test_of_two_overlapping_transactions_on_one_item_the_second_is_cancelled(start_server: ServerFactory) -> None:
    # Given a stock item and a transaction on it that holds its items for a second
    server, dynamodb, table, first = _sku_held(start_server, 1.0)

    # When a second transaction takes from the same item while the first is in flight
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=_take(table, "SKU#A", "o2"))

    # Then the second is cancelled with a conflict at the stock item only, and the first succeeds alone
    assert _code(cancelled.value) == "TransactionCanceledException"
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "TransactionConflict"]
    first.result(timeout=10)
    item = dynamodb.get_item(TableName=table, Key=_key("SKU#A"), ConsistentRead=True)["Item"]
    assert item["n"] == {"N": "4"}
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"PK": {"S": "HOLD#o2"}, "SK": {"S": "META"}})
    assert _counters(server)["conflicts"] == 1


def test_a_plain_write_to_an_item_a_transaction_holds_is_refused(start_server: ServerFactory) -> None:
    # Given a transaction in flight on a stock item
    _, dynamodb, table, first = _sku_held(start_server, 1.0)

    # When a plain update and a plain put touch the held item, and a put touches another item
    with pytest.raises(ClientError) as update:
        dynamodb.update_item(
            TableName=table,
            Key=_key("SKU#A"),
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": "100"}},
        )
    with pytest.raises(ClientError) as put:
        dynamodb.put_item(TableName=table, Item={**_key("SKU#A"), "n": {"N": "100"}})
    dynamodb.put_item(TableName=table, Item={**_key("SKU#B"), "n": {"N": "1"}})

    # Then both writes to the held item get TransactionConflictException (400), the other one succeeds
    assert _code(update.value) == _code(put.value) == "TransactionConflictException"
    assert update.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    first.result(timeout=10)
    assert dynamodb.get_item(TableName=table, Key=_key("SKU#A"))["Item"]["n"] == {"N": "4"}
    # and once the transaction is over, the item takes writes again
    dynamodb.put_item(TableName=table, Item={**_key("SKU#A"), "n": {"N": "7"}})


def test_a_transactional_read_of_a_held_item_is_cancelled_and_a_plain_read_is_not(start_server: ServerFactory) -> None:
    _, dynamodb, table, first = _sku_held(start_server, 1.0)

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_get_items(
            TransactItems=[
                {"Get": {"TableName": table, "Key": _key("SKU#B")}},
                {"Get": {"TableName": table, "Key": _key("SKU#A")}},
            ]
        )
    plain = dynamodb.get_item(TableName=table, Key=_key("SKU#A"), ConsistentRead=True)

    assert [r["Code"] for r in cancelled.value.response["CancellationReasons"]] == ["None", "TransactionConflict"]
    assert plain["Item"]["n"] == {"N": "5"}  # read-committed: the transaction has not committed yet
    first.result(timeout=10)


def test_a_hot_item_throttles_while_its_neighbours_do_not(start_server: ServerFactory) -> None:
    # Given items that keep 5 write units of burst and refill slowly (one unit in 10 s)
    server = start_server(limits=ItemLimits(write_units=0.1, burst_seconds=50))
    dynamodb = _client(server)
    table = _table(dynamodb)

    def put(pk: str, i: int) -> str:
        try:
            dynamodb.put_item(TableName=table, Item={**_key(pk), "n": {"N": str(i)}})
        except ClientError as error:
            return _code(error)
        return "ok"

    # When one item gets a burst of 12 writes and 5 other items get one each
    hot = [put("SKU#HOT", i) for i in range(12)]
    cold = [put(f"SKU#COLD{i}", i) for i in range(5)]

    # Then the hot item takes its burst and throttles the rest; the others are not touched by its limit
    assert hot == ["ok"] * 5 + ["ThrottlingException"] * 7
    assert cold == ["ok"] * 5
    assert _counters(server)["throttled"] == hot.count("ThrottlingException")


def test_botocore_retries_a_throttled_write_until_the_item_has_capacity_again(start_server: ServerFactory) -> None:
    # Given a hot item (5 units of burst, one more each second) whose burst one 5 KB write spent
    server = start_server(limits=ItemLimits(write_units=1, burst_seconds=5))
    dynamodb = _client(server, attempts=10)
    table = _table(dynamodb)
    dynamodb.put_item(TableName=table, Item={**_key("SKU#HOT"), "blob": {"S": "x" * 5000}})

    # When one more write comes, from a client in botocore's standard retry mode
    response = dynamodb.put_item(TableName=table, Item={**_key("SKU#HOT"), "n": {"N": "20"}})

    # Then it was throttled at least once and retried into success, as the SDK does on AWS
    assert response["ResponseMetadata"]["RetryAttempts"] >= 1
    assert _counters(server)["throttled"] >= 1


def test_a_transaction_over_an_items_limit_is_cancelled_with_a_throttling_error(start_server: ServerFactory) -> None:
    # Given items with 4 units of burst (one more in 10 s): after a plain write (1 unit), one
    # transactional write on the item (2 units) fits and a second one does not
    server = start_server(limits=ItemLimits(write_units=0.1, burst_seconds=40, transaction_window=0))
    dynamodb = _client(server)
    table = _table(dynamodb)
    dynamodb.put_item(TableName=table, Item={**_key("SKU#A"), "n": {"N": "5"}})

    dynamodb.transact_write_items(TransactItems=_take(table, "SKU#A", "o1"))
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=_take(table, "SKU#A", "o2"))

    assert _code(cancelled.value) == "TransactionCanceledException"
    assert [r["Code"] for r in cancelled.value.response["CancellationReasons"]] == ["None", "ThrottlingError"]
    with pytest.raises(dynamo.TransactionCancelled) as raised:  # not a conflict: the app does not retry it
        dynamo.transact_write(_take(table, "SKU#A", "o3"), client=dynamodb)
    assert raised.value.reasons == ["None", "ThrottlingError"]


def test_a_transactional_write_costs_two_units_per_item(start_server: ServerFactory) -> None:
    server = start_server(limits=ItemLimits(transaction_window=0))
    dynamodb = _client(server)
    table = _table(dynamodb)
    dynamodb.put_item(TableName=table, Item={**_key("SKU#A"), "n": {"N": "5"}})
    server.dynamodb_counters(reset=True)

    dynamodb.put_item(TableName=table, Item={**_key("SKU#B"), "n": {"N": "5"}})
    assert _counters(server)["writeUnits"] == 1
    dynamodb.transact_write_items(TransactItems=_take(table, "SKU#A", "o1"))
    assert _counters(server)["writeUnits"] == 1 + 2 * 2
    dynamodb.put_item(TableName=table, Item={**_key("SKU#C"), "blob": {"S": "x" * 1500}})  # two started KB
    assert _counters(server)["writeUnits"] == 5 + 2

    dynamodb.get_item(TableName=table, Key=_key("SKU#A"))  # eventually consistent: half a unit
    dynamodb.get_item(TableName=table, Key=_key("SKU#A"), ConsistentRead=True)
    counters = _counters(server)
    assert counters["readUnits"] == 1.5
    assert counters["requests"] == {"PutItem": 2, "TransactWriteItems": 1, "GetItem": 2}


def test_a_batch_leaves_a_throttled_item_unprocessed_and_writes_the_others(start_server: ServerFactory) -> None:
    server = start_server(limits=ItemLimits(write_units=0.1, burst_seconds=20))  # 2 units, one more in 10 s
    dynamodb = _client(server)
    table = _table(dynamodb)
    for i in range(2):
        dynamodb.put_item(TableName=table, Item={**_key("SKU#HOT"), "n": {"N": str(i)}})

    response = _client(server, attempts=3).batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {**_key("SKU#HOT"), "n": {"N": "9"}}}},
                {"PutRequest": {"Item": {**_key("SKU#COLD"), "n": {"N": "9"}}}},
            ]
        }
    )

    assert response["ResponseMetadata"]["RetryAttempts"] == 0  # the rewritten answer passes botocore's checksum
    unprocessed = response["UnprocessedItems"][table]
    assert [w["PutRequest"]["Item"]["PK"]["S"] for w in unprocessed] == ["SKU#HOT"]
    assert dynamodb.get_item(TableName=table, Key=_key("SKU#COLD"))["Item"]["n"] == {"N": "9"}
    assert dynamodb.get_item(TableName=table, Key=_key("SKU#HOT"))["Item"]["n"] == {"N": "1"}
    # and a batch of only throttled items fails whole, as DynamoDB's does
    with pytest.raises(ClientError) as throttled:
        dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {**_key("SKU#HOT")}}}]})
    assert _code(throttled.value) == "ThrottlingException"


def test_the_apps_transact_write_retries_a_conflict_and_succeeds(
    start_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a transaction in flight on a stock item
    server, dynamodb, table, first = _sku_held(start_server, 0.5)
    backoffs: list[float] = []

    def backoff(seconds: float) -> None:  # the app's jittered wait, lasting until the first one is done
        backoffs.append(seconds)
        first.result(timeout=10)

    monkeypatch.setattr(dynamo, "time", SimpleNamespace(sleep=backoff))

    # When the app's own transact_write takes from the same item
    dynamo.transact_write(_take(table, "SKU#A", "o2"), client=dynamodb)

    # Then its first attempt met the conflict, it backed off once and its retry went through
    assert len(backoffs) == 1
    assert _counters(server)["conflicts"] == 1
    assert dynamodb.get_item(TableName=table, Key=_key("SKU#A"), ConsistentRead=True)["Item"]["n"] == {"N": "3"}


def test_the_serial_model_applies_overlapping_transactions_one_after_the_other(start_server: ServerFactory) -> None:
    # Given the default model, as the stack ran before the AWS model existed
    server = start_server(dynamodb_model="serial")
    dynamodb = _client(server)
    table = _table(dynamodb)
    dynamodb.put_item(TableName=table, Item={**_key("SKU#A"), "n": {"N": "20"}})
    barrier = threading.Barrier(10)

    def take(i: int) -> None:
        barrier.wait()
        dynamodb.transact_write_items(TransactItems=_take(table, "SKU#A", f"o{i}"))

    # When ten transactions on one item start at once
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(take, range(10)))

    # Then every one is applied (no conflicts, no throttling), and there is no model to ask for counters
    assert dynamodb.get_item(TableName=table, Key=_key("SKU#A"), ConsistentRead=True)["Item"]["n"] == {"N": "10"}
    assert requests.get(f"{server.endpoint}{COUNTERS_PATH}", timeout=5).status_code != 200


def test_an_unknown_model_is_refused() -> None:
    with pytest.raises(ValueError, match="dynamodb_model"):
        MotoServer(port=0, dynamodb_model="eventual")


def test_the_stack_takes_the_model_from_its_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from local import __main__ as cli
    from local.stack import Options

    monkeypatch.delenv("LOCAL_DYNAMODB_MODEL", raising=False)
    assert cli.parser().parse_args(["run"]).dynamodb_model == "serial"
    assert Options().dynamodb_model == "serial"
    assert cli.parser().parse_args(["run", "--dynamodb-model", "aws"]).dynamodb_model == "aws"
    monkeypatch.setenv("LOCAL_DYNAMODB_MODEL", "aws")
    assert cli.parser().parse_args(["run"]).dynamodb_model == "aws"
    assert Options().dynamodb_model == "aws"
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["run", "--dynamodb-model", "eventual"])


def test_limits_come_from_the_environment_and_sizes_follow_dynamodbs_rules() -> None:
    limits = ItemLimits.from_environment({"LOCAL_DYNAMODB_ITEM_WCU": "5", "LOCAL_DYNAMODB_TRANSACTION_MS": "250"})
    assert (limits.write_units, limits.read_units, limits.transaction_window) == (5, 3000, 0.25)
    # name bytes + value: a string's UTF-8 bytes, a number 1 byte per 2 significant digits + 1, a list 3 + 1
    # per element, a boolean 1
    item = {"s": {"S": "héllo"}, "n": {"N": "12300"}, "l": {"L": [{"BOOL": True}]}, "b": {"BOOL": False}}
    assert item_size(item) == (1 + 6) + (1 + 3) + (1 + 3 + 1 + 1) + (1 + 1)
    assert write_units(1024) == 1 and write_units(1025) == 2
    assert read_units(4096, consistent=True) == 1 and read_units(4097, consistent=False) == 1


def test_the_apps_stores_resend_a_plain_write_that_met_a_transaction(start_server: ServerFactory) -> None:
    # Given a transaction in flight on a stock item, and a store of the app over a client with no retries
    server, dynamodb, table, first = _sku_held(start_server, 0.3)
    store = TableStore(table, client=dynamodb)

    # When the store writes the held item plainly (as the low-stock flag does beside the sales)
    updated = store.update_if(
        "SKU#A", "STOCK", "SET flagged = :t", condition="n >= :zero", values={":t": True, ":zero": 0}
    )

    # Then DynamoDB refused it while the transaction held the item, and the resend went through after it
    assert _counters(server)["conflicts"] >= 1
    first.result(timeout=10)
    assert updated is not None and updated["flagged"] is True and updated["n"] == 4
