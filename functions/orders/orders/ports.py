"""The other parts of the system orders calls: the catalog's prices, payments, inventory and the order
workflow. Logic sees them as these protocols; `orders.adapters` implements them over Lambda and Step
Functions, and tests pass fakes."""

from typing import Any, Protocol

from common.contracts import (
    CancelPaymentInput,
    CancelPaymentResult,
    PriceSkusOutput,
    RefundInput,
    RefundResult,
    RestockInput,
    RestockResult,
)


class Pricing(Protocol):
    def price(self, skus: list[str]) -> PriceSkusOutput: ...


class Payments(Protocol):
    def cancel(self, task: CancelPaymentInput) -> CancelPaymentResult: ...
    def refund(self, task: RefundInput) -> RefundResult:
        """`RefundNotPossible` if payments refuses it; any other failure leaves the outcome unknown."""
        ...


class Inventory(Protocol):
    def restock(self, task: RestockInput) -> RestockResult: ...


class Customers(Protocol):
    def default_address(self, customer_id: str) -> dict[str, Any] | None: ...


class Workflow(Protocol):
    def start(self, execution_name: str, execution_input: dict[str, Any]) -> None:
        """Start an execution; one with this name already started is not an error (a retry)."""
        ...

    def succeed(self, token: str, output: dict[str, Any]) -> bool: ...
    def fail(self, token: str, error: str, cause: str) -> bool: ...
