"""The ports of `orders.ports` over Lambda and Step Functions."""

import json
from typing import Any

from common.contracts import (
    CancelPaymentInput,
    CancelPaymentResult,
    PriceSkusInput,
    PriceSkusOutput,
    RefundInput,
    RefundResult,
    RestockInput,
    RestockResult,
)
from common.invoke import invoke
from common.observability import make_logger
from common.workflow import TaskCallbacks
from orders.settings import settings

logger = make_logger("orders")


class LambdaPricing:
    def price(self, skus: list[str]) -> PriceSkusOutput:
        payload = PriceSkusInput(skus=skus).model_dump(mode="json", by_alias=True)
        return PriceSkusOutput.model_validate(invoke(settings().price_skus_function, payload))


class LambdaPayments:
    def cancel(self, task: CancelPaymentInput) -> CancelPaymentResult:
        answer = invoke(settings().cancel_payment_function, task.model_dump(mode="json", by_alias=True))
        return CancelPaymentResult.model_validate(answer)

    def refund(self, task: RefundInput) -> RefundResult:
        answer = invoke(settings().refund_payment_function, task.model_dump(mode="json", by_alias=True))
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
        address = invoke(function, {"customerId": customer_id}).get("address")
        return dict(address) if address else None


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
