"""Staff's side of orders: lists by status, shipments, refunds, coupons, shipping methods and tax rates."""

from datetime import date
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api_models import Cursor, Limit, idempotency_header
from common.auth import ADMIN, SUPPORT
from common.http import accepted, caller, created, make_resolver, requires, responses
from common.observability import make_logger
from orders import logic
from orders.coupons import CouponIn, CouponOut, CouponPage
from orders.models import Actor, AttentionNoteIn, OrderOut, OrderPage, OrderStatus, OrderSummary, RefundIn, ShipmentIn
from orders.settings import settings
from orders.shipping import (
    ShippingMethodIdPattern,
    ShippingMethodIn,
    ShippingMethodOut,
    TaxRatesIn,
    TaxRatesList,
    TaxRatesOut,
)
from orders.store import OrderFilter
from orders.wiring import ports

logger = make_logger("orders")
app = make_resolver(logger)

OrderId = Annotated[str, Path(alias="orderId", max_length=64)]
RefundKey = Annotated[str | None, idempotency_header("Makes a retry refund once")]
ShipmentKey = Annotated[
    str | None, idempotency_header("Makes a retried shipment record once: the same key answers the order")
]
CouponCodePath = Annotated[str, Path(alias="code", pattern=r"^[A-Za-z0-9_-]{3,40}$")]


