"""One Lambda execution environment: a process that imports one function's handler and runs its invokes.

`local.workers` starts it as `python -u -P local/worker.py FD FUNCTION_NAME`, with the function's own environment
only, and talks to it over the socket `FD` (one end of a socketpair) in length-prefixed JSON frames:

    stack -> worker  {"handler", "paths", "function": {name, arn, memory, timeout},
                      "permissions": [{actions, resources}]}                          once, at start
    worker -> stack  {"ready": true} | {"initError": ERROR}                            the cold start
    stack -> worker  {"event", "requestId", "remainingMs"}                              one per invoke
    worker -> stack  {"result": JSON} | {"error": ERROR}

ERROR is Lambda's error shape (`errorType`, `errorMessage`, `stackTrace`) plus `loggable`, the message
as the stack's log may show it. Handlers print and log to stdout/stderr, which the stack relays to its
own log line by line. One invoke at a time: the worker answers before it reads the next frame, so a
handler's module state is never shared by two requests, as in Lambda.

With `"permissions"` in the init frame (the stack always sends them), every AWS call the function's
role does not allow is refused as AWS refuses it (`Role`). With `"profile"` in the init frame
(benchmarks only, see `Profiler`), each answer also carries `"profile"`: the handler's start and end and
every AWS and Stripe call it made, timed on the machine's monotonic clock, which the stack's process
shares.

This file is run by path with `-P` (its folder is not put on `sys.path`), and imports only the standard
library (the profiler imports botocore and stripe, from the handler's path, only when asked for): the
handler's `sys.path` holds its CodeUri, the layers and the installed packages, nothing of
the repository besides.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import socket
import struct
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

_LENGTH = struct.Struct(">I")


def send(channel: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message, default=str).encode()
    channel.sendall(_LENGTH.pack(len(data)) + data)


def receive(channel: socket.socket) -> dict[str, Any] | None:
    """The next frame, or None when the other end has closed the channel."""
    header = _exactly(channel, _LENGTH.size)
    if header is None:
        return None
    (length,) = _LENGTH.unpack(header)
    data = _exactly(channel, length)
    if data is None:
        return None
    message: dict[str, Any] = json.loads(data)
    return message


def _exactly(channel: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = channel.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def loggable(error: BaseException) -> str:
    """An error as a log line may show it: a pydantic validation error names its fields and problems but
    not the input values (an event's address, a token), which `str()` would print."""
    errors = getattr(error, "errors", None)
    if type(error).__name__ == "ValidationError" and callable(errors):
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
            for e in errors(include_input=False, include_url=False)
        )
    return str(error)


def error_shape(error: BaseException) -> dict[str, Any]:
    """Lambda's error payload: `errorType` is the class name, which Step Functions `Catch` matches."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_exception(error),
        "loggable": loggable(error),
    }


def _wrap(owner: Any, name: str, around: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace a library's method `owner.name` with `around(original)`: how the worker times calls
    (`Profiler`) and applies the function's role (`Role`) without touching the handler's code."""
    setattr(owner, name, around(getattr(owner, name)))


