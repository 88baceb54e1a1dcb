"""Calling another domain's function directly (RequestResponse), with its error kept recognisable.

A handler's exception comes back as Lambda's error payload, typed by the exception's class name. The
caller's adapter names the types it knows (`expected`): those come back as `RemoteError`, for the adapter
to translate into its own domain's errors, so logic never sees another domain's error. Transient
failures of the callee surface as `ServiceUnavailable` (503, retry), and any other failure as
`DependencyFailed` (a 503 too): never as one of the caller's own 4xx, and never with the callee's message,
which is written for another domain and may say more than a client should read."""

import json
from collections.abc import Collection
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from common.dynamo import AWS_CONFIG
from common.errors import ServiceUnavailable
from common.observability import make_logger

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

logger = make_logger("invoke")

TRANSIENT = frozenset({"ServiceUnavailable", "PaymentProviderUnavailable", "TooManyRequestsException"})


class RemoteError(Exception):
    """A failure of the called function that its caller expected by name; only adapters catch it."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function} failed with {error_type}: {message}")
        self.error_type = error_type
        self.message = message


class DependencyFailed(ServiceUnavailable):
    """Another domain's function failed in a way the caller does not know (a bug, a crash, an error type
    it never named): a 5xx whose message says nothing of the callee's."""

    code = "dependency_failed"

    def __init__(self) -> None:
        super().__init__("a service this request needs failed; try again later")


@cache
def lambda_client() -> "LambdaClient":
    # A called function may itself call Stripe: allow it the time it needs, but not forever.
    return boto3.client(
        "lambda", config=AWS_CONFIG.merge(Config(read_timeout=25, retries={"mode": "standard", "max_attempts": 2}))
    )


def invoke(
    function: str,
    payload: dict[str, Any],
    *,
    expected: Collection[str] = (),
    client: "LambdaClient | None" = None,
) -> dict[str, Any]:
    """The function's answer. `RemoteError` for a failure whose type is in `expected`,
    `ServiceUnavailable` for a transient one, `DependencyFailed` for any other."""
    response = (client or lambda_client()).invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        error_type = str((body or {}).get("errorType", "Unknown"))
        name = function.rsplit(":", 1)[-1]
        if error_type in TRANSIENT or error_type == "Sandbox.Timedout":
            raise ServiceUnavailable(f"{name} is briefly unavailable; retry")
        if error_type in expected:
            raise RemoteError(function, error_type, str((body or {}).get("errorMessage", "")))
        logger.error("a called function failed unexpectedly", extra={"function": name, "errorType": error_type})
        raise DependencyFailed
    return dict(body or {})
