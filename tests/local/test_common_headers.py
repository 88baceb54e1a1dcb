"""The headers every answer shares reach the browser through the gateway, as on AWS: the functions' own
(`common.http`: version, `Vary: Origin`, `Retry-After`, exposed headers) pass through untouched, the
gateway adds the request id the error body names, and the gateway's own answers (template.yaml's
`GatewayResponses`) carry the same id, version and exposed headers."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from common import errors
from common.http import API_VERSION, API_VERSION_HEADER, EXPOSED_HEADERS, REQUEST_ID_HEADER, make_resolver
from common.observability import make_logger
from local.gateway import Gateway, GatewayAnswers
from local.template import Resolver, Route, Template

ROOT = Path(__file__).resolve().parents[2]
SHOP = "https://shop.test"
SECOND_SHOP = "https://kiosk.shop.test"


class InProcess:
    """A dispatcher running a tiny `common.http` app here, as a worker runs a function."""

    def __init__(self, context: Any) -> None:
        self.context = context
        app = make_resolver(make_logger("test"))

        @app.get("/things")
        def things() -> dict[str, str]:
            return {"ok": "yes"}

        @app.get("/busy")
        def busy() -> dict[str, str]:
            raise errors.ServiceUnavailable("retry")

        self.app = app

    def call(self, name: str, event: dict[str, Any]) -> Any:
        return self.app.resolve(event, self.context)


class NoTokens:
    def claims(self, header: str | None) -> dict[str, Any] | None:
        return None


@pytest.fixture
def send(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Callable[..., Response]:
    """The template's gateway answers with AllowedOrigins = SHOP,SECOND_SHOP, in front of the app."""
    monkeypatch.setenv("ALLOWED_ORIGINS", f"{SHOP},{SECOND_SHOP}")
    template = Template(ROOT / "template.yaml")
    resolver = Resolver(template, template.parameter_defaults({"AllowedOrigins": f"{SHOP},{SECOND_SHOP}"}))
    routes = [
        Route("GET", "/things", "Things", None),
        Route("GET", "/busy", "Things", None),
        Route("POST", "/mine", "Things", "Cognito"),
    ]
    gateway = Gateway(
        routes,
        InProcess(lambda_context),
        {"Cognito": NoTokens()},
        stage="dev",
        answers=GatewayAnswers(resolver.resolve(template.gateway_responses())),
    )

    def request(method: str, path: str, origin: str = SHOP) -> Response:
        environ = EnvironBuilder(method=method, path=path, headers=Headers({"Origin": origin})).get_environ()
        return gateway.handle(Request(environ))

    return request


def exposed(response: Response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("Access-Control-Expose-Headers", "").split(",")}


@pytest.mark.parametrize("origin", [SHOP, SECOND_SHOP])
def test_a_functions_headers_reach_the_browser(send: Callable[..., Response], origin: str) -> None:
    # When a shop's script calls a route
    response = send("GET", "/things", origin)

    # Then it sees its origin echoed, the version, Vary: Origin, and may read the headers a client needs
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Vary"] == "Origin"
    assert response.headers[API_VERSION_HEADER] == API_VERSION
    assert {name.lower() for name in EXPOSED_HEADERS} <= exposed(response)
    assert response.headers[REQUEST_ID_HEADER]


def test_a_functions_503_names_the_request_id_in_header_and_body_and_when_to_retry(
    send: Callable[..., Response],
) -> None:
    response = send("GET", "/busy")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert json.loads(response.get_data())["error"]["requestId"] == response.headers[REQUEST_ID_HEADER]


@pytest.mark.parametrize(("method", "path", "status"), [("POST", "/mine", 401), ("GET", "/nowhere", 404)])
def test_the_gateways_own_errors_carry_the_request_id_version_and_exposed_headers(
    send: Callable[..., Response], method: str, path: str, status: int
) -> None:
    # When the gateway itself refuses (no token; no such route)
    response = send(method, path)

    # Then its answer is in the one error shape with the request id of its header, readable by the shop
    assert response.status_code == status
    body = json.loads(response.get_data())
    assert body["error"]["requestId"] == response.headers[REQUEST_ID_HEADER]
    assert set(body["error"]) == {"code", "message", "details", "requestId"}
    assert response.headers[API_VERSION_HEADER] == API_VERSION
    assert {REQUEST_ID_HEADER.lower(), "retry-after", API_VERSION_HEADER.lower()} <= exposed(response)


def test_every_gateway_answer_of_the_template_names_the_layers_version() -> None:
    template = Template(ROOT / "template.yaml")
    resolved = Resolver(template, template.parameter_defaults()).resolve(template.gateway_responses())
    for kind, answer in resolved.items():
        headers = answer["ResponseParameters"]["Headers"]
        assert headers[API_VERSION_HEADER] == f"'{API_VERSION}'", kind
        assert '"requestId": "$context.requestId"' in answer["ResponseTemplates"]["application/json"], kind
