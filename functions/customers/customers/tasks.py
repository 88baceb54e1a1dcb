"""What other domains call customers for: checkout's default shipping address."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common.observability import make_logger
from customers import logic
from customers.models import CustomerId
from customers.wiring import store

logger = make_logger("customers")


class DefaultAddressInput(BaseModel):
    """`DefaultAddressFunction`'s input; it answers `{"address": {...} | null}` in checkout's shape."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    customer_id: CustomerId = Field()


@logger.inject_lambda_context
def default_address_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = DefaultAddressInput.model_validate(event)
    address = logic.default_address(store(), task.customer_id)
    logger.info("default address looked up", extra={"found": address is not None})
    return {"address": address.shipping() if address else None}
