"""`POST /payments/webhook`: Stripe's events, verified over the raw body before anything is read or
written. No authorizer: the signature is the authentication."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from common.http import make_resolver, responses
from common.observability import make_logger, make_metrics
from payments import logic
from payments.errors import InvalidSignature
from payments.gateway import verify_webhook
from payments.secrets import webhook_secrets
from payments.settings import settings
from payments.wiring import callbacks, publisher, store

logger = make_logger("payments")
metrics = make_metrics("payments")
app = make_resolver(logger)


class WebhookAck(BaseModel):
    received: bool
    outcome: str


@app.post(
    "/payments/webhook",
    summary="Stripe's webhook (signed; no sign-in)",
    responses=responses(400),
    tags=["payments"],
)
def stripe_webhook() -> WebhookAck:
    request = app.current_event
    # API Gateway hands the body over as text (base64 for binary types, which `decoded_body` undoes);
    # Stripe signed its UTF-8 bytes, which encoding the text again gives back exactly.
    body = request.decoded_body
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    try:
        event = verify_webhook(
            raw, request.headers.get("stripe-signature"), webhook_secrets(), settings().webhook_tolerance_seconds
        )
    except InvalidSignature:
        metrics.add_metric(name="WebhookRejected", unit=MetricUnit.Count, value=1)
        raise
    event_id, kind = str(event.get("id", "")), str(event.get("type", ""))
    logger.append_keys(stripe_event=event_id, stripe_event_type=kind)
    the_store = store()
    if not event_id or not the_store.claim_event(event_id, kind):
        return WebhookAck(received=True, outcome="duplicate")
    try:
        outcome = logic.handle_event(the_store, callbacks(), publisher(), event)
    except Exception:
        the_store.release_event(event_id)  # let Stripe's redelivery try again
        raise
    logger.info("stripe event handled", extra={"outcome": outcome})
    if outcome == "failed":  # decided once: a redelivered or late failure is not counted again
        metrics.add_metric(name="PaymentsFailed", unit=MetricUnit.Count, value=1)
    return WebhookAck(received=True, outcome=outcome)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
