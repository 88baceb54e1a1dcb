"""The catalog as a client meets it: over HTTP, through the local gateway and its Cognito authorizer."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.localstack import LocalStack

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]


def _new_product(**overrides: Any) -> dict[str, Any]:
    sku = f"E2E-{uuid.uuid4().hex[:10].upper()}"
    product = {
        "name": "Heron Field Notebook",
        "description": "Pocket notebook for birdwatchers.",
        "category": "stationery",
        "tags": ["birding", "pocket"],
        "price": {"amount": 1299, "currency": "EUR"},
        "variants": [{"sku": sku, "attributes": {"colour": "green"}}],
    }
    product.update(overrides)
    return product


def _all_products(http: Http, **query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {**query, "limit": 7, **({"cursor": cursor} if cursor else {})}
        page = http("GET", "/products", params=params).json()
        items += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return items


def _assert_error(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), body
    if code:
        assert body["error"]["code"] == code
    return dict(body["error"])


def test_the_demo_shop_is_seeded(http: Http) -> None:
    # When a client walks every page of the catalog
    products = _all_products(http)
    # Then the demo shop is there, without duplicates, over five categories
    ids = [p["productId"] for p in products]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)
    categories = http("GET", "/categories").json()["items"]
    assert len(categories) >= 5 and all(c["productCount"] > 0 for c in categories)


def test_search_finds_a_product_by_any_word_of_its_name_or_tags(http: Http) -> None:
    # Given a seeded product
    tee = next(p for p in _all_products(http) if p["name"] == "Organic Cotton Tee")
    # When searching by a word of its name in another case, and by one of its tags
    by_name = http("GET", "/products", params={"q": "COTTON"}).json()["items"]
    by_tag = http("GET", "/products", params={"q": "basics"}).json()["items"]
    # Then both find it
    assert tee["productId"] in {p["productId"] for p in by_name}
    assert tee["productId"] in {p["productId"] for p in by_tag}


def test_filters_combine(http: Http) -> None:
    found = _all_products(http, category="kitchen", minPrice=2000, maxPrice=6000)
    assert found
    assert all(p["categorySlug"] == "kitchen" for p in found)
    assert all(p["minPrice"]["amount"] <= 6000 and p["maxPrice"]["amount"] >= 2000 for p in found)


def test_creating_a_product_needs_an_admin(http: Http, tokens: dict[str, str]) -> None:
    body = _new_product()
    # Without a token, the gateway refuses in the API's one error shape
    _assert_error(http("POST", "/products", json=body), 401, "unauthorized")
    # A forged token is refused the same way
    forged = tokens["admin"][:-4] + ("AAAA" if not tokens["admin"].endswith("AAAA") else "BBBB")
    _assert_error(http("POST", "/products", json=body, token=forged), 401, "unauthorized")
    # A customer is signed in but may not
    _assert_error(http("POST", "/products", json=body, token=tokens["alice"]), 403, "forbidden")
    # An admin may
    created = http("POST", "/products", json=body, token=tokens["admin"])
    assert created.status_code == 201, created.text
    product_id = created.json()["productId"]
    assert created.headers["Location"] == f"/products/{product_id}"
    # And the product is readable and searchable at once
    assert http("GET", f"/products/{product_id}").json()["name"] == body["name"]
    hits = http("GET", "/products", params={"q": "heron"}).json()["items"]
    assert product_id in {p["productId"] for p in hits}


def test_bad_input_is_refused_and_nothing_is_written(http: Http, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    before = len(_all_products(http))
    # Malformed JSON (sent the way `curl -d` sends it) is a 400
    raw = http("POST", "/products", data="{not json", token=admin, headers={"Content-Type": "text/plain"})
    _assert_error(raw, 400, "malformed_json")
    # An invalid field is a 422 naming the field
    invalid = _new_product(price={"amount": -5, "currency": "EUR"})
    error = _assert_error(http("POST", "/products", json=invalid, token=admin), 422, "validation_failed")
    assert "body.price.amount" in [d["field"] for d in error["details"]]
    # An unknown field is refused too
    _assert_error(http("POST", "/products", json=_new_product(colour="red"), token=admin), 422)
    # A SKU that another product owns is a conflict
    taken = _new_product(variants=[{"sku": "TEE-RED-M"}])
    _assert_error(http("POST", "/products", json=taken, token=admin), 409, "sku_taken")
    # And none of it was written
    assert len(_all_products(http)) == before


def test_unknown_things_are_404_in_the_one_shape(http: Http, tokens: dict[str, str]) -> None:
    _assert_error(http("GET", "/products/p_00000000000000000000000000"), 404, "not_found")
    _assert_error(http("GET", "/products/not-an-id"), 404, "not_found")
    _assert_error(
        http("PUT", "/products/p_00000000000000000000000000", json=_new_product(), token=tokens["admin"]), 404
    )
    _assert_error(http("GET", "/no/such/route"), 404, "not_found")


def test_update_and_archive(http: Http, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    product_id = http("POST", "/products", json=_new_product(name="Kestrel Sketchbook"), token=admin).json()[
        "productId"
    ]
    # When the admin renames it
    renamed = http("PUT", f"/products/{product_id}", json=_new_product(name="Falcon Sketchbook"), token=admin)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["version"] == 2
    # Then the old word no longer finds it and the new one does
    assert product_id not in {p["productId"] for p in http("GET", "/products", params={"q": "kestrel"}).json()["items"]}
    assert product_id in {p["productId"] for p in http("GET", "/products", params={"q": "falcon"}).json()["items"]}
    # When the admin archives it (twice: a retry is harmless)
    assert http("DELETE", f"/products/{product_id}", token=admin).status_code == 200
    assert http("DELETE", f"/products/{product_id}", token=admin).json()["status"] == "ARCHIVED"
    # Then it vanishes from public reads
    _assert_error(http("GET", f"/products/{product_id}"), 404)
    assert product_id not in {p["productId"] for p in _all_products(http)}
    # And it can no longer be edited
    _assert_error(http("PUT", f"/products/{product_id}", json=_new_product(), token=admin), 409, "product_archived")


def test_a_cursor_cannot_be_replayed_against_another_query(http: Http) -> None:
    cursor = http("GET", "/products", params={"category": "home", "limit": 2}).json()["nextCursor"]
    assert cursor
    _assert_error(http("GET", "/products", params={"category": "kitchen", "cursor": cursor}), 400, "invalid_cursor")
    _assert_error(http("GET", "/products", params={"limit": 101}), 422)


def test_a_storefront_sorts_keeps_a_cart_by_ids_and_revalidates(http: Http) -> None:
    # When a storefront walks the catalog dearest first, seven at a time
    by_price = _all_products(http, sort="-price")
    # Then it gets every product once, by lowest variant price, dearest first
    prices = [p["minPrice"]["amount"] for p in by_price]
    assert len(by_price) == len(_all_products(http)) and prices == sorted(prices, reverse=True)
    # When it shows a cart of three of them, in the cart's order
    cart = [by_price[5]["productId"], by_price[0]["productId"], by_price[9]["productId"]]
    shown = http("GET", "/products", params={"ids": ",".join(cart)})
    assert [p["productId"] for p in shown.json()["items"]] == cart
    # And revalidates a product page it holds: the gateway passes the tag and answers 304 without a body
    page = http("GET", f"/products/{cart[0]}")
    assert page.headers["Cache-Control"].startswith("public, max-age=")
    again = http("GET", f"/products/{cart[0]}", headers={"If-None-Match": page.headers["ETag"]})
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", page.headers["ETag"])


def test_an_admin_edit_over_a_stale_etag_is_412(http: Http, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    created = http("POST", "/products", json=_new_product(name="Plover Notebook"), token=admin).json()
    path = f"/products/{created['productId']}"
    # Given two admins who read the product at version 1, and the first saves an edit
    seen = http("GET", path).headers["ETag"]
    first = http("PUT", path, json=_new_product(name="Plover Notebook II"), token=admin, headers={"If-Match": seen})
    assert (first.status_code, first.headers["ETag"]) == (200, '"v2"'), first.text
    # When the second saves over the version it read
    second = http("PUT", path, json=_new_product(name="Plover Pad"), token=admin, headers={"If-Match": seen})
    # Then it is refused, and the first admin's edit stands
    _assert_error(second, 412, "precondition_failed")
    assert http("GET", path).json()["name"] == "Plover Notebook II"


def test_cli_token_prints_only_a_token_and_trigger_names_the_schedules(stack: LocalStack) -> None:
    token = stack.token("carol@example.com")
    assert token.count(".") == 2 and "\n" not in token
    claims = json.loads(_b64(token.split(".")[1]))
    assert claims["email"] == "carol@example.com" and claims["token_use"] == "id"
    unknown = stack.cli("trigger", "no-such-schedule", check=False)
    assert unknown.returncode != 0 and "no schedule 'no-such-schedule'" in unknown.stderr


def _b64(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
