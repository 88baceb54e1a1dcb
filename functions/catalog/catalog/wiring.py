"""The adapters every catalog handler shares, built from the settings on first use."""

from functools import partial

from catalog.ports import Publisher
from catalog.settings import settings
from catalog.store import CatalogStore
from common.events import publish
from common.stock import StockReader


def store() -> CatalogStore:
    return CatalogStore(settings().catalog_table)


def publisher() -> Publisher:
    return partial(publish, domain="catalog", bus_name=settings().event_bus_name)


def stock() -> StockReader:
    """Inventory's stock levels, read-only, for the public product page."""
    return StockReader(settings().inventory_table)
