"""The ports of `payments.ports` over AWS: orders' `OrderStatesFunction` (Lambda) and the workflow's
callbacks (`common.workflow.TaskCallbacks`). The Stripe ports are implemented in `payments.gateway`, the
only module that imports `stripe` (lazily, so code paths that never call Stripe do not pay for it)."""

from common.contracts import CALLS, OrderStatesInput, OrderStatesOutput
from common.invoke import invoke


class LambdaOrders:
    """Orders' `OrderStatesFunction`: how orders stand, asked of their owner (never its table). Its
    contract names no error a caller may catch: a transient failure is `ServiceUnavailable`, any other
    `DependencyFailed` (`common.invoke`), and either fails the run, which its scheduler retries."""

    def __init__(self, function: str) -> None:
        self.function = function

    def states(self, order_ids: list[str]) -> OrderStatesOutput:
        payload = OrderStatesInput(order_ids=order_ids).model_dump(mode="json", by_alias=True)
        expected = CALLS["OrderStatesFunction"].errors
        return OrderStatesOutput.model_validate(invoke(self.function, payload, expected=expected))
