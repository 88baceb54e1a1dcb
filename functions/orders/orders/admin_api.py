"""Staff's side of orders: lists by status, shipments, refunds."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.auth import ADMIN, SUPPORT
from common.http import accepted, caller, created, make_resolver, requires, responses
from common.observability import make_logger
from orders import logic
from orders.coupons import CouponIn, CouponOut, CouponPage
from orders.models import AttentionNoteIn, OrderOut, OrderPage, OrderStatus, OrderSummary, RefundIn, ShipmentIn
from orders.wiring import deadlines, inventory, payments, publisher, store, workflow

logger = make_logger("orders")
app = make_resolver(logger)

OrderId = Annotated[str, Path(alias="orderId", max_length=64)]


@app.get(
    "/admin/orders",
    summary="Orders in one status, newest first; or, with attention=true, the orders waiting for staff, "
    "oldest first (staff)",
    responses=responses(400, 401, 403, 422),
    tags=["orders-admin"],
)
@requires(ADMIN, SUPPORT)
def list_orders(
    status: Annotated[OrderStatus, Query()] = OrderStatus.PAID,
    attention: Annotated[
        bool, Query(description="Only orders flagged for staff (a step failed for good, or money does not add up)")
    ] = False,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> OrderPage:
    if attention:
        orders, next_cursor = logic.orders_needing_attention(store(), cursor=cursor, limit=limit)
    else:
        orders, next_cursor = logic.orders_by_status(store(), status, cursor=cursor, limit=limit)
    return OrderPage(items=[OrderSummary.of(o) for o in orders], next_cursor=next_cursor)


@app.post(
    "/admin/orders/<orderId>/redrive",
    summary="Re-drive an order flagged for staff: its workflow resumes where it stopped (admin)",
    responses=responses(400, 401, 403, 404, 409, 422, success=202, description="Workflow resumed"),
    tags=["orders-admin"],
)
@requires(ADMIN)
def redrive_order(order_id: OrderId) -> Response[OrderOut]:
    order = logic.redrive(store(), workflow(), caller(app), order_id, deadlines=deadlines())
    return accepted(OrderOut.of(order), f"/orders/{order_id}")


@app.post(
    "/admin/orders/<orderId>/attention/clear",
    summary="Take a flagged order off the staff queue after settling it by hand, with a note (admin)",
    responses=responses(400, 401, 403, 404, 409, 422),
    tags=["orders-admin"],
)
@requires(ADMIN)
def clear_attention(order_id: OrderId, body: Annotated[AttentionNoteIn, Body()]) -> OrderOut:
    return OrderOut.of(logic.clear_attention(store(), caller(app), order_id, body.note))


@app.post(
    "/orders/<orderId>/shipments",
    summary="Record the shipment of a paid order (admin)",
    responses=responses(400, 401, 403, 404, 409, 422),
    tags=["orders-admin"],
)
@requires(ADMIN)
def ship_order(order_id: OrderId, shipment: Annotated[ShipmentIn, Body()]) -> OrderOut:
    return OrderOut.of(logic.ship(store(), workflow(), publisher(), order_id, shipment))


@app.post(
    "/orders/<orderId>/refunds",
    summary="Refund part or all of an order, optionally restocking (staff)",
    responses=responses(400, 401, 403, 404, 409, 422, 503),
    tags=["orders-admin"],
)
@requires(ADMIN, SUPPORT)
def refund_order(
    order_id: OrderId,
    refund: Annotated[RefundIn, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", pattern=r"^[A-Za-z0-9_.:-]{8,128}$", description="Makes a retry refund once"),
    ] = None,
) -> OrderOut:
    order = logic.refund(store(), payments(), inventory(), workflow(), publisher(), order_id, refund, idempotency_key)
    return OrderOut.of(order)


@app.post(
    "/coupons",
    summary="Create a coupon (admin)",
    responses=responses(400, 401, 403, 409, 422, success=201, description="Created"),
    tags=["orders-admin"],
)
@requires(ADMIN)
def create_coupon(coupon: Annotated[CouponIn, Body()]) -> Response[CouponOut]:
    created_coupon = logic.create_coupon(store(), coupon)
    return created(CouponOut(**created_coupon.model_dump()), f"/coupons/{created_coupon.code}")


@app.get("/coupons", summary="Coupons by code (admin)", responses=responses(400, 401, 403, 422), tags=["orders-admin"])
@requires(ADMIN)
def list_coupons(
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> CouponPage:
    found, next_cursor = logic.list_coupons(store(), cursor=cursor, limit=limit)
    return CouponPage(items=[CouponOut(**c.model_dump()) for c in found], next_cursor=next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
