"""Reports' background work: applying bus events to the aggregates, and running scheduled reports."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.events import receive
from common.observability import make_logger
from reports.logic import aggregates, runs
from reports.models import RunTask
from reports.settings import settings
from reports.wiring import run_context, store

logger = make_logger("reports")


@logger.inject_lambda_context
def events_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """One EventBridge event, read through its contract model and applied once. An event its model
    refuses fails the invocation: Lambda retries it, then the dead-letter queue keeps it."""
    received = receive(event)
    applied = aggregates.apply(store(), received, settings().zone)
    logger.info("event aggregated", extra={"detailType": received.detail_type, "applied": applied})
    return {"applied": applied}


@logger.inject_lambda_context
def run_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """A schedule's `{"kind"}` (period: the one just ended), or an on-demand `{"kind", "period", "runId"}`.
    `now` may fix the clock (tests, re-runs)."""
    task = RunTask.model_validate(event)
    record = runs.run(run_context(task.now), task.kind, task.period, task.run_id)
    logger.info("report run", extra={"kind": task.kind, "period": record["period"], "status": record["status"]})
    return record
