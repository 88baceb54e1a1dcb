"""The caller, as API Gateway's Cognito authorizer saw them. Authentication happened at the gateway;
here we only read the verified claims and check roles."""

from dataclasses import dataclass, field
from typing import Any

from common.errors import Forbidden, Unauthorized

ADMIN = "admin"
SUPPORT = "support"
AFFILIATE = "affiliate"


@dataclass(frozen=True)
class Caller:
    sub: str
    email: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)

    def is_in(self, *groups: str) -> bool:
        return not self.groups.isdisjoint(groups)

    def require(self, *groups: str) -> None:
        """Raise 403 unless the caller is in one of `groups`."""
        if not self.is_in(*groups):
            raise Forbidden("this action needs the role " + " or ".join(groups))


def _parse_groups(raw: Any) -> frozenset[str]:
    # REST APIs pass "admin,support"; HTTP APIs and some tools pass "[admin support]" or a list.
    if isinstance(raw, list):
        return frozenset(str(g) for g in raw)
    if not raw:
        return frozenset()
    text = str(raw).strip("[]")
    return frozenset(part for part in text.replace(",", " ").split() if part)


def caller_from_event(event: dict[str, Any]) -> Caller | None:
    """The caller of a proxy event, or None on a public route."""
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not sub:
        return None
    return Caller(sub=sub, email=claims.get("email"), groups=_parse_groups(claims.get("cognito:groups")))


def require_caller(event: dict[str, Any]) -> Caller:
    caller = caller_from_event(event)
    if caller is None:
        raise Unauthorized("sign in first")
    return caller
