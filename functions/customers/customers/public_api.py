"""The public side of customers: "customers who bought this also bought". No sign-in; the function
that serves it may only read (the customers table's counters and products, inventory's stock), as the
catalog's public function: an anonymous caller never reaches a role that writes or erases."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.http import make_resolver, responses
from common.observability import make_logger
from customers import recommend
from customers.models import RecommendationPage, SuggestionLimit
from customers.wiring import stock, store

logger = make_logger("customers")
app = make_resolver(logger)

ProductIdPath = Annotated[str, Path(alias="productId", max_length=64)]


@app.get(
    "/products/<productId>/recommendations",
    operation_id="listProductRecommendations",
    summary="Customers who bought this also bought (active, in-stock products)",
    responses=responses(404, 422),
    tags=["customers"],
)
def product_recommendations(product_id: ProductIdPath, limit: SuggestionLimit = 10) -> RecommendationPage:
    return RecommendationPage.of(recommend.for_product(store(), stock(), product_id, limit=limit))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
