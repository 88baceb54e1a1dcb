"""The error codes the code can answer and the `ErrorCode` enum the document publishes are the same set:
a client switching on `code` is never surprised by one the document does not list, nor told of one that
no longer exists."""

import textwrap
from pathlib import Path

import pytest

from common import errors
from common.errors import ErrorCode
from common.http import STATUS_OF
from local.openapi_errors import GENERIC_CODES, ROUTE_CODES, code_statuses


@pytest.fixture(scope="module")
def answered() -> dict[str, set[int]]:
    return code_statuses()


def test_every_code_the_code_answers_is_in_the_enum(answered: dict[str, set[int]]) -> None:
    # Given every code literal under functions/ and layers/ (error classes, code=..., rejected("...", ...))
    # Then each is an ErrorCode: add a new one to the enum (and so to the document) before raising it
    missing = sorted(set(answered) - set(ErrorCode))
    assert not missing, f"codes raised in the code but missing from common.errors.ErrorCode: {missing}"


def test_every_code_in_the_enum_is_answered_somewhere(answered: dict[str, set[int]]) -> None:
    stale = sorted(set(ErrorCode) - set(answered))
    assert not stale, f"ErrorCode lists codes no code answers any more: {stale}"


def test_a_code_with_several_statuses_is_pinned_wherever_a_route_declares_it(answered: dict[str, set[int]]) -> None:
    # A client reading one route's documented codes knows the status of each: a code answered with
    # several statuses (on different routes) is pinned to one on each route that names it
    for route, entries in ROUTE_CODES.items():
        for entry in entries:
            code, _, pinned = entry.partition("@")
            if len(answered.get(code, set())) > 1:
                assert pinned, f"{route}: {code} is answered with {sorted(answered[code])}: write {code}@<status>"
            if pinned:
                assert int(pinned) in answered[code], f"{route}: {code} is never answered with {pinned}"


def test_the_scan_finds_every_way_a_code_is_raised(tmp_path: Path) -> None:
    # Given a domain raising codes the enum lacks, in each of the ways the code base raises codes
    (tmp_path / "shop.py").write_text(
        textwrap.dedent(
            """
            from http import HTTPStatus
            from common.errors import Conflict, ValidationFailed

            class Gone(Conflict):
                code = "brand_new_class_code"

            class Later(Conflict):
                def __init__(self) -> None:
                    super().__init__("x")
                    self.code = "brand_new_instance_code"

            def refuse(rule: str, message: str) -> ValidationFailed:
                return ValidationFailed(message, code=rule)

            def act() -> None:
                raise Conflict("taken", code="brand_new_keyword_code")

            def check() -> None:
                raise refuse("brand_new_forwarded_code", "no")

            def answer() -> object:
                return error_response(HTTPStatus.GONE, "brand_new_answered_code", "gone")
            """
        )
    )

    # When the scan runs over it (and the layer, for the base classes)
    found = code_statuses([tmp_path, Path(errors.__file__).parent])

    # Then every one is found, with the status it is answered with, and the enum test would fail
    assert {code: found[code] for code in found if code.startswith("brand_new")} == {
        "brand_new_class_code": {409},
        "brand_new_instance_code": {409},
        "brand_new_keyword_code": {409},
        "brand_new_forwarded_code": {422},
        "brand_new_answered_code": {410},
    }
    assert not {code for code in found if code.startswith("brand_new")} & set(ErrorCode)


def test_an_error_class_with_an_unlisted_code_fails_at_import() -> None:
    with pytest.raises(TypeError, match="not an ErrorCode"):

        class Unlisted(errors.Conflict):
            code = "never_listed"


def test_codes_documented_per_route_are_codes_with_a_status(answered: dict[str, set[int]]) -> None:
    statuses = {int(status) for status in STATUS_OF.values()} | {500}
    for route, entries in ROUTE_CODES.items():
        for code in (entry.partition("@")[0] for entry in entries):
            assert code in set(ErrorCode), f"{route}: {code} is no ErrorCode"
            assert answered.get(code), f"{route}: no code answers {code}"
            assert answered[code] <= statuses, (route, code)
    for status, codes in GENERIC_CODES.items():
        assert set(codes) <= set(ErrorCode)
        assert all(status in answered[code] for code in codes), status
