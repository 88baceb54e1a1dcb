"""The order workflow's status steps: an order moves along its life, and each move is announced once."""

from typing import Any

from common.money import Money
from orders.errors import InvalidTransition, OrderNotFound
from orders.logic.shared import order_event
from orders.models import Actor, Order, OrderStatus, PaymentRef
from orders.ports import Ports
from orders.store import CouponUse

EVENT_OF = {
    OrderStatus.PAID: "OrderPaid",
    OrderStatus.REJECTED: "OrderRejected",
    OrderStatus.CANCELLED: "OrderCancelled",
    OrderStatus.SHIPPED: "OrderShipped",
}


def staff_canceller(order: Order) -> Actor | None:
    """The staff member who asked for the order's cancellation (the workflow does it later), if staff did."""
    asked = order.cancellation or {}
    if asked.get("role") != "staff" or not asked.get("by"):
        return None
    return Actor(id=str(asked["by"]), email=asked.get("email"))


def transition(
    ports: Ports,
    order_id: str,
    to: OrderStatus,
    *,
    reason: str | None = None,
    payment: PaymentRef | None = None,
    short: list[dict[str, Any]] | None = None,
    refunded: Money | None = None,
    restocked: bool = False,
) -> tuple[Order, bool]:
    """Move an order along its workflow. Reaching the status it already has is a no-op (a retried
    step); an impossible move is `InvalidTransition`. Announces the new status once."""
    store = ports.store
    sets: dict[str, object] = {}
    removes: tuple[str, ...] = ()
    if payment:
        sets |= {"payment_intent_id": payment.payment_intent_id, "client_secret": payment.client_secret}
    if to in (OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.REJECTED):
        removes = ("client_secret",)  # it has served its purpose; keep no secret longer than needed
    if reason:
        sets["reason"] = reason
    if short is not None:
        sets["short"] = short
    if refunded is not None:
        sets["refunded_total"] = refunded.model_dump()
    if restocked:
        sets["restocked"] = True
    give_back = None
    actor = None
    if to in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
        before = store.get_order(order_id)
        give_back = CouponUse.of(before) if before is not None else None
        if to is OrderStatus.CANCELLED and before is not None:
            actor = staff_canceller(before)
    moved = store.transition(
        order_id, to, ports.clock(), reason=reason, sets=sets, removes=removes, give_back=give_back, actor=actor
    )
    if moved is None:
        current = store.get_order(order_id)
        if current is None:
            raise OrderNotFound(order_id)
        if current.status is to:
            if to in EVENT_OF:  # a retried step: announce again (same id), the first attempt may have died
                ports.publish([order_event(current, EVENT_OF[to])])
            return current, False
        raise InvalidTransition(order_id, current.status.value, to.value)
    if to in EVENT_OF:
        ports.publish([order_event(moved, EVENT_OF[to])])
    return moved, True
