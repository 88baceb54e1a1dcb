"""DynamoDB helpers shared by every store: one client with the project's retry policy, plain-Python
(de)serialisation, and transactions whose cancellation reasons a store can map to domain errors."""

import os
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from common.errors import BadRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# Throttling is retried by botocore's standard mode (backoff with jitter); timeouts keep a slow
# dependency from eating the whole Lambda budget.
AWS_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=2,
    # 5 s on AWS; the local stack raises it, because moto on a busy laptop is far slower than DynamoDB.
    read_timeout=float(os.environ.get("AWS_CLIENT_READ_TIMEOUT", "5")),
    max_pool_connections=50,
)
_CONFLICT_ATTEMPTS = 4

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


_WRITE_CONFLICT_ATTEMPTS = 6
_PLAIN_WRITES = ("PutItem", "UpdateItem", "DeleteItem")


def _write_conflict_backoff(attempts: int, response: Any = None, **_: Any) -> float | None:
    """botocore's `needs-retry` hook: seconds to wait before resending a plain write that DynamoDB
    refused with `TransactionConflictException` (a transaction was in flight on its item), None otherwise.
    The write was not applied, so resending it is safe; botocore's retry modes leave this code alone.
    Equal jitter (half the step fixed, half random): the resends spread out yet together always outlast
    a transaction's hold by a wide margin (at least 0.62 s; full jitter could spend the five resends in
    a few milliseconds and give up while the transaction still held the item)."""
    if response is None or attempts >= _WRITE_CONFLICT_ATTEMPTS:
        return None
    if response[1].get("Error", {}).get("Code") != "TransactionConflictException":
        return None
    step = 0.04 * (1 << (attempts - 1))
    return step / 2 + random.uniform(0, step / 2)


def retry_write_conflicts[C](client: C) -> C:
    """Make `client` resend a plain Put/Update/DeleteItem that met a transaction on its item: on DynamoDB
    a write to an item a transaction holds is refused (not queued), so any item that transactions also
    write — a stock item, an order — would otherwise answer a caller's plain write with an error in a
    rush. Idempotent per client."""
    events = client.meta.events  # type: ignore[attr-defined]
    for operation in _PLAIN_WRITES:
        events.register(
            f"needs-retry.dynamodb.{operation}", _write_conflict_backoff, unique_id=f"write-conflict-{operation}"
        )
    return client


@cache
def dynamodb_client() -> "DynamoDBClient":
    return retry_write_conflicts(boto3.client("dynamodb", config=AWS_CONFIG))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset):
        return [_plain(v) for v in value]
    return value


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain Python → DynamoDB attribute values. None values are dropped (absent, not NULL)."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def to_value(value: Any) -> Any:
    return _serializer.serialize(value)


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values → plain Python, integers as int."""
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


class TransactionCancelled(Exception):
    """A transaction failed its conditions. `reasons[i]` is the code for action i ("None" if it passed)."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__(f"transaction cancelled: {list(reasons)}")
        self.reasons = list(reasons)

    def failed(self, code: str = "ConditionalCheckFailed") -> list[int]:
        return [i for i, reason in enumerate(self.reasons) if reason == code]


def transact_write(
    actions: Sequence["TransactWriteItemTypeDef"],
    *,
    token: str | None = None,
    client: "DynamoDBClient | None" = None,
) -> None:
    """Run a write transaction. Conflicts with a concurrent transaction are retried with backoff and
    jitter; failed conditions raise `TransactionCancelled` for the store to translate.

    Every attempt carries a ClientRequestToken, so when botocore resends a request whose answer was
    lost (a timeout after DynamoDB applied it), DynamoDB answers it instead of applying it twice.
    Stores still treat "my own new item already exists" as success: not every DynamoDB (moto) honours
    tokens."""
    client = client or dynamodb_client()
    kwargs: dict[str, Any] = {"TransactItems": list(actions)}
    for attempt in range(_CONFLICT_ATTEMPTS):
        kwargs["ClientRequestToken"] = token if token and attempt == 0 else str(uuid.uuid4())
        try:
            client.transact_write_items(**kwargs)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
            conflict_only = reasons and all(r in ("None", "TransactionConflict") for r in reasons)
            if not conflict_only or attempt == _CONFLICT_ATTEMPTS - 1:
                raise TransactionCancelled(reasons) from error
            time.sleep(random.uniform(0, 0.05 * 2**attempt))


def is_condition_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


THROTTLED = frozenset({"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"})
"""Error codes of a request DynamoDB refused for load (after botocore's own retries)."""
BUSY_REASONS = frozenset({"TransactionConflict", "ThrottlingError"})
"""Cancellation reasons of an action whose item another transaction held, or that was past its
throughput: nothing is wrong with the action; it may be tried again, or on another item."""


def is_throttled(error: ClientError) -> bool:
    """DynamoDB refused a request for load: the caller may come back later."""
    return error.response.get("Error", {}).get("Code") in THROTTLED


def is_busy_item(error: ClientError) -> bool:
    """A plain write refused because its item was in a transaction (after `retry_write_conflicts`' resends)
    or hot: for writes that may be left to later."""
    return error.response.get("Error", {}).get("Code") == "TransactionConflictException" or is_throttled(error)


Key = dict[str, Any]


@dataclass(frozen=True)
class Page[T]:
    """One page of a query: the items and the key to resume after (None on the last page)."""

    items: list[T]
    next_key: Key | None


def check_start_key(start_key: Key | None, names: Sequence[str], partition_name: str, partition: str) -> None:
    """Check a key decoded from a client's cursor before DynamoDB sees it. The cursor's scope tag is not
    a secret, so a forged key could otherwise be a 500 or a read outside the query's partition."""
    if start_key is None:
        return
    well_formed = (
        set(start_key) == set(names)
        and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in start_key.values())
        and start_key[partition_name]["S"] == partition
    )
    if not well_formed:
        raise BadRequest("the cursor is invalid or belongs to another query", code="invalid_cursor")


_BATCH_ATTEMPTS = 5


def batch_get(
    client: "DynamoDBClient",
    table: str,
    keys: Sequence[Key],
    *,
    consistent: bool = False,
    projection: str | None = None,
) -> tuple[list[dict[str, Any]], list[Key]]:
    """Read `keys` (any number, 100 per request) as raw items; keys DynamoDB left unprocessed are
    retried with backoff and jitter. Answers (items found, keys still unprocessed): a caller decides
    whether unprocessed means "busy, retry" (503) or "unknown for now"."""
    items: list[dict[str, Any]] = []
    unprocessed: list[Key] = []
    for start in range(0, len(keys), 100):
        request: Any = {table: {"Keys": list(keys[start : start + 100]), "ConsistentRead": consistent}}
        if projection:
            request[table]["ProjectionExpression"] = projection
        for attempt in range(_BATCH_ATTEMPTS):
            response = client.batch_get_item(RequestItems=request)
            items += response.get("Responses", {}).get(table, [])
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            if attempt < _BATCH_ATTEMPTS - 1:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        if request:
            unprocessed += request[table]["Keys"]
    return items, unprocessed


def query_page(client: "DynamoDBClient", request: Mapping[str, Any], start_key: Key | None) -> Page[dict[str, Any]]:
    """One page of a query, resumed after `start_key`, as plain items with the key to resume after."""
    kwargs = dict(request)
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    response = client.query(**kwargs)
    return Page([from_item(item) for item in response.get("Items", [])], response.get("LastEvaluatedKey"))
