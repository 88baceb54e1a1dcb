"""CORS preflight for two storefront origins, as the local gateway serves it from template.yaml: `OPTIONS`
on any path reaches `PreflightFunction` (as on AWS) without a token, and its answer names the request's
origin when it is allowed, and no origin otherwise."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from local.gateway import CorsPreflight, Gateway, GatewayAnswers
from local.template import Resolver, Template
from preflight import api

ROOT = Path(__file__).resolve().parents[2]
SHOP = "https://shop.test"
SECOND_SHOP = "https://kiosk.shop.test"
STRANGER = "https://evil.test"


class InProcess:
    """The dispatcher, running PreflightFunction's handler here (the stack runs it in a worker)."""

    def __init__(self) -> None:
        self.called: list[str] = []

    def call(self, name: str, event: dict[str, Any]) -> Any:
        self.called.append(name)
        assert name == "PreflightFunction"
        return api.handler(event, None)


class NoTokens:
    def claims(self, header: str | None) -> dict[str, Any] | None:
        return None


@pytest.fixture
def preflight(monkeypatch: pytest.MonkeyPatch) -> tuple[Callable[..., Response], InProcess]:
    """The template's gateway with AllowedOrigins = SHOP,SECOND_SHOP."""
    template = Template(ROOT / "template.yaml")
    resolver = Resolver(template, template.parameter_defaults({"AllowedOrigins": f"{SHOP},{SECOND_SHOP}"}))
    variables = dict(template.functions())["PreflightFunction"]["Environment"]["Variables"]
    monkeypatch.setenv("ALLOWED_ORIGINS", str(resolver.resolve(variables["ALLOWED_ORIGINS"])))
    routes = [r for r in template.routes() if r.function == "PreflightFunction" or r.path == "/orders"]
    dispatcher = InProcess()
    gateway = Gateway(
        routes,
        dispatcher,
        {"CognitoAuthorizer": NoTokens()},
        stage="dev",
        answers=GatewayAnswers(resolver.resolve(template.gateway_responses())),
        cors=CorsPreflight.of(resolver.resolve(template.cors())),
    )

    def send(path: str, origin: str) -> Response:
        headers = {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        }
        environ = EnvironBuilder(method="OPTIONS", path=path, headers=Headers(headers)).get_environ()
        return gateway.handle(Request(environ))

    return send, dispatcher


@pytest.mark.parametrize("origin", [SHOP, SECOND_SHOP])
def test_a_preflight_from_either_shop_is_allowed_without_a_token(
    preflight: tuple[Callable[..., Response], InProcess], origin: str
) -> None:
    send, dispatcher = preflight

    # When a browser on either shop sends the preflight of checkout (never with the token)
    response = send("/orders", origin)

    # Then PreflightFunction answered it for that very origin, with the headers checkout sends
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Vary"] == "Origin"
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert dispatcher.called == ["PreflightFunction"]


def test_a_preflight_from_a_stranger_names_no_origin(preflight: tuple[Callable[..., Response], InProcess]) -> None:
    send, _ = preflight

    response = send("/orders/o_1/refunds", STRANGER)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers  # the browser stops here


def test_every_path_of_the_template_is_preflighted(preflight: tuple[Callable[..., Response], InProcess]) -> None:
    send, _ = preflight
    template = Template(ROOT / "template.yaml")
    for path in sorted({r.path for r in template.routes()}):
        concrete = path.replace("{", "x").replace("}", "")
        response = send(concrete, SECOND_SHOP)
        assert (response.status_code, response.headers.get("Access-Control-Allow-Origin")) == (200, SECOND_SHOP), path
