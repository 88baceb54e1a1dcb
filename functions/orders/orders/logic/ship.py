"""The shipment: staff record it, and the workflow's AwaitShipment step waits for it."""

from common.idempotency import KeyRecords
from common.store import iso
from orders.errors import InvalidTransition, OrderNotFound
from orders.logic.shared import existing, order_event
from orders.models import Actor, Order, OrderStatus, ShipmentIn
from orders.ports import Ports

SHIPPED = {"shipped": True}


def ship(
    ports: Ports, order_id: str, request: ShipmentIn, idempotency_key: str | None = None, actor: Actor | None = None
) -> Order:
    """Record the shipment of a paid order, announce it and resume the workflow's shipment step. The same
    tracking number again is a retry: announced and resumed again (both harmless twice). With an
    Idempotency-Key (kept per order), a retry answers the order without announcing anything again
    (replayed), and the key with another shipment is a 409. The staff `actor` is named in the history."""
    return KeyRecords(ports.store, "ship", ports.clock).once(
        order_id,
        idempotency_key,
        request,
        lambda: _ship(ports, order_id, request, actor),
        result_of=lambda order: order.order_id,
        replay=lambda shipped_id: existing(ports.store, shipped_id),
    )


def _ship(ports: Ports, order_id: str, request: ShipmentIn, actor: Actor | None) -> Order:
    at = ports.clock()
    shipment = {**request.model_dump(mode="json", by_alias=True), "shippedAt": iso(at)}
    order = existing(ports.store, order_id)
    if order.shipment and order.shipment.get("trackingNumber") == request.tracking_number:
        # A retry: the first attempt may have died before announcing or resuming.
        _announce(ports, order)
        return order
    shipped = ports.store.transition(
        order_id,
        OrderStatus.SHIPPED,
        at,
        reason=f"{request.carrier} {request.tracking_number}",
        sets={"shipment": shipment},
        condition="attribute_not_exists(cancellation) AND attribute_not_exists(shipment)",
        actor=actor,
    )
    if shipped is None:
        current = ports.store.get_order(order_id) or order
        if current.cancellation is not None and current.status is OrderStatus.PAID:
            raise InvalidTransition(order_id, "being cancelled", OrderStatus.SHIPPED.value)
        raise InvalidTransition(order_id, current.status.value, OrderStatus.SHIPPED.value)
    _announce(ports, shipped)
    return shipped


def _announce(ports: Ports, order: Order) -> None:
    ports.publish([order_event(order, "OrderShipped")])
    if order.ship_token:
        ports.workflow.succeed(order.ship_token, SHIPPED)


def await_shipment(ports: Ports, order_id: str, token: str) -> None:
    """The workflow's AwaitShipment step: store its token; if the order shipped, was cancelled or refunded
    first, answer the step right away."""
    order = ports.store.set_fields(order_id, {"ship_token": token}, condition="attribute_exists(PK)")
    if order is None:
        raise OrderNotFound(order_id)
    if order.status is OrderStatus.SHIPPED:
        ports.workflow.succeed(token, SHIPPED)
    elif order.status in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED) and order.refunded_total == order.total:
        ports.workflow.fail(token, "OrderRefunded", "refunded before shipment")
    elif order.cancellation is not None:
        ports.workflow.fail(token, "OrderCancelled", str(order.cancellation.get("reason", "cancelled")))
