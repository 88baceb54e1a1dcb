"""Shared by every suite: a Lambda context stand-in and fresh process-wide caches per test."""

import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from common.config import load_settings
from common.dynamo import dynamodb_client
from common.events import events_client


@dataclass(frozen=True)
class FakeLambdaContext:
    """What Powertools' `inject_lambda_context` reads from a real `LambdaContext`."""

    function_name: str = "storekeeper-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:storekeeper-test"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Settings and boto3 clients are cached per process (per cold start); each test is a cold start."""
    caches = (load_settings, dynamodb_client, events_client)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


def _resource_of(path: str) -> str:
    """The route template API Gateway reports in `resource` (it is informational for Powertools)."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "products":
        return "/products/{productId}"
    return path


@pytest.fixture
def api_event() -> Callable[..., dict[str, Any]]:
    """Factory of API Gateway REST (v1) proxy events, shaped as the Cognito authorizer delivers them.

    `api_event("POST", "/products", body={...}, groups=["admin"])`: a signed-in admin. Claims are present
    when `sub` or `groups` is given; groups travel as the comma-separated string REST APIs use.
    `body` may be a str to send raw (malformed) text."""

    def build(
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        groups: Sequence[str] | None = None,
        sub: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        all_headers = {"Accept": "application/json", "Host": "abc123.execute-api.eu-west-1.amazonaws.com"}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        raw_body = body if body is None or isinstance(body, str) else json.dumps(body)
        query_params = {k: str(v) for k, v in (query or {}).items()} or None
        resource = _resource_of(path)
        path_params = {"productId": path.rsplit("/", 1)[1]} if resource != path else None
        request_context: dict[str, Any] = {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "httpMethod": method,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
            "path": f"/dev{path}",
            "protocol": "HTTP/1.1",
            "requestId": f"req-{uuid.uuid4()}",
            "requestTimeEpoch": 1_700_000_000_000,
            "resourceId": "res123",
            "resourcePath": resource,
            "stage": "dev",
        }
        if sub is not None or groups is not None:
            claims = {
                "sub": sub if sub is not None else f"user-{'-'.join(groups or ['customer'])}",
                "email": "someone@example.com",
                "token_use": "id",
            }
            if groups:
                claims["cognito:groups"] = ",".join(groups)
            request_context["authorizer"] = {"claims": claims}
        return {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": all_headers,
            "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
            "queryStringParameters": query_params,
            "multiValueQueryStringParameters": {k: [v] for k, v in query_params.items()} if query_params else None,
            "pathParameters": path_params,
            "stageVariables": None,
            "requestContext": request_context,
            "body": raw_body,
            "isBase64Encoded": False,
        }

    return build
