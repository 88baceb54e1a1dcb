"""`PriceSkus`: what checkout pays for each SKU, straight from the catalog. Orders invokes it directly
(an internal call between functions, not a public route), so prices never come from the client."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog import logic
from catalog.wiring import store
from common.contracts import PriceSkusInput
from common.observability import make_logger

logger = make_logger("catalog")


@logger.inject_lambda_context
def price_skus_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    request = PriceSkusInput.model_validate(event)
    return logic.price_skus(store(), request.skus).model_dump(mode="json", by_alias=True)
