"""Reading orders: one order for its customer or staff, a customer's history, staff's lists by status
and by any combination of filters, and how orders stand for payments' reconciliation."""

from common.auth import Caller
from common.contracts import OrderState, OrderStatesOutput
from common.cursor import decode_cursor, encode_cursor
from orders.errors import OrderNotFound
from orders.logic.shared import STAFF, is_order_id
from orders.models import Order, OrderStatus
from orders.ports import Ports
from orders.store import OrderFilter, email_key


def readable(ports: Ports, caller: Caller, order_id: str) -> Order:
    """The order if the caller may see it: its customer, or staff. Anyone else gets the same 404 as
    for an order that does not exist."""
    order = ports.store.get_order(order_id) if is_order_id(order_id) else None
    if order is None or (order.customer_id != caller.sub and not caller.is_in(*STAFF)):
        raise OrderNotFound(order_id)
    return order


def my_orders(ports: Ports, caller: Caller, *, cursor: str | None, limit: int) -> tuple[list[Order], str | None]:
    scope = f"orders|customer|{caller.sub}"
    page = ports.store.by_customer(caller.sub, start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def orders_by_status(
    ports: Ports, status: OrderStatus, *, cursor: str | None, limit: int
) -> tuple[list[Order], str | None]:
    scope = f"orders|status|{status.value}"
    page = ports.store.by_status(status, start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def find_orders(ports: Ports, wanted: OrderFilter, *, cursor: str | None, limit: int) -> tuple[list[Order], str | None]:
    """Staff's list: the orders matching every filter given, newest first. One index is queried, that of
    the most selective filter (a customer, then an email, then a status: PAID when none of the three is
    given), and the rest filter what it reads (`OrdersStore.filtered`), so a page may hold fewer than
    `limit` orders while `nextCursor` goes on. The cursor is bound to the whole filter."""
    scope = "orders|find|" + "|".join(
        str(value)
        for value in (wanted.status, wanted.customer_id, email_key(wanted.email or ""), wanted.start, wanted.end)
    )
    page = ports.store.filtered(wanted, start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def order_states(ports: Ports, order_ids: list[str]) -> OrderStatesOutput:
    """How each order stands, for payments' reconciliation: status, total, refunded total and the
    PaymentIntent orders recorded. Ids that are not orders (malformed, or never created) are `unknown`:
    a payment naming one belongs to no order. Read consistently, one order at a time (at most
    `MAX_ORDER_STATES`), so a status written a moment ago is seen."""
    items: list[OrderState] = []
    unknown: list[str] = []
    for order_id in dict.fromkeys(order_ids):
        order = ports.store.get_order(order_id) if is_order_id(order_id) else None
        if order is None:
            unknown.append(order_id)
            continue
        items.append(
            OrderState(
                order_id=order.order_id,
                status=order.status.value,
                total=order.total,
                refunded_total=order.refunded_total,
                payment_intent_id=order.payment_intent_id,
            )
        )
    return OrderStatesOutput(items=items, unknown=unknown)
