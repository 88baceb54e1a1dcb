"""Orders against moto, in-process. The table is built from `template.yaml`'s `OrdersTable`, so tests and
template cannot drift; the catalog's prices, payments, inventory, the workflow and the event publisher
are fakes of our own ports (`orders.ports`)."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from common.auth import ADMIN, SUPPORT, Caller
from common.contracts import (
    CancelPaymentInput,
    CancelPaymentResult,
    PricedSku,
    PriceSkusOutput,
    RefundInput,
    RefundResult,
    RestockInput,
    RestockResult,
)
from common.events import DomainEvent
from common.invoke import lambda_client
from common.money import Money
from common.workflow import sfn_client
from local.template import Resolver, Template
from orders import logic
from orders.errors import RefundNotPossible
from orders.models import CheckoutIn, Order, OrderStatus, ShipmentIn
from orders.store import OrdersStore

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
REGION = "eu-west-1"

CUSTOMER = Caller(sub="cust-1", email="ada@example.com")
OTHER_CUSTOMER = Caller(sub="cust-2", email="bob@example.com")
SUPPORT_STAFF = Caller(sub="staff-1", groups=frozenset({SUPPORT}))
ADMIN_STAFF = Caller(sub="staff-2", groups=frozenset({ADMIN}))
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postalCode": "N1 9GU",
    "country": "GB",
}
PAYMENT = {"paymentIntentId": "pi_test_1", "clientSecret": "pi_test_1_secret_x"}


class NoDefaultAddress:
    """The customers port of a shop where nobody saved an address."""

    def default_address(self, customer_id: str) -> dict[str, Any] | None:
        return None


NO_DEFAULT_ADDRESS = NoDefaultAddress()


@pytest.fixture(autouse=True)
def _fresh_order_caches() -> Iterator[None]:
    """Step Functions and Lambda clients are cached per process (per cold start)."""
    caches = (sfn_client, lambda_client)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


def orders_table_properties() -> tuple[str, dict[str, Any]]:
    """The template's OrdersTable: its local name and resolved properties."""
    template = Template(TEMPLATE)
    resolver = Resolver(template, template.parameter_defaults({"Stage": "test"}))
    props = resolver.resolve(dict(template.of_type("AWS::DynamoDB::Table"))["OrdersTable"])
    return str(resolver.ref("OrdersTable")), props


def create_orders_table(dynamodb: Any, name: str | None = None) -> str:
    default_name, props = orders_table_properties()
    table = name or default_name
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode=props["BillingMode"],
    )
    return table


def raw_items(store: OrdersStore) -> list[dict[str, Any]]:
    """Every item of the table (a test may scan; the product may not)."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": store.table, "ConsistentRead": True}
    while True:
        page = store.client.scan(**kwargs)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def store(aws: None) -> OrdersStore:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    return OrdersStore(create_orders_table(dynamodb), client=dynamodb)


# ---------------------------------------------------------------- fakes of our own ports


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def priced(sku: str, amount: int, *, active: bool = True) -> PricedSku:
    return PricedSku(
        sku=sku, product_id=f"p_{sku.lower()}", name=f"Product {sku}", category="Tees", price=eur(amount), active=active
    )


@dataclass
class FakePricing:
    """Our `Pricing` port: the catalog as a dict; SKUs not in it come back `unknown`."""

    catalog: dict[str, PricedSku] = field(default_factory=dict)
    asked: list[list[str]] = field(default_factory=list)

    def price(self, skus: list[str]) -> PriceSkusOutput:
        self.asked.append(list(skus))
        return PriceSkusOutput(
            items=[self.catalog[s] for s in skus if s in self.catalog],
            unknown=[s for s in skus if s not in self.catalog],
        )


@dataclass
class FakePayments:
    """Our `Payments` port, as the payments domain answers: a refund id is refunded once (a repeat is
    answered again), totals add up per order. `cancelled` is what a cancel answers (False: it was paid);
    `refuse` makes a refund fail as the adapter answers a remote PaymentRejected (`RefundNotPossible`)."""

    cancelled: bool = True
    refuse: bool = False
    cancels: list[CancelPaymentInput] = field(default_factory=list)
    refunds: list[RefundInput] = field(default_factory=list)
    _made: dict[tuple[str, str], RefundResult] = field(default_factory=dict)

    def cancel(self, task: CancelPaymentInput) -> CancelPaymentResult:
        self.cancels.append(task)
        return CancelPaymentResult(order_id=task.order_id, cancelled=self.cancelled)

    def refund(self, task: RefundInput) -> RefundResult:
        self.refunds.append(task)
        if self.refuse:
            raise RefundNotPossible("the payment provider refused the refund: Stripe refused the request")
        key = (task.order_id, task.refund_id)
        if key not in self._made:
            assert task.amount is not None, "orders always names the amount"
            before = sum(r.amount.amount for (order, _), r in self._made.items() if order == task.order_id)
            self._made[key] = RefundResult(
                order_id=task.order_id,
                refund_id=task.refund_id,
                provider_refund_id=f"re_{len(self._made) + 1}",
                amount=task.amount,
                refunded_total=eur(before + task.amount.amount),
            )
        return self._made[key]


@dataclass
class FakeInventory:
    """Our `Inventory` port: remembers every restock asked."""

    restocks: list[RestockInput] = field(default_factory=list)

    def restock(self, task: RestockInput) -> RestockResult:
        self.restocks.append(task)
        return RestockResult(order_id=task.order_id, restocked=task.lines)


@dataclass
class FakeWorkflow:
    """Our `Workflow` port: remembers every start and resume, in order (thread-safe)."""

    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    succeeded: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, order_id: str, execution_input: dict[str, Any]) -> None:
        with self._lock:
            self.started.append((order_id, execution_input))

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        self.succeeded.append((token, output))
        return True

    def fail(self, token: str, error: str, cause: str) -> bool:
        self.failed.append((token, error, cause))
        return True


class FakePublisher:
    """Our `Publisher` port: remembers every event it is handed, in order (thread-safe)."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []
        self._lock = threading.Lock()

    def __call__(self, events: list[DomainEvent]) -> None:
        with self._lock:
            self.events.extend(events)

    def of_type(self, detail_type: str) -> list[DomainEvent]:
        return [e for e in self.events if e.detail_type == detail_type]

    @property
    def types(self) -> list[str]:
        return [e.detail_type for e in self.events]


