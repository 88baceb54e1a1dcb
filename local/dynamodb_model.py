"""DynamoDB as AWS serves it under load: one item's throughput, and transactions that cancel each other.

moto applies every request it is given; AWS does not. This WSGI middleware (`AwsDynamoDB`) sits in front
of moto in the local AWS (`python -m local run --dynamodb-model aws`, or `LOCAL_DYNAMODB_MODEL=aws`) and
answers as DynamoDB does when a hot item is asked for more than it can give, so the local stack, its tests
and its benchmarks meet the same errors a flash sale meets on AWS. moto still executes the requests it lets
through one at a time (moto is not thread-safe: `local.aws.SerialiseDynamoDB`); nothing else is
serialised, so transactions overlap as they do on AWS.

What is modelled, and where AWS says so (read December 2026):

1. Per-item throughput. "Each partition on the table can serve up to 3,000 read request units or 1,000
   write request units, or a linear combination of both. If the traffic to a partition exceeds this limit,
   then the partition might be throttled." — https://repost.aws/knowledge-center/on-demand-table-throttling-dynamodb
   ("cada partición individual está limitada a 1000 unidades de escritura por segundo y 3000 unidades de
   lectura por segundo", https://docs.aws.amazon.com/es_es/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html).
   The limit is per partition; the model keeps it per item, because one item never spans partitions and a
   hot item alone on its partition is the worst case that matters here (stock, coupon and aggregate items).
   Reads and writes have separate buckets ("a partition may throttle reads while writes continue normally",
   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/throttling-key-range-limit-exceeded-mitigation.html).
   Each bucket holds one second of capacity as burst (an assumption: AWS documents 300 s of burst for a
   table's provisioned capacity, nothing for one partition of an on-demand table).

2. Unit costs (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
   "A strongly consistent read request of an item up to 4 KB requires one read unit. An eventually
   consistent read request of an item up to 4 KB requires one-half read unit. A transactional read request
   of an item up to 4 KB requires two read units." A write unit covers 1 KB, and for transactions "Each item
   requires two write capacity units (WCUs): one to prepare the transaction and one to commit the
   transaction" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html).
   Sizes follow https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
   ("The total size of an item is the sum of the lengths of its attribute names and values"). Approximation:
   a write is charged for what the request carries (the Put's item; the Update's key and values; the
   Delete's key), where DynamoDB charges the larger of the item before and after; a ConditionCheck in a
   transaction is charged as a write of its key. GetItem and TransactGetItems are charged for the item they
   return; BatchGetItem one 4 KB unit per key; Query and Scan are neither metered nor throttled (they read a
   key range, not one item).

3. Over the limit. A single-item call gets HTTP 400 `ThrottlingException` with ThrottlingReason
   `Table{Read,Write}KeyRangeThroughputExceeded` ("KeyRangeThroughputExceeded: The request rate directed at
   a specific partition key value has exceeded the internal partition-level throughput limits",
   https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ThrottlingReason.html); botocore's
   standard retry mode retries it, as the SDKs do on AWS. A transaction is cancelled with reason
   `ThrottlingError` at the throttled items ("Throughput exceeds the current capacity of your table or
   index ... This message is returned when writes get throttled on an On-Demand table", the
   TransactionCanceledException reference in botocore's DynamoDB model). A batch returns the throttled
   items as UnprocessedItems / UnprocessedKeys, and fails whole with ThrottlingException when every item
   was throttled ("if all five read operations fail, then the entire BatchGetItem fails",
   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html#Programming.Errors.BatchOperations).

4. Transaction conflicts (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling):
   "A PutItem, UpdateItem, or DeleteItem request for an item conflicts with an ongoing TransactWriteItems
   request that includes the same item. An item within a TransactWriteItems request is part of another
   ongoing TransactWriteItems request. An item within a TransactGetItems request is part of an ongoing
   TransactWriteItems, BatchWriteItem, PutItem, UpdateItem, or DeleteItem request." and "When a PutItem,
   UpdateItem, or DeleteItem request is rejected, the request fails with a TransactionConflictException. If
   any item-level request within TransactWriteItems or TransactGetItems is rejected, the request fails with
   a TransactionCanceledException." and "If an ongoing TransactWriteItems or TransactGetItems operation
   conflicts with a concurrent GetItem request, both operations can succeed".
   Here a TransactWriteItems claims all its items at once (or is cancelled with `TransactionConflict` at
   each item another request holds, `None` elsewhere, and never reaches moto), holds them for
   `ItemLimits.transaction_window` (the prepare-to-commit gap, slept outside moto's lock so transactions
   really overlap) and again while moto executes it. A plain write is refused on a held item and holds its
   own while moto executes it; a TransactGetItems is cancelled on a held item; reads (GetItem, BatchGetItem,
   Query, Scan) never conflict. Items a BatchWriteItem finds held come back unprocessed (an assumption: AWS
   does not document this case). Nothing is held while a request waits for moto's lock: DynamoDB has no
   such queue, and holding across it would turn moto's slowness under a burst into conflicts AWS would not
   have. (A transaction that finds its items free after its window may then run after one that claimed
   them meanwhile: both orders are serialisable, and moto's condition checks decide as DynamoDB's do.)

   The window: AWS publishes no transaction latency. Measured from Lambda in one region, TransactWriteItems
   of 5 items took 25.3 ms at the median against 7.55 ms for PutItem (Alex DeBrie,
   https://github.com/alexdebrie/dynamodb-performance-testing, README "Results"). An item is held from its
   prepare to its commit, about the difference, 18 ms; the default window is 15 ms because moto's own
   execution (a few ms here) is held on top.

Limits come from `ItemLimits` (environment: LOCAL_DYNAMODB_ITEM_WCU, LOCAL_DYNAMODB_ITEM_RCU,
LOCAL_DYNAMODB_TRANSACTION_MS), so tests can use small ones. `GET /_storekeeper/dynamodb` on the moto
endpoint answers the counters (requests per operation, throttled, conflicts, write and read units
consumed), the items held right now and the limits; `POST` resets the counters.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

COUNTERS_PATH = "/_storekeeper/dynamodb"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
THROTTLED_MESSAGE = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your "
    "table or index so please try again shortly. If exceptions persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
CONFLICT_MESSAGE = "Transaction is ongoing for the item"
_DEFAULT_REGION = "eu-west-1"
_BODY = "storekeeper.dynamodb_body"


@dataclass(frozen=True)
class ItemLimits:
    """What one item can take. Defaults are AWS's (see the module docstring); tests shrink them."""

    write_units: float = 1000.0
    """Write units per second per item."""
    read_units: float = 3000.0
    """Read units per second per item."""
    burst_seconds: float = 1.0
    """Unused capacity an item keeps, in seconds of its rate."""
    transaction_window: float = 0.015
    """Seconds a TransactWriteItems holds its items before moto executes it (then through the execution)."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ItemLimits:
        defaults = cls()
        return cls(
            write_units=float(environ.get("LOCAL_DYNAMODB_ITEM_WCU", defaults.write_units)),
            read_units=float(environ.get("LOCAL_DYNAMODB_ITEM_RCU", defaults.read_units)),
            transaction_window=float(environ.get("LOCAL_DYNAMODB_TRANSACTION_MS", defaults.transaction_window * 1000))
            / 1000,
        )


class TokenBucket:
    """Capacity refilled at `rate` per second up to `capacity`. Not thread-safe: callers hold a lock."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def available(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.tokens

    def full(self, now: float) -> bool:
        return self.available(now) >= self.capacity


