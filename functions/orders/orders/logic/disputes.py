"""A customer's bank disputes the order's payment: payments publishes `PaymentDisputed` and, once decided,
`DisputeClosed` (WON or LOST); the order shows the dispute and its outcome (`OrderOut.dispute`). The two
halves are kept apart on the order, each written whole, so they may arrive in any order and any number of
times: a redelivery writes the same again, and a `closed` before its `opened` shows its outcome at once."""

from common.contracts import DisputeClosed, PaymentDisputed
from orders.errors import OrderNotFound
from orders.logic.shared import is_order_id
from orders.models import Order
from orders.ports import Ports


def record_dispute(ports: Ports, event: PaymentDisputed | DisputeClosed) -> Order:
    if isinstance(event, PaymentDisputed):
        attribute = "dispute"
        value = {
            "disputeId": event.dispute_id,
            "amount": event.amount.model_dump(mode="json"),
            "reason": event.reason,
            "openedAt": event.opened_at,
        }
    else:
        attribute = "dispute_closed"
        value = {
            "disputeId": event.dispute_id,
            "amount": event.amount.model_dump(mode="json"),
            "status": event.status.value,
            "closedAt": event.closed_at,
        }
    recorded = ports.store.set_dispute(event.order_id, attribute, value) if is_order_id(event.order_id) else None
    if recorded is None:
        raise OrderNotFound(event.order_id)
    return recorded
