"""Staff's order list filtered by customer, buyer's email, creation days and status in any combination
(`GET /admin/orders`): one index query each (the most selective filter's), the rest filtered, pages
that may be short while the cursor goes on."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.auth import Caller
from orders import admin_api, logic
from orders.models import Order, OrderStatus, ShipmentIn
from orders.store import OrdersStore
from tests.proxy import Answer

from .conftest import PAYMENT, FakePricing, checkout_request, wired

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
ADA = Caller(sub="cust-ada", email="Ada@Example.com")
BOB = Caller(sub="cust-bob", email="bob@example.com")

List = Callable[..., Answer]


@pytest.fixture
def shop(store: OrdersStore, pricing: FakePricing) -> Callable[..., Order]:
    """Factory: `who` checks out on `day` (days after T0) and the order goes to `status`."""
    counter = iter(range(1, 1_000_000))

    def place(who: Caller, day: int, status: OrderStatus = OrderStatus.PENDING) -> Order:
        at = T0 + timedelta(days=day)
        ports = wired(store, pricing=pricing, clock=lambda: at)
        order = logic.checkout(ports, who, checkout_request(("MUG-BLUE", 1)), f"key-filter-{next(counter):06d}")
        for step in {OrderStatus.PENDING: [], OrderStatus.PAID: [OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID]}[
            status
        ]:
            order, _ = logic.transition(ports, order.order_id, step, payment=PAYMENT if step is not status else None)
        return order

    return place


@pytest.fixture
def listing(
    store: OrdersStore, pricing: FakePricing, monkeypatch: pytest.MonkeyPatch, api_event: Any, lambda_context: Any
) -> List:
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    monkeypatch.setattr(admin_api, "ports", lambda: wired(store, pricing=pricing))

    def send(group: str = "support", **query: Any) -> Answer:
        event = api_event("GET", "/admin/orders", groups=[group], sub="staff-1", query=query)
        return Answer.of(admin_api.handler(event, lambda_context))

    return send


def ids(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [item["orderId"] for item in answer.body["items"]]


def everything(listing: List, **query: Any) -> list[str]:
    """Every page of a query, `limit` at a time, followed to the end (pages may be short)."""
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        answer = listing(**query, **({"cursor": cursor} if cursor else {}))
        seen += ids(answer)
        assert len(answer.body["items"]) <= int(query.get("limit", 50))
        cursor = answer.body["nextCursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


@pytest.fixture
def orders(shop: Callable[..., Order]) -> dict[str, Order]:
    return {
        "ada1": shop(ADA, 0, OrderStatus.PAID),
        "ada2": shop(ADA, 2, OrderStatus.PENDING),
        "ada3": shop(ADA, 5, OrderStatus.PAID),
        "bob1": shop(BOB, 1, OrderStatus.PAID),
        "bob2": shop(BOB, 5, OrderStatus.PENDING),
    }


def test_orders_of_one_customer_in_every_status_newest_first(listing: List, orders: dict[str, Order]) -> None:
    assert ids(listing(customerId=ADA.sub)) == [orders[k].order_id for k in ("ada3", "ada2", "ada1")]


def test_orders_by_the_buyers_email_whatever_its_case(listing: List, orders: dict[str, Order]) -> None:
    assert ids(listing(email="ADA@example.COM")) == [orders[k].order_id for k in ("ada3", "ada2", "ada1")]
    assert ids(listing(email="ada@example.co")) == []


def test_filters_combine(listing: List, orders: dict[str, Order]) -> None:
    # customer and status
    assert ids(listing(customerId=ADA.sub, status="PAID")) == [orders[k].order_id for k in ("ada3", "ada1")]
    # email and days (both ends included, UTC days)
    assert ids(listing(email=ADA.email, **{"from": "2030-03-01", "to": "2030-03-03"})) == [
        orders[k].order_id for k in ("ada2", "ada1")
    ]
    # status and days
    assert ids(listing(status="PAID", **{"from": "2030-03-02"})) == [orders[k].order_id for k in ("ada3", "bob1")]
    assert ids(listing(status="PENDING", to="2030-03-05")) == [orders["ada2"].order_id]
    # customer and another customer's email: nothing
    assert ids(listing(customerId=ADA.sub, email=BOB.email)) == []
    # customer, email, status and days at once
    query = {"customerId": BOB.sub, "email": "BOB@example.com", "status": "PENDING", "from": "2030-03-06"}
    assert ids(listing(**query)) == [orders["bob2"].order_id]


def test_without_customer_or_email_the_status_defaults_to_paid(listing: List, orders: dict[str, Order]) -> None:
    assert ids(listing()) == [orders[k].order_id for k in ("ada3", "bob1", "ada1")]


def test_filtered_pages_may_be_short_but_the_cursor_finds_every_match(listing: List, orders: dict[str, Order]) -> None:
    # Given Ada's PAID orders are the first and the last of her three
    # When staff page one order at a time through her PAID ones
    seen = everything(listing, customerId=ADA.sub, status="PAID", limit=1)
    # Then both come, once each, newest first (a page in between may be empty)
    assert seen == [orders["ada3"].order_id, orders["ada1"].order_id]
    assert everything(listing, status="PAID", limit=2) == [orders[k].order_id for k in ("ada3", "bob1", "ada1")]


def test_a_cursor_belongs_to_its_filter(listing: List, orders: dict[str, Order]) -> None:
    cursor = listing(customerId=ADA.sub, limit=1).body["nextCursor"]
    assert cursor is not None
    refused = listing(customerId=BOB.sub, limit=1, cursor=cursor)
    assert refused.status == 400
    assert refused.error["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "query", [{"from": "yesterday"}, {"to": "2030-13-01"}, {"customerId": "a b"}, {"email": "x"}, {"status": "LOST"}]
)
def test_malformed_filters_are_refused(listing: List, query: dict[str, str]) -> None:
    assert listing(**query).status == 422


def test_an_erased_buyers_orders_are_no_longer_found_by_email(
    store: OrdersStore, pricing: FakePricing, listing: List, orders: dict[str, Order]
) -> None:
    # Given Bob's orders, anonymised when he erased his data (one shipped, one cancelled: none still open)
    ports = wired(store, pricing=pricing)
    logic.ship(ports, orders["bob1"].order_id, ShipmentIn(carrier="DHL", tracking_number="B1"))
    logic.transition(ports, orders["bob2"].order_id, OrderStatus.CANCELLED)
    assert ids(listing(email=BOB.email))  # found before
    assert len(logic.anonymise_customer(ports, BOB.sub).anonymised) == 2
    # Then his email finds nothing; his id still finds the orders (kept for the books)
    assert ids(listing(email=BOB.email)) == []
    assert len(ids(listing(customerId=BOB.sub))) == 2
