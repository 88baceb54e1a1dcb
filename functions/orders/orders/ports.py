"""The other parts of the system orders calls: the catalog's prices, payments, inventory, customers, the
order workflow and the event bus. Logic sees them as these protocols, gathered with the store in one
`Ports` object that `orders.wiring` builds for a handler and each use case takes first; `orders.adapters`
implements them over Lambda and Step Functions, and tests pass fakes.

The payloads that cross these borders are `common.contracts` models; the errors are orders' own."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from common.contracts import (
    CancelPaymentInput,
    CancelPaymentResult,
    PriceSkusOutput,
    RefundInput,
    RefundResult,
    RestockInput,
    RestockResult,
    ShippingAddress,
    StockLevel,
)
from common.events import DomainEvent
from orders.store import OrdersStore


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
    def default_address(self, customer_id: str) -> ShippingAddress | None: ...


class StockLevels(Protocol):
    """Inventory's stock read model, read-only (`common.stock.StockReader`): what a quote shows as available."""

    def levels(self, skus: Iterable[str]) -> dict[str, StockLevel | None]: ...


class Workflow(Protocol):
    def start(self, execution_name: str, execution_input: dict[str, Any]) -> None:
        """Start an execution; one with this name already started is not an error (a retry)."""
        ...

    def succeed(self, token: str, output: dict[str, Any]) -> bool: ...
    def fail(self, token: str, error: str, cause: str) -> bool: ...


Publisher = Callable[[list[DomainEvent]], None]
"""Puts events on the bus; raises if any was refused (consumers dedupe by event id, so a retry re-sends)."""

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deadlines:
    """How long the workflow waits for the payment (the stock hold window) and for the shipment."""

    payment_seconds: int = 15 * 60
    shipment_seconds: int = 30 * 24 * 3600


@dataclass(frozen=True)
class Ports:
    """Everything a use case reaches outside itself, in one object: one argument instead of a list of
    them, and one place (`orders.wiring.ports`) that decides what is real. A use case takes only what it
    uses from it; tests build it with fakes and a fixed `clock`."""

    store: OrdersStore
    pricing: Pricing
    payments: Payments
    inventory: Inventory
    customers: Customers
    workflow: Workflow
    publish: Publisher
    deadlines: Deadlines = field(default_factory=Deadlines)
    clock: Clock = utc_now
    prices_include_tax: bool = True
    """The shop's tax mode (template parameter `PricesIncludeTax`): whether catalog and shipping prices
    include tax, or tax is added on top (`common.pricing.price`)."""