@dataclass
class Counters:
    """What the model did since the last reset, for benchmarks."""

    requests: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    """Requests answered ThrottlingException or cancelled for ThrottlingError, plus batch items left
    unprocessed because their item was over its limit."""
    conflicts: int = 0
    """Requests answered TransactionConflictException or cancelled for TransactionConflict, plus batch items
    left unprocessed because another request held their item."""
    write_units: float = 0.0
    read_units: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "throttled": self.throttled,
            "conflicts": self.conflicts,
            "writeUnits": round(self.write_units, 1),
            "readUnits": round(self.read_units, 1),
        }


ItemId = tuple[str, str]
"""(table, the item's key as canonical JSON)."""


@dataclass
class Response:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else {}

    def with_json(self, payload: Any) -> Response:
        """This response with another body (botocore checks a DynamoDB body against its CRC32 header, and
        resends the request when they differ)."""
        body = json.dumps(payload).encode()
        headers = [(k, v) for k, v in self.headers if k.lower() not in ("content-length", "x-amz-crc32")]
        return Response(self.status, [*headers, *_length_and_checksum(body)], body)

    @property
    def ok(self) -> bool:
        return self.status.startswith("200")


def _length_and_checksum(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Length", str(len(body))), ("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF))]


def _answer(status: HTTPStatus, payload: Any) -> Response:
    """A DynamoDB answer written by the model, with the headers DynamoDB's carry."""
    body = json.dumps(payload).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("x-amzn-RequestId", uuid.uuid4().hex),
        *_length_and_checksum(body),
    ]
    return Response(f"{status.value} {status.phrase}", headers, body)


