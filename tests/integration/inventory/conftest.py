"""Inventory against moto, in-process. The table is built from `template.yaml`'s `InventoryTable`, so
tests and template cannot drift; the event publisher and the workflow probe are fakes of our own ports."""

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest

from common.contracts import OrderLine, ReserveStockInput
from common.events import DomainEvent
from inventory import admin_api, logic
from inventory.models import AdjustmentIn, Stock
from inventory.store import InventoryStore
from local.template import Resolver, Template

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
REGION = "eu-west-1"
TABLE = "inventory-test"
WINDOW = timedelta(minutes=15)
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
"""The tests' clock starts here; time moves by passing `now=`, never by sleeping."""


@cache
def _inventory_table_properties() -> dict[str, Any]:
    return dict(dict(Template(TEMPLATE).of_type("AWS::DynamoDB::Table"))["InventoryTable"])


def inventory_table_properties() -> dict[str, Any]:
    """The template's InventoryTable properties (it uses no intrinsic functions, so no resolver)."""
    return copy.deepcopy(_inventory_table_properties())


def create_inventory_table(dynamodb: Any, name: str = TABLE) -> None:
    """Create the template's InventoryTable (keys, attributes, indexes, billing) under `name`."""
    props = inventory_table_properties()
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode=props["BillingMode"],
    )


class FakePublisher:
    """Our `Publisher` port: remembers every event it is handed, in order."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def __call__(self, events: list[DomainEvent]) -> None:
        self.events.extend(events)

    def of_type(self, detail_type: str) -> list[DomainEvent]:
        return [event for event in self.events if event.detail_type == detail_type]


def counters(store: InventoryStore, sku: str) -> tuple[int, int, int]:
    """(available, reserved, sold) of a SKU, read consistently from the table."""
    stock = store.get_stock(sku)
    assert stock is not None, f"no stock record for {sku}"
    return stock.available, stock.reserved, stock.sold


def raw_items(store: InventoryStore) -> list[dict[str, Any]]:
    """Every item of the table (a test may scan; the product may not)."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": store.table, "ConsistentRead": True}
    while True:
        page = store.client.scan(**kwargs)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


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


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.body["error"]
        return error


def admin_function_environment() -> dict[str, str]:
    """InventoryAdminFunction's variables (Globals included) as the template resolves them."""
    template = Template(TEMPLATE)
    resolver = Resolver(template, template.parameter_defaults())
    props = template.resources[ADMIN_FUNCTION]["Properties"]
    variables = resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
    return {name: str(value) for name, value in variables.items()}


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
        raw: Any = admin_api.handler(event, lambda_context)
        headers = {k: v[-1] for k, v in (raw.get("multiValueHeaders") or {}).items()}
        headers.update(raw.get("headers") or {})
        body = json.loads(raw["body"]) if raw.get("body") else None
        return Answer(status=int(raw["statusCode"]), body=body, headers=headers)

    return call
