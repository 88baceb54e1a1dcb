"""The local gateway behaves like API Gateway where a client can tell."""

import json
import re
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from common.links import located
from local.docs import SwaggerDocs
from local.gateway import CorsPreflight, Gateway, GatewayAnswers, rest_claims
from local.template import Route
from tests.template import load

ANSWERS: dict[str, dict[str, Any]] = {
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
    return Gateway(routes, dispatcher, {"Cognito": Verifier()}, stage="dev", answers=GatewayAnswers(ANSWERS))


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


# ---------------------------------------------------------------- CORS, as SAM's mock preflight answers it

CORS = CorsPreflight.of(
    {
        "AllowOrigin": "'http://shop.test'",
        "AllowHeaders": "'Authorization,Content-Type,Idempotency-Key'",
        "AllowMethods": "'GET,POST,PUT,DELETE,OPTIONS'",
        "MaxAge": "'600'",
    }
)
CORS_ANSWERS: dict[str, dict[str, Any]] = {
    **ANSWERS,
    "UNAUTHORIZED": {
        **ANSWERS["UNAUTHORIZED"],
        "ResponseParameters": {"Headers": {"Access-Control-Allow-Origin": "'http://shop.test'"}},
    },
    "DEFAULT_4XX": {"ResponseParameters": {"Headers": {"Access-Control-Allow-Origin": "method.request.header.Origin"}}},
}


def _cors_gateway(dispatcher: RecordingDispatcher, cors: CorsPreflight | None = CORS) -> Gateway:
    routes = [Route("GET", "/products", "Public", None), Route("POST", "/products", "Admin", "Cognito")]
    return Gateway(
        routes,
        dispatcher,
        {"Cognito": Verifier()},
        stage="dev",
        answers=GatewayAnswers(CORS_ANSWERS),
        cors=cors,
    )


def test_a_preflight_of_a_protected_route_is_answered_without_a_token_or_a_handler() -> None:
    # Given a route behind the authorizer
    dispatcher = RecordingDispatcher()
    # When a browser sends its preflight (which never carries the token)
    headers = {"Origin": "http://shop.test", "Access-Control-Request-Method": "POST"}
    response = _cors_gateway(dispatcher).handle(_request("OPTIONS", "/products", headers=headers))
    # Then the gateway answers it like the mock integration, and no handler runs
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://shop.test"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type,Idempotency-Key"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST,PUT,DELETE,OPTIONS"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert dispatcher.events == []


def test_a_preflight_names_the_configured_origin_whatever_the_request_says() -> None:
    response = _cors_gateway(RecordingDispatcher()).handle(
        _request("OPTIONS", "/products", headers={"Origin": "http://evil.test"})
    )
    assert response.headers["Access-Control-Allow-Origin"] == "http://shop.test"


def test_without_allow_methods_a_preflight_lists_the_paths_own_methods() -> None:
    cors = CorsPreflight.of("'*'")
    response = _cors_gateway(RecordingDispatcher(), cors).handle(_request("OPTIONS", "/products"))
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS,POST"


def test_a_preflight_of_an_unknown_path_is_the_missing_route_answer() -> None:
    response = _cors_gateway(RecordingDispatcher()).handle(_request("OPTIONS", "/nowhere"))
    assert response.status_code == 403


def test_without_cors_in_the_template_options_is_an_unknown_route() -> None:
    response = _cors_gateway(RecordingDispatcher(), cors=None).handle(_request("OPTIONS", "/products"))
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_gateways_own_errors_carry_the_templates_cors_headers() -> None:
    gateway = _cors_gateway(RecordingDispatcher())
    unauthorized = gateway.handle(_request("POST", "/products", data="{}", headers={"Origin": "http://x.test"}))
    assert unauthorized.status_code == 401
    assert unauthorized.headers["Access-Control-Allow-Origin"] == "http://shop.test"
    missing = gateway.handle(_request("GET", "/nowhere", headers={"Origin": "http://x.test"}))
    assert missing.headers["Access-Control-Allow-Origin"] == "http://x.test"  # mapped from the request


def test_a_handlers_cors_headers_pass_through() -> None:
    result = {"statusCode": 200, "body": "{}", "headers": {"Access-Control-Allow-Origin": "http://shop.test"}}
    response = _cors_gateway(RecordingDispatcher(result=result)).handle(_request("GET", "/products"))
    assert response.headers["Access-Control-Allow-Origin"] == "http://shop.test"


# ---------------------------------------------------------------- Swagger UI at /docs


def _docs_gateway(tmp_path: Path) -> Gateway:
    spec = tmp_path / "openapi.json"
    spec.write_text('{"openapi": "3.1.0"}')
    return Gateway([], RecordingDispatcher(), {}, stage="dev", docs=SwaggerDocs(spec))


def test_docs_serve_swagger_ui_without_external_assets(tmp_path: Path) -> None:
    gateway = _docs_gateway(tmp_path)
    page = gateway.handle(_request("GET", "/docs"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/docs/openapi.json" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing from a CDN
    for asset, kind in (("/docs/swagger-ui.js", "javascript"), ("/docs/swagger-ui.css", "css")):
        response = gateway.handle(_request("GET", asset))
        assert response.status_code == 200, asset
        assert kind in response.content_type
        assert len(response.get_data()) > 10_000
    spec = gateway.handle(_request("GET", "/docs/openapi.json"))
    assert json.loads(spec.get_data()) == {"openapi": "3.1.0"}


def test_docs_leave_other_paths_to_the_routes(tmp_path: Path) -> None:
    gateway = _docs_gateway(tmp_path)
    assert gateway.handle(_request("GET", "/docs/secret")).status_code == 403
    assert gateway.handle(_request("POST", "/docs")).status_code == 403


def test_the_api_root_points_a_person_at_the_shop_the_console_and_the_docs(tmp_path: Path) -> None:
    # Given the local gateway of a stack that serves the web apps
    spec = tmp_path / "openapi.json"
    spec.write_text('{"openapi": "3.1.0"}')
    web = "http://127.0.0.1:8080"
    gateway = Gateway([], RecordingDispatcher(), {}, stage="dev", docs=SwaggerDocs(spec, web_url=web))

    # When a person opens the API's address in a browser
    page = gateway.handle(_request("GET", "/"))

    # Then a page links to the shop, the console and the docs, instead of a 403/404
    assert page.status_code == 200
    assert "text/html" in page.content_type
    html = page.get_data(as_text=True)
    for link in (f'href="{web}/"', f'href="{web}/admin/"', 'href="/docs"'):
        assert link in html
    # And without web apps it still points at the docs; other methods on / stay the API's business
    bare = _docs_gateway(tmp_path).handle(_request("GET", "/")).get_data(as_text=True)
    assert 'href="/docs"' in bare and "/admin/" not in bare
    assert gateway.handle(_request("POST", "/")).status_code == 403


# ---------------------------------------------------------------- Retry-After and links


def test_the_templates_throttled_over_quota_and_5xx_answers_say_when_to_retry() -> None:
    # Given the gateway's own answers as template.yaml customises them
    template, resolver = load()
    answers = GatewayAnswers(resolver.resolve(template.gateway_responses()))

    # Then throttled, over-quota and failed requests are told when to come back, in the one error shape
    for kind, status in (("THROTTLED", 429), ("QUOTA_EXCEEDED", 429), ("DEFAULT_5XX", 502)):
        answer = answers(kind, "req-1")
        assert answer.status_code == status, kind
        assert int(answer.headers["Retry-After"]) >= 1, kind
        assert json.loads(answer.get_data())["error"]["code"] in ("too_many_requests", "internal_error"), kind


def test_the_event_carries_the_path_as_called_so_links_lead_back_here() -> None:
    # Given the local gateway, which serves the API at its root (no stage in its URLs)
    dispatcher = RecordingDispatcher()
    _gateway(dispatcher).handle(_request("GET", "/products/p_1"))
    event = dispatcher.events[0]

    # Then the request context names the path the client called, and a Location built from it has no
    # stage the local URL lacks (on API Gateway's own domain, `/dev/...` would be right: tests/unit/test_links.py)
    assert event["requestContext"]["path"] == "/products/p_1"
    assert located(event, "/products/p_1") == "/products/p_1"
