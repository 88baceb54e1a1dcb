"""The local gateway behaves like API Gateway where a client can tell."""

import json
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from local.gateway import Gateway, GatewayAnswers, rest_claims
from local.template import Route

ANSWERS = {
    "UNAUTHORIZED": {"StatusCode": "401", "ResponseTemplates": {"application/json": '{"error": {"code": "u"}}'}},
    "DEFAULT_5XX": {"ResponseTemplates": {"application/json": '{"id": "$context.requestId"}'}},
}


class RecordingDispatcher:
    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.result = result if result is not None else {"statusCode": 200, "body": "{}"}
        self.error = error

    def call(self, name: str, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if self.error:
            raise self.error
        return self.result


class Verifier:
    def claims(self, header: str | None) -> dict[str, Any] | None:
        return {"sub": "u1", "cognito:groups": ["admin", "support"], "exp": 1_700_000_000} if header else None


def _gateway(dispatcher: RecordingDispatcher) -> Gateway:
    routes = [
        Route("GET", "/products", "Public", None),
        Route("GET", "/products/{productId}", "Public", None),
        Route("GET", "/products/search", "Public", None),
        Route("POST", "/products", "Admin", "Cognito"),
    ]
    return Gateway(routes, dispatcher, {"Cognito": Verifier()}, stage="dev", answers=GatewayAnswers(ANSWERS))  # type: ignore[arg-type,dict-item]


def _request(method: str, path: str, **kwargs: Any) -> Request:
    return Request(EnvironBuilder(method=method, path=path, **kwargs).get_environ())


def test_literal_segments_win_over_parameters() -> None:
    dispatcher = RecordingDispatcher()
    gateway = _gateway(dispatcher)
    gateway.handle(_request("GET", "/products/search"))
    gateway.handle(_request("GET", "/products/p_1"))
    assert dispatcher.events[0]["resource"] == "/products/search"
    assert dispatcher.events[1]["pathParameters"] == {"productId": "p_1"}


def test_an_unknown_route_gets_the_default_answer() -> None:
    response = _gateway(RecordingDispatcher()).handle(_request("DELETE", "/products"))
    assert response.status_code == 403
    assert json.loads(response.get_data()) == {"message": "Missing Authentication Token"}


def test_a_protected_route_without_a_token_gets_the_templates_answer() -> None:
    dispatcher = RecordingDispatcher()
    response = _gateway(dispatcher).handle(_request("POST", "/products", data="{}"))
    assert response.status_code == 401
    assert json.loads(response.get_data()) == {"error": {"code": "u"}}
    assert dispatcher.events == []


def test_claims_reach_the_handler_as_a_rest_api_passes_them() -> None:
    dispatcher = RecordingDispatcher()
    _gateway(dispatcher).handle(_request("POST", "/products", data='{"a": 1}', headers={"Authorization": "x"}))
    event = dispatcher.events[0]
    assert event["requestContext"]["authorizer"]["claims"]["cognito:groups"] == "admin,support"
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False


def test_a_binary_body_is_base64_encoded() -> None:
    dispatcher = RecordingDispatcher()
    headers = {"Authorization": "x", "Content-Type": "application/octet-stream"}
    _gateway(dispatcher).handle(_request("POST", "/products", data=b"\x00\xff", headers=headers))
    assert dispatcher.events[0]["isBase64Encoded"] is True


def test_a_crashing_handler_is_a_502_with_the_request_id() -> None:
    response = _gateway(RecordingDispatcher(error=RuntimeError("boom"))).handle(_request("GET", "/products"))
    assert response.status_code == 502
    assert json.loads(response.get_data())["id"] == response.headers["x-amzn-RequestId"]


def test_a_malformed_proxy_response_is_a_502() -> None:
    response = _gateway(RecordingDispatcher(result={"body": "no status"})).handle(_request("GET", "/products"))
    assert response.status_code == 502


def test_rest_claims_are_strings() -> None:
    claims = rest_claims({"email_verified": True, "exp": 1_700_000_000, "cognito:groups": ["a", "b"]})
    assert claims == {"email_verified": "true", "exp": "Tue Nov 14 22:13:20 UTC 2023", "cognito:groups": "a,b"}
