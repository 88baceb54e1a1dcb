"""Browsers of the shop's origins, as API Gateway answers them: preflight without a token, and the
request's allowed origin echoed by the functions (`ALLOWED_ORIGINS`), any other origin left out."""

import time
from collections.abc import Callable

import pytest
import requests

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]

SHOP = "http://localhost:5173"  # the template's default AllowedOrigins: the gateway's own errors name the first
OTHER_SHOP = "http://127.0.0.1:5173"
STRANGER = "https://evil.example"


def test_a_preflight_of_checkout_from_the_shop_is_answered_without_a_token(http: Http) -> None:
    # Given a browser on the shop about to POST /orders with a token and an idempotency key
    headers = {
        "Origin": SHOP,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
    }
    # When it sends the preflight (browsers never send the token with it)
    response = http("OPTIONS", "/orders", headers=headers)
    # Then the gateway allows it
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_a_preflight_from_the_second_shop_names_that_shop(http: Http) -> None:
    # Given a browser on the second of the allowed origins, about to cancel an order with its token
    headers = {
        "Origin": OTHER_SHOP,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    # When it sends the preflight
    response = http("OPTIONS", "/orders/o_any/cancel", headers=headers)
    # Then the answer names that origin (not the first one), so the browser goes on
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == OTHER_SHOP
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_a_stranger_is_not_allowed(http: Http) -> None:
    preflight = http("OPTIONS", "/orders", headers={"Origin": STRANGER, "Access-Control-Request-Method": "POST"})
    assert preflight.headers.get("Access-Control-Allow-Origin") != STRANGER  # the browser stops here
    response = http("GET", "/products", headers={"Origin": STRANGER})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.fixture
def settled(http: Http, tokens: dict[str, str]) -> None:
    """Wait until the demo orders the stack seeds at start are paid. Powertools keeps the current event
    on its router class, so while other API requests run on other threads of the one local process, a
    handler can build its answer from another request's event (never in Lambda: one request per
    instance). Checks of per-request headers wait for a quiet stack."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        busy = [
            http("GET", f"/admin/orders?status={status}", token=tokens["admin"]).json().get("items")
            for status in ("PENDING", "AWAITING_PAYMENT")
        ]
        if not any(busy):
            return
        time.sleep(0.5)


@pytest.mark.usefixtures("settled")
def test_answers_echo_every_allowed_origin(http: Http) -> None:
    for origin in (SHOP, OTHER_SHOP):
        response = http("GET", "/products", headers={"Origin": origin})
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert "Location" in response.headers.get("Access-Control-Expose-Headers", "")


def test_the_gateways_own_errors_are_readable_by_the_shop(http: Http) -> None:
    response = http("POST", "/orders", json={}, headers={"Origin": SHOP})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert response.json()["error"]["code"] == "unauthorized"


def test_swagger_ui_is_served_at_docs(http: Http) -> None:
    page = http("GET", "/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    spec = http("GET", "/docs/openapi.json")
    assert spec.json()["openapi"].startswith("3.1")
    assert "/orders" in spec.json()["paths"]
