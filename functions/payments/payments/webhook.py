"""`POST /payments/webhook`: Stripe's events, verified over the raw body and parsed strictly before
anything is read or written, then applied once (`logic.process_event`). No authorizer: the signature is
the authentication."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.http import make_resolver, responses
from common.observability import make_logger, make_metrics
from payments import logic
from payments.errors import InvalidSignature
from payments.gateway import verify_webhook
from payments.models import Handled, WebhookAck
from payments.secrets import webhook_secrets
from payments.settings import settings
from payments.stripe_events import parse_event
from payments.wiring import balances, callbacks, gateway, publisher, store

logger = make_logger("payments")
metrics = make_metrics("payments")
app = make_resolver(logger)


@app.post(
    "/payments/webhook",
    operation_id="receiveStripeWebhook",
    summary="Stripe's webhook (signed; no sign-in)",
    description="Answers 2xx once an event is applied, is a duplicate, is ignored, or contradicts the payment "
    "we recorded (logged as a security event; Stripe need not retry it). 409 and 503 make Stripe redeliver.",
    responses=responses(400, 409, 503),
    tags=["payments"],
)
def stripe_webhook() -> WebhookAck:
    request = app.current_event
    # API Gateway hands the body over as text (base64 for binary types, which `decoded_body` undoes);
    # Stripe signed its UTF-8 bytes, which encoding the text again gives back exactly.
    body = request.decoded_body
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    try:
        payload = verify_webhook(
            raw, request.headers.get("stripe-signature"), webhook_secrets(), settings().webhook_tolerance_seconds
        )
    except InvalidSignature:
        metrics.add_metric(name="WebhookRejected", unit=MetricUnit.Count, value=1)
        raise
    event = parse_event(payload)  # a malformed event is a 400 before anything is written
    logger.append_keys(stripe_event=event.id, stripe_event_type=event.type)
    handled = logic.process_event(store(), callbacks(), publisher(), event, gateway, balances=balances)
    _observe(handled)
    return WebhookAck(received=True, outcome=handled.outcome)


def _observe(handled: Handled) -> None:
    ids = {"orderId": handled.order_id, "paymentIntentId": handled.payment_intent_id}
    if handled.mismatch:
        # 2xx all the same: Stripe's retries would bring the same event, and nothing in it is ours to apply.
        logger.warning(
            "stripe event contradicts the recorded payment",
            extra={"security": "webhook_mismatch", "reason": handled.mismatch, **ids},
        )
        metrics.add_metric(name="WebhookMismatch", unit=MetricUnit.Count, value=1)
        return
    logger.info("stripe event handled", extra={"outcome": handled.outcome, **ids})
    if handled.fee_unknown:  # published without it: the payments report shows the fee as unknown
        logger.warning("stripe's fee could not be read", extra={"reason": handled.fee_unknown, **ids})
        metrics.add_metric(name="FeeUnknown", unit=MetricUnit.Count, value=1)
    if handled.outcome == "failed":  # decided once: a redelivered or late failure is not counted again
        metrics.add_metric(name="PaymentsFailed", unit=MetricUnit.Count, value=1)
    if handled.outcome == logic.LATE_REFUNDED:
        logger.warning("a payment for an order that will not be fulfilled was refunded", extra=ids)
        metrics.add_metric(name="LatePaymentsRefunded", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
