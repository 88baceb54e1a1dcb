"""What every orders handler runs with: `ports()` builds the one `Ports` object a use case takes, from
the settings, on each call (the adapters are cheap; their clients are cached per process)."""

from functools import partial

from common.events import publish
from common.stock import StockReader
from orders.adapters import LambdaCustomers, LambdaInventory, LambdaPayments, LambdaPricing, StepFunctionsWorkflow
from orders.ports import Deadlines, Ports, Publisher
from orders.settings import settings
from orders.store import OrdersStore


def store() -> OrdersStore:
    return OrdersStore(settings().orders_table)


def stock() -> StockReader:
    """Inventory's stock levels, read-only (quotes)."""
    return StockReader(settings().inventory_table)


def publisher() -> Publisher:
    return partial(publish, domain="orders", bus_name=settings().event_bus_name)


def deadlines() -> Deadlines:
    config = settings()
    return Deadlines(config.hold_seconds, config.shipment_days * 24 * 3600)


def ports() -> Ports:
    return Ports(
        store=store(),
        pricing=LambdaPricing(),
        payments=LambdaPayments(),
        inventory=LambdaInventory(),
        customers=LambdaCustomers(),
        workflow=StepFunctionsWorkflow(),
        publish=publisher(),
        deadlines=deadlines(),
        prices_include_tax=settings().prices_include_tax,
    )
