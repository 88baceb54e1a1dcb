"""Orders against moto, in-process. The table is built from `template.yaml`'s `OrdersTable`, so tests and
template cannot drift; the catalog's prices, payments, inventory, the workflow and the event publisher
are fakes of our own ports (`orders.ports`), handed to the use cases in one `Ports` (the `ports` fixture,
or `wired(...)` for a test that builds its own store or fakes)."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    ShippingAddress,
)
from common.invoke import lambda_client
from common.money import Money
from common.workflow import sfn_client
from local.aws import MotoServer, client
from orders import logic
from orders.errors import RefundNotPossible
from orders.models import CheckoutIn, Order, OrderStatus, PaymentRef, ShipmentIn
from orders.ports import Clock, Customers, Deadlines, Inventory, Payments, Ports, Pricing, Publisher, Workflow, utc_now
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow
from tests.tables import create_table, scan
from tests.template import load, set_environment

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
PAYMENT = PaymentRef(payment_intent_id="pi_test_1", client_secret="pi_test_1_secret_x")


class NoDefaultAddress:
    """The customers port of a shop where nobody saved an address."""

    def default_address(self, customer_id: str) -> ShippingAddress | None:
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


def create_orders_table(dynamodb: Any, name: str | None = None) -> str:
    """The template's OrdersTable (stage `test`), under `name` if given."""
    return create_table(dynamodb, "OrdersTable", load("test")[1], name=name)


def raw_items(store: OrdersStore) -> list[dict[str, Any]]:
    """Every item of the table (a test may scan; the product may not)."""
    return scan(store.client, store.table)


@pytest.fixture
def store(aws: None) -> OrdersStore:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    return OrdersStore(create_orders_table(dynamodb), client=dynamodb)


@pytest.fixture
def server_store(server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> OrdersStore:
    """A store on a table of its own on the shared moto server, which serialises writes as DynamoDB does:
    for the tests that race use cases (in-process moto does not survive threads)."""
    set_environment(monkeypatch)
    dynamodb = client("dynamodb", server.endpoint)
    return OrdersStore(create_orders_table(dynamodb, f"orders-{uuid.uuid4().hex}"), client=dynamodb)


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


def wired(
    store: OrdersStore,
    *,
    pricing: Pricing | None = None,
    payments: Payments | None = None,
    inventory: Inventory | None = None,
    customers: Customers = NO_DEFAULT_ADDRESS,
    workflow: Workflow | None = None,
    publish: Publisher | None = None,
    deadlines: Deadlines | None = None,
    clock: Clock = utc_now,
) -> Ports:
    """The use cases' `Ports` over `store`: the fakes given, fresh ones for the rest."""
    return Ports(
        store=store,
        pricing=pricing or FakePricing(),
        payments=payments or FakePayments(),
        inventory=inventory or FakeInventory(),
        customers=customers,
        workflow=workflow or FakeWorkflow(),
        publish=publish or FakePublisher(),
        deadlines=deadlines or Deadlines(),
        clock=clock,
    )


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


@pytest.fixture
def ports(
    store: OrdersStore,
    pricing: FakePricing,
    payments: FakePayments,
    inventory: FakeInventory,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> Ports:
    """The ports a use case runs with: this test's store and fakes (the same objects its other fixtures
    are), so a test asserts on the fakes it asked for."""
    return wired(store, pricing=pricing, payments=payments, inventory=inventory, workflow=workflow, publish=publish)


def checkout_request(*items: tuple[str, int], **extra: Any) -> CheckoutIn:
    return CheckoutIn.model_validate(
        {"items": [{"sku": s, "quantity": q} for s, q in items], "shippingAddress": ADDRESS, **extra}
    )


OrderFactory = Callable[..., Order]


@pytest.fixture
def given_order(store: OrdersStore, ports: Ports, workflow: FakeWorkflow, publish: FakePublisher) -> OrderFactory:
    """Factory: an order of CUSTOMER (2 x TEE-RED-M + 1 x MUG-BLUE = 62.00) taken through the workflow's
    steps to `status`; the fakes' records are cleared afterwards, so a test sees only what it did."""

    counter = iter(range(1, 1_000_000))

    def make(status: OrderStatus = OrderStatus.PENDING, *, ship_token: str | None = None) -> Order:
        request = checkout_request(("TEE-RED-M", 2), ("MUG-BLUE", 1))
        order = logic.checkout(ports, CUSTOMER, request, f"key-setup-{next(counter):06d}")
        path = {
            OrderStatus.PENDING: [],
            OrderStatus.AWAITING_PAYMENT: [OrderStatus.AWAITING_PAYMENT],
            OrderStatus.PAID: [OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID],
            OrderStatus.SHIPPED: [OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID],
        }[status]
        for step in path:
            payment = PAYMENT if step is OrderStatus.AWAITING_PAYMENT else None
            order, changed = logic.transition(ports, order.order_id, step, payment=payment)
            assert changed
        if ship_token:
            logic.await_shipment(ports, order.order_id, ship_token)
        if status is OrderStatus.SHIPPED:
            order = logic.ship(ports, order.order_id, ShipmentIn(carrier="DHL", tracking_number="T1"))
        current = store.get_order(order.order_id)
        assert current is not None and current.status is status
        workflow.started.clear()
        workflow.succeeded.clear()
        workflow.failed.clear()
        publish.events.clear()
        return current

    return make
