"""The adapters every inventory handler shares, built from the settings on first use."""

from functools import partial

from common.dynamo import dynamodb_client
from common.events import publish
from inventory.adapters import workflow_is_running
from inventory.ports import IsWaiting, Publisher
from inventory.settings import settings
from inventory.store import InventoryStore

_stores: dict[str, InventoryStore] = {}


def store() -> InventoryStore:
    """One store per table and client for the life of the process: what it learnt of hot SKUs' shards
    (where to try first) and their recent contention (when to add shards) outlives one invocation."""
    table, client = settings().inventory_table, dynamodb_client()
    kept = _stores.get(table)
    if kept is None or kept.client is not client:
        kept = _stores[table] = InventoryStore(table, client=client)
    return kept


def publisher() -> Publisher:
    return partial(publish, domain="inventory", bus_name=settings().event_bus_name)


def workflow() -> IsWaiting:
    return workflow_is_running
