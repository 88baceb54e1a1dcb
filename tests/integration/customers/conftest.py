"""Customers against moto, in-process. The customers and inventory tables and the functions'
environment come from `template.yaml`, so tests and template cannot drift. Payments (saved cards) and
orders (coupons) are fakes of our own ports (`customers.ports`); SES is moto's."""

import importlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws

from common.contracts import ForgetCustomerResult, IssueCouponInput, SavedCard, SavedCards
from common.invoke import lambda_client
from customers import adapters, api, jobs
from customers.store import CustomersStore
from local.template import Physical, Resolver, Template
from tests import tables
from tests.proxy import Answer
from tests.template import function_environment, load, set_environment

REGION = "eu-west-1"
FUNCTIONS = (
    "CustomersPublicFunction",
    "CustomersApiFunction",
    "CustomersAdminFunction",
    "CustomerEventsFunction",
    "CustomerCountersFunction",
    "WinBackFunction",
    "DefaultAddressFunction",
)
T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
"""The tests' clock: orders are dated from here; time moves by passing `now`, never by sleeping."""


@pytest.fixture(autouse=True)
def _fresh_customer_caches() -> Iterator[None]:
    caches = (lambda_client, adapters.ses_client, adapters.cognito_client)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


def _template() -> tuple[Template, Resolver]:
    return load("test")


def functions_environment(user_pool_id: str = "eu-west-1_NotCreated") -> dict[str, str]:
    """The customers functions' variables (Globals included) as the template resolves them, with the
    user pool the test made (the local stack would have created it)."""
    _, resolver = _template()
    resolver.bind("UserPool", Physical(user_pool_id, {"Arn": f"arn:aws:cognito-idp:{REGION}:123456789012:userpool/x"}))
    return function_environment(resolver, *FUNCTIONS)


Handler = Callable[[dict[str, Any], Any], Any]


@cache
def route_handlers() -> list[tuple[str, re.Pattern[str], str, Handler]]:
    """(method, path pattern, function, handler) of every customers API route, as template.yaml binds them:
    a request reaches the function API Gateway would hand it to, so a route in the wrong one fails."""
    template, _ = _template()
    found = []
    for route in template.routes():
        handler = str(template.resources[route.function]["Properties"]["Handler"])
        if route.method == "OPTIONS" or not handler.startswith("customers."):
            continue
        module, _, name = handler.rpartition(".")
        pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", route.path) + "$")
        found.append((route.method, pattern, route.function, getattr(importlib.import_module(module), name)))
    return found


def create_table(dynamodb: Any, logical_id: str) -> str:
    """The template's table `logical_id` under its stage-`test` name."""
    return tables.create_table(dynamodb, logical_id, _template()[1])


# ---------------------------------------------------------------- fakes of our own ports


@dataclass
class FakePayments:
    """Our `Payments` port: the cards payments would list for each customer."""

    cards: dict[str, SavedCards] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)

    def saved_cards(self, customer_id: str) -> SavedCards:
        self.asked.append(customer_id)
        return self.cards.get(customer_id, SavedCards())

    def give(self, customer_id: str, stripe_id: str, *cards: tuple[str, str, int, int]) -> None:
        items = [SavedCard(brand=b, last4=l4, exp_month=m, exp_year=y) for b, l4, m, y in cards]
        self.cards[customer_id] = SavedCards(stripe_customer_id=stripe_id, items=items)

    def forget(self, customer_id: str) -> ForgetCustomerResult:
        """As `ForgetCustomerFunction`: the Stripe Customer (and its cards) goes; a second time finds none."""
        self.forgotten.append(customer_id)
        known = self.cards.pop(customer_id, None)
        deleted = known is not None and known.stripe_customer_id is not None
        return ForgetCustomerResult(customer_id=customer_id, stripe_customer_deleted=deleted)


@dataclass
class FakeLogins:
    """Our `Logins` port: the customer ids whose login was deleted, in order."""

    deleted: list[str] = field(default_factory=list)

    def delete(self, customer_id: str) -> None:
        self.deleted.append(customer_id)


