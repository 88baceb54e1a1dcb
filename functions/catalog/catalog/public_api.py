"""Public catalog reads: product listing and search, product detail, categories. No sign-in needed."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog import logic
from catalog.models import CategoryOut, CategoryPage, ProductOut, ProductPage, ProductSummary
from catalog.wiring import stock, store
from common.api_models import Cursor, Limit
from common.http import make_resolver, responses
from common.observability import make_logger

logger = make_logger("catalog")
app = make_resolver(logger)

MAX_PRICE = 100_000_000_00


@app.get(
    "/products",
    summary="List or search active products",
    responses=responses(400, 422),
    tags=["catalog"],
)
def list_products(
    category: Annotated[str | None, Query(max_length=80, description="Category slug (or name)")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words the product must all have")] = None,
    min_price: Annotated[
        int | None, Query(alias="minPrice", ge=0, le=MAX_PRICE, description="Lowest variant price, minor units")
    ] = None,
    max_price: Annotated[
        int | None, Query(alias="maxPrice", ge=0, le=MAX_PRICE, description="Highest variant price, minor units")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> ProductPage:
    query = logic.ProductFilter.of(category=category, q=q, min_price=min_price, max_price=max_price)
    products, next_cursor = logic.list_products(store(), query, cursor=cursor, limit=limit)
    return ProductPage(items=[ProductSummary.of(p) for p in products], next_cursor=next_cursor)


@app.get(
    "/products/<productId>",
    summary="One active product with its variants",
    responses=responses(404),
    tags=["catalog"],
)
def get_product(product_id: Annotated[str, Path(alias="productId", max_length=64)]) -> ProductOut:
    product = logic.get_product(store(), product_id)
    return ProductOut.of(product, stock().levels(product.skus))


@app.get(
    "/categories",
    summary="Categories that have active products",
    responses=responses(400, 422),
    tags=["catalog"],
)
def list_categories(cursor: Cursor = None, limit: Limit = 100) -> CategoryPage:
    categories, next_cursor = logic.list_categories(store(), cursor=cursor, limit=limit)
    return CategoryPage(items=[CategoryOut.of(c) for c in categories], next_cursor=next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
