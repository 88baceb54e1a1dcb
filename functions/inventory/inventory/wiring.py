"""The adapters every inventory handler shares, built from the settings on first use."""

from functools import partial

from common.events import publish
from inventory.adapters import workflow_is_running
from inventory.ports import IsWaiting, Publisher
from inventory.settings import settings
from inventory.store import InventoryStore


def store() -> InventoryStore:
    return InventoryStore(settings().inventory_table)


def publisher() -> Publisher:
    return partial(publish, domain="inventory", bus_name=settings().event_bus_name)


def workflow() -> IsWaiting:
    return workflow_is_running
