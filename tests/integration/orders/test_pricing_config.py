"""Shipping methods and tax rates as staff keep them (issue 13): created, replaced, archived and listed
through the real handlers over moto, staff only, malformed input a 422, and the store's reads that
checkout and quotes take (`shipping_methods(country)`, `shipping_method(id)`, `tax_rates(country)`)."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from orders import admin_api, public_api
from orders.ports import Ports
from orders.store import OrdersStore
from tests.proxy import Answer

Call = Callable[..., Answer]
STANDARD = {
    "name": "Standard",
    "countries": ["DE", "AT"],
    "price": {"amount": 490, "currency": "EUR"},
    "freeOver": {"amount": 5000, "currency": "EUR"},
    "minDays": 2,
    "maxDays": 4,
}


@pytest.fixture
def call(
    ports: Ports, store: OrdersStore, monkeypatch: pytest.MonkeyPatch, api_event: Any, lambda_context: Any
) -> Call:
    """Call the route's function as API Gateway would: staff routes signed in as `groups` (admin unless
    told), public ones anonymous."""
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    monkeypatch.setattr(admin_api, "ports", lambda: ports)
    monkeypatch.setattr(public_api, "ports", lambda: ports)

    def send(method: str, path: str, *, groups: list[str] | None = None, public: bool = False, **kw: Any) -> Answer:
        if public:
            return Answer.of(public_api.handler(api_event(method, path, **kw), lambda_context))
        event = api_event(method, path, groups=groups if groups is not None else ["admin"], **kw)
        return Answer.of(admin_api.handler(event, lambda_context))

    return send


def test_a_shipping_method_is_created_read_replaced_and_archived(call: Call, store: OrdersStore) -> None:
    # Given a method created by an admin
    created = call("POST", "/shipping-methods", body=STANDARD)
    assert created.status == 201, created.body
    method_id = created.body["shippingMethodId"]
    assert created.headers["Location"].endswith(f"/shipping-methods/{method_id}")
    assert created.body | {"shippingMethodId": "x"} == {**STANDARD, "shippingMethodId": "x", "archived": False}

    # Then the store serves it to the countries it names, and not to others
    assert [m.shipping_method_id for m in store.shipping_methods("AT")] == [method_id]
    assert store.shipping_methods("FR") == []
    assert store.shipping_method(method_id) is not None
    listed = call("GET", "/shipping-methods", public=True, query={"country": "DE"})
    assert listed.status == 200, listed.body
    assert [m["shippingMethodId"] for m in listed.body["items"]] == [method_id]

    # When it is replaced
    replaced = call("PUT", f"/shipping-methods/{method_id}", body={**STANDARD, "countries": ["DE"], "freeOver": None})
    assert replaced.status == 200, replaced.body
    assert replaced.body["countries"] == ["DE"] and replaced.body["freeOver"] is None
    assert store.shipping_methods("AT") == []

    # When it is archived (twice: a retried DELETE)
    for _ in range(2):
        archived = call("DELETE", f"/shipping-methods/{method_id}")
        assert archived.status == 204, archived.body

    # Then it serves nobody and is hidden from the public list, but stays readable by id
    assert store.shipping_methods("DE") == []
    assert call("GET", "/shipping-methods", public=True, query={"country": "DE"}).body["items"] == []
    kept = store.shipping_method(method_id)
    assert kept is not None and kept.archived


def test_unknown_methods_are_404_and_malformed_ones_422(call: Call) -> None:
    # When a method that does not exist is replaced or archived
    missing = "sm_doesnotexist"
    for method, body in (("PUT", STANDARD), ("DELETE", None)):
        answer = call(method, f"/shipping-methods/{missing}", body=body)
        # Then 404 with its own code
        assert answer.status == 404, answer.body
        assert answer.body["error"]["code"] == "shipping_method_not_found"

    # When bodies break the rules
    broken: list[dict[str, Any]] = [
        {**STANDARD, "countries": []},
        {**STANDARD, "countries": ["de"]},
        {**STANDARD, "countries": ["DE", "DE"]},
        {**STANDARD, "price": {"amount": -1, "currency": "EUR"}},
        {**STANDARD, "freeOver": {"amount": 5000, "currency": "USD"}},
        {**STANDARD, "minDays": 5, "maxDays": 2},
        {**STANDARD, "surprise": True},
    ]
    for body in broken:
        answer = call("POST", "/shipping-methods", body=body)
        # Then each is a 422
        assert answer.status == 422, (body, answer.body)

    # And a price in another currency than the shop's is refused with its own code
    other = call(
        "POST", "/shipping-methods", body={**STANDARD, "price": {"amount": 490, "currency": "USD"}, "freeOver": None}
    )
    assert other.status == 422 and other.body["error"]["code"] == "shipping_method_currency"


def test_tax_rates_are_exact_decimal_percents(call: Call, store: OrdersStore) -> None:
    # When an admin sets DE's and AT's rates
    de = call("PUT", "/tax-rates/DE", body={"standard": "19", "categories": {"books": "7"}})
    at = call("PUT", "/tax-rates/AT", body={"standard": "20"})
    assert de.status == 200 and at.status == 200, (de.body, at.body)

    # Then they read back exactly, from the API and the store
    assert de.body == {"country": "DE", "standard": "19", "categories": {"books": "7"}}
    rates = store.tax_rates("DE")
    assert rates is not None and rates.standard == Decimal("19") and rates.rate_for("books") == Decimal("7")
    assert store.tax_rates("FR") is None
    listed = call("GET", "/tax-rates")
    assert listed.status == 200
    assert [r["country"] for r in listed.body["items"]] == ["AT", "DE"]

    # When a rate is replaced, with two decimals
    call("PUT", "/tax-rates/DE", body={"standard": "19.25"})
    replaced = store.tax_rates("DE")
    assert replaced is not None and replaced.standard == Decimal("19.25") and replaced.categories == {}

    # And malformed rates and countries are 422
    for path, body in (
        ("/tax-rates/DE", {"standard": "101"}),
        ("/tax-rates/DE", {"standard": "7.125"}),
        ("/tax-rates/DE", {"standard": 19}),
        ("/tax-rates/DE", {"standard": "-1"}),
        ("/tax-rates/DE", {"standard": "19", "categories": {"Books!": "7"}}),
        ("/tax-rates/de", {"standard": "19"}),
    ):
        answer = call("PUT", path, body=body)
        assert answer.status == 422, (path, body, answer.body)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/shipping-methods", STANDARD),
        ("PUT", "/shipping-methods/sm_x", STANDARD),
        ("DELETE", "/shipping-methods/sm_x", None),
        ("PUT", "/tax-rates/DE", {"standard": "19"}),
        ("GET", "/tax-rates", None),
    ],
)
def test_only_admins_keep_pricing_configuration(call: Call, method: str, path: str, body: Any) -> None:
    # When support and a customer try it
    for groups in (["support"], ["customer"]):
        answer = call(method, path, body=body, groups=groups)
        # Then they are refused, before the body is looked at
        assert answer.status == 403, (groups, answer.body)
