"""The adapters every orders handler shares, built from the settings on first use."""

from functools import partial

from common.events import publish
from orders.adapters import LambdaCustomers, LambdaInventory, LambdaPayments, LambdaPricing, StepFunctionsWorkflow
from orders.logic import Deadlines, Publisher
from orders.settings import settings
from orders.store import OrdersStore


def store() -> OrdersStore:
    return OrdersStore(settings().orders_table)


def publisher() -> Publisher:
    return partial(publish, domain="orders", bus_name=settings().event_bus_name)


def pricing() -> LambdaPricing:
    return LambdaPricing()


def payments() -> LambdaPayments:
    return LambdaPayments()


def inventory() -> LambdaInventory:
    return LambdaInventory()


def workflow() -> StepFunctionsWorkflow:
    return StepFunctionsWorkflow()


def customers() -> LambdaCustomers:
    return LambdaCustomers()


def deadlines() -> Deadlines:
    config = settings()
    return Deadlines(config.hold_seconds, config.shipment_days * 24 * 3600)
