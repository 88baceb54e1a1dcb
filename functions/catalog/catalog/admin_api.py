"""Admin catalog edits: create, replace and archive products. Each change is announced with a
`ProductChanged` event once its DynamoDB transaction has succeeded."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog import caching, logic
from catalog.models import ProductIn, ProductOut
from catalog.settings import settings
from catalog.wiring import publisher, store
from common.api_models import idempotency_header
from common.auth import ADMIN
from common.http import caller, created, make_resolver, requires, responses
from common.idempotency import replayed
from common.observability import make_logger, make_metrics

logger = make_logger("catalog")
metrics = make_metrics("catalog")
app = make_resolver(logger)

ProductId = Annotated[str, Path(alias="productId", max_length=64)]
CreateKey = Annotated[
    str | None, idempotency_header("Makes a retried create create once: the same key answers the first product")
]


@app.post(
    "/products",
    operation_id="createProduct",
    summary="Create a product (admin)",
    responses=responses(400, 401, 403, 409, 422, success=201, description="Created"),
    tags=["catalog"],
)
@requires(ADMIN)
def create_product(product: Annotated[ProductIn, Body()], idempotency_key: CreateKey = None) -> Response[ProductOut]:
    created_product = logic.create_product(
        store(),
        product,
        currency=settings().shop_currency,
        publish=publisher(),
        idempotency_key=idempotency_key,
        by=caller(app).sub,
    )
    if not replayed():  # a retry with the key creates nothing
        metrics.add_metric(name="ProductCreated", unit=MetricUnit.Count, value=1)
    return created(ProductOut.of(created_product), f"/products/{created_product.product_id}")


@app.put(
    "/products/<productId>",
    operation_id="updateProduct",
    summary="Replace a product's editable fields (admin)",
    description=(
        "With `If-Match` (the `ETag` of a product answer, or `*`), the product is replaced only if it is still "
        "at that version, else 412 `precondition_failed`: read it again and decide. Without `If-Match` the "
        "replace always applies, over any edit made since (last writer wins)."
    ),
    responses=caching.with_tag(responses(400, 401, 403, 404, 409, 412, 422), cached=False),
    tags=["catalog"],
)
@requires(ADMIN)
def update_product(
    product_id: ProductId,
    product: Annotated[ProductIn, Body()],
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=2048,
            description="Replace only this version: the `ETag` of the product as the caller last read it",
        ),
    ] = None,
) -> Response[ProductOut]:
    updated = logic.update_product(
        store(),
        product_id,
        product,
        currency=settings().shop_currency,
        publish=publisher(),
        expected_versions=caching.matched_versions(if_match),
    )
    metrics.add_metric(name="ProductUpdated", unit=MetricUnit.Count, value=1)
    return caching.tagged(ProductOut.of(updated), caching.version_tag(updated.version))


@app.delete(
    "/products/<productId>",
    operation_id="archiveProduct",
    summary="Archive a product (admin); idempotent",
    responses=responses(401, 403, 404),
    tags=["catalog"],
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
