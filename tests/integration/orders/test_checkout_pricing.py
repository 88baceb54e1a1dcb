"""Checkout priced through `common.pricing` on the real table (moto): the shipping method chosen or
refused, tax by the country's rates, the totals stored on the order, and the total as the amount the
workflow asks payments to charge. A shop that configured no shipping method checks out as before."""

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from common.errors import ValidationFailed
from common.money import Money
from common.pricing import ShippingMethod, TaxRates
from orders import logic
from orders.coupons import CouponIn
from orders.models import CheckoutIn, OrderOut, OrderTaxLine, ShippingMethodRef
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow

from .conftest import ADDRESS, CUSTOMER, FakePricing, eur, priced, wired

KEY = "pricing-key-0001"
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
TO_DE = {**ADDRESS, "city": "Berlin", "postalCode": "10115", "country": "DE"}
TO_AT = {**ADDRESS, "city": "Wien", "postalCode": "1010", "country": "AT"}


def method(
    method_id: str, name: str, countries: list[str], amount: int, free_over: int | None = None
) -> ShippingMethod:
    return ShippingMethod(
        shipping_method_id=method_id,
        name=name,
        countries=countries,
        price=eur(amount),
        free_over=eur(free_over) if free_over is not None else None,
    )


STANDARD = method("standard", "Standard", ["DE", "AT"], 490, free_over=5000)
EXPRESS = method("express", "Express", ["DE"], 990)


@pytest.fixture
def demo_shop(store: OrdersStore) -> OrdersStore:
    """The issue's demo configuration: DE 19 % (books 7 %), AT 20 %; Standard (DE, AT; free from 50.00)
    and Express (DE)."""
    store.put_shipping_method(STANDARD)
    store.put_shipping_method(EXPRESS)
    store.put_tax_rates(TaxRates(country="DE", standard=Decimal("19"), categories={"books": Decimal("7")}))
    store.put_tax_rates(TaxRates(country="AT", standard=Decimal("20")))
    return store


@pytest.fixture
def pricing() -> FakePricing:
    book = priced("BOOK", 1070).model_copy(update={"category": "books"})
    return FakePricing(catalog={"TEE": priced("TEE", 1190), "BIG-TEE": priced("BIG-TEE", 2500), "BOOK": book})


def request(*items: tuple[str, int], address: dict[str, Any] = TO_DE, **extra: Any) -> CheckoutIn:
    return CheckoutIn.model_validate(
        {"items": [{"sku": s, "quantity": q} for s, q in items], "shippingAddress": address, **extra}
    )


def refusal(ports: Ports, body: CheckoutIn) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        logic.checkout(ports, CUSTOMER, body, KEY)
    (detail,) = refused.value.details
    return refused.value.code, str(detail["field"])


def test_an_order_with_tax_and_shipping_carries_its_totals_to_the_payment(
    demo_shop: OrdersStore, ports: Ports, workflow: FakeWorkflow, publish: FakePublisher
) -> None:
    # Given the demo shop (prices include tax) and 2 x 11.90 to DE with Standard shipping
    body = request(("TEE", 2), shippingMethodId="standard")

    # When the customer checks out
    order = logic.checkout(ports, CUSTOMER, body, KEY)

    # Then the order comes to 28.70 with 4.58 tax at 19 % (3.80 on the goods, 0.78 on shipping)
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        eur(2380),
        eur(0),
        eur(490),
        eur(458),
        eur(2870),
    )
    assert order.tax_lines == (OrderTaxLine(rate=Decimal("19"), base=eur(2412), amount=eur(458)),)
    assert order.shipping_method == ShippingMethodRef(shipping_method_id="standard", name="Standard")
    # And it is stored as answered
    assert demo_shop.get_order(order.order_id) == order
    # And the workflow (whose CreatePaymentIntent charges its `amount`) starts with the total
    assert [(order_id, data["amount"]) for order_id, data in workflow.started] == [
        (order.order_id, {"amount": 2870, "currency": "EUR"})
    ]
    # And OrderPlaced carries shipping and tax to the consumers
    placed = publish.of_type("OrderPlaced")[0].envelope.data
    assert (placed["shipping"], placed["tax"], placed["total"]) == (
        {"amount": 490, "currency": "EUR"},
        {"amount": 458, "currency": "EUR"},
        {"amount": 2870, "currency": "EUR"},
    )
    # And the answer names them as the API does
    answer = OrderOut.of(order).model_dump(mode="json")
    assert answer["taxLines"] == [
        {"rate": "19", "base": {"amount": 2412, "currency": "EUR"}, "amount": {"amount": 458, "currency": "EUR"}}
    ]
    assert answer["shippingMethod"] == {"shippingMethodId": "standard", "name": "Standard"}
    assert (answer["shipping"]["amount"], answer["tax"]["amount"], answer["total"]["amount"]) == (490, 458, 2870)


