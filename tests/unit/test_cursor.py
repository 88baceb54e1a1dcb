import base64
import json

import pytest

from common.cursor import decode_cursor, encode_cursor
from common.errors import BadRequest

KEY = {"PK": {"S": "TOKEN#tee"}, "SK": {"S": "PRODUCT#p_01"}}


def test_a_cursor_round_trips_within_its_scope() -> None:
    # Given a DynamoDB key from a query scoped to one category
    cursor = encode_cursor(KEY, "products|tees")

    # When it is decoded for the same scope
    decoded = decode_cursor(cursor, "products|tees")

    # Then the key comes back intact, and the cursor itself is URL-safe and unpadded
    assert decoded == KEY
    assert cursor is not None
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_no_key_means_no_cursor_and_no_cursor_means_the_start() -> None:
    # Given the last page (no LastEvaluatedKey) / a first request (no cursor)
    # When they are encoded / decoded
    # Then both are None
    assert encode_cursor(None, "s") is None
    assert encode_cursor({}, "s") is None
    assert decode_cursor(None, "s") is None
    assert decode_cursor("", "s") is None


def test_a_cursor_from_another_scope_is_a_bad_request() -> None:
    # Given a cursor from the "tees" listing
    cursor = encode_cursor(KEY, "products|tees")

    # When it is replayed against the "hoodies" listing
    with pytest.raises(BadRequest) as raised:
        decode_cursor(cursor, "products|hoodies")

    # Then it is refused as an invalid cursor
    assert raised.value.code == "invalid_cursor"


def _b64(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "garbage",
    [
        "not a cursor",
        "%%%%",
        "e30",  # {} : no scope, no key
        _b64(["a", "list"]),
        _b64("a string"),
        _b64({"s": "whatever", "k": KEY}),
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
        "é" * 8,
    ],
)
def test_garbage_is_a_bad_request_not_a_crash(garbage: str) -> None:
    # Given a string that is not a cursor we issued
    # When it is decoded
    with pytest.raises(BadRequest) as raised:
        decode_cursor(garbage, "products|*")

    # Then it is a 400-class domain error with a stable code
    assert raised.value.code == "invalid_cursor"


def test_a_key_that_is_not_an_object_is_refused_even_with_the_right_scope() -> None:
    # Given a payload with a valid scope tag but a key that is not a DynamoDB key map
    cursor = encode_cursor(KEY, "scope")
    assert cursor is not None
    valid = json.loads(base64.urlsafe_b64decode(cursor + "=="))
    forged = _b64({"s": valid["s"], "k": ["PK", "SK"]})

    # When it is decoded
    # Then it is refused
    with pytest.raises(BadRequest):
        decode_cursor(forged, "scope")
