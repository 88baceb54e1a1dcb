"""The payment steps of the order workflow, and the calls other domains make to payments.

- CreatePaymentIntent, AwaitPayment (`.waitForTaskToken`): workflow steps.
- CancelPayment: a workflow compensation, and what orders calls when a customer cancels.
- RefundPayment: what orders calls for a refund, and a workflow compensation.
- ListPaymentMethods: what customers calls for a customer's saved cards.
- ForgetCustomer: what customers calls to erase a customer (their Stripe Customer and our record of it).
Errors surface as the exception's class name (`PaymentCanceled`, `PaymentProviderUnavailable`, ...),
which the workflow's Retry and Catch match."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.contracts import (
    AwaitPaymentInput,
    CancelPaymentInput,
    CreatePaymentIntentInput,
    CustomerRef,
    ForgetCustomerInput,
    RefundInput,
)
from common.observability import make_logger
from payments import logic
from payments.wiring import callbacks, gateway, store

logger = make_logger("payments")


@logger.inject_lambda_context(correlation_id_path="orderId")
def create_payment_intent_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = CreatePaymentIntentInput.model_validate(event)
    stripe = gateway()
    ref = logic.create_intent(store(), stripe, task, accounts=stripe)
    logger.info("payment intent ready", extra={"paymentIntentId": ref.payment_intent_id})
    return ref.model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context(correlation_id_path="orderId")
def await_payment_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = AwaitPaymentInput.model_validate(event)
    return logic.await_payment(store(), callbacks(), task).model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context(correlation_id_path="orderId")
def cancel_payment_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = CancelPaymentInput.model_validate(event)
    result = logic.cancel(store(), gateway(), callbacks(), task)
    logger.info("payment cancelled", extra={"cancelled": result.cancelled, "refunded": bool(result.refunded)})
    return result.model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context(correlation_id_path="orderId")
def refund_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = RefundInput.model_validate(event)
    result = logic.refund(store(), gateway(), task)
    logger.info("refund made", extra={"refundId": task.refund_id, "amount": result.amount.amount})
    return result.model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context
def forget_customer_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """Erase a customer's Stripe Customer and our record of it (customers' `DELETE /me`)."""
    task = ForgetCustomerInput.model_validate(event)
    result = logic.forget_customer(store(), gateway(), task.customer_id)
    logger.info("customer forgotten", extra={"stripeCustomerDeleted": result.stripe_customer_deleted})
    return result.model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context
def list_payment_methods_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """The customer's saved cards (customers' `GET /me/payment-methods`), and their Stripe Customer id."""
    task = CustomerRef.model_validate(event)
    cards = logic.saved_cards(store(), gateway(), task.customer_id)
    logger.info("saved cards listed", extra={"count": len(cards.items)})
    return cards.model_dump(mode="json", by_alias=True)
