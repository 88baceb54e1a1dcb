"""Affiliates against moto, in-process. The table, the bus and the functions' environment come from
`template.yaml` (AffiliatesTable, AffiliatesApiFunction, AffiliateEventsFunction,
ApproveCommissionsFunction), the user pool is a moto pool shaped like the template's (email as user
name, an `affiliate` group). Handlers are called as Lambda calls them, with real event shapes."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from affiliates import api, jobs
from local.template import Physical
from tests.bus import BusObserver
from tests.proxy import Answer
from tests.tables import create_table, scan
from tests.template import function_environment, load, set_environment

REGION = "eu-west-1"
FUNCTIONS = (
    "AffiliatesApiFunction",
    "AffiliateEventsFunction",
    "AffiliateClicksFunction",
    "ApproveCommissionsFunction",
)
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
"""Orders in these tests are placed and paid around here; time moves by passing `now`, never by sleeping."""


@dataclass(frozen=True)
class User:
    email: str
    sub: str


@dataclass
class AffiliatesWorld:
    """What a test can look at behind the handlers' back: the table, the pool and the bus."""

    table: str
    pool_id: str
    dynamodb: Any
    cognito: Any
    observer: BusObserver

    def items(self) -> list[dict[str, Any]]:
        return scan(self.dynamodb, self.table)

    def commission_items(self) -> list[dict[str, Any]]:
        return [item for item in self.items() if item["SK"]["S"].startswith("COMM#")]

    def groups_of(self, user: User) -> set[str]:
        groups = self.cognito.admin_list_groups_for_user(UserPoolId=self.pool_id, Username=user.email)["Groups"]
        return {g["GroupName"] for g in groups}

    def published(self) -> list[dict[str, Any]]:
        """The events published since the last look, oldest first."""
        return self.observer.published()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AffiliatesWorld]:
    set_environment(monkeypatch)
    from affiliates.adapters import cognito_client

    cognito_client.cache_clear()
    template, resolver = load()
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool_props = resolver.resolve(template.resources["UserPool"]["Properties"])
        pool = cognito.create_user_pool(
            PoolName=str(pool_props["UserPoolName"]), UsernameAttributes=pool_props["UsernameAttributes"]
        )["UserPool"]
        cognito.create_group(UserPoolId=pool["Id"], GroupName="affiliate")
        resolver.bind("UserPool", Physical(pool["Id"], {"Arn": pool["Arn"]}))
        environment = function_environment(resolver, *FUNCTIONS)
        set_environment(monkeypatch, environment)

        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = create_table(dynamodb, "AffiliatesTable", resolver)
        assert table == environment["AFFILIATES_TABLE"]
        events = boto3.client("events", region_name=REGION)
        bus = environment["EVENT_BUS_NAME"]
        events.create_event_bus(Name=bus)
        observer = BusObserver.on(events, boto3.client("sqs", region_name=REGION), bus)
        yield AffiliatesWorld(table, pool["Id"], dynamodb, cognito, observer)
    cognito_client.cache_clear()


# ---------------------------------------------------------------- people


@pytest.fixture
def new_user(world: AffiliatesWorld) -> Callable[[str], User]:
    """Factory: a confirmed user of the pool (email as user name, as in the template)."""

    def make(email: str) -> User:
        world.cognito.admin_create_user(
            UserPoolId=world.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}],
            MessageAction="SUPPRESS",
        )
        attributes = world.cognito.admin_get_user(UserPoolId=world.pool_id, Username=email)["UserAttributes"]
        sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
        return User(email, sub)

    return make


# ---------------------------------------------------------------- the API, as API Gateway calls it


Call = Callable[..., Answer]


