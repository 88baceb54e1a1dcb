"""Reports' background work: applying bus events to the aggregates, and running scheduled reports."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.events import Envelope
from common.observability import make_logger
from reports import runs
from reports.aggregates import increments
from reports.settings import settings
from reports.wiring import run_context, store

logger = make_logger("reports")


def apply_event(event: dict[str, Any]) -> bool:
    """Apply one EventBridge event to the aggregates, once; False for a duplicate."""
    envelope = Envelope.model_validate(event["detail"])
    found = increments(event["detail-type"], envelope.data, envelope.occurred_at, settings().zone)
    if not found:
        return False
    return store().apply(envelope.event_id, found)


@logger.inject_lambda_context
def events_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    applied = apply_event(event)
    logger.info("event aggregated", extra={"detailType": event.get("detail-type"), "applied": applied})
    return {"applied": applied}


@logger.inject_lambda_context
def run_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """A schedule's `{"kind"}` (period: the one just ended), or an on-demand `{"kind", "period", "runId"}`.
    `now` may fix the clock (tests, re-runs)."""
    kind: runs.Kind = event["kind"]
    if kind not in runs.KINDS:
        raise ValueError(f"unknown report {kind!r}")
    now = datetime.fromisoformat(event["now"]) if event.get("now") else None
    record = runs.run(run_context(now), kind, event.get("period"), event.get("runId"))
    logger.info("report run", extra={"kind": kind, "period": record["period"], "status": record["status"]})
    return record
