"""Calling another domain's function directly (RequestResponse), with its error kept recognisable.

A handler's exception comes back as Lambda's error payload; `RemoteError` carries its type (the
exception's class name) so the caller can map it to its own domain errors, and transient failures of
the callee surface as `ServiceUnavailable` (503, retry)."""

import json
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from common.dynamo import AWS_CONFIG
from common.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

TRANSIENT = frozenset({"ServiceUnavailable", "PaymentProviderUnavailable", "TooManyRequestsException"})


class RemoteError(Exception):
    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function} failed with {error_type}: {message}")
        self.error_type = error_type
        self.message = message


@cache
def lambda_client() -> "LambdaClient":
    # A called function may itself call Stripe: allow it the time it needs, but not forever.
    return boto3.client(
        "lambda", config=AWS_CONFIG.merge(Config(read_timeout=25, retries={"mode": "standard", "max_attempts": 2}))
    )


def invoke(function: str, payload: dict[str, Any], *, client: "LambdaClient | None" = None) -> dict[str, Any]:
    response = (client or lambda_client()).invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        error_type = str((body or {}).get("errorType", "Unknown"))
        message = str((body or {}).get("errorMessage", ""))
        if error_type in TRANSIENT or error_type == "Sandbox.Timedout":
            raise ServiceUnavailable(f"{function.rsplit(':', 1)[-1]} is briefly unavailable; retry")
        raise RemoteError(function, error_type, message)
    return dict(body or {})
