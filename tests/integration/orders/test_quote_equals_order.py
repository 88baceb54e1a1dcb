"""The property issue 13 asks for: a quote and the order placed from the same body can never disagree.
For generated carts (1-4 lines of demo-like SKUs, a 7 % book among them, 1-5 units each), coupons (none,
percent, fixed, one bigger than any cart), countries (DE, AT, FR, and IT which a method serves but no
tax rate covers) and the methods serving each, in a shop whose prices include tax and in one whose prices
exclude it: the quote's total is the order's total and the amount the PaymentIntent is created for;
nothing is negative; and both hold `total = subtotal - discount + shipping (+ tax when exclusive)`.

In-process over moto, with the orders logic and fakes of our own ports (`conftest`), as `test_quotes`
and `test_checkout_pricing`. The PaymentIntent's amount is followed through the real path: the workflow
input checkout starts, the state machine's `CreatePaymentIntent` parameters (read from
`statemachines/order.asl.json`), and payments' `create_intent` asking its (fake) Stripe gateway."""

import dataclasses
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.auth import Caller
from common.contracts import CreatePaymentIntentInput
from orders import logic
from orders.coupons import CouponIn
from orders.models import CheckoutIn, Order
from orders.ports import Ports
from orders.quotes import QuoteIn, QuoteOut
from orders.shipping import ShippingMethodIn, TaxRatesIn
from orders.store import OrdersStore
from payments import logic as payments
from payments.store import PaymentsStore
from tests.fakes import FakeWorkflow
from tests.integration.payments.conftest import FakeGateway, create_payments_table

from .conftest import ADDRESS, REGION, FakePricing, eur, priced, wired
from .test_quotes import FakeStock

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
ASL = Path(__file__).resolve().parents[3] / "statemachines" / "order.asl.json"

CATALOG = {
    "MUG": priced("MUG", 1190),
    "TEE": priced("TEE", 2500),
    "POSTER": priced("POSTER", 749),
    "CANDLE": priced("CANDLE", 1333),
    "NOVEL": priced("NOVEL", 1070).model_copy(update={"category": "books"}),
}
COUPONS = {
    "PCT10": {"type": "percent", "value": 10},
    "PCT35": {"type": "percent", "value": 35},
    "FIX5": {"type": "fixed", "value": 500, "currency": "EUR"},
    "FIX1000": {"type": "fixed", "value": 100_000, "currency": "EUR"},
}
"""Coupons without per-customer or usage limits, so the quote (anonymous) and checkout judge them alike."""

CITIES = {"DE": ("Berlin", "10115"), "AT": ("Wien", "1010"), "FR": ("Paris", "75001"), "IT": ("Roma", "00100")}


@dataclasses.dataclass
class Shop:
    """The demo shop (issue 13, item 7) on moto: its ports, the methods serving each country, and what
    the workflow was asked to start; plus payments' table and a fake Stripe for the PaymentIntents."""

    ports: Ports
    stock: FakeStock
    served_by: dict[str, list[str]]
    workflow: FakeWorkflow
    payments: PaymentsStore
    stripe: FakeGateway
    counter: Iterator[int]


@pytest.fixture
def shop(store: OrdersStore) -> Shop:
    workflow = FakeWorkflow()
    ports = wired(store, pricing=FakePricing(catalog=dict(CATALOG)), workflow=workflow, clock=lambda: NOW)
    for country, standard, books in (("DE", "19", "7"), ("AT", "20", None), ("FR", "20", None)):
        rates = TaxRatesIn.model_validate({"standard": standard, "categories": {"books": books} if books else {}})
        logic.put_tax_rates(ports, rates.rates(country))
    served_by: dict[str, list[str]] = {country: [] for country in CITIES}
    for name, countries, price, free_over in (
        ("Standard", ["DE", "AT"], 490, 5000),
        ("Express", ["DE"], 990, None),
        ("International", ["FR", "IT"], 1490, None),
    ):
        method: dict[str, Any] = {"name": name, "countries": countries, "price": eur(price).model_dump()}
        if free_over is not None:
            method["freeOver"] = eur(free_over).model_dump()
        created = logic.create_shipping_method(ports, ShippingMethodIn.model_validate(method), "EUR")
        method_id = created.shipping_method_id
        for country in countries:
            served_by[country].append(method_id)
    for code, definition in COUPONS.items():
        logic.create_coupon(ports, CouponIn.model_validate({"code": code, **definition}))
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    payments_store = PaymentsStore(create_payments_table(dynamodb), client=dynamodb)
    stock = FakeStock(dict.fromkeys(CATALOG, 1_000))
    return Shop(ports, stock, served_by, workflow, payments_store, FakeGateway(), itertools.count(1))


def _state(name: str) -> dict[str, Any]:
    """A state of the order workflow's definition, wherever it is nested."""
    pending = [json.loads(ASL.read_text())["States"]]
    while pending:
        states = pending.pop()
        if name in states:
            found: dict[str, Any] = states[name]
            return found
        pending += [branch["States"] for state in states.values() for branch in state.get("Branches", [])]
    raise LookupError(name)