@dataclass
class FakeCoupons:
    """Our `Coupons` port, as orders' IssueCouponFunction behaves: a code is issued once; issuing it
    again (a retry) answers it again. `fail_next` makes the next call fail as a transient error would."""

    issued: dict[str, IssueCouponInput] = field(default_factory=dict)
    calls: int = 0
    fail_next: bool = False

    def issue(self, request: IssueCouponInput) -> str:
        self.calls += 1
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("orders is briefly unavailable (fake)")
        self.issued.setdefault(request.code, request)
        return request.code


# ---------------------------------------------------------------- the world


@dataclass
class World:
    store: CustomersStore
    dynamodb: Any
    ses: Any
    inventory_table: str
    payments: FakePayments
    coupons: FakeCoupons
    context: Any
    reads: list[int] = field(default_factory=list)
    logins: FakeLogins = field(default_factory=FakeLogins)
    cognito: Any = None
    user_pool_id: str = ""

    # -------------------------------------------------- given
    def stock(self, sku: str, available: int) -> None:
        """Inventory's stock item of a SKU, as inventory keeps it (we only ever read it)."""
        item = {
            "PK": {"S": f"SKU#{sku}"},
            "SK": {"S": "STOCK"},
            "sku": {"S": sku},
            "available": {"N": str(available)},
            "reserved": {"N": "0"},
            "sold": {"N": "0"},
            "threshold": {"N": "5"},
        }
        self.dynamodb.put_item(TableName=self.inventory_table, Item=item)

    def product(
        self, product_id: str, *, name: str | None = None, status: str = "ACTIVE", version: int = 1, stock: int = 10
    ) -> None:
        """The catalog announces a product (one SKU); inventory has `stock` of it."""
        sku = f"SKU-{product_id.upper()}"
        data = {
            "productId": product_id,
            "name": name or f"Product {product_id}",
            "status": status,
            "version": version,
            "variants": [{"sku": sku, "price": {"amount": 1000, "currency": "EUR"}}],
        }
        self.deliver("ProductChanged", f"ProductChanged#{product_id}#{version}", data, source="storekeeper.catalog")
        self.stock(sku, stock)

    def deliver(
        self, detail_type: str, event_id: str, data: dict[str, Any], *, source: str = "storekeeper.orders"
    ) -> Any:
        """An EventBridge event as the rules hand it over: to CustomerEventsFunction (its answer is
        returned) and, an `OrderPaid`, to CustomerCountersFunction through the counters' queue (a batch of
        one, which must leave no failure)."""
        event = bus_event(detail_type, event_id, data, source=source)
        answer = jobs.order_events_handler(event, self.context)
        if detail_type == "OrderPaid":
            assert jobs.counters_handler(sqs_batch(event), self.context) == {"batchItemFailures": []}
        return answer

    # -------------------------------------------------- when
    def call(self, event: dict[str, Any]) -> Answer:
        """The request as API Gateway routes it: to the function template.yaml names for the route."""
        method, path = event["httpMethod"], event["path"]
        routed = [h for m, pattern, _, h in route_handlers() if m == method and pattern.match(path)]
        assert routed, f"template.yaml routes no customers function for {method} {path}"
        raw: Any = routed[0](event, self.context)
        return Answer.of(raw)

    # -------------------------------------------------- then
    def items(self) -> list[dict[str, Any]]:
        """Every item of the customers table (a test may scan; the handlers may not)."""
        found = tables.scan(self.dynamodb, self.store.table)
        return sorted(found, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))

    def sent_mail(self) -> list[dict[str, Any]]:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
        return [
            {"to": m.destinations["ToAddresses"], "subject": m.subject, "body": m.body, "source": m.source}
            for m in backend.sent_messages
        ]

    def count_reads(self) -> Callable[[], int]:
        """Count the items DynamoDB returns to the handlers from now on (queries and batch reads)."""
        counter = {"items": 0}

        def after_call(parsed: dict[str, Any], **_: Any) -> None:
            if "Items" in parsed:
                counter["items"] += len(parsed["Items"])
            for items in (parsed.get("Responses") or {}).values():
                counter["items"] += len(items)
            if "Item" in parsed:
                counter["items"] += 1

        from common.dynamo import dynamodb_client

        dynamodb_client().meta.events.register("after-call.dynamodb", after_call)
        return lambda: counter["items"]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Iterator[World]:
    """The customers tables, SES and the template's user pool in moto; payments, coupons and logins are
    fakes (a test may put the real `CognitoLogins` back: the pool is there)."""
    set_environment(monkeypatch)
    payments, coupons, logins = FakePayments(), FakeCoupons(), FakeLogins()
    monkeypatch.setattr(api, "payments", lambda: payments)
    monkeypatch.setattr(api, "logins", lambda: logins)
    monkeypatch.setattr(jobs, "coupons", lambda: coupons)
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        template, resolver = _template()
        pool_props = resolver.resolve(template.resources["UserPool"]["Properties"])
        pool_id = cognito.create_user_pool(
            PoolName=str(pool_props["UserPoolName"]), UsernameAttributes=pool_props["UsernameAttributes"]
        )["UserPool"]["Id"]
        environment = functions_environment(pool_id)
        set_environment(monkeypatch, environment)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = create_table(dynamodb, "CustomersTable")
        assert table == environment["CUSTOMERS_TABLE"]
        inventory = create_table(dynamodb, "InventoryTable")
        ses = boto3.client("ses", region_name=REGION)
        ses.verify_domain_identity(Domain=environment["SHOP_SENDER_EMAIL"].rsplit("@", 1)[1])
        yield World(
            store=CustomersStore(table, client=dynamodb),
            dynamodb=dynamodb,
            ses=ses,
            inventory_table=inventory,
            payments=payments,
            coupons=coupons,
            context=lambda_context,
            logins=logins,
            cognito=cognito,
            user_pool_id=pool_id,
        )


