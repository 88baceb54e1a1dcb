"""The customer's side of orders: checkout, reading an order, one's history, cancelling."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api_models import Cursor, Limit, idempotency_header
from common.http import accepted, caller, make_resolver, requires, responses
from common.idempotency import replayed
from common.observability import make_logger, make_metrics
from orders import logic
from orders.coupons import CouponOffer, CouponOfferList
from orders.errors import IdempotencyKeyRequired
from orders.models import CancelIn, CheckoutIn, OrderOut, OrderPage, OrderSummary
from orders.wiring import ports

logger = make_logger("orders")
metrics = make_metrics("orders")
app = make_resolver(logger)

OrderId = Annotated[str, Path(alias="orderId", max_length=64)]
CheckoutKey = Annotated[
    str | None,
    idempotency_header(
        "One per checkout: a retry with the same key answers the same order; another body with it is a 409",
        required=True,
    ),
]
CancelKey = Annotated[
    str | None, idempotency_header("Makes a retried cancellation ask once: the same key answers the order")
]
POLL_SECONDS = 1
"""How long a client waits between reads of an order it follows (checkout's `Retry-After`)."""
CHECKOUT_ACCEPTED: OpenAPIResponse = {
    "description": "Accepted: the order is PENDING while stock is held and payment prepared. Follow "
    f"`Location` (`GET`), every `Retry-After` seconds ({POLL_SECONDS}), until the status is AWAITING_PAYMENT "
    "(pay with its `clientSecret`) or REJECTED",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before reading the order at `Location`",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


@app.post(
    "/orders",
    operation_id="createOrder",
    summary="Check out: price on the server, hold stock, start payment",
    responses=responses(400, 401, 409, 422, 503, success=202) | {202: CHECKOUT_ACCEPTED},
    tags=["orders"],
)
@requires()
def place_order(order: Annotated[CheckoutIn, Body()], idempotency_key: CheckoutKey = None) -> Response[OrderOut]:
    if not idempotency_key:
        raise IdempotencyKeyRequired
    placed = logic.checkout(ports(), caller(app), order, idempotency_key)
    logger.append_keys(order_id=placed.order_id)
    if not replayed():  # a retry places nothing
        metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    answer = accepted(OrderOut.of(placed), f"/orders/{placed.order_id}")
    answer.headers["Retry-After"] = str(POLL_SECONDS)
    return answer


@app.get(
    "/orders/<orderId>",
    operation_id="getOrder",
    summary="One order (its customer, or staff)",
    responses=responses(401, 404),
    tags=["orders"],
)
@requires()
def get_order(order_id: OrderId) -> OrderOut:
    return OrderOut.of(logic.readable(ports(), caller(app), order_id))


@app.post(
    "/orders/<orderId>/cancel",
    operation_id="cancelOrder",
    summary="Cancel before shipment (its customer, or staff)",
    responses=responses(400, 401, 404, 409, 422, 503, success=202, description="Cancellation under way"),
    tags=["orders"],
)
@requires()
def cancel_order(
    order_id: OrderId, body: Annotated[CancelIn | None, Body()] = None, idempotency_key: CancelKey = None
) -> Response[OrderOut]:
    reason = body.reason if body else None
    order = logic.cancel(ports(), caller(app), order_id, reason, idempotency_key)
    return accepted(OrderOut.of(order), f"/orders/{order_id}")


@app.get(
    "/me/orders",
    operation_id="listMyOrders",
    summary="The caller's orders, newest first",
    responses=responses(400, 401, 422),
    tags=["orders"],
)
@requires()
def my_orders(cursor: Cursor = None, limit: Limit = 20) -> OrderPage:
    orders, next_cursor = logic.my_orders(ports(), caller(app), cursor=cursor, limit=limit)
    return OrderPage(items=[OrderSummary.of(o) for o in orders], next_cursor=next_cursor)


@app.get(
    "/me/offers",
    operation_id="listMyOffers",
    summary="The coupons issued to the caller (win-back and others) that they can use now, with their conditions",
    responses=responses(401),
    tags=["orders"],
)
@requires()
def my_offers() -> CouponOfferList:
    offers = logic.my_offers(ports(), caller(app).sub)
    return CouponOfferList(items=[CouponOffer.of(offer.coupon, offer.uses_left) for offer in offers])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