@pytest.fixture
def pricing() -> FakePricing:
    return FakePricing(
        catalog={
            "TEE-RED-M": priced("TEE-RED-M", 2500),
            "MUG-BLUE": priced("MUG-BLUE", 1200),
            "OLD-HAT": priced("OLD-HAT", 900, active=False),
        }
    )


@pytest.fixture
def payments() -> FakePayments:
    return FakePayments()


@pytest.fixture
def inventory() -> FakeInventory:
    return FakeInventory()


@pytest.fixture
def workflow() -> FakeWorkflow:
    return FakeWorkflow()


@pytest.fixture
def publish() -> FakePublisher:
    return FakePublisher()


def checkout_request(*items: tuple[str, int], **extra: Any) -> CheckoutIn:
    return CheckoutIn.model_validate(
        {"items": [{"sku": s, "quantity": q} for s, q in items], "shippingAddress": ADDRESS, **extra}
    )


OrderFactory = Callable[..., Order]


@pytest.fixture
def given_order(
    store: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow, publish: FakePublisher
) -> OrderFactory:
    """Factory: an order of CUSTOMER (2 x TEE-RED-M + 1 x MUG-BLUE = 62.00) taken through the workflow's
    steps to `status`; the fakes' records are cleared afterwards, so a test sees only what it did."""

    counter = iter(range(1, 1_000_000))

    def make(status: OrderStatus = OrderStatus.PENDING, *, ship_token: str | None = None) -> Order:
        request = checkout_request(("TEE-RED-M", 2), ("MUG-BLUE", 1))
        order = logic.checkout(
            store, pricing, NO_DEFAULT_ADDRESS, workflow, publish, CUSTOMER, request, f"key-setup-{next(counter):06d}"
        )
        path = {
            OrderStatus.PENDING: [],
            OrderStatus.AWAITING_PAYMENT: [OrderStatus.AWAITING_PAYMENT],
            OrderStatus.PAID: [OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID],
            OrderStatus.SHIPPED: [OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID],
        }[status]
        for step in path:
            payment = PAYMENT if step is OrderStatus.AWAITING_PAYMENT else None
            order, changed = logic.transition(store, publish, order.order_id, step, payment=payment)
            assert changed
        if ship_token:
            logic.await_shipment(store, workflow, order.order_id, ship_token)
        if status is OrderStatus.SHIPPED:
            order = logic.ship(
                store, workflow, publish, order.order_id, ShipmentIn(carrier="DHL", tracking_number="T1")
            )
        current = store.get(order.order_id)
        assert current is not None and current.status is status
        workflow.started.clear()
        workflow.succeeded.clear()
        workflow.failed.clear()
        publish.events.clear()
        return current

    return make
