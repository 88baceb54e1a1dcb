"""`POST /quotes` (issue 13): what a cart would cost, priced by `common.pricing` with the shop's shipping
methods and tax rates, through the public handler over moto and fakes of our own ports. Business problems
are listed, not raised; malformed input is a 422; a quote writes nothing."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from common.contracts import PricedSku, StockLevel
from orders import logic, public_api
from orders.coupons import CouponIn
from orders.ports import Ports
from orders.shipping import ShippingMethodIn, TaxRatesIn
from orders.store import OrdersStore
from tests.proxy import Answer

from .conftest import FakePricing, eur, raw_items, wired

Call = Callable[..., Answer]
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeStock:
    """Our `StockLevels` port: units available by SKU; a SKU absent was never stocked, None unreadable."""

    available: dict[str, int | None] = field(default_factory=dict)

    def levels(self, skus: Iterable[str]) -> dict[str, StockLevel | None]:
        found: dict[str, StockLevel | None] = {}
        for sku in skus:
            if sku in self.available:
                units = self.available[sku]
                found[sku] = None if units is None else StockLevel(sku=sku, available=units, threshold=0)
        return found


def _sku(sku: str, amount: int, category: str = "kitchen", *, active: bool = True) -> PricedSku:
    return PricedSku(
        sku=sku,
        product_id=f"p_{sku.lower()}",
        name=f"Product {sku}",
        category=category,
        price=eur(amount),
        active=active,
    )


@pytest.fixture
def catalog() -> FakePricing:
    return FakePricing(
        catalog={
            "MUG": _sku("MUG", 1190),
            "NOVEL": _sku("NOVEL", 2000, "books"),
            "GONE": _sku("GONE", 500, active=False),
        }
    )


@pytest.fixture
def stock() -> FakeStock:
    return FakeStock({"MUG": 10, "NOVEL": 10, "GONE": 5})


@pytest.fixture
def shop(store: OrdersStore, catalog: FakePricing) -> Ports:
    return wired(store, pricing=catalog, clock=lambda: NOW)


def _method(shop: Ports, name: str, countries: list[str], price: int, free_over: int | None = None) -> str:
    body: dict[str, Any] = {"name": name, "countries": countries, "price": eur(price).model_dump()}
    if free_over is not None:
        body["freeOver"] = eur(free_over).model_dump()
    return logic.create_shipping_method(shop, ShippingMethodIn.model_validate(body), "EUR").shipping_method_id


def _rates(shop: Ports, country: str, standard: str, **categories: str) -> None:
    logic.put_tax_rates(
        shop, TaxRatesIn.model_validate({"standard": standard, "categories": categories}).rates(country)
    )


@pytest.fixture
def demo(shop: Ports) -> dict[str, str]:
    """The demo shop's configuration (issue 13, item 7): DE 19 % (books 7 %), AT 20 %, FR 20 %;
    Standard 4.90 for DE/AT, free over 50; Express 9.90 for DE; International 14.90 for FR and IT."""
    _rates(shop, "DE", "19", books="7")
    _rates(shop, "AT", "20")
    _rates(shop, "FR", "20")
    return {
        "standard": _method(shop, "Standard", ["DE", "AT"], 490, free_over=5000),
        "express": _method(shop, "Express", ["DE"], 990),
        "international": _method(shop, "International", ["FR", "IT"], 1490),
    }


@pytest.fixture
def call(
    shop: Ports,
    stock: FakeStock,
    store: OrdersStore,
    monkeypatch: pytest.MonkeyPatch,
    api_event: Any,
    lambda_context: Any,
) -> Call:
    """`POST /quotes` as an anonymous caller, through the public handler."""
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    monkeypatch.setattr(public_api, "ports", lambda: shop)
    monkeypatch.setattr(public_api, "stock", lambda: stock)

    def send(body: Any) -> Answer:
        return Answer.of(public_api.handler(api_event("POST", "/quotes", body=body), lambda_context))

    return send


def _ok(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def _codes(quote: dict[str, Any]) -> list[str]:
    return [p["code"] for p in quote["problems"]]


def test_the_worked_example_two_mugs_to_germany_with_standard_shipping(call: Call, demo: dict[str, str]) -> None:
    # When two 11.90 € mugs (prices include 19 % VAT) are quoted to DE with Standard shipping
    quote = _ok(call({"items": [{"sku": "MUG", "quantity": 2}], "country": "DE", "shippingMethodId": demo["standard"]}))

    # Then 23.80 + 4.90 shipping = 28.70 €, of which 4.58 € is tax (3.80 on the mugs, 0.78 on shipping)
    assert quote["currency"] == "EUR" and quote["pricesIncludeTax"] is True
    assert quote["subtotal"]["amount"] == 2380
    assert quote["discount"]["amount"] == 0
    assert quote["shipping"]["amount"] == 490
    assert quote["tax"]["amount"] == 458
    assert quote["total"]["amount"] == 2870
    (line,) = quote["lines"]
    assert line | {"unitPrice": line["unitPrice"]["amount"], "lineTotal": line["lineTotal"]["amount"]} == {
        "sku": "MUG",
        "productId": "p_mug",
        "name": "Product MUG",
        "quantity": 2,
        "unitPrice": 1190,
        "lineTotal": 2380,
        "taxRate": "19",
        "tax": {"amount": 380, "currency": "EUR"},
        "available": True,
    }
    assert quote["coupon"] is None
    assert {m["name"] for m in quote["shippingMethods"]} == {"Standard", "Express"}
    assert quote["problems"] == []


def test_a_book_is_taxed_at_its_category_rate_and_shipping_is_free_at_the_threshold(
    call: Call, demo: dict[str, str]
) -> None:
    # When a book (7 %) and a mug (19 %), 31.90 € together, go to DE with Standard
    quote = _ok(
        call(
            {
                "items": [{"sku": "NOVEL", "quantity": 1}, {"sku": "MUG", "quantity": 1}],
                "country": "DE",
                "shippingMethodId": demo["standard"],
            }
        )
    )
    # Then shipping is charged below the threshold (31.90 < 50.00) and each line has its own rate
    assert quote["shipping"]["amount"] == 490
    assert [(line["sku"], line["taxRate"], line["tax"]["amount"]) for line in quote["lines"]] == [
        ("NOVEL", "7", 131),  # 20.00 * 7 / 107 = 1.308...
        ("MUG", "19", 190),  # 11.90 * 19 / 119 = 1.90
    ]
    assert quote["total"]["amount"] == 2000 + 1190 + 490

    # When the cart passes 50.00 € (2 books and a mug, 51.90 €) and goes to AT
    at_threshold = _ok(
        call({"items": [{"sku": "NOVEL", "quantity": 2}, {"sku": "MUG", "quantity": 1}], "country": "AT"})
    )
    # Then Standard (AT's only method, chosen without asking) is free
    assert at_threshold["shipping"]["amount"] == 0
    assert at_threshold["total"]["amount"] == 5190
    assert at_threshold["problems"] == []


def test_shipping_is_free_exactly_at_free_over(call: Call, shop: Ports, catalog: FakePricing) -> None:
    # Given a method free over 50.00 € and a 25.00 € product
    catalog.catalog["HALF"] = _sku("HALF", 2500)
    method = _method(shop, "Standard", ["DE"], 490, free_over=5000)
    _rates(shop, "DE", "19")

    # When one or two are quoted
    one = _ok(call({"items": [{"sku": "HALF", "quantity": 1}], "country": "DE", "shippingMethodId": method}))
    two = _ok(call({"items": [{"sku": "HALF", "quantity": 2}], "country": "DE", "shippingMethodId": method}))

    # Then shipping is charged below the threshold and free at it
    assert one["shipping"]["amount"] == 490
    assert two["shipping"]["amount"] == 0 and two["total"]["amount"] == 5000


def test_problems_are_listed_not_raised(call: Call, demo: dict[str, str], stock: FakeStock) -> None:
    # Given a book with one unit left
    stock.available["NOVEL"] = 1

    # When a cart asks too many books, one product no longer sold, one never sold, and DE without a method
    quote = _ok(
        call(
            {
                "items": [
                    {"sku": "NOVEL", "quantity": 2},
                    {"sku": "GONE", "quantity": 1},
                    {"sku": "NOPE", "quantity": 1},
                ],
                "country": "DE",
                "couponCode": "NOSUCH",
            }
        )
    )

    # Then each problem is named, and what can be priced is
    assert sorted(_codes(quote)) == sorted(
        ["unknown_sku", "unknown_sku", "out_of_stock", "coupon_not_found", "shipping_method_required"]
    )
    assert [(line["sku"], line["available"]) for line in quote["lines"]] == [("NOVEL", False)]
    assert quote["coupon"] == {
        "code": "NOSUCH",
        "valid": False,
        "reason": "coupon_not_found",
        "discount": {"amount": 0, "currency": "EUR"},
    }
    assert quote["shipping"]["amount"] == 0
    assert {p["sku"] for p in quote["problems"] if p["code"] == "unknown_sku"} == {"GONE", "NOPE"}


def test_a_country_nobody_serves_and_one_without_a_rate(call: Call, demo: dict[str, str]) -> None:
    # When the cart goes where no method ships (US) and where no rate is set (IT, served by International)
    us = _ok(call({"items": [{"sku": "MUG", "quantity": 1}], "country": "US"}))
    it = _ok(call({"items": [{"sku": "MUG", "quantity": 1}], "country": "IT"}))

    # Then the US is not served (and untaxed), IT is shipped but untaxed
    assert sorted(_codes(us)) == ["country_not_served", "no_tax_rate"]
    assert us["shippingMethods"] == [] and us["total"]["amount"] == 1190
    assert _codes(it) == ["no_tax_rate"]
    assert it["tax"]["amount"] == 0 and it["total"]["amount"] == 1190 + 1490

    # And a method that does not serve the country is invalid there
    wrong = _ok(call({"items": [{"sku": "MUG", "quantity": 1}], "country": "FR", "shippingMethodId": demo["express"]}))
    assert _codes(wrong) == ["shipping_method_invalid"]


def test_a_shop_without_shipping_methods_ships_free_everywhere(call: Call) -> None:
    # When nothing is configured (the shop before issue 13)
    quote = _ok(call({"items": [{"sku": "MUG", "quantity": 2}], "shippingAddress": _address("GB")}))

    # Then no shipping is charged and only the missing rate is noted
    assert quote["shipping"]["amount"] == 0 and quote["total"]["amount"] == 2380
    assert _codes(quote) == ["no_tax_rate"]


def test_a_coupon_is_spread_over_two_rates(call: Call, shop: Ports, demo: dict[str, str]) -> None:
    # Given a 10 % coupon
    logic.create_coupon(shop, CouponIn.model_validate({"code": "TEN", "type": "percent", "value": 10}))

    # When a book and a mug (31.90) are quoted with it, to DE with Express
    quote = _ok(
        call(
            {
                "items": [{"sku": "NOVEL", "quantity": 1}, {"sku": "MUG", "quantity": 1}],
                "country": "DE",
                "shippingMethodId": demo["express"],
                "couponCode": "ten",
            }
        )
    )

    # Then 3.19 comes off, spread 2.00 / 1.19, and each line is taxed on what is left of it
    assert quote["coupon"] == {
        "code": "TEN",
        "valid": True,
        "reason": None,
        "discount": {"amount": 319, "currency": "EUR"},
    }
    assert quote["discount"]["amount"] == 319
    assert [line["tax"]["amount"] for line in quote["lines"]] == [118, 171]  # 18.00*7/107, 10.71*19/119
    assert quote["tax"]["amount"] == 118 + 171 + 158  # Express 9.90 * 19/119 = 1.58
    assert quote["total"]["amount"] == 3190 - 319 + 990


def test_an_expired_coupon_is_a_problem_with_its_own_code(call: Call, shop: Ports) -> None:
    logic.create_coupon(
        shop,
        CouponIn.model_validate({"code": "OLD", "type": "percent", "value": 10, "validUntil": "2030-01-01T00:00:00Z"}),
    )
    quote = _ok(call({"items": [{"sku": "MUG", "quantity": 1}], "country": "DE", "couponCode": "OLD"}))
    assert quote["coupon"]["valid"] is False and quote["coupon"]["reason"] == "coupon_expired"
    assert "coupon_expired" in _codes(quote) and quote["discount"]["amount"] == 0


def test_a_quote_writes_nothing(call: Call, store: OrdersStore, shop: Ports, demo: dict[str, str]) -> None:
    # Given the configured shop and a coupon limited to one use
    logic.create_coupon(
        shop,
        CouponIn.model_validate(
            {"code": "ONCE", "type": "fixed", "value": 100, "currency": "EUR", "maxRedemptions": 1}
        ),
    )
    before = raw_items(store)

    # When carts are quoted, with the coupon, twice
    for _ in range(2):
        quote = _ok(call({"items": [{"sku": "MUG", "quantity": 1}], "country": "DE", "couponCode": "ONCE"}))
        assert quote["coupon"]["valid"] is True

    # Then the table is exactly as it was: no order, no redemption, no hold
    assert raw_items(store) == before


def test_stock_that_cannot_be_read_is_not_called_sold_out(call: Call, stock: FakeStock) -> None:
    stock.available["MUG"] = None
    quote = _ok(call({"items": [{"sku": "MUG", "quantity": 1}], "country": "DE"}))
    assert quote["lines"][0]["available"] is True and "out_of_stock" not in _codes(quote)


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"sku": "MUG", "quantity": 1}]},  # no destination
        {"items": [], "country": "DE"},
        {"items": [{"sku": "MUG", "quantity": 0}], "country": "DE"},
        {"items": [{"sku": "MUG", "quantity": 1}], "country": "Germany"},
        {"items": [{"sku": "MUG", "quantity": 1}], "country": "DE", "extra": 1},
        {"items": [{"sku": "MUG", "quantity": 1}], "country": "DE", "shippingMethodId": "standard; drop"},
        "not json",
    ],
)
def test_malformed_quotes_are_422(call: Call, body: Any) -> None:
    answer = call(body)
    assert answer.status in (400, 422), answer.body


def test_a_country_that_differs_from_the_address_is_422(call: Call) -> None:
    answer = call({"items": [{"sku": "MUG", "quantity": 1}], "country": "DE", "shippingAddress": _address("FR")})
    assert answer.status == 422, answer.body


def _address(country: str) -> dict[str, str]:
    return {"name": "Ada", "line1": "1 Way", "city": "Town", "postalCode": "12345", "country": country}
