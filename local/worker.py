"""One Lambda execution environment: a process that imports one function's handler and runs its invokes.

`local.workers` starts it as `python -u -P local/worker.py FD FUNCTION_NAME`, with the function's own environment
only, and talks to it over the socket `FD` (one end of a socketpair) in length-prefixed JSON frames:

    stack -> worker  {"handler", "paths", "function": {name, arn, memory, timeout}}   once, at start
    worker -> stack  {"ready": true} | {"initError": ERROR}                            the cold start
    stack -> worker  {"event", "requestId", "remainingMs"}                              one per invoke
    worker -> stack  {"result": JSON} | {"error": ERROR}

ERROR is Lambda's error shape (`errorType`, `errorMessage`, `stackTrace`) plus `loggable`, the message
as the stack's log may show it. Handlers print and log to stdout/stderr, which the stack relays to its
own log line by line. One invoke at a time: the worker answers before it reads the next frame, so a
handler's module state is never shared by two requests, as in Lambda.

This file is run by path with `-P` (its folder is not put on `sys.path`), and imports only the standard
library: the handler's `sys.path` holds its CodeUri, the layers and the installed packages, nothing of
the repository besides.
"""

from __future__ import annotations

import importlib
import json
import socket
import struct
import sys
import time
import traceback
import uuid
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


def serve(channel: socket.socket) -> int:
    init = receive(channel)
    if init is None:
        return 0
    sys.path[:0] = list(init["paths"])
    function = dict(init["function"])
    function["logStream"] = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
    module_name, _, attribute = str(init["handler"]).rpartition(".")
    try:
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
        try:
            result = handler(request["event"], context)
            answer = json.dumps({"result": result}, default=str).encode()
        except Exception as error:
            answer = json.dumps({"error": error_shape(error)}, default=str).encode()
        channel.sendall(_LENGTH.pack(len(answer)) + answer)


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
