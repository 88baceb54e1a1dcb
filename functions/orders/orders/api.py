"""The customer's side of orders: checkout, reading an order, one's history, cancelling."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.http import accepted, caller, make_resolver, requires, responses
from common.observability import make_logger, make_metrics
from orders import logic
from orders.errors import IdempotencyKeyRequired
from orders.models import CancelIn, CheckoutIn, OrderOut, OrderPage, OrderSummary
from orders.wiring import customers, deadlines, payments, pricing, publisher, store, workflow

logger = make_logger("orders")
metrics = make_metrics("orders")
app = make_resolver(logger)

OrderId = Annotated[str, Path(alias="orderId", max_length=64)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", pattern=r"^[A-Za-z0-9_.:-]{8,128}$", description="Required: one per checkout"),
]


@app.post(
    "/orders",
    summary="Check out: price on the server, hold stock, start payment",
    responses=responses(400, 401, 409, 422, 503, success=202, description="Accepted; follow `Location`"),
    tags=["orders"],
)
@requires()
def place_order(order: Annotated[CheckoutIn, Body()], idempotency_key: IdempotencyKey = None) -> Response[OrderOut]:
    if not idempotency_key:
        raise IdempotencyKeyRequired
    placed = logic.checkout(
        store(),
        pricing(),
        customers(),
        workflow(),
        publisher(),
        caller(app),
        order,
        idempotency_key,
        deadlines=deadlines(),
    )
    logger.append_keys(order_id=placed.order_id)
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    return accepted(OrderOut.of(placed), f"/orders/{placed.order_id}")


@app.get(
    "/orders/<orderId>", summary="One order (its customer, or staff)", responses=responses(401, 404), tags=["orders"]
)
@requires()
def get_order(order_id: OrderId) -> OrderOut:
    return OrderOut.of(logic.readable(store(), caller(app), order_id))


@app.post(
    "/orders/<orderId>/cancel",
    summary="Cancel before shipment (its customer, or staff)",
    responses=responses(400, 401, 404, 409, 422, 503, success=202, description="Cancellation under way"),
    tags=["orders"],
)
@requires()
def cancel_order(order_id: OrderId, body: Annotated[CancelIn | None, Body()] = None) -> Response[OrderOut]:
    reason = body.reason if body else None
    order = logic.cancel(store(), payments(), workflow(), caller(app), order_id, reason)
    return accepted(OrderOut.of(order), f"/orders/{order_id}")


@app.get("/me/orders", summary="The caller's orders, newest first", responses=responses(400, 401, 422), tags=["orders"])
@requires()
def my_orders(
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> OrderPage:
    orders, next_cursor = logic.my_orders(store(), caller(app), cursor=cursor, limit=limit)
    return OrderPage(items=[OrderSummary.of(o) for o in orders], next_cursor=next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
