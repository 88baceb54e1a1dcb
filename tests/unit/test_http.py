"""The one error mapping, exercised through a tiny resolver built by `make_resolver`."""

import json
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from common import errors
from common.auth import ADMIN
from common.http import MAX_BODY_BYTES, caller, make_resolver, requires
from common.observability import make_logger

EventFactory = Callable[..., dict[str, Any]]


class Widget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    size: int = Field(ge=1)


class Echo(BaseModel):
    name: str


def build_app() -> APIGatewayRestResolver:
    app = make_resolver(make_logger("test"))

    @app.get("/fail/<kind>")
    def fail(kind: str) -> dict[str, str]:
        if kind == "throttled":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")
        if kind == "denied":
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "Query")
        if kind == "bug":
            raise RuntimeError("boom")
        raise ERRORS[kind]

    @app.post("/widgets")
    @requires(ADMIN)
    def create_widget(widget: Annotated[Widget, Body()]) -> dict[str, Any]:
        return {"created": widget.model_dump(), "by": caller(app).sub}

    @app.post("/public-widgets")
    def create_public_widget(widget: Annotated[Widget, Body()]) -> dict[str, Any]:
        return {"created": widget.model_dump()}

    @app.get("/mine")
    @requires()
    def mine() -> dict[str, str]:
        return {"sub": caller(app).sub}

    @app.get("/broken-response")
    def broken_response() -> Echo:
        return {"nom": "wrong field"}  # type: ignore[return-value]

    return app


ERRORS: dict[str, errors.DomainError] = {
    "bad": errors.BadRequest("bad"),
    "unauth": errors.Unauthorized("who are you"),
    "forbidden": errors.Forbidden("not you"),
    "missing": errors.NotFound("nothing here"),
    "conflict": errors.Conflict("taken", details={"skus": ["A"]}),
    "large": errors.PayloadTooLarge("too big"),
    "invalid": errors.ValidationFailed("nope", details=[{"field": "body.x", "message": "m", "type": "t"}]),
    "slow": errors.TooManyRequests("easy"),
    "down": errors.ServiceUnavailable("later"),
    "custom": errors.Conflict("custom code", code="sku_taken"),
}


@pytest.fixture
def call(lambda_context: Any) -> Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]:
    app = build_app()

    def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = app.resolve(event, lambda_context)
        return response["statusCode"], json.loads(response["body"])

    return invoke


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("bad", 400, "bad_request"),
        ("unauth", 401, "unauthorized"),
        ("forbidden", 403, "forbidden"),
        ("missing", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("large", 413, "payload_too_large"),
        ("invalid", 422, "validation_failed"),
        ("slow", 429, "too_many_requests"),
        ("down", 503, "service_unavailable"),
        ("custom", 409, "sku_taken"),
    ],
)
def test_domain_errors_answer_their_status_in_the_one_error_shape(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory, kind: str, status: int, code: str
) -> None:
    # Given a route that raises a domain error
    # When it is called
    got_status, body = call(api_event("GET", f"/fail/{kind}"))

    # Then the status is the error's, and the body is exactly {"error": {code, message, details, requestId}}
    assert got_status == status
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "requestId"}
    assert body["error"]["code"] == code
    assert body["error"]["message"] == ERRORS[kind].message
    assert body["error"]["details"] == ERRORS[kind].details


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("throttled", 503, "service_unavailable"), ("denied", 500, "internal_error"), ("bug", 500, "internal_error")],
)
def test_aws_and_unexpected_errors_keep_the_shape_and_hide_internals(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory, kind: str, status: int, code: str
) -> None:
    # Given a route that hits a transient AWS error, a permanent one, or a bug
    # When it is called
    got_status, body = call(api_event("GET", f"/fail/{kind}"))

    # Then transient is 503 (retry), the rest 500, and nothing of the exception leaks
    assert (got_status, body["error"]["code"]) == (status, code)
    assert "boom" not in json.dumps(body)
    assert "AccessDenied" not in json.dumps(body)