# ---------------------------------------------------------------- order events


def bus_event(
    detail_type: str, event_id: str, data: dict[str, Any], *, source: str = "storekeeper.orders"
) -> dict[str, Any]:
    """An event as EventBridge delivers it (to a function, or as the body of a queue's message)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2030-03-01T12:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {"eventId": event_id, "occurredAt": T0.isoformat(), "data": data},
    }


def sqs_batch(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """Bus events as the counters' queue hands them to CustomerCountersFunction in one batch: each
    record's body is the EventBridge event (a string is taken as the body as it is). Message ids are
    `m0`, `m1`... in order."""
    return {
        "Records": [
            {
                "messageId": f"m{n}",
                "receiptHandle": f"handle-{n}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1900000000000"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:storekeeper-customer-counters-test",
                "awsRegion": REGION,
            }
            for n, body in enumerate(bodies)
        ]
    }


def line(product_id: str, quantity: int = 1, *, price: int = 1000, category: str = "kitchen") -> dict[str, Any]:
    return {
        "sku": f"SKU-{product_id.upper()}",
        "productId": product_id,
        "name": f"Product {product_id}",
        "category": category,
        "quantity": quantity,
        "unitPrice": {"amount": price, "currency": "EUR"},
        "lineTotal": {"amount": price * quantity, "currency": "EUR"},
    }


def snapshot(
    order_id: str,
    customer: str,
    lines: list[dict[str, Any]],
    *,
    status: str = "PAID",
    refunded: int = 0,
    created_at: datetime = T0,
) -> dict[str, Any]:
    total = sum(item["lineTotal"]["amount"] for item in lines)

    def eur(amount: int) -> dict[str, Any]:
        return {"amount": amount, "currency": "EUR"}

    return {
        "orderId": order_id,
        "customerId": customer,
        "status": status,
        "lines": lines,
        "subtotal": eur(total),
        "discount": eur(0),
        "total": eur(total),
        "refundedTotal": eur(refunded),
        "createdAt": created_at.isoformat(),
    }


def paid(world: World, order_id: str, customer: str, *lines: dict[str, Any], created_at: datetime = T0) -> Any:
    return world.deliver(
        "OrderPaid", f"OrderPaid#{order_id}", snapshot(order_id, customer, list(lines), created_at=created_at)
    )


def refunded(
    world: World, order_id: str, customer: str, lines: list[dict[str, Any]], *, refund_id: str, amount: int, total: int
) -> Any:
    status = "REFUNDED" if total >= sum(item["lineTotal"]["amount"] for item in lines) else "PARTIALLY_REFUNDED"
    data = {
        "order": snapshot(order_id, customer, lines, status=status, refunded=total),
        "refundId": refund_id,
        "amount": {"amount": amount, "currency": "EUR"},
        "restocked": False,
    }
    return world.deliver("OrderRefunded", f"OrderRefunded#{order_id}#{refund_id}", data)
