"""Public catalog reads: product listing and search, product detail, categories. No sign-in needed."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog import caching, logic
from catalog.models import MAX_IDS, CategoryOut, CategoryPage, ProductOut, ProductPage, ProductSort, ProductSummary
from catalog.wiring import stock, store
from common.api_models import Cursor, Limit
from common.http import make_resolver, responses
from common.observability import make_logger

logger = make_logger("catalog")
app = make_resolver(logger)
app.use(middlewares=[caching.drop_body_of_304])

MAX_PRICE = 100_000_000_00
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=2048,
        description="The `ETag` of the copy the client holds: an unchanged answer is then a bodiless 304",
    ),
]


@app.get(
    "/products",
    operation_id="listProducts",
    summary="List or search active products",
    responses=caching.with_tag(responses(400, 422), cached=True),
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
    sort: Annotated[
        ProductSort | None,
        Query(
            description="`name` (A to Z; the default, and with `q` the search's own order), `price` (lowest "
            "variant price, cheapest first), `-price` (dearest first) or `newest`"
        ),
    ] = None,
    ids: Annotated[
        str | None,
        Query(
            max_length=MAX_IDS * 32,
            description=f"Comma-separated product ids (at most {MAX_IDS}), for a cart or a wish list: those "
            "products, in the order given unless `sort` is set; archived and unknown ids are left out",
            examples=["p_01jd8x0000000000000000000a,p_01jd8x0000000000000000000b"],
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
    if_none_match: IfNoneMatch = None,
) -> Response[ProductPage]:
    query = logic.ProductFilter.of(category=category, q=q, min_price=min_price, max_price=max_price, sort=sort, ids=ids)
    products, next_cursor = logic.list_products(store(), query, cursor=cursor, limit=limit)
    page = ProductPage(items=[ProductSummary.of(p) for p in products], next_cursor=next_cursor)
    return caching.cacheable(page, caching.digest_tag(page), max_age=caching.LIST_MAX_AGE, if_none_match=if_none_match)


@app.get(
    "/products/<productId>",
    operation_id="getProduct",
    summary="One active product with its variants",
    responses=caching.with_tag(responses(404), cached=True),
    tags=["catalog"],
)
def get_product(
    product_id: Annotated[str, Path(alias="productId", max_length=64)], if_none_match: IfNoneMatch = None
) -> Response[ProductOut]:
    product = logic.get_product(store(), product_id)
    shown = ProductOut.of(product, stock().levels(product.skus))
    return caching.cacheable(
        shown, caching.version_tag(product.version, shown), max_age=caching.PRODUCT_MAX_AGE, if_none_match=if_none_match
    )


@app.get(
    "/categories",
    operation_id="listCategories",
    summary="Categories that have active products",
    responses=caching.with_tag(responses(400, 422), cached=True),
    tags=["catalog"],
)
def list_categories(
    cursor: Cursor = None, limit: Limit = 100, if_none_match: IfNoneMatch = None
) -> Response[CategoryPage]:
    categories, next_cursor = logic.list_categories(store(), cursor=cursor, limit=limit)
    page = CategoryPage(items=[CategoryOut.of(c) for c in categories], next_cursor=next_cursor)
    return caching.cacheable(
        page, caching.digest_tag(page), max_age=caching.CATEGORIES_MAX_AGE, if_none_match=if_none_match
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