class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, function: dict[str, Any], request_id: str, remaining_ms: int) -> None:
        self.function_name = function["name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = function["arn"]
        self.memory_limit_in_mb = function["memory"]
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function['name']}"
        self.log_stream_name = function["logStream"]
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Profiler:
    """Opt-in timings for benchmarks: where an invoke's time went, measured inside the worker.

    Wraps botocore's `BaseClient._make_api_call` (every AWS call, retries and backoff included) and, in a
    function that calls Stripe (`STRIPE_API_BASE` in its environment), the stripe library's
    `HTTPClient.request_with_retries`. Each call is recorded as `[kind, name, start, end, items,
    consistent, wire]` (`kind` "aws" or "stripe"; `items` the DynamoDB items, events or messages it
    carried; `consistent` a strongly consistent read; `wire` the seconds botocore spent in HTTP, the rest
    of an AWS call being the SDK's own work: validating, serialising, signing, parsing), so the stack can
    tell our code from the time spent waiting on the local AWS and the local Stripe. With `cprofileDir`,
    each handler also runs under cProfile and the worker's accumulated stats are written to
    `<dir>/<function>.<pid>.prof` after each answer. Never installed unless asked for: a worker without
    it runs exactly the plain loop."""

    def __init__(self, settings: dict[str, Any], function_name: str) -> None:
        self.calls: list[list[Any]] = []
        self.wire = 0.0  # seconds in botocore's HTTP sends so far
        self._patch_botocore()
        if "STRIPE_API_BASE" in os.environ:
            self._patch_stripe()
        directory = settings.get("cprofileDir")
        self.profile: Any = None
        if directory:
            import cProfile  # here, so that a worker without the profiler never imports it

            self.profile = cProfile.Profile()
        self.stats_path = f"{directory}/{function_name}.{os.getpid()}.prof" if directory else None

    def _patch_botocore(self) -> None:
        from botocore.client import BaseClient
        from botocore.endpoint import Endpoint

        profiler, calls = self, self.calls

        def timed(make_api_call: Callable[..., Any]) -> Callable[..., Any]:
            def call(client: Any, operation: str, params: Any) -> Any:
                start, wire = time.monotonic(), profiler.wire
                result: Any = None
                try:
                    result = make_api_call(client, operation, params)
                    return result
                finally:
                    end = time.monotonic()
                    service = client.meta.service_model.service_name
                    items, consistent = _carried(operation, params, result)
                    calls.append(["aws", f"{service}.{operation}", start, end, items, consistent, profiler.wire - wire])

            return call

        def timed_send(send: Callable[..., Any]) -> Callable[..., Any]:
            def call(endpoint: Any, request: Any) -> Any:
                start = time.monotonic()
                try:
                    return send(endpoint, request)
                finally:
                    profiler.wire += time.monotonic() - start

            return call

        _wrap(BaseClient, "_make_api_call", timed)
        _wrap(Endpoint, "_send", timed_send)

    def _patch_stripe(self) -> None:
        from stripe._http_client import HTTPClient

        calls = self.calls

        def timed(request: Callable[..., Any]) -> Callable[..., Any]:
            def call(client: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
                start = time.monotonic()
                try:
                    return request(client, method, url, *args, **kwargs)
                finally:
                    end = time.monotonic()
                    path = url.split("://", 1)[-1].partition("/")[2].partition("?")[0]
                    calls.append(["stripe", f"{method.upper()} /{path}", start, end, 1, False, end - start])

            return call

        _wrap(HTTPClient, "request_with_retries", timed)

    def run(self, handler: Any, event: Any, context: Any) -> tuple[Any, dict[str, Any]]:
        """The handler's result and the invoke's profile; an exception carries the profile along as
        `error.profile`, so a failed invoke is timed too."""
        self.calls.clear()
        start = time.monotonic()
        try:
            if self.profile is not None:
                result = self.profile.runcall(handler, event, context)
            else:
                result = handler(event, context)
        except Exception as error:
            error.profile = self._since(start)  # type: ignore[attr-defined]
            raise
        return result, self._since(start)

    def _since(self, start: float) -> dict[str, Any]:
        return {"start": start, "end": time.monotonic(), "calls": list(self.calls)}

    def dump(self) -> None:
        if self.profile is not None and self.stats_path is not None:
            self.profile.dump_stats(self.stats_path)


# Operations whose IAM action has another name (the rest are named alike).
_IAM_ACTIONS = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "s3:HeadBucket": "s3:ListBucket",
}

# Services whose calls name their resource in one parameter: (parameter, the ARN's resource prefix).
_NAMED = {
    "events": ("EventBusName", "event-bus/"),
    "ssm": ("Name", "parameter/"),
    "lambda": ("FunctionName", "function:"),
    "states": ("stateMachineArn", ""),
}


