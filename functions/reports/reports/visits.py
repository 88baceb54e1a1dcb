"""`POST /analytics/visits`: the storefront's beacon, the other half of "which ads work". Public and
throttled (template), small bodies only, no personal data: a random session id, a path, and where the
visitor came from. Each session counts once per campaign and per product and day."""

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from common.errors import PayloadTooLarge
from common.http import accepted, make_resolver, responses
from common.observability import make_logger
from reports.aggregates import Increment, campaign_key, day_of
from reports.settings import settings
from reports.wiring import store

logger = make_logger("reports")
app = make_resolver(logger)
MAX_BODY_BYTES = 1024
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[\w .:/+-]+$")]


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    session_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="Random, per browser session")]
    path: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^/[^\s?#]*$")]
    product_id: Annotated[str, Field(pattern=r"^p_[0-9a-z]{26}$")] | None = None
    source: Label | None = None
    medium: Label | None = None
    campaign: Label | None = None


class VisitAck(BaseModel):
    counted: bool


@app.post(
    "/analytics/visits",
    summary="Count a storefront visit (public beacon)",
    responses=responses(400, 413, 422, 429, success=202, description="Counted (or already counted)"),
    tags=["analytics"],
)
def count_visit(visit: Annotated[VisitIn, Body()]) -> Response[VisitAck]:
    if len(app.current_event.body or "") > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"a visit is at most {MAX_BODY_BYTES} bytes")
    day = day_of(datetime.now(UTC), settings().zone).isoformat()
    the_store, counted = store(), False
    key = campaign_key({"source": visit.source, "medium": visit.medium, "campaign": visit.campaign})
    if key:
        marker = f"VISIT#{day}#{visit.session_id}#C#{key}"
        counted |= the_store.count_once(marker, Increment(f"DAY#{day}", f"CAMPAIGN#{key}", {"sessions": 1}))
    if visit.product_id:
        marker = f"VISIT#{day}#{visit.session_id}#P#{visit.product_id}"
        counted |= the_store.count_once(marker, Increment(f"DAY#{day}", f"PRODUCT#{visit.product_id}", {"views": 1}))
    return accepted(VisitAck(counted=counted), "/analytics/visits")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
