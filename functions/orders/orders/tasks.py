"""The orders steps of the order workflow: status transitions (with their events) and the shipment
callback."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common.contracts import (
    AnonymisedOrders,
    AttentionRequested,
    CustomerRef,
    DisputeClosed,
    IssueCouponInput,
    IssuedCoupon,
    OrderStatesInput,
    OutOfStockDetail,
    PaymentDisputed,
)
from common.events import receive
from common.money import Money
from common.observability import make_logger, make_metrics
from orders import logic
from orders.coupons import CouponIn
from orders.logic import disputes
from orders.models import CaughtError, OrderStatus, PaymentRef
from orders.wiring import ports

logger = make_logger("orders")
metrics = make_metrics("orders")


class TransitionInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    order_id: str = Field(min_length=1, max_length=64)
    to: OrderStatus
    reason: str | None = Field(default=None, max_length=500)
    payment: PaymentRef | None = None
    short: list[dict[str, Any]] | None = None
    refunded: Money | None = None
    restocked: bool = False
    error: CaughtError | None = Field(default=None, description="A Catch's {Error, Cause}: why, for REJECTED")

    def why(self) -> tuple[str | None, list[dict[str, Any]] | None]:
        """The reason and the short SKUs, from the reason given or from the failed step's error (for
        ReserveStock's `OutOfStock`, inventory's `OutOfStockDetail` as JSON in Lambda's error)."""
        if self.error is None:
            return self.reason, self.short
        try:
            detail = OutOfStockDetail.model_validate_json(self.error.message())
        except ValueError:
            return self.reason or self.error.error, self.short
        short = [s.model_dump(mode="json", by_alias=True) for s in detail.short] if detail.short is not None else None
        return (
            detail.message if detail.message is not None else self.reason,
            short if short is not None else self.short,
        )


class AwaitShipmentInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    order_id: str = Field(min_length=1, max_length=64)
    task_token: str = Field(min_length=1, max_length=2048)


@logger.inject_lambda_context(correlation_id_path="orderId")
@metrics.log_metrics
def transition_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = TransitionInput.model_validate(event)
    reason, short = task.why()
    order, changed = logic.transition(
        ports(),
        task.order_id,
        task.to,
        reason=reason,
        payment=task.payment,
        short=short,
        refunded=task.refunded,
        restocked=task.restocked,
    )
    logger.info("order status", extra={"status": order.status.value, "changed": changed})
    if changed:  # a retried step moves nothing and counts nothing
        _business_metrics(order.status, order.total)
    return {"orderId": order.order_id, "status": order.status.value, "changed": changed}


def _business_metrics(status: OrderStatus, total: Money) -> None:
    """Revenue (minor units, per currency) on PAID; out-of-stock rejections on REJECTED."""
    if status is OrderStatus.PAID:
        metrics.add_dimension(name="currency", value=total.currency)
        metrics.add_metric(name="Revenue", unit=MetricUnit.NoUnit, value=total.amount)
        metrics.add_metric(name="OrdersPaid", unit=MetricUnit.Count, value=1)
    elif status is OrderStatus.REJECTED:
        metrics.add_metric(name="OutOfStockRejections", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(correlation_id_path="orderId")
def await_shipment_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = AwaitShipmentInput.model_validate(event)
    logic.await_shipment(ports(), task.order_id, task.task_token)
    return {"orderId": task.order_id, "waiting": True}


class FlagOrderInput(BaseModel):
    """The workflow's NeedsAttention step: the order, the Catch's `{Error, Cause}` and the execution."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    order_id: str = Field(min_length=1, max_length=64)
    error: CaughtError | None = None
    execution: str = Field(default="", max_length=200)


@logger.inject_lambda_context(correlation_id_path="orderId")
@metrics.log_metrics
def flag_order_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """A workflow step failed after all its retries: flag the order for staff (the alarm counts it)."""
    task = FlagOrderInput.model_validate(event)
    reason = logic.workflow_failure(task.error, task.execution)
    flagged = logic.flag(ports(), task.order_id, reason, "workflow")
    logger.error("order needs staff", extra={"reason": reason})
    metrics.add_metric(name="OrdersNeedingAttention", unit=MetricUnit.Count, value=int(flagged.raised))
    return {"orderId": task.order_id, "flagged": True}


@logger.inject_lambda_context
@metrics.log_metrics
def attention_requested_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """`AttentionRequested` from the bus (reconciliation, webhooks): flag the order for staff. Flagging
    twice keeps one entry and counts one order needing attention, so a redelivered event changes nothing
    more."""
    requested = receive(event).payload_as(AttentionRequested)
    flagged = logic.flag(ports(), requested.order_id, requested.reason, requested.source)
    logger.error("order needs staff", extra={"orderId": requested.order_id, "source": requested.source})
    metrics.add_metric(name="OrdersNeedingAttention", unit=MetricUnit.Count, value=int(flagged.raised))
    return {"orderId": requested.order_id, "flagged": True}


@logger.inject_lambda_context
@metrics.log_metrics
def dispute_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """`PaymentDisputed` / `DisputeClosed` from payments: the order shows the dispute and its outcome.
    A redelivered or out-of-order event writes the same again (`orders.logic.disputes`)."""
    received = receive(event)
    payload = received.payload
    if not isinstance(payload, PaymentDisputed | DisputeClosed):
        raise TypeError(f"not a dispute event: {received.detail_type}")
    recorded = disputes.record_dispute(ports(), payload)
    logger.warning("payment disputed", extra={"orderId": recorded.order_id, "event": received.detail_type})
    metrics.add_metric(name="PaymentsDisputed", unit=MetricUnit.Count, value=int(isinstance(payload, PaymentDisputed)))
    return {"orderId": recorded.order_id, "dispute": received.detail_type}


@logger.inject_lambda_context
def issue_coupon_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """Create a coupon for another domain (the customers' win-back job); a retry answers the same code."""
    task = IssueCouponInput.model_validate(event)
    coupon = logic.create_coupon(
        ports(), CouponIn.model_validate(task.model_dump(mode="json", by_alias=True, exclude_none=True))
    )
    return IssuedCoupon(code=coupon.code).model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context
def anonymise_customer_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """Redact a customer's personal data from their orders (customers' `DELETE /me`); safe to retry."""
    task = CustomerRef.model_validate(event)
    result = logic.anonymise_customer(ports(), task.customer_id)
    logger.info("customer's orders anonymised", extra={"anonymised": len(result.anonymised), "open": len(result.open)})
    return AnonymisedOrders(anonymised=result.anonymised, open=result.open).model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context
def order_states_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """How the orders named stand (payments' reconciliation asks; it never reads the orders table)."""
    task = OrderStatesInput.model_validate(event)
    states = logic.order_states(ports(), task.order_ids)
    logger.info("order states read", extra={"asked": len(task.order_ids), "unknown": len(states.unknown)})
    return states.model_dump(mode="json", by_alias=True)
