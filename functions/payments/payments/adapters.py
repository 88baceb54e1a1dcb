"""The ports payments reaches other domains through, over Lambda."""

from common.contracts import OrderStatesInput, OrderStatesOutput
from common.invoke import invoke


class LambdaOrders:
    """Orders' `OrderStatesFunction`: how orders stand, asked of their owner (never its table)."""

    def __init__(self, function: str) -> None:
        self.function = function

    def states(self, order_ids: list[str]) -> OrderStatesOutput:
        payload = OrderStatesInput(order_ids=order_ids).model_dump(mode="json", by_alias=True)
        return OrderStatesOutput.model_validate(invoke(self.function, payload))