class Role:
    """The function's role, applied as AWS applies it (moto applies none): an AWS call that no statement of
    the role allows is refused before it is sent, with AWS's `AccessDeniedException`, so a missing grant
    fails locally as it would once deployed. Statements come from the template (`local.iam.grants`);
    resources are matched where the call names them (DynamoDB tables and indexes, event buses, queues,
    parameters, functions, state machines), by action alone otherwise."""

    def __init__(self, grants: list[dict[str, list[str]]], function_arn: str) -> None:
        self.grants = [([a.lower() for a in g["actions"]], g["resources"]) for g in grants]
        _, _, _, self.region, self.account, _ = function_arn.split(":", 5)
        self.role = f"arn:aws:sts::{self.account}:assumed-role/{function_arn.rsplit(':', 1)[-1]}-role/function"

    def apply(self) -> None:
        """Wrap botocore's `BaseClient._make_api_call`, so that every client of this process is covered."""
        from botocore.client import BaseClient
        from botocore.exceptions import ClientError

        role = self

        def guarded(make_api_call: Callable[..., Any]) -> Callable[..., Any]:
            def call(client: Any, operation: str, params: Any) -> Any:
                service = client.meta.service_model.signing_name
                refusal = role.refusal(service, operation, params if isinstance(params, dict) else {})
                if refusal is not None:
                    print(f"local IAM: {refusal}", file=sys.stderr)
                    refused: Any = {
                        "Error": {"Code": "AccessDeniedException", "Message": refusal},
                        "ResponseMetadata": {"HTTPStatusCode": 400},
                    }
                    raise ClientError(refused, operation)
                return make_api_call(client, operation, params)

            return call

        _wrap(BaseClient, "_make_api_call", guarded)

    def refusal(self, service: str, operation: str, params: dict[str, Any]) -> str | None:
        """AWS's message for the first part of the call the role does not allow, None when it allows all."""
        for action, resource in self.requested(service, operation, params):
            if not self.allows(action, resource):
                where = f" on resource: {resource}" if resource else ""
                return (
                    f"User: {self.role} is not authorized to perform: {action}{where} "
                    f"because no identity-based policy allows the {action} action"
                )
        return None

    def allows(self, action: str, resource: str | None) -> bool:
        return any(
            any(fnmatch.fnmatchcase(action.lower(), pattern) for pattern in actions)
            and (resource is None or any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources))
            for actions, resources in self.grants
        )

    def _arn(self, service: str, prefix: str, name: str) -> str:
        """The ARN of a resource a call names: as given when the call gives an ARN, else built from its name."""
        if name.startswith("arn:"):
            return name
        return f"arn:aws:{service}:{self.region}:{self.account}:{prefix}{name}"

    def requested(self, service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str | None]]:
        """The (IAM action, resource ARN or None) pairs a call needs: a transaction needs the action of each
        of its parts (PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem) on its table, as on AWS."""
        if service == "dynamodb":
            return self._dynamodb(operation, params)
        action = _IAM_ACTIONS.get(f"{service}:{operation}", f"{service}:{operation}")
        if service == "sqs" and "QueueUrl" in params:
            return [(action, self._arn("sqs", "", str(params["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]))]
        if service == "events" and operation == "PutEvents":
            buses = {str(e.get("EventBusName") or "default") for e in params.get("Entries", ())}
            return [(action, self._arn("events", "event-bus/", bus)) for bus in sorted(buses)]
        if service in _NAMED and _NAMED[service][0] in params:
            key, prefix = _NAMED[service]
            return [(action, self._arn(service, prefix, str(params[key]).lstrip("/")))]
        return [(action, None)]

    def _dynamodb(self, operation: str, params: dict[str, Any]) -> list[tuple[str, str | None]]:
        def table(name: Any, index: Any = None) -> str:
            arn = self._arn("dynamodb", "table/", str(name))
            return f"{arn}/index/{index}" if index else arn

        if operation in ("TransactWriteItems", "TransactGetItems"):
            parts = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "Get": "GetItem"}
            needed: list[tuple[str, str | None]] = []
            for item in params.get("TransactItems", ()):
                for part, body in item.items():
                    needed.append((f"dynamodb:{parts.get(part, part + 'Item')}", table(body.get("TableName"))))
            return needed
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table(name)) for name in params.get("RequestItems", {})]
        if "TableName" in params:
            return [(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]
        return [(f"dynamodb:{operation}", None)]


def _carried(operation: str, params: Any, result: Any) -> tuple[int, bool]:
    """What a call carried, for the benchmark's unit and request estimates: (items, strongly consistent)."""
    if not isinstance(params, dict):
        return 1, False
    consistent = bool(params.get("ConsistentRead"))
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return len(params.get("TransactItems", ())), consistent
    if operation == "BatchGetItem":
        return sum(len(table.get("Keys", ())) for table in params.get("RequestItems", {}).values()), consistent
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params.get("RequestItems", {}).values()), consistent
    if operation in ("Query", "Scan"):
        return int(result.get("ScannedCount", 0)) if isinstance(result, dict) else 0, consistent
    if operation in ("PutEvents", "SendMessageBatch", "DeleteMessageBatch"):
        return len(params.get("Entries", ())), consistent
    return 1, consistent


def serve(channel: socket.socket) -> int:
    init = receive(channel)
    if init is None:
        return 0
    sys.path[:0] = list(init["paths"])
    function = dict(init["function"])
    function["logStream"] = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
    module_name, _, attribute = str(init["handler"]).rpartition(".")
    try:
        if init.get("permissions") is not None:
            Role(init["permissions"], function["arn"]).apply()
        profiler = Profiler(init["profile"], function["name"]) if init.get("profile") else None
        handler = getattr(importlib.import_module(module_name), attribute)
    except BaseException as error:  # an init failure of any kind is reported, as Lambda's INIT does
        traceback.print_exception(error)
        send(channel, {"initError": error_shape(error)})
        return 1
    send(channel, {"ready": True})
    while True:
        request = receive(channel)
        if request is None:
            return 0
        context = LambdaContext(function, str(request["requestId"]), int(request["remainingMs"]))
        if profiler is not None:
            answer = _profiled(profiler, handler, request["event"], context)
            channel.sendall(_LENGTH.pack(len(answer)) + answer)
            profiler.dump()
            continue
        try:
            result = handler(request["event"], context)
            answer = json.dumps({"result": result}, default=str).encode()
        except Exception as error:
            answer = json.dumps({"error": error_shape(error)}, default=str).encode()
        channel.sendall(_LENGTH.pack(len(answer)) + answer)


def _profiled(profiler: Profiler, handler: Any, event: Any, context: LambdaContext) -> bytes:
    try:
        result, profile = profiler.run(handler, event, context)
        return json.dumps({"result": result, "profile": profile}, default=str).encode()
    except Exception as error:
        answer = {"error": error_shape(error), "profile": getattr(error, "profile", None)}
        return json.dumps(answer, default=str).encode()


def main(argv: list[str]) -> int:
    channel = socket.socket(fileno=int(argv[1]))
    try:
        return serve(channel)
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the stack went away: so does its environment
    finally:
        channel.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