@pytest.fixture
def call(world: AffiliatesWorld, api_event: Callable[..., dict[str, Any]], lambda_context: Any) -> Call:
    """`call("GET", "/affiliates/me", user=..., groups=[...])`: one request through `affiliates.api.handler`.
    With `user`, the claims are that user's as Cognito issues them (`sub`, `email`, `cognito:username`,
    which with email sign-in is the sub); with only `groups`, a made-up caller; with neither, no claims."""

    def request(
        method: str,
        path: str,
        *,
        user: User | None = None,
        groups: list[str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Answer:
        event = api_event(
            method, path, body=body, headers=headers, query=query, groups=groups, sub=user.sub if user else None
        )
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "affiliates" and parts[2] in ("approve", "payouts"):
            event["resource"] = f"/affiliates/{{affiliateId}}/{parts[2]}"
            event["pathParameters"] = {"affiliateId": parts[1]}
        if user is not None:
            claims = event["requestContext"]["authorizer"]["claims"]
            claims |= {"email": user.email, "cognito:username": user.sub}
        return Answer.of(api.handler(event, lambda_context))

    return request


APPLICATION = {
    "name": "Trail Tales",
    "website": "https://trailtales.example.com",
    "payoutEmail": "pay@trailtales.example",
}


@dataclass(frozen=True)
class Partner:
    """An approved affiliate: the user, their account id, code and rate."""

    user: User
    affiliate_id: str
    code: str
    rate: float


@pytest.fixture
def approved_affiliate(call: Call, new_user: Callable[[str], User]) -> Callable[..., Partner]:
    """Factory: a user applies and an admin approves them at `rate`, through the API."""
    counter = iter(range(1, 10_000))

    def make(rate: float = 0.10, email: str | None = None) -> Partner:
        user = new_user(email or f"partner{next(counter)}@example.com")
        applied = call("POST", "/affiliates", user=user, body=APPLICATION)
        assert applied.status == 201, applied.body
        affiliate_id = applied.body["affiliateId"]
        approved = call("POST", f"/affiliates/{affiliate_id}/approve", groups=["admin"], body={"commissionRate": rate})
        assert approved.status == 200, approved.body
        return Partner(user, affiliate_id, applied.body["code"], rate)

    return make


# ---------------------------------------------------------------- order events, as the bus delivers them


def snapshot(
    order_id: str,
    *,
    total: int,
    code: str | None,
    customer_id: str = "customer-1",
    refunded: int = 0,
    status: str = "PAID",
    placed_at: datetime | None = None,
    discount: int = 0,
) -> dict[str, Any]:
    """An `OrderSnapshot` as orders publishes it (camelCase JSON)."""

    def money(amount: int) -> dict[str, Any]:
        return {"amount": amount, "currency": "EUR"}

    placed = placed_at or datetime.now(UTC)
    return {
        "orderId": order_id,
        "customerId": customer_id,
        "status": status,
        "lines": [
            {
                "sku": "MUG-INK",
                "productId": "p_01m8bh86hh0p4ppmth3yzfc71g",
                "name": "Stoneware Mug",
                "category": "kitchen",
                "quantity": 1,
                "unitPrice": money(total + discount),
                "lineTotal": money(total + discount),
            }
        ],
        "subtotal": money(total + discount),
        "discount": money(discount),
        "total": money(total),
        "refundedTotal": money(refunded),
        "couponCode": "SPRING" if discount else None,
        "affiliateCode": code,
        "attribution": None,
        "createdAt": placed.isoformat(),
        "reason": None,
    }


def bus_event(detail_type: str, event_id: str, data: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """The EventBridge event a rule delivers to its Lambda target."""
    occurred = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "version": "0",
        "id": f"eb-{event_id}",
        "detail-type": detail_type,
        "source": "storekeeper.orders",
        "account": "123456789012",
        "time": occurred[:19] + "Z",
        "region": REGION,
        "resources": [],
        "detail": {"eventId": event_id, "occurredAt": occurred, "data": data},
    }


def paid(order: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    return bus_event("OrderPaid", f"OrderPaid#{order['orderId']}", order, at)


def refunded(order: dict[str, Any], refund_id: str, amount: int, refunded_total: int) -> dict[str, Any]:
    after = {**order, "refundedTotal": {"amount": refunded_total, "currency": "EUR"}, "status": "REFUNDED"}
    data = {"order": after, "refundId": refund_id, "amount": {"amount": amount, "currency": "EUR"}, "restocked": False}
    return bus_event("OrderRefunded", f"OrderRefunded#{order['orderId']}#{refund_id}", data)


def cancelled(order: dict[str, Any], refunded_total: int) -> dict[str, Any]:
    after = {**order, "refundedTotal": {"amount": refunded_total, "currency": "EUR"}, "status": "CANCELLED"}
    return bus_event("OrderCancelled", f"OrderCancelled#{order['orderId']}", after)


Deliver = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def deliver(world: AffiliatesWorld, lambda_context: Any) -> Deliver:
    """Hand a bus event to `affiliates.jobs.order_events_handler` as the EventBridge rule would."""
    return lambda event: jobs.order_events_handler(event, lambda_context)


@pytest.fixture
def run_approval(world: AffiliatesWorld, lambda_context: Any) -> Callable[[datetime], dict[str, Any]]:
    """Run the daily approval job as if it were `now`."""
    return lambda now: jobs.approve_handler({"now": now.isoformat()}, lambda_context)


def days(n: float) -> timedelta:
    return timedelta(days=n)
