"""Links the API hands out (`Location`) as the client reaches them. Handlers write a resource's path as
the API knows it (`/orders/o_1`); the URL the client called may carry a prefix before it: the stage on
API Gateway's own domain (`/dev/orders/o_1`), a base path mapping on a custom domain (`/v1/...`),
nothing locally. The prefix is read from the request itself, so one build serves every deployment."""

import re
from collections.abc import Mapping
from typing import Any

_PARAMETER = re.compile(r"\{([^}+]+)\+?\}")


def base_path(event: Mapping[str, Any]) -> str:
    """What precedes the API's own paths in the URL of `event`'s request: `requestContext.path` is the
    path as called, `resource` with its parameters (or `path`, which keeps a custom domain's base path)
    the API's own. "" when they do not line up (a test event, a local call)."""
    called = str((event.get("requestContext") or {}).get("path") or "")
    parameters = event.get("pathParameters") or {}
    resource = str(event.get("resource") or "")
    own = _PARAMETER.sub(lambda m: str(parameters.get(m.group(1), m.group(0))), resource)
    for candidate in (own, str(event.get("path") or "")):
        if candidate.startswith("/") and called.endswith(candidate):
            return called[: len(called) - len(candidate)].rstrip("/")
    return ""


def located(event: Mapping[str, Any], path: str) -> str:
    """`path` (the API's own, from `/`) as the client reaches it; anything else (a full URL) as is."""
    if not path.startswith("/") or path.startswith("//"):
        return path
    return base_path(event) + path


def rebase_location(event: Mapping[str, Any], response: dict[str, Any]) -> None:
    """Prefix the `Location` of a proxy response (single- or multi-value headers) with the request's
    base path, in place."""
    for name, value in list((response.get("headers") or {}).items()):
        if name.lower() == "location" and isinstance(value, str):
            response["headers"][name] = located(event, value)
    for name, values in list((response.get("multiValueHeaders") or {}).items()):
        if name.lower() == "location" and isinstance(values, list):
            response["multiValueHeaders"][name] = [located(event, str(v)) for v in values]
