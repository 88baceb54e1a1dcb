"""The answer to a browser's CORS preflight (`OPTIONS` on any path of the API), without a token.

API Gateway's own preflight (SAM's `Cors`, a MOCK integration) answers one fixed
`Access-Control-Allow-Origin`, so a second storefront origin in `AllowedOrigins` could not call any
route that needs a preflight (every authenticated one). This function echoes the request's `Origin`
when it is one of `ALLOWED_ORIGINS` and leaves the header out otherwise, so the browser stops a stranger
here. It is deliberately tiny (no event-handler framework), since a preflight precedes a user's first
call; browsers then keep the answer for `Access-Control-Max-Age`."""

from typing import Any

from preflight.settings import settings

ALLOW_HEADERS = "Authorization,Content-Type,Idempotency-Key,If-Match,If-None-Match"
"""`common.http.ALLOWED_REQUEST_HEADERS` and the two every request may send (kept as text: this function
stays free of the event-handler framework)."""
ALLOW_METHODS = "GET,POST,PUT,DELETE,OPTIONS"
MAX_AGE_SECONDS = 600


def _origin(event: dict[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "origin":
            return str(value)
    return None


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    headers = {
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
        "Content-Type": "application/json",
        "Vary": "Origin",
    }
    origin = _origin(event)
    if origin is not None and origin in settings().origins:
        headers["Access-Control-Allow-Origin"] = origin
    return {"statusCode": 200, "headers": headers, "body": "{}"}
