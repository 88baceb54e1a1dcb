"""`GET /products` as a storefront lists it, against moto: `sort` (`name`, `price`, `-price`, `newest`) over
the whole catalog and within a category, walked page by page with cursors, and the `ids` filter of carts
and wish lists."""

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import CatalogWorld, Handler, product_body
from .test_catalog_public import ids_of, one_variant, walk

EventFactory = Callable[..., dict[str, Any]]
Create = Callable[..., dict[str, Any]]
ADMIN = ["admin"]


def _expected(products: list[dict[str, Any]], sort: str) -> list[str]:
    """The order `sort` promises, computed from the answers: ties broken by product id (reversed with the order)."""
    if sort == "name":
        ranked = sorted(products, key=lambda p: (p["name"].casefold(), p["productId"]))
    elif sort in ("price", "-price"):
        ranked = sorted(products, key=lambda p: (p["minPrice"]["amount"], p["productId"]), reverse=sort == "-price")
    else:
        ranked = sorted(products, key=lambda p: (p["createdAt"], p["productId"]), reverse=True)
    return [p["productId"] for p in ranked]


@pytest.fixture
def shelf(create_product: Create) -> list[dict[str, Any]]:
    """Seven products in two categories, with prices out of name and creation order, two at the same
    lowest price (a tie), and one whose dearer variant does not count for its place in price order."""
    specs = [
        ("Kiwi Mug", "Mugs", 1200, None),
        ("Apple Tee", "Tees", 2500, None),
        ("Mango Tee", "Tees", 900, None),
        ("Berry Mug", "Mugs", 1200, None),
        ("Lime Tee", "Tees", 1500, 8000),
        ("Fig Mug", "Mugs", 300, None),
        ("Date Tee", "Tees", 4000, None),
    ]
    created = []
    for i, (name, category, price, dearer) in enumerate(specs):
        variants = one_variant(f"SORT-{i}-A")
        if dearer is not None:
            variants += one_variant(f"SORT-{i}-B", dearer)
        price_of = {"amount": price, "currency": "EUR"}
        created.append(create_product(name=name, category=category, description="", price=price_of, variants=variants))
    return created


