"""What every answer of `common.http`'s resolver carries besides its body: the request id (in error bodies;
the header is API Gateway's), `Retry-After` on 429/503, the API version, `Vary: Origin` where CORS is on,
and which headers a browser's script may read. And the error bodies hold to the documented `ErrorBody`."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from botocore.exceptions import ClientError

from common import errors
from common.contracts import ShortSku
from common.http import (
    API_VERSION,
    API_VERSION_HEADER,
    EXPOSED_HEADERS,
    AffiliateDetails,
    ErrorBody,
    FieldError,
    InsufficientStockDetails,
    OrdersStillOpenDetails,
    OutOfStockDetails,
    SkuTakenDetails,
    TransactionDetails,
    make_resolver,
)
from common.observability import make_logger

EventFactory = Callable[..., dict[str, Any]]
SHOP = "https://shop.test"
SECOND_SHOP = "https://kiosk.shop.test"


class SlowDown(errors.TooManyRequests):
    retry_after = 30


def build_app() -> APIGatewayRestResolver:
    app = make_resolver(make_logger("test"))

    @app.get("/ok")
    def ok() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/cached")
    def cached() -> Response[Any]:
        return Response(200, content_types.APPLICATION_JSON, "{}", headers={"Vary": "Accept-Encoding"})

    @app.get("/fail/<kind>")
    def fail(kind: str) -> dict[str, str]:
        if kind == "throttled":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")
        raise RAISED[kind]

    return app


RAISED: dict[str, errors.DomainError] = {
    "busy": errors.ServiceUnavailable("later"),
    "slow": errors.TooManyRequests("easy"),
    "slower": SlowDown("much easier"),
    "conflict": errors.Conflict("taken"),
    "invalid": errors.ValidationFailed("nope"),
}


@pytest.fixture
def resolve(lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The resolver's raw proxy answer, CORS on for SHOP and SECOND_SHOP."""
    monkeypatch.setenv("ALLOWED_ORIGINS", f"{SHOP},{SECOND_SHOP}")
    app = build_app()
    return lambda event: app.resolve(event, lambda_context)


def header(answer: dict[str, Any], name: str) -> str | None:
    """One header of a proxy answer, case-insensitive, multi-value or not."""
    for key, values in (answer.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return ", ".join(values)
    for key, value in (answer.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


@pytest.mark.parametrize("path", ["/fail/busy", "/fail/conflict", "/fail/invalid", "/fail/throttled", "/nowhere"])
def test_every_error_body_carries_the_requests_id(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], api_event: EventFactory, path: str
) -> None:
    # Given a request API Gateway gave an id
    event = api_event("GET", path)

    # When it fails (a domain error, an AWS error, no such route)
    answer = resolve(event)

    # Then the body names that id: the one API Gateway sends as x-amzn-RequestId and logs
    assert answer["statusCode"] >= 400
    assert json.loads(answer["body"])["error"]["requestId"] == event["requestContext"]["requestId"]


def test_without_a_gateway_request_id_the_invocations_id_is_used(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], api_event: EventFactory, lambda_context: Any
) -> None:
    # Given an event without requestContext.requestId (a direct invoke)
    event = api_event("GET", "/fail/conflict")
    del event["requestContext"]["requestId"]

    # When it fails, then the error still carries an id a log line has
    body = json.loads(resolve(event)["body"])
    assert body["error"]["requestId"] == lambda_context.aws_request_id


@pytest.mark.parametrize(
    ("path", "status", "seconds"),
    [("/fail/busy", 503, "1"), ("/fail/throttled", 503, "1"), ("/fail/slow", 429, "1"), ("/fail/slower", 429, "30")],
)
def test_429_and_503_say_when_to_retry(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], api_event: EventFactory, path: str, status: int, seconds: str
) -> None:
    # When a route answers "try again later"
    answer = resolve(api_event("GET", path))

    # Then Retry-After says when (the error class's own delay if it has one)
    assert answer["statusCode"] == status
    assert header(answer, "Retry-After") == seconds


@pytest.mark.parametrize("path", ["/ok", "/fail/conflict", "/fail/invalid", "/nowhere"])
def test_other_answers_have_no_retry_after(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], api_event: EventFactory, path: str
) -> None:
    assert header(resolve(api_event("GET", path)), "Retry-After") is None


@pytest.mark.parametrize("path", ["/ok", "/fail/busy", "/fail/conflict", "/nowhere"])
def test_every_answer_names_the_api_version(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], api_event: EventFactory, path: str
) -> None:
    assert header(resolve(api_event("GET", path)), API_VERSION_HEADER) == API_VERSION


