"""Orders that need staff: flagged when a workflow step failed for good or the money does not add up,
listed for staff, re-driven or settled by hand."""

from dataclasses import dataclass
from typing import Any

from common.auth import Caller
from common.cursor import decode_cursor, encode_cursor
from common.errors import Conflict
from common.store import iso
from orders.errors import OrderNotFound
from orders.logic.checkout import execution_input
from orders.logic.shared import existing, is_order_id
from orders.models import Actor, CaughtError, Order, OrderStatus, StatusChange
from orders.ports import Ports


@dataclass(frozen=True)
class Flagged:
    order: Order
    raised: bool
    """Whether this put the order on the queue (False: it was there already; a retried task, a
    redelivered event), so staff's alarm counts orders, not deliveries."""


def flag(ports: Ports, order_id: str, reason: str, source: str) -> Flagged:
    """Put the order on the staff queue (`GET /admin/orders?attention=true`): a step failed after all its
    retries, or reconciliation found money that does not add up. Flagging twice keeps one entry."""
    attention = {"reason": reason[:500], "source": source, "since": iso(ports.clock())}
    flagged = ports.store.flag(order_id, attention) if is_order_id(order_id) else None
    if flagged is None:
        raise OrderNotFound(order_id)
    return Flagged(*flagged)


def workflow_failure(error: CaughtError | None, execution: str) -> str:
    """A readable reason from a Catch's `{Error, Cause}` (the Cause is often Lambda's JSON error)."""
    error = error or CaughtError()
    return f"workflow {execution} stopped: {error.error or 'unknown error'}: {error.message()}"[:500]


def orders_needing_attention(ports: Ports, *, cursor: str | None, limit: int) -> tuple[list[Order], str | None]:
    scope = "orders|attention"
    page = ports.store.needing_attention(start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def resume_point(order: Order) -> str | None:
    """Where a re-driven workflow picks up, by what the order says: an unpaid order is compensated (cancel
    or refund at Stripe, stock back, CANCELLED); a paid order being cancelled is refunded and restocked; a
    paid order waits for its shipment again. An order in a final status has no workflow to resume."""
    if order.status in (OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT):
        return "compensate"
    if order.status is OrderStatus.PAID:
        return "refund" if order.cancellation is not None else "shipment"
    return None


def redrive(ports: Ports, caller: Caller, order_id: str) -> Order:
    """Staff re-drive a flagged order: a new execution (named after the order and the re-drive's number,
    so a retried request starts it once) resumes where the failed one stopped. If it fails again, it flags
    the order again."""
    order = existing(ports.store, order_id)
    if order.attention is None:
        raise Conflict(f"order {order_id} is not waiting for staff", code="not_flagged")
    resume = resume_point(order)
    if resume is None:
        raise Conflict(
            f"order {order_id} is {order.status.value}: there is no workflow to resume; settle it by hand and "
            "clear the flag",
            code="nothing_to_redrive",
        )
    note = _staff_note(ports, order, caller, f"re-driven by staff ({resume})")
    cleared = ports.store.clear_flag(order_id, note, redrives=True)
    if cleared is None:  # another staff member re-drove it first
        return ports.store.get_order(order_id) or order
    reason = order.reason or str((order.cancellation or {}).get("reason") or "cancelled after a failed step")
    resumed = execution_input(order, ports.deadlines) | {"resume": resume, "reason": reason}
    ports.workflow.start(f"{order_id}-redrive-{cleared.redrives}", resumed)
    return cleared


def clear_attention(ports: Ports, caller: Caller, order_id: str, note: str) -> Order:
    """Staff settled a flagged order by hand: take it off the queue, with their note in its history."""
    order = existing(ports.store, order_id)
    cleared = ports.store.clear_flag(order_id, _staff_note(ports, order, caller, f"settled by staff: {note}"))
    if cleared is None:
        raise Conflict(f"order {order_id} is not waiting for staff", code="not_flagged")
    return cleared


def _staff_note(ports: Ports, order: Order, caller: Caller, what: str) -> dict[str, Any]:
    who = caller.email or caller.sub
    change = StatusChange(status=order.status, at=ports.clock(), reason=f"{what} — {who}"[:500], actor=Actor.of(caller))
    return change.model_dump(mode="json")