def _summaries(call_public: Handler, api_event: EventFactory, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The listing's summaries of `products` (read with `ids`), each with the `createdAt` of its creation."""
    created_at = {p["productId"]: p["createdAt"] for p in products}
    answer = call_public(api_event("GET", "/products", query={"ids": ",".join(created_at), "limit": 100}))
    assert answer.status == 200, answer.body
    assert len(answer.body["items"]) == len(products)
    return [{**summary, "createdAt": created_at[summary["productId"]]} for summary in answer.body["items"]]


# ---------------------------------------------------------------- sort


@pytest.mark.parametrize("sort", ["name", "price", "-price", "newest"])
@pytest.mark.parametrize("limit", [2, 100])
def test_each_sort_order_walks_the_catalog_once_in_order(
    world: CatalogWorld,
    call_public: Handler,
    api_event: EventFactory,
    shelf: list[dict[str, Any]],
    sort: str,
    limit: int,
) -> None:
    # Given the shelf, as the listing summarises it
    products = _summaries(call_public, api_event, shelf)

    # When the catalog is walked in that order, a few at a time
    pages = walk(call_public, api_event, {"sort": sort, "limit": limit})

    # Then pages are full but the last, and together they hold every product once, in the promised order
    walked = [product_id for page in pages for product_id in page]
    assert walked == _expected(products, sort)
    assert all(len(page) == limit for page in pages[:-1])


def test_price_order_ranks_by_the_lowest_variant_price_and_reverses_exactly(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, shelf: list[dict[str, Any]]
) -> None:
    # When the catalog is listed cheapest first and dearest first
    up = ids_of(call_public(api_event("GET", "/products", query={"sort": "price"})).body)
    down = ids_of(call_public(api_event("GET", "/products", query={"sort": "-price"})).body)

    # Then Lime Tee (from 15.00, up to 80.00) sits at 15.00, and one order is the other reversed (ties too)
    names = {p["productId"]: p["name"] for p in shelf}
    assert [names[i] for i in up][:2] == ["Fig Mug", "Mango Tee"]
    assert [names[i] for i in up].index("Lime Tee") == 4
    assert down == list(reversed(up))


@pytest.mark.parametrize("sort", ["name", "price", "-price", "newest"])
def test_each_sort_order_within_a_category(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, shelf: list[dict[str, Any]], sort: str
) -> None:
    # Given the shelf's tees
    products = _summaries(call_public, api_event, [p for p in shelf if p["category"] == "Tees"])

    # When the category is walked in that order, two at a time
    pages = walk(call_public, api_event, {"category": "tees", "sort": sort, "limit": 2})

    # Then only its products come, each once, in the promised order
    assert [i for page in pages for i in page] == _expected(products, sort)


@pytest.mark.parametrize("sort", ["price", "-price"])
def test_a_price_sort_with_a_price_range_keeps_products_with_any_variant_in_range(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, shelf: list[dict[str, Any]], sort: str
) -> None:
    # When the catalog is listed by price between 10.00 and 30.00
    pages = walk(call_public, api_event, {"sort": sort, "minPrice": 1000, "maxPrice": 3000, "limit": 2})

    # Then the products with a variant in that range come, in price order: Kiwi, Berry (12.00), Lime, Apple
    names = {p["productId"]: p["name"] for p in shelf}
    walked = [names[i] for page in pages for i in page]
    ascending = ["Berry Mug", "Kiwi Mug", "Lime Tee", "Apple Tee"]
    ties = sorted((p for p in shelf if p["name"] in ("Berry Mug", "Kiwi Mug")), key=lambda p: p["productId"])
    ascending[:2] = [p["name"] for p in ties]
    assert walked == (ascending if sort == "price" else list(reversed(ascending)))


def test_a_price_sort_below_a_max_price_includes_a_product_whose_cheap_variant_fits(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, shelf: list[dict[str, Any]]
) -> None:
    # When listing dearest first at most 15.00 (Lime Tee's cheapest variant is exactly 15.00)
    answer = call_public(api_event("GET", "/products", query={"sort": "-price", "maxPrice": 1500}))

    # Then it starts at Lime Tee and goes down
    names = [p["name"] for p in answer.body["items"]]
    assert names[0] == "Lime Tee"
    assert names[-2:] == ["Mango Tee", "Fig Mug"]
    assert len(names) == 5


def test_a_search_in_an_explicit_order(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, shelf: list[dict[str, Any]]
) -> None:
    # When tees are searched for, dearest first, one page at a time
    pages = walk(call_public, api_event, {"q": "tee", "sort": "-price", "limit": 1})

    # Then every tee comes once, dearest first
    names = {p["productId"]: p["name"] for p in shelf}
    assert [names[i] for page in pages for i in page] == ["Date Tee", "Apple Tee", "Lime Tee", "Mango Tee"]


def test_newest_follows_creation_and_an_edit_moves_a_product_in_price_order_only(
    world: CatalogWorld, call_public: Handler, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given three products created in turn
    first, second, third = (
        create_product(
            name=f"Wave {i}", price={"amount": 1000 * (i + 1), "currency": "EUR"}, variants=one_variant(f"W-{i}")
        )
        for i in range(3)
    )

    # When the oldest, and cheapest, is made the dearest
    body = product_body(name="Wave 0", price={"amount": 9000, "currency": "EUR"}, variants=one_variant("W-0"))
    assert call_admin(api_event("PUT", f"/products/{first['productId']}", body=body, groups=ADMIN)).status == 200

    # Then newest still lists it last (an edit is not a creation), and price order lists it dearest
    newest = ids_of(call_public(api_event("GET", "/products", query={"sort": "newest"})).body)
    by_price = ids_of(call_public(api_event("GET", "/products", query={"sort": "price"})).body)
    assert newest == [third["productId"], second["productId"], first["productId"]]
    assert by_price == [second["productId"], third["productId"], first["productId"]]


@pytest.mark.parametrize("sort", ["name", "price", "-price", "newest"])
def test_an_archived_product_leaves_every_order(
    world: CatalogWorld,
    call_public: Handler,
    call_admin: Handler,
    api_event: EventFactory,
    shelf: list[dict[str, Any]],
    sort: str,
) -> None:
    # Given one product of the shelf archived
    gone = shelf[2]["productId"]
    assert call_admin(api_event("DELETE", f"/products/{gone}", groups=ADMIN)).status == 200

    # When the catalog and the product's category are listed in that order
    everything = [i for page in walk(call_public, api_event, {"sort": sort, "limit": 3}) for i in page]
    tees = [i for page in walk(call_public, api_event, {"sort": sort, "category": "tees", "limit": 3}) for i in page]

    # Then it is in neither
    assert gone not in everything
    assert gone not in tees
    assert len(everything) == len(shelf) - 1


def test_a_cursor_of_one_order_is_refused_in_another(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, shelf: list[dict[str, Any]]
) -> None:
    # Given the cursor of the first page by price
    cursor = call_public(api_event("GET", "/products", query={"sort": "price", "limit": 2})).body["nextCursor"]

    # When it is used by name, newest first, or dearest first
    # Then each is a 400 invalid_cursor, never a page of the other order
    for sort in ("name", "newest", "-price"):
        answer = call_public(api_event("GET", "/products", query={"sort": sort, "cursor": cursor}))
        assert (answer.status, answer.error_code) == (400, "invalid_cursor"), sort


def test_an_unknown_sort_is_a_422(world: CatalogWorld, call_public: Handler, api_event: EventFactory) -> None:
    answer = call_public(api_event("GET", "/products", query={"sort": "cheapest"}))
    assert (answer.status, answer.error_code) == (422, "validation_failed")
    assert [d["field"] for d in answer.body["error"]["details"]] == ["query.sort"]


# ---------------------------------------------------------------- ids


def test_ids_answers_those_products_in_the_order_given(
    world: CatalogWorld, call_public: Handler, call_admin: Handler, api_event: EventFactory, shelf: list[dict[str, Any]]
) -> None:
    # Given a wish list: products in its own order, an archived one, an unknown, a malformed id and a repeat
    archived = shelf[0]["productId"]
    assert call_admin(api_event("DELETE", f"/products/{archived}", groups=ADMIN)).status == 200
    wanted = [shelf[4]["productId"], shelf[1]["productId"], shelf[6]["productId"]]
    ids = [wanted[0], archived, "p_01jd8x0000000000000000000a", wanted[1], "not-an-id", wanted[0], wanted[2]]

    # When the storefront asks for them
    answer = call_public(api_event("GET", "/products", query={"ids": " , ".join(ids)}))

    # Then the active, known ones come once each, in the wish list's order, on one page
    assert answer.status == 200
    assert ids_of(answer.body) == wanted
    assert answer.body["nextCursor"] is None


@pytest.mark.parametrize("sort", [None, "name", "price", "-price", "newest"])
def test_ids_page_with_cursors_in_any_order(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, shelf: list[dict[str, Any]], sort: str | None
) -> None:
    # Given a cart of five products
    cart = [shelf[i]["productId"] for i in (5, 0, 3, 6, 2)]
    products = _summaries(call_public, api_event, [shelf[i] for i in (5, 0, 3, 6, 2)])

    # When it is walked two at a time
    query: dict[str, Any] = {"ids": ",".join(cart), "limit": 2, **({"sort": sort} if sort else {})}
    pages = walk(call_public, api_event, query)

    # Then every product comes once: in the cart's order, or in the order asked for
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == (cart if sort is None else _expected(products, sort))


def test_ids_resume_after_the_last_answered_even_if_a_product_leaves_between_pages(
    world: CatalogWorld, call_public: Handler, call_admin: Handler, api_event: EventFactory, shelf: list[dict[str, Any]]
) -> None:
    # Given the first page of a four-product cart
    cart = [p["productId"] for p in shelf[:4]]
    first = call_public(api_event("GET", "/products", query={"ids": ",".join(cart), "limit": 2})).body
    assert ids_of(first) == cart[:2]

    # When the first product is archived before the next page is asked
    assert call_admin(api_event("DELETE", f"/products/{cart[0]}", groups=ADMIN)).status == 200
    rest = call_public(
        api_event("GET", "/products", query={"ids": ",".join(cart), "limit": 2, "cursor": first["nextCursor"]})
    )

    # Then the next page is exactly the remaining two: nothing skipped, nothing repeated
    assert ids_of(rest.body) == cart[2:]
    assert rest.body["nextCursor"] is None


def test_ids_apply_the_other_filters(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, shelf: list[dict[str, Any]]
) -> None:
    every = ",".join(p["productId"] for p in shelf)
    mugs = call_public(api_event("GET", "/products", query={"ids": every, "category": "mugs"})).body
    assert {p["name"] for p in mugs["items"]} == {"Kiwi Mug", "Berry Mug", "Fig Mug"}


def test_a_cursor_of_one_id_list_is_refused_for_another(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, shelf: list[dict[str, Any]]
) -> None:
    cart = [p["productId"] for p in shelf[:3]]
    cursor = call_public(api_event("GET", "/products", query={"ids": ",".join(cart), "limit": 1})).body["nextCursor"]
    for query in ({"ids": ",".join(cart[:2])}, {}):
        answer = call_public(api_event("GET", "/products", query={**query, "cursor": cursor}))
        assert (answer.status, answer.error_code) == (400, "invalid_cursor")


def test_more_than_100_ids_is_a_422_on_ids(world: CatalogWorld, call_public: Handler, api_event: EventFactory) -> None:
    ids = ",".join(f"p_01jd8x{n:020d}" for n in range(101))
    answer = call_public(api_event("GET", "/products", query={"ids": ids}))
    assert (answer.status, answer.error_code) == (422, "validation_failed")
    assert [d["field"] for d in answer.body["error"]["details"]] == ["query.ids"]


def test_100_ids_are_read_in_one_request(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a few real products among 100 ids
    real = [create_product(variants=one_variant(f"HUNDRED-{i}"))["productId"] for i in range(3)]
    ids = real + [f"p_01jd8x{n:020d}" for n in range(97)]

    # When all 100 are asked for
    answer = call_public(api_event("GET", "/products", query={"ids": ",".join(ids), "limit": 100}))

    # Then the real ones come back
    assert answer.status == 200
    assert ids_of(answer.body) == real
