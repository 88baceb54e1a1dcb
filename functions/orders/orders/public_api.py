"""The public side of orders: quotes and the shipping methods a country has. No sign-in; the function
that serves it may only read (orders' table for methods, rates and coupons; inventory's stock) and ask
the catalog for prices, as the other public functions: an anonymous caller never reaches a role that
writes. A quote is anonymous: a coupon's customer-specific rules are decided at checkout (API Gateway
has no optional authorizer on a route, docs/decisions.md)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.http import make_resolver, responses
from common.observability import make_logger
from orders import logic
from orders.quotes import QuoteIn, QuoteOut
from orders.settings import settings
from orders.shipping import Country, ShippingMethodList, ShippingMethodOut
from orders.wiring import ports, stock

logger = make_logger("orders")
app = make_resolver(logger)


@app.post(
    "/quotes",
    operation_id="createQuote",
    summary="What a cart would cost now, with shipping and tax, and what stands in the way of ordering it "
    "(writes nothing, holds no stock)",
    responses=responses(400, 422, 503),
    tags=["pricing"],
)
def create_quote(request: Annotated[QuoteIn, Body()]) -> QuoteOut:
    config = settings()
    return logic.quote(
        ports(), stock(), request, currency=config.shop_currency, prices_include_tax=config.prices_include_tax
    )


@app.get(
    "/shipping-methods",
    operation_id="listShippingMethods",
    summary="The active shipping methods, of one country if given",
    responses=responses(422),
    tags=["pricing"],
)
def list_shipping_methods(country: Annotated[Country | None, Query()] = None) -> ShippingMethodList:
    methods = logic.list_shipping_methods(ports(), country)
    return ShippingMethodList(items=[ShippingMethodOut.of(m) for m in methods])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