def _error(code: str, message: str, **extra: Any) -> Response:
    return _answer(HTTPStatus.BAD_REQUEST, {"__type": ERROR_PREFIX + code, "message": message, **extra})


def _cancelled(reasons: list[str]) -> Response:
    """TransactionCanceledException as DynamoDB (and moto) write it: one reason per action, in order."""
    messages = {"TransactionConflict": CONFLICT_MESSAGE, "ThrottlingError": THROTTLED_MESSAGE}
    return _error(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{', '.join(reasons)}]",
        CancellationReasons=[
            {"Code": code, "Message": messages[code]} if code != "None" else {"Code": "None"} for code in reasons
        ],
    )


def _throttled(table: str, kind: str) -> Response:
    return _error(
        "ThrottlingException",
        THROTTLED_MESSAGE,
        throttlingReasons=[{"reason": f"Table{kind}KeyRangeThroughputExceeded", "resource": table}],
    )


# ---------------------------------------------------------------------------- sizes and units
def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0].strip("0")
    return (len(digits) + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB JSON, by AWS's sizing rules (names excluded)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in inner)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in inner)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) if isinstance(b, str) else len(b) for b in inner)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + item_size(inner) + len(inner)
    return len(json.dumps(inner))


def item_size(item: Mapping[str, Any] | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def _write_size(action: Mapping[str, Any]) -> int:
    """What a write request carries: the item for a Put, key and values for an Update, the key otherwise."""
    if "Item" in action:
        return item_size(action["Item"])
    return item_size(action.get("Key")) + item_size(action.get("ExpressionAttributeValues"))


# ---------------------------------------------------------------------------- the middleware
class AwsDynamoDB:
    """WSGI middleware in front of moto: per-item throughput and transaction conflicts, as on AWS.

    Bookkeeping (buckets, claims, counters) is under one small lock that is never held across I/O or a
    sleep; moto's execution is under another, as in `SerialiseDynamoDB`."""

    def __init__(self, app: WsgiApp, limits: ItemLimits | None = None) -> None:
        self.app = app
        self.limits = limits or ItemLimits.from_environment()
        self.moto_lock = threading.Lock()
        self._lock = threading.Lock()
        self._claims: Counter[ItemId] = Counter()
        """Items held right now, by how many requests (a transaction's window and an execution can overlap)."""
        self._write_buckets: dict[ItemId, TokenBucket] = {}
        self._read_buckets: dict[ItemId, TokenBucket] = {}
        self.counters = Counters()
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, Any]], Response]] = {
            "PutItem": self._write,
            "UpdateItem": self._write,
            "DeleteItem": self._write,
            "GetItem": self._get,
            "TransactWriteItems": self._transact_write,
            "TransactGetItems": self._transact_get,
            "BatchWriteItem": self._batch_write,
            "BatchGetItem": self._batch_get,
        }

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == COUNTERS_PATH:
            return self._counters_endpoint(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        operation = target.partition(".")[2]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            request = None
        with self._lock:
            self.counters.requests[operation] += 1
        environ[_BODY] = body
        handler = self._handlers.get(operation)
        if handler is None or not isinstance(request, dict):
            response = self._moto(environ)
        else:
            response = handler(environ, request)
        start_response(response.status, response.headers)
        return [response.body]

    def _counters_endpoint(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            if environ.get("REQUEST_METHOD") == "POST":
                self.counters = Counters()
            payload = {**self.counters.as_json(), "held": len(self._claims), "limits": asdict(self.limits)}
        body = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _moto(self, environ: dict[str, Any], request: Any = None, holding: Iterable[ItemId | None] = ()) -> Response:
        """Run one request in moto, alone, holding `holding` while it executes; `request` replaces the body it
        came with when given. The wait for moto's lock holds nothing: DynamoDB has no such queue, and a
        hold across it would show moto's slowness as contention."""
        body = environ[_BODY] if request is None else json.dumps(request).encode()
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            captured["status"], captured["headers"] = status, list(headers)

        held = [item for item in holding if item is not None]
        with self.moto_lock:
            self._hold(held)
            result = self.app(environ, start_response)
            try:
                payload = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                self._let_go(held)
        return Response(captured["status"], captured["headers"], payload)

    # ------------------------------------------------------------------ items
    def _item(self, environ: dict[str, Any], table: str | None, source: Mapping[str, Any] | None) -> ItemId | None:
        """The item a request names (by `Key`, or a Put's `Item` cut to the table's key), or None when the
        table or key is unknown here (moto answers those requests with its own errors)."""
        if not table or not isinstance(source, Mapping):
            return None
        names = _key_names(_region(environ), table)
        if names is None or not all(name in source for name in names):
            return None
        return table, json.dumps({name: source[name] for name in names}, sort_keys=True)

    def _bucket(self, item: ItemId, *, write: bool, now: float) -> TokenBucket:
        buckets = self._write_buckets if write else self._read_buckets
        bucket = buckets.get(item)
        if bucket is None:
            if len(buckets) > 100_000:  # forget items at rest: a full bucket is what a new one would be
                for key in [k for k, b in buckets.items() if b.full(now)]:
                    del buckets[key]
            rate = self.limits.write_units if write else self.limits.read_units
            bucket = buckets[item] = TokenBucket(rate, rate * self.limits.burst_seconds, now)
        return bucket

    def _held(self, item: ItemId | None) -> bool:
        return item is not None and self._claims[item] > 0

    def _hold(self, items: Iterable[ItemId | None]) -> None:
        with self._lock:
            self._claims.update(item for item in items if item is not None)

    def _let_go(self, items: Iterable[ItemId | None]) -> None:
        known = [item for item in items if item is not None]
        with self._lock:
            self._claims.subtract(known)
            for item in known:
                if self._claims[item] <= 0:
                    self._claims.pop(item, None)

    # ------------------------------------------------------------------ single items
    def _write(self, environ: dict[str, Any], request: dict[str, Any]) -> Response:
        table = request.get("TableName")
        item = self._item(environ, table, request.get("Key") or request.get("Item"))
        if item is None:
            return self._moto(environ)
        cost = write_units(_write_size(request))
        with self._lock:
            if self._held(item):
                self.counters.conflicts += 1
                return _error("TransactionConflictException", CONFLICT_MESSAGE)
            now = time.monotonic()
            bucket = self._bucket(item, write=True, now=now)
            if bucket.available(now) < cost:
                self.counters.throttled += 1
                return _throttled(item[0], "Write")
            bucket.tokens -= cost
            self.counters.write_units += cost
        return self._moto(environ, holding=[item])

    def _get(self, environ: dict[str, Any], request: dict[str, Any]) -> Response:
        item = self._item(environ, request.get("TableName"), request.get("Key"))
        if item is None:
            return self._moto(environ)
        consistent = bool(request.get("ConsistentRead"))
        least = read_units(0, consistent=consistent)
        with self._lock:
            now = time.monotonic()
            bucket = self._bucket(item, write=False, now=now)
            if bucket.available(now) < least:
                self.counters.throttled += 1
                return _throttled(item[0], "Read")
        response = self._moto(environ)
        if response.ok:
            cost = read_units(item_size(response.json().get("Item")), consistent=consistent)
            with self._lock:
                bucket.tokens -= cost  # may go below zero: a big item borrows from the next moment
                self.counters.read_units += cost
        return response

    # ------------------------------------------------------------------ transactions
    def _refuse_transaction(
        self, items: list[ItemId | None], needs: Sequence[float], *, write: bool
    ) -> tuple[Response | None, list[TokenBucket | None]]:
        """Under the lock: the cancellation a transaction meets — `TransactionConflict` at each item another
        transaction holds, else `ThrottlingError` at each item whose bucket lacks its `needs` units — or
        None, with each item's bucket (None for an item the model does not know) to charge."""
        reasons = ["TransactionConflict" if self._held(item) else "None" for item in items]
        if "TransactionConflict" in reasons:
            self.counters.conflicts += 1
            return _cancelled(reasons), []
        now = time.monotonic()
        buckets = [None if item is None else self._bucket(item, write=write, now=now) for item in items]
        reasons = [
            "ThrottlingError" if bucket is not None and bucket.available(now) < need else "None"
            for bucket, need in zip(buckets, needs, strict=True)
        ]
        if "ThrottlingError" in reasons:
            self.counters.throttled += 1
            return _cancelled(reasons), buckets
        return None, buckets

    def _transact_write(self, environ: dict[str, Any], request: dict[str, Any]) -> Response:
        actions: list[dict[str, Any]] = [
            next(iter(a.values()), {}) for a in request.get("TransactItems", []) if isinstance(a, dict)
        ]
        items = [self._item(environ, a.get("TableName"), a.get("Key") or a.get("Item")) for a in actions]
        costs = [2 * write_units(_write_size(a)) for a in actions]
        with self._lock:
            refused, buckets = self._refuse_transaction(items, costs, write=True)
            if refused is not None:
                return refused
            for bucket, cost in zip(buckets, costs, strict=True):
                if bucket is not None:
                    bucket.tokens -= cost
                    self.counters.write_units += cost
            self._claims.update(item for item in items if item is not None)
        try:
            time.sleep(self.limits.transaction_window)  # prepared, not committed: the items stay held
        finally:
            self._let_go(items)
        return self._moto(environ, holding=items)

    def _transact_get(self, environ: dict[str, Any], request: dict[str, Any]) -> Response:
        gets = [a.get("Get", {}) for a in request.get("TransactItems", []) if isinstance(a, dict)]
        items = [self._item(environ, g.get("TableName"), g.get("Key")) for g in gets]
        least = 2 * read_units(0, consistent=True)
        with self._lock:
            refused, buckets = self._refuse_transaction(items, [least] * len(items), write=False)
            if refused is not None:
                return refused
        response = self._moto(environ)
        if response.ok:
            found = response.json().get("Responses", [])
            with self._lock:
                for bucket, answer in zip(buckets, found, strict=False):
                    cost = 2 * read_units(item_size(answer.get("Item")), consistent=True)
                    if bucket is not None:
                        bucket.tokens -= cost
                    self.counters.read_units += cost
        return response

    # ------------------------------------------------------------------ batches
    def _batch_write(self, environ: dict[str, Any], request: dict[str, Any]) -> Response:
        admitted: dict[str, list[Any]] = {}
        unprocessed: dict[str, list[Any]] = {}
        held: list[ItemId] = []
        throttled = conflicted = 0
        with self._lock:
            now = time.monotonic()
            for table, writes in (request.get("RequestItems") or {}).items():
                for write in writes:
                    action = write.get("PutRequest") or write.get("DeleteRequest") or {}
                    item = self._item(environ, table, action.get("Key") or action.get("Item"))
                    cost = write_units(_write_size(action))
                    bucket = None if item is None else self._bucket(item, write=True, now=now)
                    if item is not None and (self._held(item) or item in held):
                        conflicted += 1
                        unprocessed.setdefault(table, []).append(write)
                    elif bucket is not None and bucket.available(now) < cost:
                        throttled += 1
                        unprocessed.setdefault(table, []).append(write)
                    else:
                        if bucket is not None:
                            bucket.tokens -= cost
                            self.counters.write_units += cost
                        if item is not None:
                            held.append(item)
                        admitted.setdefault(table, []).append(write)
            self.counters.throttled += throttled
            self.counters.conflicts += conflicted
        if not admitted:
            if throttled and not conflicted:
                return _throttled(next(iter(unprocessed)), "Write")
            return _answer(HTTPStatus.OK, {"UnprocessedItems": unprocessed})
        response = self._moto(environ, {**request, "RequestItems": admitted}, holding=held)
        return _merge_unprocessed(response, "UnprocessedItems", unprocessed, lambda old, new: old + new)

    def _batch_get(self, environ: dict[str, Any], request: dict[str, Any]) -> Response:
        admitted: dict[str, dict[str, Any]] = {}
        unprocessed: dict[str, dict[str, Any]] = {}
        with self._lock:
            now = time.monotonic()
            for table, spec in (request.get("RequestItems") or {}).items():
                cost = read_units(0, consistent=bool(spec.get("ConsistentRead")))
                for key in spec.get("Keys", []):
                    item = self._item(environ, table, key)
                    bucket = None if item is None else self._bucket(item, write=False, now=now)
                    if bucket is not None and bucket.available(now) < cost:
                        self.counters.throttled += 1
                        unprocessed.setdefault(table, {**spec, "Keys": []})["Keys"].append(key)
                        continue
                    if bucket is not None:
                        bucket.tokens -= cost
                    self.counters.read_units += cost
                    admitted.setdefault(table, {**spec, "Keys": []})["Keys"].append(key)
        if not admitted:
            return _throttled(next(iter(unprocessed)), "Read")
        response = self._moto(environ, {**request, "RequestItems": admitted})

        def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
            return {**old, "Keys": old.get("Keys", []) + new["Keys"]}

        return _merge_unprocessed(response, "UnprocessedKeys", unprocessed, merge)


def _merge_unprocessed(
    response: Response, field_name: str, ours: dict[str, Any], merge: Callable[..., Any]
) -> Response:
    """moto's answer with the items the model left unprocessed added to moto's own unprocessed ones."""
    if not ours or not response.ok:
        return response
    payload = response.json()
    combined = dict(payload.get(field_name) or {})
    for table, entries in ours.items():
        combined[table] = merge(combined[table], entries) if table in combined else entries
    return response.with_json({**payload, field_name: combined})


# ---------------------------------------------------------------------------- moto's tables
def _region(environ: Mapping[str, Any]) -> str:
    """The region a SigV4 request is signed for (`Credential=KEY/DATE/REGION/dynamodb/aws4_request`)."""
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    _, found, rest = authorization.partition("Credential=")
    parts = rest.split("/")
    return parts[2] if found and len(parts) > 2 else os.environ.get("AWS_DEFAULT_REGION", _DEFAULT_REGION)


def _key_names(region: str, table: str) -> tuple[str, ...] | None:
    """The key attributes of a table as moto holds it, or None when moto has no such table."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    try:
        found = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables.get(table)
    except KeyError:
        return None
    if found is None:
        return None
    return tuple(name for name in (found.hash_key_attr, found.range_key_attr) if name)