def _path(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def payment_intent_amount(shop: Shop, workflow_input: dict[str, Any]) -> int | None:
    """What Stripe is asked to charge for the order, following the workflow: no PaymentIntent when
    `IsPaymentNeeded` sees nothing to charge; otherwise `CreatePaymentIntent`'s payload (its parameters
    applied to the workflow input) handed to payments' `create_intent`, and the amount it asks for."""
    [nothing] = _state("IsPaymentNeeded")["Choices"]
    if _path(workflow_input, nothing["Variable"]) == nothing["NumericEquals"]:
        return None
    parameters = _state("CreatePaymentIntent")["Parameters"]["Payload"]
    payload = {key.removesuffix(".$"): _path(workflow_input, path) for key, path in parameters.items()}
    before = set(shop.stripe.intents)
    answer = payments.create_intent(shop.payments, shop.stripe, CreatePaymentIntentInput.model_validate(payload))
    [created] = [shop.stripe.intents[i] for i in shop.stripe.intents if i not in before]
    assert (created["id"], answer.amount.amount) == (answer.payment_intent_id, created["amount"])
    assert created["currency"] == "eur"
    amount: int = created["amount"]
    return amount


def holds_the_identity(totals: QuoteOut | Order, prices_include_tax: bool) -> None:
    subtotal, discount, shipping = totals.subtotal.amount, totals.discount.amount, totals.shipping.amount
    tax, total = totals.tax.amount, totals.total.amount
    assert min(subtotal, discount, shipping, tax, total) >= 0
    assert discount <= subtotal
    assert total == subtotal - discount + shipping + (0 if prices_include_tax else tax)


@st.composite
def carts(draw: st.DrawFn) -> list[tuple[str, int]]:
    skus = draw(st.lists(st.sampled_from(sorted(CATALOG)), min_size=1, max_size=4, unique=True))
    return [(sku, draw(st.integers(min_value=1, max_value=5))) for sku in skus]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    cart=carts(),
    coupon=st.sampled_from([None, *COUPONS]),
    country=st.sampled_from(sorted(CITIES)),
    prices_include_tax=st.booleans(),
    data=st.data(),
)
def test_the_quote_is_the_order_is_the_payment(
    shop: Shop,
    cart: list[tuple[str, int]],
    coupon: str | None,
    country: str,
    prices_include_tax: bool,
    data: st.DataObject,
) -> None:
    # Given a cart, a coupon, a country and a method serving it (named, or left out when it is the only one)
    served = shop.served_by[country]
    options: list[str | None] = [*served, None] if len(served) == 1 else list(served)
    method = data.draw(st.sampled_from(options), label="shippingMethodId")
    city, postal_code = CITIES[country]
    body: dict[str, Any] = {
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in cart],
        "shippingAddress": {**ADDRESS, "city": city, "postalCode": postal_code, "country": country},
    }
    if method is not None:
        body["shippingMethodId"] = method
    if coupon is not None:
        body["couponCode"] = coupon
    n = next(shop.counter)
    ports = dataclasses.replace(shop.ports, prices_include_tax=prices_include_tax)

    # When it is quoted, then ordered with the same body, and the workflow asks for the payment
    quote = logic.quote(
        ports, shop.stock, QuoteIn.model_validate(body), currency="EUR", prices_include_tax=prices_include_tax
    )
    customer = Caller(sub=f"prop-{n}", email=f"prop{n}@example.com")
    order = logic.checkout(ports, customer, CheckoutIn.model_validate(body), f"prop-key-{n:06d}")
    [workflow_input] = [started for name, started in shop.workflow.started if name == order.order_id]
    charged = payment_intent_amount(shop, workflow_input)

    # Then nothing stands in the way but a missing tax rate (IT is shipped to, untaxed)
    assert [p.code.value for p in quote.problems] == (["no_tax_rate"] if country == "IT" else [])
    assert quote.coupon is None or quote.coupon.valid
    # And the quote and the order agree on every total and every line's tax
    fields = ("subtotal", "discount", "shipping", "tax", "total")
    assert [getattr(quote, f) for f in fields] == [getattr(order, f) for f in fields]
    assert [(line.sku, line.tax) for line in quote.lines] == [(line.sku, line.tax) for line in order.lines]
    # And the PaymentIntent is for exactly that total (none when there is nothing to charge)
    assert charged == (order.total.amount or None)
    # And both hold the identity, with nothing negative
    holds_the_identity(quote, prices_include_tax)
    holds_the_identity(order, prices_include_tax)
    # And the lines' net (what commissions are earned on), shipping without its tax and the tax make the total
    nets = [line.net.amount for line in order.lines if line.net is not None]
    assert len(nets) == len(order.lines) and order.shipping_tax is not None
    shipping_net = order.shipping.amount - (order.shipping_tax.amount if prices_include_tax else 0)
    assert sum(nets) + shipping_net + order.tax.amount == order.total.amount
