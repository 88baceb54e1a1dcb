"""`Location` as the client reaches it: behind API Gateway's stage, a custom domain's base path, or at
the root (the local gateway). Events are shaped as API Gateway REST (v1) delivers them."""

from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from common.http import created, make_resolver
from common.links import base_path, located, rebase_location
from common.observability import make_logger


def event(*, called: str, path: str, resource: str, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "POST",
        "headers": {"Host": "abc123.execute-api.eu-west-1.amazonaws.com"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.eu-west-1.amazonaws.com"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": parameters,
        "stageVariables": None,
        "requestContext": {
            "path": called,
            "stage": "prod",
            "resourcePath": resource,
            "httpMethod": "POST",
            "requestId": "req-1",
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("called", "path", "prefix"),
    [
        ("/prod/orders/o_1/cancel", "/orders/o_1/cancel", "/prod"),  # API Gateway's own domain: the stage
        ("/v1/orders/o_1/cancel", "/v1/orders/o_1/cancel", "/v1"),  # a custom domain's base path mapping
        ("/orders/o_1/cancel", "/orders/o_1/cancel", ""),  # a custom domain at its root, or the local gateway
    ],
)
def test_the_prefix_is_what_the_client_called_before_the_apis_own_path(called: str, path: str, prefix: str) -> None:
    # Given a request for a route with a path parameter, reached through that URL
    request = event(called=called, path=path, resource="/orders/{orderId}/cancel", parameters={"orderId": "o_1"})

    # Then links lead back through the same prefix
    assert base_path(request) == prefix
    assert located(request, "/orders/o_1") == f"{prefix}/orders/o_1"


def test_a_full_url_or_an_event_without_context_is_left_alone() -> None:
    request = event(called="/prod/products", path="/products", resource="/products")
    assert (
        located(request, "https://bucket.s3.amazonaws.com/file.csv?sig=1")
        == "https://bucket.s3.amazonaws.com/file.csv?sig=1"
    )
    assert located({"path": "/products"}, "/products/p_1") == "/products/p_1"


def test_single_and_multi_value_location_headers_are_rebased() -> None:
    request = event(called="/prod/coupons", path="/coupons", resource="/coupons")
    answer: dict[str, Any] = {
        "statusCode": 201,
        "headers": {"Location": "/coupons/SPRING"},
        "multiValueHeaders": {"location": ["/coupons/SPRING"]},
    }
    rebase_location(request, answer)
    assert answer["headers"]["Location"] == "/prod/coupons/SPRING"
    assert answer["multiValueHeaders"]["location"] == ["/prod/coupons/SPRING"]


class Made(BaseModel):
    made_id: str


def test_a_created_answer_behind_a_stage_points_behind_the_stage(lambda_context: Any) -> None:
    # Given a resolver with a route that answers 201 and the API's own path of what it made
    app = make_resolver(make_logger("test"))

    @app.post("/things")
    def make() -> Response[Made]:
        return created(Made(made_id="t_1"), "/things/t_1")

    # When it is called on API Gateway's own domain, under the stage `prod`
    answer = app.resolve(event(called="/prod/things", path="/things", resource="/things"), lambda_context)

    # Then its Location is a path the client can GET on the same host
    headers = {k.lower(): v for k, v in (answer.get("multiValueHeaders") or {}).items()}
    single = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    assert answer["statusCode"] == 201
    assert headers.get("location", [single.get("location")]) == ["/prod/things/t_1"]
