"""Staff's view of payments: the reconciliation runs, newest first. Behind the Cognito authorizer
(the webhook, which has none, is a function of its own)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from common.auth import ADMIN
from common.cursor import decode_cursor, encode_cursor
from common.http import make_resolver, requires, responses
from common.observability import make_logger
from payments import reconcile
from payments.wiring import store

logger = make_logger("payments")
app = make_resolver(logger)
CURSOR_SCOPE = "reconciliation-runs"


class ReconciliationRunPage(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    items: list[reconcile.ReconciliationRun]
    next_cursor: str | None


@app.get(
    "/admin/reconciliation",
    summary="The latest reconciliation runs (Stripe against the orders), newest first",
    responses=responses(400, 401, 403, 422),
    tags=["payments"],
)
@requires(ADMIN)
def list_runs(
    cursor: Annotated[str | None, Query(max_length=2048, description="`nextCursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=50, description="Runs per page")] = 10,
) -> ReconciliationRunPage:
    runs, next_key = reconcile.latest_runs(store(), start_key=decode_cursor(cursor, CURSOR_SCOPE), limit=limit)
    return ReconciliationRunPage(items=runs, next_cursor=encode_cursor(next_key, CURSOR_SCOPE))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
