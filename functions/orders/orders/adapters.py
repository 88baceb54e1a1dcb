"""The ports of `orders.ports` over Lambda and Step Functions. Another domain's errors stop here: the
failures orders knows by name become its own errors, any other is a 5xx (`common.invoke`)."""

import json
from typing import Any

from common.contracts import (
    CancelPaymentInput,
    CancelPaymentResult,
    CustomerRef,
    DefaultAddress,
    PriceSkusInput,
    PriceSkusOutput,
    RefundInput,
    RefundResult,
    RestockInput,
    RestockResult,
)
from common.invoke import RemoteError, invoke
from common.observability import make_logger
from common.workflow import TaskCallbacks
from orders.errors import RefundNotPossible
from orders.settings import settings

logger = make_logger("orders")

REFUND_REFUSALS = frozenset({"PaymentRejected", "PaymentNotFound"})
"""The errors of payments' RefundPaymentFunction that are a refusal of this refund, by class name. Any
other failure is the callee's (a 5xx); the amount set aside for the refund stays, for a retry."""


class LambdaPricing:
    def price(self, skus: list[str]) -> PriceSkusOutput:
        payload = PriceSkusInput(skus=skus).model_dump(mode="json", by_alias=True)
        return PriceSkusOutput.model_validate(invoke(settings().price_skus_function, payload))


class LambdaPayments:
    def cancel(self, task: CancelPaymentInput) -> CancelPaymentResult:
        answer = invoke(settings().cancel_payment_function, task.model_dump(mode="json", by_alias=True))
        return CancelPaymentResult.model_validate(answer)

    def refund(self, task: RefundInput) -> RefundResult:
        """`RefundNotPossible` when payments refuses the refund (Stripe refused it, nothing is left to
        refund, or there is no payment): payments has given back what it set aside, and so may orders."""
        try:
            answer = invoke(
                settings().refund_payment_function,
                task.model_dump(mode="json", by_alias=True),
                expected=REFUND_REFUSALS,
            )
        except RemoteError as error:
            raise RefundNotPossible(f"the payment provider refused the refund: {error.message}") from error
        return RefundResult.model_validate(answer)


class LambdaInventory:
    def restock(self, task: RestockInput) -> RestockResult:
        answer = invoke(settings().restock_function, task.model_dump(mode="json", by_alias=True))
        return RestockResult.model_validate(answer)


class LambdaCustomers:
    def default_address(self, customer_id: str) -> dict[str, Any] | None:
        function = settings().default_address_function
        if not function:
            return None
        payload = CustomerRef(customer_id=customer_id).model_dump(mode="json", by_alias=True)
        found = DefaultAddress.model_validate(invoke(function, payload)).address
        return found.model_dump(mode="json", by_alias=True, exclude_none=True) if found else None


class StepFunctionsWorkflow(TaskCallbacks):
    def start(self, execution_name: str, execution_input: dict[str, Any]) -> None:
        """Start an execution named after the order (or its re-drive): starting it twice is harmless."""
        try:
            self.client.start_execution(
                stateMachineArn=settings().order_state_machine_arn,
                name=execution_name,
                input=json.dumps(execution_input),
            )
        except self.client.exceptions.ExecutionAlreadyExists:
            logger.info("the order's workflow already runs")
