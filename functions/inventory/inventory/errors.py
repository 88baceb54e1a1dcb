"""Inventory's domain errors. Their class names are also the `Error` names the order workflow's
`Catch` clauses match, so renaming one is a change to the state machine too."""

import json
from collections.abc import Sequence

from common.contracts import ShortSku
from common.errors import Conflict, NotFound, ValidationFailed


class OutOfStock(Conflict):
    code = "out_of_stock"

    def __init__(self, short: Sequence[ShortSku]) -> None:
        names = ", ".join(f"{s.sku} (asked {s.requested}, {s.available} left)" for s in short)
        super().__init__(f"not enough stock: {names}", details={"short": [s.model_dump() for s in short]})
        self.short = list(short)

    def __str__(self) -> str:
        """JSON, because `str(error)` is the `errorMessage` Lambda reports and the order workflow passes
        on: the order records which SKUs were short without parsing prose."""
        return json.dumps({"message": self.message, "short": self.details["short"]})


class TooManySkus(ValidationFailed):
    code = "too_many_skus"

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"an order may hold at most {limit} distinct SKUs, this one has {count}",
            details=[{"field": "body.items", "message": f"at most {limit} distinct SKUs", "type": "too_many_skus"}],
        )


class StockNotFound(NotFound):
    code = "stock_not_found"

    def __init__(self, sku: str) -> None:
        super().__init__(f"no stock record for SKU {sku}")


class InsufficientStock(Conflict):
    """An adjustment would take `available` below zero."""

    code = "insufficient_stock"

    def __init__(self, sku: str, delta: int, available: int) -> None:
        super().__init__(
            f"cannot remove {-delta} of {sku}: only {available} available",
            details={"sku": sku, "delta": delta, "available": available},
        )


class HoldNotFound(NotFound):
    code = "hold_not_found"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no stock is held for order {order_id}")


class HoldReleased(Conflict):
    """Commit of a hold that was released (by a cancellation, or the sweeper)."""

    code = "hold_released"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"the stock held for order {order_id} was released")


class HoldCommitted(Conflict):
    """Release of a hold that was already committed: that stock is sold, a refund restocks it."""

    code = "hold_committed"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"the stock held for order {order_id} is already sold")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used for a different adjustment")