@app.get(
    "/admin/orders",
    operation_id="listOrders",
    summary="Orders by any combination of status, customer, buyer's email and creation days, newest first; "
    "or, with attention=true, the orders waiting for staff, oldest first (staff)",
    description="One index answers, that of the most selective filter given (`customerId`, then `email`, then "
    "`status`); the other filters apply to what it read, so a page may hold fewer than `limit` orders, even "
    "none, while `nextCursor` goes on. Without `customerId` or `email`, `status` defaults to PAID. "
    "`attention=true` lists the flagged orders and ignores the other filters.",
    responses=responses(400, 401, 403, 422),
    tags=["orders"],
)
@requires(ADMIN, SUPPORT)
def list_orders(
    status: Annotated[
        OrderStatus | None, Query(description="PAID when neither `customerId` nor `email` is given")
    ] = None,
    customer_id: Annotated[
        str | None, Query(alias="customerId", pattern=r"^[A-Za-z0-9_.:@-]{1,128}$", description="The buyer's sub")
    ] = None,
    email: Annotated[
        str | None,
        Query(min_length=3, max_length=254, description="The buyer's email at checkout, case-insensitive, exact"),
    ] = None,
    start: Annotated[date | None, Query(alias="from", description="First day of creation (UTC), included")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day of creation (UTC), included")] = None,
    attention: Annotated[
        bool, Query(description="Only orders flagged for staff (a step failed for good, or money does not add up)")
    ] = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> OrderPage:
    if attention:
        orders, next_cursor = logic.orders_needing_attention(ports(), cursor=cursor, limit=limit)
    else:
        wanted = OrderFilter(status=status, customer_id=customer_id, email=email, start=start, end=end)
        orders, next_cursor = logic.find_orders(ports(), wanted, cursor=cursor, limit=limit)
    return OrderPage(items=[OrderSummary.of(o) for o in orders], next_cursor=next_cursor)


@app.post(
    "/admin/orders/<orderId>/redrive",
    operation_id="redriveOrder",
    summary="Re-drive an order flagged for staff: its workflow resumes where it stopped (admin)",
    responses=responses(400, 401, 403, 404, 409, 422, success=202, description="Workflow resumed"),
    tags=["orders"],
)
@requires(ADMIN)
def redrive_order(order_id: OrderId) -> Response[OrderOut]:
    order = logic.redrive(ports(), caller(app), order_id)
    return accepted(OrderOut.of(order), f"/orders/{order_id}")


@app.post(
    "/admin/orders/<orderId>/attention/clear",
    operation_id="clearOrderAttention",
    summary="Take a flagged order off the staff queue after settling it by hand, with a note (admin)",
    responses=responses(400, 401, 403, 404, 409, 422),
    tags=["orders"],
)
@requires(ADMIN)
def clear_attention(order_id: OrderId, body: Annotated[AttentionNoteIn, Body()]) -> OrderOut:
    return OrderOut.of(logic.clear_attention(ports(), caller(app), order_id, body.note))


@app.post(
    "/orders/<orderId>/shipments",
    operation_id="shipOrder",
    summary="Record the shipment of a paid order (admin)",
    responses=responses(400, 401, 403, 404, 409, 422),
    tags=["orders"],
)
@requires(ADMIN)
def ship_order(
    order_id: OrderId, shipment: Annotated[ShipmentIn, Body()], idempotency_key: ShipmentKey = None
) -> OrderOut:
    return OrderOut.of(logic.ship(ports(), order_id, shipment, idempotency_key, actor=Actor.of(caller(app))))


@app.post(
    "/orders/<orderId>/refunds",
    operation_id="refundOrder",
    summary="Refund part or all of an order, optionally restocking (staff)",
    responses=responses(400, 401, 403, 404, 409, 422, 503),
    tags=["orders"],
)
@requires(ADMIN, SUPPORT)
def refund_order(
    order_id: OrderId,
    refund: Annotated[RefundIn, Body()],
    idempotency_key: RefundKey = None,
) -> OrderOut:
    return OrderOut.of(logic.refund(ports(), order_id, refund, idempotency_key, actor=Actor.of(caller(app))))


@app.post(
    "/coupons",
    operation_id="createCoupon",
    summary="Create a coupon (admin)",
    responses=responses(400, 401, 403, 409, 422, success=201, description="Created"),
    tags=["coupons"],
)
@requires(ADMIN)
def create_coupon(coupon: Annotated[CouponIn, Body()]) -> Response[CouponOut]:
    created_coupon = logic.create_coupon(ports(), coupon)
    return created(CouponOut(**created_coupon.model_dump()), f"/coupons/{created_coupon.code}")


@app.get(
    "/coupons",
    operation_id="listCoupons",
    summary="Coupons by code (admin)",
    responses=responses(400, 401, 403, 422),
    tags=["coupons"],
)
@requires(ADMIN)
def list_coupons(cursor: Cursor = None, limit: Limit = 50) -> CouponPage:
    found, next_cursor = logic.list_coupons(ports(), cursor=cursor, limit=limit)
    return CouponPage(items=[CouponOut(**c.model_dump()) for c in found], next_cursor=next_cursor)


@app.get(
    "/coupons/<code>",
    operation_id="getCoupon",
    summary="One coupon, with how often it was redeemed (admin)",
    responses=responses(401, 403, 404, 422),
    tags=["coupons"],
)
@requires(ADMIN)
def get_coupon(code: CouponCodePath) -> CouponOut:
    return CouponOut(**logic.get_coupon(ports(), code).model_dump())


@app.post(
    "/coupons/<code>/end",
    operation_id="endCoupon",
    summary="End a coupon now: checkouts and quotes refuse it as expired from this moment, and customers' "
    "offers no longer list it; its uses so far stay (admin). Idempotent: an ended coupon keeps its end",
    responses=responses(401, 403, 404, 422),
    tags=["coupons"],
)
@requires(ADMIN)
def end_coupon(code: CouponCodePath) -> CouponOut:
    return CouponOut(**logic.end_coupon(ports(), code).model_dump())


ShippingMethodIdPath = Annotated[str, Path(alias="shippingMethodId", pattern=ShippingMethodIdPattern)]
CountryPath = Annotated[str, Path(alias="country", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


@app.post(
    "/shipping-methods",
    operation_id="createShippingMethod",
    summary="Create a shipping method: its price, the countries it serves, free over an amount (admin)",
    responses=responses(400, 401, 403, 422, success=201, description="Created"),
    tags=["pricing"],
)
@requires(ADMIN)
def create_shipping_method(method: Annotated[ShippingMethodIn, Body()]) -> Response[ShippingMethodOut]:
    made = logic.create_shipping_method(ports(), method, settings().shop_currency)
    return created(ShippingMethodOut.of(made), f"/shipping-methods/{made.shipping_method_id}")


@app.get(
    "/shipping-methods/<shippingMethodId>",
    operation_id="getShippingMethod",
    summary="One shipping method, archived or not (admin)",
    responses=responses(401, 403, 404),
    tags=["pricing"],
)
@requires(ADMIN)
def get_shipping_method(shipping_method_id: ShippingMethodIdPath) -> ShippingMethodOut:
    return ShippingMethodOut.of(logic.get_shipping_method(ports(), shipping_method_id))


@app.put(
    "/shipping-methods/<shippingMethodId>",
    operation_id="replaceShippingMethod",
    summary="Replace a shipping method (an archived one becomes active again) (admin)",
    responses=responses(400, 401, 403, 404, 422),
    tags=["pricing"],
)
@requires(ADMIN)
def replace_shipping_method(
    shipping_method_id: ShippingMethodIdPath, method: Annotated[ShippingMethodIn, Body()]
) -> ShippingMethodOut:
    replaced = logic.replace_shipping_method(ports(), shipping_method_id, method, settings().shop_currency)
    return ShippingMethodOut.of(replaced)


@app.delete(
    "/shipping-methods/<shippingMethodId>",
    operation_id="archiveShippingMethod",
    summary="Archive a shipping method: it serves nobody from now on; orders keep naming it (admin)",
    responses=responses(401, 403, 404, 422, success=204, description="Archived"),
    tags=["pricing"],
)
@requires(ADMIN)
def archive_shipping_method(shipping_method_id: ShippingMethodIdPath) -> Response[None]:
    logic.archive_shipping_method(ports(), shipping_method_id)
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=content_types.APPLICATION_JSON, body=None)


@app.put(
    "/tax-rates/<country>",
    operation_id="putTaxRates",
    summary="Set a country's tax rates: the standard one and reduced ones by category (admin)",
    responses=responses(400, 401, 403, 422),
    tags=["pricing"],
)
@requires(ADMIN)
def put_tax_rates(country: CountryPath, rates: Annotated[TaxRatesIn, Body()]) -> TaxRatesOut:
    return TaxRatesOut.of(logic.put_tax_rates(ports(), rates.rates(country)))


@app.get(
    "/tax-rates",
    operation_id="listTaxRates",
    summary="Every country's tax rates (admin)",
    responses=responses(401, 403),
    tags=["pricing"],
)
@requires(ADMIN)
def list_tax_rates() -> TaxRatesList:
    return TaxRatesList(items=[TaxRatesOut.of(r) for r in logic.list_tax_rates(ports())])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
