"""Inventory against moto, in-process. The table is built from `template.yaml`'s `InventoryTable`, so
tests and template cannot drift; the event publisher and the workflow probe are fakes of our own ports."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from common.contracts import OrderLine, ReserveStockInput
from inventory import admin_api, logic
from inventory.models import AdjustmentIn, Stock
from inventory.store import InventoryStore
from tests.fakes import FakePublisher
from tests.proxy import Answer
from tests.tables import create_table, scan
from tests.template import function_environment, load

REGION = "eu-west-1"
TABLE = "inventory-test"
WINDOW = timedelta(minutes=15)
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
"""The tests' clock starts here; time moves by passing `now=`, never by sleeping."""


def create_inventory_table(dynamodb: Any, name: str = TABLE) -> None:
    """Create the template's InventoryTable (keys, attributes, indexes, billing) under `name`."""
    create_table(dynamodb, "InventoryTable", name=name)


def counters(store: InventoryStore, sku: str) -> tuple[int, int, int]:
    """(available, reserved, sold) of a SKU, read consistently from the table."""
    stock = store.get_stock(sku)
    assert stock is not None, f"no stock record for {sku}"
    return stock.available, stock.reserved, stock.sold


def raw_items(store: InventoryStore) -> list[dict[str, Any]]:
    """Every item of the table (a test may scan; the product may not)."""
    return scan(store.client, store.table)


def order(order_id: str, *lines: tuple[str, int]) -> ReserveStockInput:
    return ReserveStockInput(order_id=order_id, lines=[OrderLine(sku=sku, quantity=q) for sku, q in lines])


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    create_inventory_table(client)
    return client


@pytest.fixture
def store(dynamodb: Any) -> InventoryStore:
    return InventoryStore(TABLE, client=dynamodb)


@pytest.fixture
def publish() -> FakePublisher:
    return FakePublisher()


StockFactory = Callable[..., Stock]


@pytest.fixture
def given_stock(store: InventoryStore) -> StockFactory:
    """Factory: a SKU with `units` available (one restock adjustment) and a low-stock threshold."""

    def make(sku: str, units: int, *, threshold: int = 0) -> Stock:
        logic.ensure_stock(store, [sku], threshold=threshold)
        if units:
            logic.adjust(
                store,
                sku,
                AdjustmentIn(delta=units, reason="restock"),
                actor="test-setup",
                idempotency_key=None,
                publish=lambda _events: None,
            )
        stock = store.get_stock(sku)
        assert stock is not None
        return stock

    return make


# ---------------------------------------------------------------- the admin API, as Lambda calls it

ADMIN_FUNCTION = "InventoryAdminFunction"


def admin_function_environment() -> dict[str, str]:
    """InventoryAdminFunction's variables (Globals included) as the template resolves them."""
    return function_environment(load()[1], ADMIN_FUNCTION)


@pytest.fixture
def admin_world(aws: None, monkeypatch: pytest.MonkeyPatch) -> InventoryStore:
    """The admin function's environment, its table and the bus in moto; returns a store on that table
    (with its own client, so faults injected into the handler's client do not touch the test's reads)."""
    environment = admin_function_environment() | {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false"}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_inventory_table(dynamodb, environment["INVENTORY_TABLE"])
    boto3.client("events", region_name=REGION).create_event_bus(Name=environment["EVENT_BUS_NAME"])
    return InventoryStore(environment["INVENTORY_TABLE"], client=dynamodb)


@pytest.fixture
def call_admin(admin_world: InventoryStore, lambda_context: Any) -> Callable[[dict[str, Any]], Answer]:
    """Invoke `inventory.admin_api.handler` as Lambda would, and parse its proxy answer."""

    def call(event: dict[str, Any]) -> Answer:
        return Answer.of(admin_api.handler(event, lambda_context))

    return call
