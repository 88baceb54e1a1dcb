"""`AnonymiseOrdersFunction`: a customer's erasure redacts the person from their orders, keeps the
orders (lines, totals, refunds) for the books, leaves orders still to ship alone, and may be retried."""

from typing import Any

from orders import logic, tasks, wiring
from orders.logic import erasure
from orders.models import OrderStatus, ShipmentIn
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow

from .conftest import ADDRESS, CUSTOMER, OTHER_CUSTOMER, FakePayments, OrderFactory, raw_items

ERASED = logic.ERASED


def test_anonymising_redacts_addresses_and_keeps_the_books(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, publish: FakePublisher, workflow: FakeWorkflow
) -> None:
    # Given a shipped order and a refunded one of the customer
    shipped = given_order(OrderStatus.SHIPPED)
    refunded, _ = logic.transition(ports, given_order(OrderStatus.PAID).order_id, OrderStatus.REFUNDED)
    # When the customer's orders are anonymised
    result = logic.anonymise_customer(ports, CUSTOMER.sub)
    # Then both lose the name, street, city and postal code, and keep their country, lines and totals
    assert sorted(result.anonymised) == sorted([shipped.order_id, refunded.order_id]) and result.open == []
    for before in (shipped, refunded):
        after = store.get_order(before.order_id)
        assert after is not None and after.anonymised
        assert after.shipping_address == {
            "name": ERASED,
            "line1": ERASED,
            "city": ERASED,
            "postalCode": ERASED,
            "country": ADDRESS["country"],
        }
        assert (after.lines, after.total, after.refunded_total, after.status) == (
            before.lines,
            before.total,
            before.refunded_total,
            before.status if before is shipped else OrderStatus.REFUNDED,
        )
        assert after.customer_id == CUSTOMER.sub
    # And no stored item of the table carries the address any more
    assert ADDRESS["line1"] not in str(raw_items(store)) and ADDRESS["name"] not in str(raw_items(store))


def test_orders_still_to_ship_are_left_and_named(ports: Ports, store: OrdersStore, given_order: OrderFactory) -> None:
    # Given a paid order not yet shipped, and one awaiting payment
    paid = given_order(OrderStatus.PAID)
    awaiting = given_order(OrderStatus.AWAITING_PAYMENT)
    # When the customer's orders are anonymised
    result = logic.anonymise_customer(ports, CUSTOMER.sub)
    # Then they keep their address (the shop must still deliver) and are named as open
    assert result.anonymised == [] and sorted(result.open) == sorted([paid.order_id, awaiting.order_id])
    assert store.get_order(paid.order_id).shipping_address == ADDRESS  # type: ignore[union-attr]


def test_a_customers_own_cancellation_words_are_redacted(
    ports: Ports,
    store: OrdersStore,
    given_order: OrderFactory,
    payments: FakePayments,
    workflow: FakeWorkflow,
    publish: FakePublisher,
) -> None:
    # Given an order the customer cancelled "because I am moving to 3 Elm Road"
    order = given_order(OrderStatus.AWAITING_PAYMENT)
    words = "moving to 3 Elm Road"
    logic.cancel(ports, CUSTOMER, order.order_id, words)
    logic.transition(ports, order.order_id, OrderStatus.CANCELLED, reason=words)
    # When it is anonymised, then the words are gone from the cancellation and the history
    logic.anonymise_customer(ports, CUSTOMER.sub)
    after = store.get_order(order.order_id)
    assert after is not None and after.cancellation is not None
    assert after.cancellation["reason"] == ERASED and after.cancellation["role"] == "customer"
    assert words not in str(raw_items(store))
    assert after.history[-1].status is OrderStatus.CANCELLED


def test_anonymising_twice_is_harmless_and_other_customers_are_untouched(
    ports: Ports, store: OrdersStore, given_order: OrderFactory, publish: FakePublisher, workflow: FakeWorkflow
) -> None:
    # Given a shipped order of the customer, and the other customer's order (same address, by chance)
    shipped = given_order(OrderStatus.SHIPPED)
    other = given_order(OrderStatus.PAID)
    store.client.update_item(
        TableName=store.table,
        Key={"PK": {"S": f"ORDER#{other.order_id}"}, "SK": {"S": "META"}},
        UpdateExpression="SET customer_id = :c, GSI1PK = :pk",
        ExpressionAttributeValues={":c": {"S": OTHER_CUSTOMER.sub}, ":pk": {"S": f"CUSTOMER#{OTHER_CUSTOMER.sub}"}},
    )
    logic.ship(ports, other.order_id, ShipmentIn(carrier="DHL", tracking_number="T2"))
    # When the customer's erasure runs twice (a retry)
    first = logic.anonymise_customer(ports, CUSTOMER.sub)
    second = logic.anonymise_customer(ports, CUSTOMER.sub)
    # Then the second finds nothing left to do, and the other customer's order still has its address
    assert first.anonymised == [shipped.order_id]
    assert second.anonymised == [] and second.open == []
    assert store.get_order(other.order_id).shipping_address == ADDRESS  # type: ignore[union-attr]


def test_the_task_handler_pages_through_the_customers_orders(
    store: OrdersStore, given_order: OrderFactory, lambda_context: Any, monkeypatch: Any
) -> None:
    # Given more shipped orders than one page holds
    monkeypatch.setattr(erasure, "ANONYMISE_PAGE", 2)
    monkeypatch.setattr(wiring, "store", lambda: store)
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    ids = sorted(given_order(OrderStatus.SHIPPED).order_id for _ in range(5))
    # When customers' erasure invokes the task
    answer = tasks.anonymise_customer_handler({"customerId": CUSTOMER.sub}, lambda_context)
    # Then every order is anonymised, and the answer names them
    assert sorted(answer["anonymised"]) == ids and answer["open"] == []
    assert all(store.get_order(i).anonymised for i in ids)  # type: ignore[union-attr]