def test_malformed_json_is_a_400(call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory) -> None:
    # Given an admin sending a body that is not JSON
    event = api_event("POST", "/widgets", body='{"name": "a", ', groups=[ADMIN])

    # When it is resolved
    status, body = call(event)

    # Then it is a 400 malformed_json, not a field error
    assert status == 400
    assert body["error"]["code"] == "malformed_json"


def test_a_body_over_the_limit_is_a_413_before_it_is_parsed(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given a body one byte over the limit (valid JSON, so only its size is wrong)
    name = "a" * (MAX_BODY_BYTES - len('{"name": "", "size": 1}') + 1)
    event = api_event("POST", "/public-widgets", body={"name": name, "size": 1})

    # When it is resolved
    status, body = call(event)

    # Then it is a 413 in the one error shape
    assert (status, body["error"]["code"]) == (413, "payload_too_large")


def test_a_body_that_is_not_utf8_is_a_400(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given bytes that are not UTF-8, delivered base64-encoded as API Gateway does for binary bodies
    event = {**api_event("POST", "/public-widgets", body="x"), "body": "8/8=", "isBase64Encoded": True}

    # When it is resolved
    status, body = call(event)

    # Then it is a 400 malformed_json, not a 500
    assert (status, body["error"]["code"]) == (400, "malformed_json")


def test_an_invalid_field_is_a_422_naming_the_field(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given an admin sending a widget with a size below the minimum
    event = api_event("POST", "/widgets", body={"name": "a", "size": 0}, groups=[ADMIN])

    # When it is resolved
    status, body = call(event)

    # Then it is a 422 whose details name body.size
    assert status == 422
    assert body["error"]["code"] == "validation_failed"
    fields = [d["field"] for d in body["error"]["details"]]
    assert fields == ["body.size"]
    assert set(body["error"]["details"][0]) == {"field", "message", "type"}


def test_an_unknown_field_is_a_422_too(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given a body with a field the model forbids
    event = api_event("POST", "/public-widgets", body={"name": "a", "size": 1, "colour": "red"})

    # When it is resolved
    status, body = call(event)

    # Then the unknown field is named
    assert status == 422
    assert [d["field"] for d in body["error"]["details"]] == ["body.colour"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("DELETE", "/widgets"), ("GET", "/fail")])
def test_an_unknown_route_is_a_404_in_the_error_shape(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory, method: str, path: str
) -> None:
    # Given a path or method no route serves
    # When it is resolved
    event = api_event(method, path)
    status, body = call(event)

    # Then it is a 404 not_found in the one error shape
    assert status == 404
    request_id = event["requestContext"]["requestId"]
    assert body == {
        "error": {"code": "not_found", "message": "no such resource", "details": None, "requestId": request_id}
    }


def test_a_role_route_is_401_without_claims_even_with_an_invalid_body(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given an anonymous caller sending an invalid body to an admin route
    event = api_event("POST", "/widgets", body={"size": "not a number"})

    # When it is resolved
    status, body = call(event)

    # Then authentication is checked first: 401, and the body's errors are not described
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["details"] is None


@pytest.mark.parametrize("body", [{"size": "not a number"}, "{not json", {"name": "ok", "size": 2}])
def test_a_role_route_is_403_for_the_wrong_group_before_validation(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory, body: Any
) -> None:
    # Given a signed-in customer (no admin group) with an invalid, malformed or valid body
    event = api_event("POST", "/widgets", body=body, groups=["support"])

    # When it is resolved
    status, answer = call(event)

    # Then it is always 403: validation never runs for a caller without the role
    assert status == 403
    assert answer["error"]["code"] == "forbidden"


def test_a_customer_without_any_group_is_forbidden(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given a signed-in customer without groups sending an invalid body
    event = api_event("POST", "/widgets", body={"size": -1}, sub="customer-1")

    # When it is resolved
    status, _ = call(event)

    # Then it is 403, not 422
    assert status == 403


def test_the_right_group_reaches_validation_and_the_route(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given an admin among other groups ("support,admin")
    good = api_event("POST", "/widgets", body={"name": "a", "size": 2}, groups=["support", ADMIN], sub="boss")
    bad = api_event("POST", "/widgets", body={"name": "a", "size": 0}, groups=[ADMIN])

    # When they send a valid and an invalid body
    good_status, good_body = call(good)
    bad_status, _ = call(bad)

    # Then the valid one is served (with the caller known) and the invalid one is a 422
    assert (good_status, good_body) == (200, {"created": {"name": "a", "size": 2}, "by": "boss"})
    assert bad_status == 422


def test_requires_without_groups_needs_only_a_signed_in_caller(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given a route that needs any signed-in caller
    # When an anonymous and a signed-in caller ask
    anonymous_status, _ = call(api_event("GET", "/mine"))
    signed_status, body = call(api_event("GET", "/mine", sub="u-9"))

    # Then the anonymous one is 401 and the signed-in one is served
    assert anonymous_status == 401
    assert (signed_status, body) == (200, {"sub": "u-9"})


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-8"]
)
def test_a_body_is_read_as_json_whatever_its_content_type(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory, content_type: str
) -> None:
    # Given a JSON body sent as a form (curl -d) or plain text
    event = api_event("POST", "/public-widgets", body={"name": "a", "size": 3}, headers={"Content-Type": content_type})
    event["multiValueHeaders"]["content-type"] = [content_type]

    # When it is resolved
    status, body = call(event)

    # Then it is parsed as JSON
    assert (status, body) == (200, {"created": {"name": "a", "size": 3}})


def test_a_form_body_that_is_not_json_is_malformed_json(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given a real form body
    event = api_event(
        "POST", "/public-widgets", body="name=a&size=3", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    # When it is resolved
    status, body = call(event)

    # Then it is a 400 malformed_json rather than a field error per form key
    assert status == 400
    assert body["error"]["code"] == "malformed_json"


def test_a_handler_returning_the_wrong_shape_is_our_500_not_the_callers_422(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given a route whose answer fails its response model
    # When it is called
    event = api_event("GET", "/broken-response")
    status, body = call(event)

    # Then the caller sees an internal error without the validation details
    assert status == 500
    assert body["error"] == {
        "code": "internal_error",
        "message": "something went wrong on our side",
        "details": None,
        "requestId": event["requestContext"]["requestId"],
    }


HOSTILE_JSON = {
    "nested 20,000 deep": "[" * 20_000 + "]" * 20_000,
    "an object nested 10,000 deep": '{"a":' * 10_000 + "1" + "}" * 10_000,
    "opened 20,000 deep and never closed": "[" * 20_000,
    "nested deeper than any body needs": '{"name": "a", "size": 1, "x": ' + "[" * 100 + "]" * 100 + "}",
    "an integer of 5,000 digits": '{"name": "a", "size": ' + "9" * 5_000 + "}",
    "a negative integer of 5,000 digits": '{"name": "a", "size": -' + "9" * 5_000 + "}",
    "NaN, which is not JSON": '{"name": "a", "size": NaN}',
    "Infinity, which is not JSON": '{"name": "a", "size": Infinity}',
}


@pytest.mark.parametrize("route", ["/public-widgets", "/widgets"])
@pytest.mark.parametrize("hostile", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_hostile_json_is_a_400_malformed_json_not_a_500(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory, route: str, hostile: str
) -> None:
    # Given a body that is (or parses like) JSON but would exhaust the parser's stack or int conversion
    event = api_event("POST", route, body=hostile, groups=[ADMIN])

    # When it is resolved
    status, body = call(event)

    # Then it is the malformed-JSON answer in the one error shape, as for any body that is not JSON
    assert (status, body["error"]["code"]) == (400, "malformed_json")


def test_json_as_deep_and_numbers_as_long_as_a_real_body_needs_still_pass(
    call: Callable[..., tuple[int, dict[str, Any]]], api_event: EventFactory
) -> None:
    # Given a body nested a few levels, with a long (but sane) integer and strings full of brackets
    widget = {"name": '[[{{"]]}}' * 10, "size": 10**18}
    event = api_event("POST", "/public-widgets", body=widget)

    # When it is resolved, then it reaches the route as sent
    status, body = call(event)
    assert (status, body) == (200, {"created": widget})
