"""Affiliates' background work: the commission ledger fed by order events on the bus, the clicks the
visit beacon hands over, and the daily approval of commissions whose refund window has passed."""

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from affiliates import logic
from affiliates.settings import settings
from affiliates.wiring import publisher, store
from common.contracts import AffiliateClicked, OrderRefunded, OrderSnapshot
from common.events import receive
from common.observability import make_logger

logger = make_logger("affiliates")


@logger.inject_lambda_context
def order_events_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """OrderPaid records a commission, OrderRefunded reverses its share, OrderCancelled (after payment)
    reverses it all. Orders without an approved affiliate's code are ignored, never an error. Each
    event applies once (its eventId is recorded in the ledger change's transaction), in any order."""
    received = receive(event)
    detail_type, event_id, at = received.detail_type, received.event_id, received.occurred_at
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    window = settings().attribution_window
    if detail_type == "OrderPaid":
        order = received.payload_as(OrderSnapshot)
        result = logic.on_order_paid(store(), publisher(), order, event_id=event_id, occurred_at=at, window=window)
    elif detail_type == OrderRefunded.DETAIL_TYPE:
        refund = received.payload_as(OrderRefunded)
        result = logic.on_order_refunded(store(), publisher(), refund, event_id=event_id, occurred_at=at, window=window)
    elif detail_type == "OrderCancelled":
        order = received.payload_as(OrderSnapshot)
        result = logic.on_order_cancelled(store(), publisher(), order, event_id=event_id, occurred_at=at, window=window)
    else:
        result = logic.Applied(logic.Outcome.IGNORED, f"not an event affiliates reads: {detail_type}")
    commission = result.commission
    logger.info(
        "order event applied",
        extra={
            "eventId": event_id,
            "detailType": detail_type,
            "outcome": result.outcome.value,
            "reason": result.reason,
            "orderId": commission.order_id if commission else None,
        },
    )
    return {"outcome": result.outcome.value, "reason": result.reason}


@logger.inject_lambda_context
def clicks_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """AffiliateClicked (from the visit beacon) records the click: the visitor's first click with a code
    starts its attribution window, and every click counts in the day's figures. Once per event."""
    received = receive(event)
    if received.detail_type == AffiliateClicked.DETAIL_TYPE:
        clicked = received.payload_as(AffiliateClicked)
        result = logic.on_click(store(), clicked, event_id=received.event_id)
    else:
        result = logic.Applied(logic.Outcome.IGNORED, f"not an event affiliates reads: {received.detail_type}")
    logger.info(
        "click applied",
        extra={"eventId": received.event_id, "outcome": result.outcome.value, "reason": result.reason},
    )
    return {"outcome": result.outcome.value, "reason": result.reason}


@logger.inject_lambda_context
def approve_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """Approve commissions older than the refund window. `{"now": "<iso>"}` in the event sets the clock
    (tests, and catching up after an outage); a scheduler's own event carries no `now`."""
    raw_now = event.get("now") if isinstance(event, dict) else None
    now = datetime.fromisoformat(raw_now) if isinstance(raw_now, str) else datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    window = timedelta(days=settings().refund_window_days)
    approved = logic.approve_due(store(), window=window, now=now)
    logger.info("commissions approved", extra={"approved": len(approved)})
    return {"approved": approved}
