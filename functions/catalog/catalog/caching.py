"""HTTP caching of the catalog's answers: entity tags, `Cache-Control`, `304 Not Modified` and `If-Match`.

The public reads are the same for everyone, so browsers and CDNs may keep them for a short while
(`Cache-Control: public, max-age=...`, see docs/decisions.md for the values) and then revalidate with
`If-None-Match`, which costs the shopper no body when nothing changed. Tags are strong:
- a product's is its version, `"v3"`, on the admin answers (the body holds the editable fields only);
  the public detail also shows stock, which changes without a new version, so its tag adds a digest
  of the answer, `"v3-1f0c..."`;
- a list's is a digest of the answer (every item and `nextCursor`), so any change on the page shows.

`If-Match` on a product replace compares versions: either kind of product tag names its version."""

import hashlib
import re
from collections.abc import Collection
from http import HTTPStatus
from typing import Any, Final

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel

LIST_MAX_AGE: Final = 60
"""Product lists and `ids` lookups: new products and price changes show within a minute."""
PRODUCT_MAX_AGE: Final = 30
"""Product detail shows stock ("3 left"), so it is kept half as long as a list."""
CATEGORIES_MAX_AGE: Final = 300
"""Categories change only when one gains its first product or loses its last."""

_DIGEST_CHARS = 32
_VERSION_TAG = re.compile(r'^"v(\d{1,18})(?:-[0-9a-f]+)?"$')


def digest_tag(body: BaseModel) -> str:
    """A strong tag of an answer: the SHA-256 of its JSON, as the client receives it."""
    return f'"{_digest(body)}"'


def version_tag(version: int, body: BaseModel | None = None) -> str:
    """A product's tag: `"v<version>"`, or `"v<version>-<digest of body>"` for an answer that shows more
    than the product's own fields (the public detail's stock)."""
    return f'"v{version}-{_digest(body)}"' if body is not None else f'"v{version}"'


def _digest(body: BaseModel) -> str:
    return hashlib.sha256(body.model_dump_json(by_alias=True).encode()).hexdigest()[:_DIGEST_CHARS]


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def none_match(if_none_match: str | None, tag: str) -> bool:
    """True when `If-None-Match` names `tag` (weak comparison, as RFC 9110 asks for this header) or is `*`."""
    if not if_none_match:
        return False
    wanted = tag.removeprefix("W/")
    return any(given == "*" or given.removeprefix("W/") == wanted for given in _tags(if_none_match))


def matched_versions(if_match: str | None) -> Collection[int] | None:
    """The product versions `If-Match` accepts: None when there is no precondition (no header, or `*`,
    which any existing product meets), else the versions its strong product tags name (possibly none:
    a weak or foreign tag never matches, so the replace is refused with 412)."""
    if if_match is None or not if_match.strip():
        return None
    tags = _tags(if_match)
    if "*" in tags:
        return None
    return frozenset(int(found.group(1)) for tag in tags if (found := _VERSION_TAG.match(tag)))


def tagged(
    body: BaseModel, tag: str, *, max_age: int | None = None, status: HTTPStatus = HTTPStatus.OK
) -> Response[Any]:
    """An answer with its `ETag`, and with `Cache-Control: public, max-age` when `max_age` is given."""
    headers = {"ETag": tag}
    if max_age is not None:
        headers["Cache-Control"] = f"public, max-age={max_age}"
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def cacheable(body: BaseModel, tag: str, *, max_age: int, if_none_match: str | None) -> Response[Any]:
    """A public answer, or `304 Not Modified` when the client's copy (`If-None-Match`) is still current.
    The 304 keeps the body here so the route's response validation passes; `drop_body_of_304` removes it."""
    status = HTTPStatus.NOT_MODIFIED if none_match(if_none_match, tag) else HTTPStatus.OK
    return tagged(body, tag, max_age=max_age, status=status)


def drop_body_of_304(app: Any, next_middleware: NextMiddleware) -> Response[Any]:
    """Middleware (outside response validation): a 304 is sent with its validators and no body."""
    response: Response[Any] = next_middleware(app)
    if response.status_code != HTTPStatus.NOT_MODIFIED:
        return response
    keep = {name: value for name, value in response.headers.items() if name in ("ETag", "Cache-Control")}
    return Response(status_code=HTTPStatus.NOT_MODIFIED, body=None, headers=keep)


_ETAG_HEADER: OpenAPIResponseHeader = {
    "description": "The answer's entity tag: send it back in `If-None-Match` (or, for a product, `If-Match`)",
    "schema": {"type": "string"},
}
_CACHE_CONTROL_HEADER: OpenAPIResponseHeader = {
    "description": "How long a browser or CDN may reuse the answer without asking again",
    "schema": {"type": "string"},
}


def with_tag(documented: dict[int, OpenAPIResponse], *, cached: bool, status: int = 200) -> dict[int, OpenAPIResponse]:
    """Route `responses` with the `ETag` (and, when `cached`, `Cache-Control`) headers on the success, and a
    bodiless `304 Not Modified` for the public reads."""
    headers: dict[str, OpenAPIResponseHeader] = {"ETag": _ETAG_HEADER}
    if cached:
        headers["Cache-Control"] = _CACHE_CONTROL_HEADER
    documented[status] = {**documented[status], "headers": headers}
    if cached:
        documented[HTTPStatus.NOT_MODIFIED.value] = {
            "description": "Not modified: the copy named in `If-None-Match` is still current (no body)",
            "headers": headers,
            "content": {},  # none: Powertools would otherwise document the route's return model here
        }
    return documented
