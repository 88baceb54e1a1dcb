"""A customer's (or staff's) cancellation before shipment."""

from common.auth import Caller
from common.contracts import CancelPaymentInput
from common.idempotency import KeyRecords
from common.store import iso
from orders.errors import NotCancellable
from orders.logic.reads import readable
from orders.models import OPEN, Order, OrderStatus
from orders.ports import Ports


def cancel(
    ports: Ports, caller: Caller, order_id: str, reason: str | None, idempotency_key: str | None = None
) -> Order:
    """Ask for an order to be cancelled before it ships. The workflow does the undoing (cancel or refund
    the payment, put the stock back) and marks it CANCELLED; this records the request and tells it.
    With an Idempotency-Key, a retry answers the order as it stands without asking again (replayed), and
    the key with another order or reason is a 409."""
    return KeyRecords(ports.store, "cancel", ports.clock).once(
        caller.sub,
        idempotency_key,
        {"orderId": order_id, "reason": reason},
        lambda: _cancel(ports, caller, order_id, reason),
        result_of=lambda order: order.order_id,
        replay=lambda cancelled_id: readable(ports, caller, cancelled_id),
    )


def _cancel(ports: Ports, caller: Caller, order_id: str, reason: str | None) -> Order:
    order = readable(ports, caller, order_id)
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
        return order
    if order.status not in OPEN:
        raise NotCancellable(order_id, order.status.value)
    who = "customer" if order.customer_id == caller.sub else "staff"
    why = reason or f"cancelled by the {who}"
    cancellation = {"by": caller.sub, "role": who, "reason": why, "at": iso(ports.clock())}
    if who == "staff" and caller.email:
        cancellation["email"] = caller.email  # the CANCELLED entry of the history names them (`transition`)
    statuses = {f":open{i}": s.value for i, s in enumerate(sorted(OPEN))}
    recorded = ports.store.set_fields(
        order_id,
        {"cancellation": cancellation},
        condition=f"attribute_not_exists(cancellation) AND #status IN ({', '.join(statuses)})",
        values=statuses,
    )
    order = recorded or readable(ports, caller, order_id)
    if order.status not in OPEN:
        raise NotCancellable(order_id, order.status.value)
    if order.status is not OrderStatus.PAID:
        result = ports.payments.cancel(CancelPaymentInput(order_id=order_id, reason=why, refund_if_paid=False))
        if result.cancelled or result.pending:  # pending: Stripe is down, the workflow's compensation retries
            return order
        order = readable(ports, caller, order_id)  # paid meanwhile: the shipment step undoes it
    if order.ship_token:
        ports.workflow.fail(order.ship_token, "OrderCancelled", why)
    return order
