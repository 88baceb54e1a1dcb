"""What several order use cases share: the order id's shape, the 404 for an order one may not see, the
event every order fact is announced with, and the digest that ties an idempotency key to its request."""

import hashlib
import json

from pydantic import BaseModel

from common.auth import ADMIN, SUPPORT
from common.events import DomainEvent, new_event
from orders.errors import OrderNotFound
from orders.models import Order
from orders.store import OrdersStore

ORDER_ID_PREFIX = "o"
STAFF = (ADMIN, SUPPORT)


def is_order_id(order_id: str) -> bool:
    """Only ids of our own shape reach the table (a path parameter may be anything)."""
    return order_id.startswith(f"{ORDER_ID_PREFIX}_") and len(order_id) == 28 and order_id[2:].isalnum()


def existing(store: OrdersStore, order_id: str) -> Order:
    """The order, or `OrderNotFound` (read consistently)."""
    order = store.get_order(order_id) if is_order_id(order_id) else None
    if order is None:
        raise OrderNotFound(order_id)
    return order


def order_event(order: Order, detail_type: str) -> DomainEvent:
    """An order event, its id derived from the fact: announcing it again (a retry) repeats the same id."""
    return new_event(detail_type, f"{detail_type}#{order.order_id}", order.snapshot())


def digest(request: BaseModel) -> str:
    """A request's fingerprint: the same key with another body is refused, with the same body answered."""
    canonical = json.dumps(request.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
