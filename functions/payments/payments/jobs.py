"""Payments' scheduled work: reconciling Stripe's PaymentIntents and refunds with the orders, hourly."""

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.observability import make_logger, make_metrics
from payments import reconcile
from payments.models import ReconcileInput, ReconcileSummary
from payments.settings import reconcile_settings
from payments.wiring import gateway, orders, publisher, store

logger = make_logger("payments")
metrics = make_metrics("payments")


@logger.inject_lambda_context
@metrics.log_metrics
def reconcile_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """A scheduler's event reconciles the last `RECONCILE_WINDOW_HOURS`; `{"since": iso, "until": iso}`
    another window (catching up after an outage). Every finding is logged (ids, kinds, amounts: no
    secret, no card data) and the run recorded; a Stripe outage while listing fails the run, which the
    scheduler retries."""
    config = reconcile_settings()
    the_orders = orders()
    task = ReconcileInput.model_validate(event if isinstance(event, dict) else {})
    run, findings = reconcile.reconcile(
        store(),
        gateway(),
        the_orders,
        publisher(),
        task,
        grace=timedelta(minutes=config.grace_minutes),
        window=timedelta(hours=config.window_hours),
    )
    for finding in findings:
        logger.warning("reconciliation finding", extra=finding.model_dump(mode="json", by_alias=True))
    counts = run.counts.model_dump(mode="json", by_alias=True)
    logger.info(
        "payments reconciled",
        extra={"runId": run.run_id, "since": run.since.isoformat(), "until": run.until.isoformat(), **counts},
    )
    metrics.add_metric(name="ReconciliationRefunds", unit=MetricUnit.Count, value=run.counts.refunded)
    metrics.add_metric(name="ReconciliationFlags", unit=MetricUnit.Count, value=run.counts.flagged)
    metrics.add_metric(name="ReconciliationFailures", unit=MetricUnit.Count, value=run.counts.failed)
    return ReconcileSummary(run_id=run.run_id, counts=run.counts).model_dump(mode="json", by_alias=True)
