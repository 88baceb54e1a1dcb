"""Inventory's background work: stock records for new SKUs (from `ProductChanged` on the bus) and the
scheduled sweep of expired holds."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.contracts import ProductChanged
from common.events import Envelope
from common.observability import make_logger
from common.workflow import sfn_client
from inventory import logic
from inventory.settings import settings
from inventory.wiring import publisher, store

logger = make_logger("inventory")


@logger.inject_lambda_context
def product_changed_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """Start every new SKU of a product at zero. Replays and out-of-order deliveries are harmless:
    creating a stock record is conditional, and nothing else is taken from the event."""
    envelope = Envelope.model_validate(event["detail"])
    product = ProductChanged.model_validate(envelope.data)
    created = logic.ensure_stock(store(), [v.sku for v in product.variants], threshold=settings().low_stock_threshold)
    logger.info("stock records ensured", extra={"productId": product.product_id, "newSkus": created})
    return {"created": created}


def workflow_is_running(order_id: str) -> bool:
    """True while the order's execution (named after the order id) runs; it may still use its hold."""
    machine = settings().order_state_machine_arn
    if not machine:
        return False
    execution = machine.replace(":stateMachine:", ":execution:") + f":{order_id}"
    client = sfn_client()
    try:
        return client.describe_execution(executionArn=execution)["status"] == "RUNNING"
    except client.exceptions.ExecutionDoesNotExist:
        return False


@logger.inject_lambda_context
def sweep_handler(_event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    released = logic.sweep(store(), is_waiting=workflow_is_running, publish=publisher())
    logger.info("expired holds swept", extra={"released": released})
    return {"released": released}