@pytest.mark.parametrize("origin", [SHOP, SECOND_SHOP, "https://evil.test", None])
@pytest.mark.parametrize("path", ["/ok", "/fail/conflict"])
def test_answers_vary_on_origin(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], api_event: EventFactory, origin: str | None, path: str
) -> None:
    # Given a request from an allowed origin, a stranger, or no browser at all
    event = api_event("GET", path, headers={"Origin": origin} if origin else None)

    # When it is answered
    answer = resolve(event)

    # Then a cache is told the answer depends on Origin (it echoes it, or leaves CORS out for a stranger)
    assert header(answer, "Vary") == "Origin"
    expected = origin if origin in (SHOP, SECOND_SHOP) else None
    assert header(answer, "Access-Control-Allow-Origin") == expected


def test_vary_origin_joins_a_vary_the_route_set(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], api_event: EventFactory
) -> None:
    answer = resolve(api_event("GET", "/cached", headers={"Origin": SHOP}))
    assert header(answer, "Vary") == "Accept-Encoding, Origin"


@pytest.mark.parametrize("path", ["/ok", "/fail/busy"])
def test_a_browser_may_read_the_headers_a_client_needs(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], api_event: EventFactory, path: str
) -> None:
    # When the shop's script gets an answer
    answer = resolve(api_event("GET", path, headers={"Origin": SHOP}))

    # Then it may read the request id, Location, ETag, Retry-After, Idempotent-Replayed and the version
    exposed = {name.strip().lower() for name in (header(answer, "Access-Control-Expose-Headers") or "").split(",")}
    wanted = {"x-amzn-requestid", "location", "etag", "retry-after", "idempotent-replayed", API_VERSION_HEADER.lower()}
    assert wanted <= exposed
    assert {name.lower() for name in EXPOSED_HEADERS} == wanted


def test_without_cors_there_is_no_vary_but_still_the_version(
    lambda_context: Any, monkeypatch: pytest.MonkeyPatch, api_event: EventFactory
) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", "")
    answer = build_app().resolve(api_event("GET", "/ok", headers={"Origin": SHOP}), lambda_context)
    assert header(answer, "Vary") is None
    assert header(answer, API_VERSION_HEADER) == API_VERSION


def _domain_errors() -> list[tuple[errors.DomainError, type | None]]:
    """One error of each typed `details` shape, raised as the domains raise them."""
    from affiliates.errors import AlreadyApplied, AlreadyApproved
    from catalog.errors import SkuTaken
    from customers.errors import OrdersStillOpen
    from inventory.errors import InsufficientStock, OutOfStock, TooManySkus
    from orders.coupons import rejected
    from orders.errors import BelowMinimumCharge, UnknownSkus

    return [
        (OutOfStock([ShortSku(sku="A-1", requested=3, available=1)]), OutOfStockDetails),
        (InsufficientStock("A-1", -5, 2), InsufficientStockDetails),
        (SkuTaken(["A-1", "B-2"]), SkuTakenDetails),
        (OrdersStillOpen(["o_1"]), OrdersStillOpenDetails),
        (AlreadyApplied("af_1"), AffiliateDetails),
        (AlreadyApproved("af_1", 0.1), AffiliateDetails),
        (errors.ServiceUnavailable("busy", code="transaction_conflict", details={"reasons": ["None"]}), None),
        (errors.Conflict("not applied", details={"reasons": ["ConditionalCheckFailed"]}), TransactionDetails),
        (UnknownSkus([(0, "Z-9", "unknown")]), FieldError),
        (TooManySkus(60, 50), FieldError),
        (BelowMinimumCharge(10, 50, "EUR"), FieldError),
        (rejected("coupon_expired", "coupon X expired"), FieldError),
        (errors.NotFound("nothing"), type(None)),
    ]


@pytest.mark.parametrize("index", range(13))
def test_error_bodies_hold_to_the_documented_error_body(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], api_event: EventFactory, index: int
) -> None:
    # Given a route raising a domain error with details
    error, shape = _domain_errors()[index]
    RAISED["typed"] = error

    # When it is answered
    body = json.loads(resolve(api_event("GET", "/fail/typed"))["body"])

    # Then the body is a valid ErrorBody, its code one of ErrorCode, its details the shape documented
    parsed = ErrorBody.model_validate(body)
    assert parsed.error.code == error.code
    details = parsed.error.details
    if shape is FieldError:
        assert isinstance(details, list) and all(isinstance(item, FieldError) for item in details)
    elif shape is not None:
        assert isinstance(details, shape)
