"""`POST /analytics/visits`: the storefront's beacon. Public and throttled (template), small bodies only;
what a visit counts is `reports.logic.visits`."""

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.contracts import AffiliateClicked
from common.errors import PayloadTooLarge
from common.events import new_event
from common.http import make_resolver, responses
from common.observability import make_logger
from reports.logic import clicks, visits
from reports.models import VisitAck, VisitIn
from reports.settings import settings
from reports.wiring import publisher, store

logger = make_logger("reports")
app = make_resolver(logger)
MAX_BODY_BYTES = 1024


@app.post(
    "/analytics/visits",
    operation_id="recordVisit",
    summary="Count a storefront visit (public beacon)",
    # 200, not 202: the visit is counted before the answer, and there is nothing to follow (no Location).
    responses=responses(400, 413, 422, 429, description="Counted (or already counted)"),
    tags=["analytics"],
)
def count_visit(visit: Annotated[VisitIn, Body()]) -> VisitAck:
    if len(app.current_event.body or "") > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"a visit is at most {MAX_BODY_BYTES} bytes")
    now = datetime.now(UTC)
    counted = visits.count(store(), visit, now, settings().zone)
    click = clicks.click(visit, now, settings().zone)
    if click is not None:
        event_id, clicked = click
        publisher()([new_event(AffiliateClicked.DETAIL_TYPE, event_id, clicked)])
    return VisitAck(counted=counted)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
