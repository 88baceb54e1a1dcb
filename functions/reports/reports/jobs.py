"""Reports' background work: applying bus events to the aggregates, and running scheduled reports."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.batches import read_batch
from common.observability import make_logger
from reports.logic import aggregates, runs
from reports.models import RunTask
from reports.settings import settings
from reports.wiring import run_context, store

logger = make_logger("reports")


@logger.inject_lambda_context
def events_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """A batch of bus events from the reports' queue (EventBridge rule → SQS), each read through its
    contract model and applied once, merged per aggregate item (`aggregates.apply_batch`). Answers the
    messages whose event could not be applied, so the queue brings back only those (its dead-letter queue
    keeps them after 5 receives). A body no contract reads is logged and answered as failed too, so it ends
    in the dead-letter queue, whose alarm tells staff, without failing the others."""
    batch = read_batch(event)
    outcome = aggregates.apply_batch(store(), batch.received, settings().zone)
    return batch.respond(outcome, logger, "events aggregated")


@logger.inject_lambda_context
def run_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """A schedule's `{"kind"}` (period: the one just ended), or an on-demand `{"kind", "period", "runId"}`.
    `now` may fix the clock (tests, re-runs)."""
    task = RunTask.model_validate(event)
    record = runs.run(run_context(task.now), task.kind, task.period, task.run_id)
    logger.info("report run", extra={"kind": task.kind, "period": record["period"], "status": record["status"]})
    return record
