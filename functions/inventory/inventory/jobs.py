"""Inventory's background work: stock records for new SKUs (from `ProductChanged` on the bus) and the
scheduled sweep of expired holds."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.contracts import ProductChanged
from common.events import receive
from common.observability import make_logger
from inventory import logic
from inventory.settings import settings
from inventory.wiring import publisher, store, workflow

logger = make_logger("inventory")


@logger.inject_lambda_context
def product_changed_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """Start every new SKU of a product at zero. Replays and out-of-order deliveries are harmless:
    creating a stock record is conditional, and nothing else is taken from the event."""
    product = receive(event).payload_as(ProductChanged)
    created = logic.ensure_stock(store(), [v.sku for v in product.variants], threshold=settings().low_stock_threshold)
    logger.info("stock records ensured", extra={"productId": product.product_id, "newSkus": created})
    return {"created": created}


@logger.inject_lambda_context
def sweep_handler(_event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    released = logic.sweep(store(), is_waiting=workflow(), publish=publisher())
    logger.info("expired holds swept", extra={"released": released})
    return {"released": released}
