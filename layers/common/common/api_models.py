"""Bases every domain's API models share: the request and response model configs, the page of a list,
and the query and header parameters that mean the same on every route (`limit`, `cursor`,
`Idempotency-Key`). One definition, so a client sees one shape and one rule everywhere."""

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel


class In(BaseModel):
    """A request body: camelCase on the wire, unknown fields refused (a typo is a 422, not ignored)."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Out(BaseModel):
    """A response body: camelCase on the wire, every timestamp in UTC (`...Z`) whatever zone the domain
    handed it in (a naive time is taken as UTC), so the `date-time`s of one answer share one zone."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    @field_validator("*", mode="after")
    @classmethod
    def _in_utc(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class Page[T](Out):
    """One page of a list. Subclass it with the item type (`class ProductPage(Page[ProductSummary])`)
    so the published schema keeps a name a person would call it. `nextCursor` is always present (null
    on the last page), so a client tells "the end" from "a field it forgot"."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=2048, description="`nextCursor` of the previous page")]
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"


def idempotency_header(description: str, *, required: bool = False) -> Header:
    """The `Idempotency-Key` header, described with what a retry with the same key means on a route:
    `Annotated[str | None, idempotency_header("Makes a retried refund refund once")]`. With `required`, the
    document says so (`local.openapi_headers`) while the parameter stays optional in the code, so the
    route answers a missing key with its own 400 (`idempotency_key_required`), not a generic 422."""
    return Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description=description,
        json_schema_extra={"x-required": True} if required else None,
    )


IdempotencyKey = Annotated[
    str | None, idempotency_header("One per intended change: a retry with the same key is answered, not applied twice")
]