def test_a_book_and_a_tee_are_taxed_at_their_own_rates(demo_shop: OrdersStore, ports: Ports) -> None:
    # Given a 7 % book and a 19 % tee, shipped Express
    body = request(("BOOK", 1), ("TEE", 1), shippingMethodId="express")

    # When checked out
    order = logic.checkout(ports, CUSTOMER, body, KEY)

    # Then the book carries 0.70, the tee 1.90, Express 9.90 carries 1.58 at the standard rate
    assert order.tax_lines == (
        OrderTaxLine(rate=Decimal("7"), base=eur(1000), amount=eur(70)),
        OrderTaxLine(rate=Decimal("19"), base=eur(1000 + 832), amount=eur(190 + 158)),
    )
    assert (order.tax, order.total) == (eur(70 + 190 + 158), eur(1070 + 1190 + 990))


def test_the_only_method_serving_a_country_is_taken_without_being_named(demo_shop: OrdersStore, ports: Ports) -> None:
    # Given Standard is the only method to AT (20 %)
    # When the customer checks out without naming one
    order = logic.checkout(ports, CUSTOMER, request(("TEE", 1), address=TO_AT), KEY)

    # Then it ships Standard and is taxed at AT's rate: 11.90·20/120 = 1.98, 4.90·20/120 = 0.82
    assert order.shipping_method == ShippingMethodRef(shipping_method_id="standard", name="Standard")
    assert (order.shipping, order.tax, order.total) == (eur(490), eur(198 + 82), eur(1680))


def test_shipping_is_free_from_the_threshold_after_the_coupon(
    demo_shop: OrdersStore, pricing: FakePricing, workflow: FakeWorkflow
) -> None:
    # Given 2 x 25.00 (exactly Standard's 50.00 threshold), and a 10 % coupon
    ports = wired(demo_shop, pricing=pricing, workflow=workflow, clock=lambda: NOW)
    logic.create_coupon(ports, CouponIn.model_validate({"code": "SAVE10", "type": "percent", "value": 10}))

    # When checked out without, then with the coupon
    free = logic.checkout(ports, CUSTOMER, request(("BIG-TEE", 2), shippingMethodId="standard"), KEY)
    body = request(("BIG-TEE", 2), shippingMethodId="standard", couponCode="SAVE10")
    charged = logic.checkout(ports, CUSTOMER, body, "pricing-key-0002")

    # Then at 50.00 it ships free; at 45.00 after the coupon it costs 4.90
    assert (free.shipping, free.total) == (eur(0), eur(5000))
    assert (charged.discount, charged.shipping, charged.total) == (eur(500), eur(490), eur(4500 + 490))
    # And the discount was taken off before tax: (45.00 + 4.90)·19/119 = 7.18 + 0.78
    assert charged.tax == eur(718 + 78)


