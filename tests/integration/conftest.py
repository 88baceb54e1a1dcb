"""Catalog handlers against moto, in-process. Tables, bus and the handlers' environment all come from
`template.yaml`, so a change there is a change here."""

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catalog import admin_api, public_api
from local.aws import MotoServer
from local.stripe import DEFAULT_BINARY, LocalStripe
from tests.bus import BusObserver
from tests.proxy import Answer
from tests.tables import create_tables, scan
from tests.template import function_environment, load, set_environment

ADMIN_FUNCTION = "CatalogAdminFunction"
PUBLIC_FUNCTION = "CatalogPublicFunction"
REGION = "eu-west-1"


@dataclass
class CatalogWorld:
    """What a test can look at behind the handlers' back: the raw table and the events on the bus."""

    table: str
    inventory_table: str
    bus: str
    observer: BusObserver
    dynamodb: Any

    def items(self) -> list[dict[str, Any]]:
        """Every item of the catalog table (a test may scan; the handlers may not)."""
        return scan(self.dynamodb, self.table)

    def item(self, pk: str, sk: str = "META") -> dict[str, Any] | None:
        response = self.dynamodb.get_item(TableName=self.table, Key={"PK": {"S": pk}, "SK": {"S": sk}})
        item: dict[str, Any] | None = response.get("Item")
        return item

    def published(self) -> list[dict[str, Any]]:
        """The events published since the last look, oldest first."""
        return self.observer.published()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[CatalogWorld]:
    """A fresh moto account with the template's tables and bus, and the catalog functions' environment."""
    template, resolver = load()
    environment = function_environment(resolver, PUBLIC_FUNCTION, ADMIN_FUNCTION)
    set_environment(monkeypatch, environment)
    # Lambda sets the environment before importing the handler; here the module came first, so give its
    # Metrics the namespace it would have read at import.
    monkeypatch.setattr(admin_api.metrics, "namespace", environment["POWERTOOLS_METRICS_NAMESPACE"])

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(dynamodb, resolver)
        events = boto3.client("events", region_name=REGION)
        for logical_id, _ in template.of_type("AWS::Events::EventBus"):
            events.create_event_bus(Name=str(resolver.ref(logical_id)))
        bus = environment["EVENT_BUS_NAME"]
        yield CatalogWorld(
            table=environment["CATALOG_TABLE"],
            inventory_table=environment.get("INVENTORY_TABLE", ""),
            bus=bus,
            observer=BusObserver.on(events, boto3.client("sqs", region_name=REGION), bus),
            dynamodb=dynamodb,
        )


def catalog_view(product: dict[str, Any]) -> dict[str, Any]:
    """A product answer without the per-variant stock fields only the public detail fills in."""
    variants = [
        {k: v for k, v in variant.items() if k not in ("inStock", "available")} for variant in product["variants"]
    ]
    return {**product, "variants": variants}


Handler = Callable[[dict[str, Any]], Answer]


@pytest.fixture
def call_public(world: CatalogWorld, lambda_context: Any) -> Handler:
    """Invoke `catalog.public_api.handler` as Lambda would."""
    return lambda event: Answer.of(public_api.handler(event, lambda_context))


@pytest.fixture
def call_admin(world: CatalogWorld, lambda_context: Any) -> Handler:
    """Invoke `catalog.admin_api.handler` as Lambda would."""
    return lambda event: Answer.of(admin_api.handler(event, lambda_context))


_sku_counter = iter(range(1, 1_000_000))


def product_body(**overrides: Any) -> dict[str, Any]:
    """A valid create/replace body; every call gets fresh SKUs unless `variants` is given."""
    n = next(_sku_counter)
    body: dict[str, Any] = {
        "name": f"Plain Tee {n}",
        "description": "A soft cotton tee.",
        "category": "Tees",
        "tags": ["cotton"],
        "price": {"amount": 2000, "currency": "EUR"},
        "variants": [
            {"sku": f"TEE-{n}-S", "attributes": {"size": "S"}},
            {"sku": f"TEE-{n}-M", "attributes": {"size": "M"}, "price": {"amount": 2500, "currency": "EUR"}},
        ],
        "images": ["https://cdn.example.com/tee.jpg"],
    }
    body.update(overrides)
    return body


@pytest.fixture
def create_product(call_admin: Handler, api_event: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Factory: create a product through the admin API as an admin; returns the created product's JSON."""

    def create(**overrides: Any) -> dict[str, Any]:
        answer = call_admin(api_event("POST", "/products", body=product_body(**overrides), groups=["admin"]))
        assert answer.status == 201, answer.body
        created: dict[str, Any] = answer.body
        return created

    return create


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh moto account for one test, with no way to reach real AWS."""
    set_environment(monkeypatch)
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def server() -> Iterator[MotoServer]:
    """moto in server mode, as the local stack runs it (DynamoDB requests serialised like DynamoDB's
    writes to an item): for tests that need real concurrency, which in-process moto does not survive."""
    moto = MotoServer(port=0)
    moto.start()
    yield moto
    moto.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One localstripe for every integration suite (a subprocess: it is GPL, never imported)."""
    if not Path(DEFAULT_BINARY).exists():
        pytest.skip(f"localstripe is not installed at {DEFAULT_BINARY} (make install)")
    server = LocalStripe(free_port(), tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    server.start()
    yield server.url
    server.stop()
