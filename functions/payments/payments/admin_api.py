"""Staff's view of payments: the reconciliation runs, newest first. Behind the Cognito authorizer
(the webhook, which has none, is a function of its own)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api_models import Cursor
from common.auth import ADMIN
from common.cursor import decode_cursor, encode_cursor
from common.http import make_resolver, requires, responses
from common.observability import make_logger
from payments import reconcile
from payments.models import ReconciliationRunPage
from payments.wiring import store

logger = make_logger("payments")
app = make_resolver(logger)
CURSOR_SCOPE = "reconciliation-runs"


@app.get(
    "/admin/reconciliation",
    operation_id="listReconciliationRuns",
    summary="The latest reconciliation runs (Stripe against the orders), newest first",
    responses=responses(400, 401, 403, 422),
    tags=["payments"],
)
@requires(ADMIN)
def list_runs(
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=50, description="Runs per page")] = 10,
) -> ReconciliationRunPage:
    page = reconcile.latest_runs(store(), start_key=decode_cursor(cursor, CURSOR_SCOPE), limit=limit)
    return ReconciliationRunPage(items=page.items, next_cursor=encode_cursor(page.next_key, CURSOR_SCOPE))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