def test_a_shop_whose_prices_exclude_tax_adds_it_to_the_total(
    demo_shop: OrdersStore, ports: Ports, workflow: FakeWorkflow
) -> None:
    # Given the demo shop with prices without tax
    net_shop = dataclasses.replace(ports, prices_include_tax=False)

    # When 2 x 11.90 go to DE with Standard
    order = logic.checkout(net_shop, CUSTOMER, request(("TEE", 2), shippingMethodId="standard"), KEY)

    # Then 19 % is added: 4.52 on the goods, 0.93 on shipping, and the payment asks for all of it
    assert (order.tax, order.total) == (eur(452 + 93), eur(2380 + 490 + 545))
    assert workflow.started[0][1]["amount"] == {"amount": 3415, "currency": "EUR"}


def test_a_country_with_several_methods_needs_one_named(
    demo_shop: OrdersStore, ports: Ports, workflow: FakeWorkflow
) -> None:
    # Given DE is served by Standard and Express
    # When the customer names none
    # Then it is a 422 on shippingMethodId, and nothing is written or started
    assert refusal(ports, request(("TEE", 1))) == ("shipping_method_required", "body.shippingMethodId")
    assert demo_shop.idempotency_record(CUSTOMER.sub, KEY) is None and workflow.started == []


@pytest.mark.parametrize(
    ("method_id", "address"),
    [("overnight", TO_DE), ("express", TO_AT), ("retired", TO_DE)],
    ids=["unknown", "not-to-this-country", "archived"],
)
def test_a_method_that_cannot_ship_the_order_is_refused(
    demo_shop: OrdersStore, ports: Ports, method_id: str, address: dict[str, Any]
) -> None:
    # Given a method that is unknown, does not serve the country, or is archived
    demo_shop.put_shipping_method(method("retired", "Retired", ["DE"], 100).model_copy(update={"archived": True}))
    # When it is named at checkout
    # Then it is a 422 on shippingMethodId
    body = request(("TEE", 1), address=address, shippingMethodId=method_id)
    assert refusal(ports, body) == ("shipping_method_invalid", "body.shippingMethodId")


def test_a_country_no_method_serves_is_not_shipped_to(demo_shop: OrdersStore, ports: Ports) -> None:
    # Given no method serves GB
    # When the customer checks out to GB
    # Then it is a 422 on the address's country
    body = request(("TEE", 1), address=ADDRESS)
    assert refusal(ports, body) == ("country_not_served", "body.shippingAddress.country")


def test_a_shop_without_shipping_methods_checks_out_as_before(
    store: OrdersStore, ports: Ports, workflow: FakeWorkflow
) -> None:
    # Given a shop that configured no shipping method and no tax rate
    # When the customer checks out to anywhere
    order = logic.checkout(ports, CUSTOMER, request(("TEE", 2), address=ADDRESS), KEY)

    # Then shipping and tax are nothing, and the total is the lines'
    assert (order.shipping, order.tax, order.tax_lines, order.total) == (eur(0), eur(0), (), eur(2380))
    assert order.shipping_method is None
    assert workflow.started[0][1]["amount"] == {"amount": 2380, "currency": "EUR"}


def test_an_order_stored_before_shipping_and_tax_reads_as_charging_neither(store: OrdersStore, ports: Ports) -> None:
    # Given an order as stored before shipping and tax existed
    order = logic.checkout(ports, CUSTOMER, request(("TEE", 1), address=ADDRESS), KEY)
    store.client.update_item(
        TableName=store.table,
        Key={"PK": {"S": f"ORDER#{order.order_id}"}, "SK": {"S": "META"}},
        UpdateExpression="REMOVE shipping, tax, tax_lines",
    )

    # When it is read
    read = store.get_order(order.order_id)

    # Then it charged no shipping and no tax, in its own currency
    assert read is not None and (read.shipping, read.tax, read.tax_lines) == (eur(0), eur(0), ())
    assert read.snapshot().shipping == Money(amount=0, currency="EUR")
