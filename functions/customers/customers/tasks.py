"""What other domains call customers for: checkout's default shipping address."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.contracts import CustomerRef, DefaultAddress, ShippingAddress
from common.observability import make_logger
from customers import logic
from customers.wiring import store

logger = make_logger("customers")


@logger.inject_lambda_context
def default_address_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = CustomerRef.model_validate(event)
    address = logic.default_address(store(), task.customer_id)
    logger.info("default address looked up", extra={"found": address is not None})
    found = ShippingAddress.model_validate(address.shipping()) if address else None
    return DefaultAddress(address=found).model_dump(mode="json", by_alias=True)
