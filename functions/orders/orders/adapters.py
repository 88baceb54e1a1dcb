"""The ports of `orders.ports` over Lambda and Step Functions. Another domain's answers are parsed
through their `common.contracts` model here, and its errors stop here: the error types its contract
lists (`CALLS[...].errors`) become orders' own errors, any other failure is a 5xx (`common.invoke`)."""

import json
from typing import Any

from pydantic import BaseModel

from common.contracts import (
    CALLS,
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
    ShippingAddress,
)
from common.invoke import RemoteError, invoke
from common.observability import make_logger
from common.workflow import TaskCallbacks
from orders.errors import RefundNotPossible
from orders.settings import settings

logger = make_logger("orders")


def _call(logical_id: str, function: str, task: BaseModel) -> dict[str, Any]:
    """Invoke `function` (the template's `logical_id`) with its contract's input. The errors its contract
    names come back as `RemoteError`, for the adapter to translate; any other failure is a 5xx."""
    return invoke(function, task.model_dump(mode="json", by_alias=True), expected=CALLS[logical_id].errors)


class LambdaPricing:
    def price(self, skus: list[str]) -> PriceSkusOutput:
        answer = _call("PriceSkusFunction", settings().price_skus_function, PriceSkusInput(skus=skus))
        return PriceSkusOutput.model_validate(answer)


class LambdaPayments:
    def cancel(self, task: CancelPaymentInput) -> CancelPaymentResult:
        answer = _call("CancelPaymentFunction", settings().cancel_payment_function, task)
        return CancelPaymentResult.model_validate(answer)

    def refund(self, task: RefundInput) -> RefundResult:
        """`RefundNotPossible` when payments refuses the refund (every error its contract names is a
        refusal: Stripe refused it, nothing is left to refund, or there is no payment): payments has given
        back what it set aside, and so may orders. Any other failure is a 5xx; the outcome is unknown."""
        try:
            answer = _call("RefundPaymentFunction", settings().refund_payment_function, task)
        except RemoteError as error:
            raise RefundNotPossible(f"the payment provider refused the refund: {error.message}") from error
        return RefundResult.model_validate(answer)


class LambdaInventory:
    def restock(self, task: RestockInput) -> RestockResult:
        return RestockResult.model_validate(_call("RestockFunction", settings().restock_function, task))


class LambdaCustomers:
    def default_address(self, customer_id: str) -> ShippingAddress | None:
        function = settings().default_address_function
        if not function:
            return None
        answer = _call("DefaultAddressFunction", function, CustomerRef(customer_id=customer_id))
        return DefaultAddress.model_validate(answer).address


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
