"""Customers' background work: order and product events from the bus, the counters from the paid
orders' queue, and the daily win-back deals."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.batches import read_batch
from common.contracts import OrderSnapshot, ProductChanged
from common.events import receive
from common.observability import make_logger
from customers import counters, history, winback
from customers.settings import settings
from customers.wiring import coupons, mailer, store

logger = make_logger("customers")


@logger.inject_lambda_context
def order_events_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """Apply one event of the bus to the customer's history (the counters are `counters_handler`'s). A
    failure raises, so EventBridge retries (then dead-letters) it; every change is guarded by the event's
    id, so a retry or a duplicate applies nothing twice."""
    received = receive(event)
    if received.detail_type == ProductChanged.DETAIL_TYPE:
        product = received.payload_as(ProductChanged)
        taken = store().put_product(
            product.product_id,
            name=product.name,
            status=product.status,
            skus=[v.sku for v in product.variants],
            version=product.version,
        )
        logger.info("product projected", extra={"productId": product.product_id, "taken": taken})
        return {"outcome": "applied" if taken else "stale"}
    outcome = history.apply(store(), received)
    logger.info(
        "order event", extra={"detailType": received.detail_type, "eventId": received.event_id, "outcome": outcome}
    )
    return {"outcome": outcome}


@logger.inject_lambda_context
def counters_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """A batch of `OrderPaid` events from the counters' queue (EventBridge rule → SQS), counted once each,
    merged per counter (`counters.count`). Answers the messages whose order could not be counted, so the
    queue brings back only those (its dead-letter queue keeps them after 5 receives). A body no contract
    reads is logged and answered as failed too (it ends in the dead-letter queue, whose alarm tells staff,
    without failing the others); another event type counts nothing."""
    batch = read_batch(event)
    paid = [
        (received.event_id, received.payload_as(OrderSnapshot))
        for received in batch.received
        if received.detail_type == history.ORDER_PAID
    ]
    outcome = counters.count(store(), paid, datetime.now(UTC))
    return batch.respond(outcome, logger, "orders counted")


@logger.inject_lambda_context
def win_back_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """The daily schedule. `{"now": iso}` in the event moves the clock (tests, backfills)."""
    now = datetime.fromisoformat(event["now"]) if isinstance(event, dict) and event.get("now") else None
    config = settings()
    offer = winback.Offer(shop_url=config.shop_url)
    result = winback.run(store(), coupons(), mailer(), days=config.win_back_days, now=now, offer=offer)
    logger.info(
        "win-back deals",
        extra={"examined": result.examined, "issued": len(result.issued), "emailed": len(result.emailed)},
    )
    return {"examined": result.examined, "issued": len(result.issued), "emailed": len(result.emailed)}
