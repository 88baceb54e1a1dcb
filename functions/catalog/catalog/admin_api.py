"""Admin catalog edits: create, replace and archive products. Each change is announced with a
`ProductChanged` event once its DynamoDB transaction has succeeded."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog import logic
from catalog.models import ProductIn, ProductOut
from catalog.settings import settings
from catalog.wiring import publisher, store
from common.auth import ADMIN
from common.http import created, make_resolver, requires, responses
from common.observability import make_logger, make_metrics

logger = make_logger("catalog")
metrics = make_metrics("catalog")
app = make_resolver(logger)

ProductId = Annotated[str, Path(alias="productId", max_length=64)]


@app.post(
    "/products",
    summary="Create a product (admin)",
    responses=responses(400, 401, 403, 409, 422, success=201, description="Created"),
    tags=["catalog-admin"],
)
@requires(ADMIN)
def create_product(product: Annotated[ProductIn, Body()]) -> Response[ProductOut]:
    created_product = logic.create_product(store(), product, currency=settings().shop_currency, publish=publisher())
    metrics.add_metric(name="ProductCreated", unit=MetricUnit.Count, value=1)
    return created(ProductOut.of(created_product), f"/products/{created_product.product_id}")


@app.put(
    "/products/<productId>",
    summary="Replace a product's editable fields (admin)",
    responses=responses(400, 401, 403, 404, 409, 422),
    tags=["catalog-admin"],
)
@requires(ADMIN)
def update_product(product_id: ProductId, product: Annotated[ProductIn, Body()]) -> ProductOut:
    updated = logic.update_product(store(), product_id, product, currency=settings().shop_currency, publish=publisher())
    metrics.add_metric(name="ProductUpdated", unit=MetricUnit.Count, value=1)
    return ProductOut.of(updated)


@app.delete(
    "/products/<productId>",
    summary="Archive a product (admin); idempotent",
    responses=responses(401, 403, 404),
    tags=["catalog-admin"],
)
@requires(ADMIN)
def archive_product(product_id: ProductId) -> ProductOut:
    archived = logic.archive_product(store(), product_id, publish=publisher())
    metrics.add_metric(name="ProductArchived", unit=MetricUnit.Count, value=1)
    return ProductOut.of(archived)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
