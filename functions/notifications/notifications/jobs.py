"""Notifications' one handler: a bus event in, at most one email out."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.events import receive
from common.observability import make_logger
from notifications.logic.deliver import notify
from notifications.wiring import ports

logger = make_logger("notifications")


@logger.inject_lambda_context
def events_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """One EventBridge event, read through its contract model, mailed once. A failure (SES refused or
    timed out, another delivery still sending) fails the invocation: Lambda retries it, then the
    dead-letter queue keeps it. Logs name the event and the outcome, never an address."""
    received = receive(event)
    delivered = notify(ports(), received)
    logger.info(
        "notification",
        extra={
            "detailType": received.detail_type,
            "eventId": received.event_id,
            "outcome": delivered.outcome.value,
            "reason": delivered.reason,
        },
    )
    return {"outcome": delivered.outcome.value}
