from typing import Any

import pytest

from common.auth import ADMIN, SUPPORT, Caller, caller_from_event, require_caller
from common.errors import Forbidden, Unauthorized


def event_with(claims: dict[str, Any] | None) -> dict[str, Any]:
    context: dict[str, Any] = {"requestId": "r"}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {"requestContext": context}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("admin,support", {"admin", "support"}),
        ("admin, support", {"admin", "support"}),
        ("[admin support]", {"admin", "support"}),
        ("[admin]", {"admin"}),
        ("admin", {"admin"}),
        (["admin", "support"], {"admin", "support"}),
        ("", set()),
        ("[]", set()),
        (None, set()),
    ],
)
def test_groups_are_read_in_every_form_authorizers_send(raw: Any, expected: set[str]) -> None:
    # Given claims whose cognito:groups is a REST string, an HTTP-API "[a b]" string or a list
    claims = {"sub": "u-1", "email": "a@example.com"}
    if raw is not None:
        claims["cognito:groups"] = raw

    # When the caller is read
    caller = caller_from_event(event_with(claims))

    # Then the groups are the same set whatever the form
    assert caller == Caller(sub="u-1", email="a@example.com", groups=frozenset(expected))


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"requestContext": None},
        event_with(None),
        event_with({}),
        event_with({"email": "a@example.com", "cognito:groups": "admin"}),
        event_with({"sub": "", "cognito:groups": "admin"}),
    ],
)
def test_no_sub_means_an_anonymous_caller(event: dict[str, Any]) -> None:
    # Given an event without a subject claim (public route, or claims without sub)
    # When the caller is read
    # Then there is none, and requiring one is a 401
    assert caller_from_event(event) is None
    with pytest.raises(Unauthorized):
        require_caller(event)


def test_require_passes_for_any_of_the_groups_and_refuses_others() -> None:
    # Given a support agent
    agent = Caller(sub="u-2", groups=frozenset({SUPPORT}))

    # When a role is required
    # Then one of several allowed roles is enough
    agent.require(ADMIN, SUPPORT)
    assert agent.is_in(SUPPORT)

    # And a role they lack is a 403 naming the role
    with pytest.raises(Forbidden, match="admin"):
        agent.require(ADMIN)


def test_a_caller_without_groups_is_forbidden_everything_that_needs_a_role() -> None:
    # Given a signed-in customer with no groups
    customer = require_caller(event_with({"sub": "u-3"}))

    # When admin is required
    # Then it is forbidden (not unauthorized: they are signed in)
    with pytest.raises(Forbidden):
        customer.require(ADMIN)
