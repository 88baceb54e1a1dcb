"""Public catalog reads through `catalog.public_api.handler`, against moto."""

from collections.abc import Callable
from typing import Any

import pytest
from botocore.stub import Stubber

from catalog.logic import ProductFilter
from common.cursor import encode_cursor
from common.dynamo import dynamodb_client

from .conftest import CatalogWorld, Handler, catalog_view

EventFactory = Callable[..., dict[str, Any]]
Create = Callable[..., dict[str, Any]]
ADMIN = ["admin"]


def one_variant(sku: str, amount: int | None = None) -> list[dict[str, Any]]:
    variant: dict[str, Any] = {"sku": sku}
    if amount is not None:
        variant["price"] = {"amount": amount, "currency": "EUR"}
    return [variant]


def walk(call_public: Handler, api_event: EventFactory, query: dict[str, Any]) -> list[list[str]]:
    """Every page of a listing, following nextCursor to the end; the product ids of each page."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        answer = call_public(api_event("GET", "/products", query={**query, **({"cursor": cursor} if cursor else {})}))
        assert answer.status == 200, answer.body
        pages.append([p["productId"] for p in answer.body["items"]])
        cursor = answer.body["nextCursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor never ends"


def ids_of(answer_body: dict[str, Any]) -> list[str]:
    return [p["productId"] for p in answer_body["items"]]


# ---------------------------------------------------------------- detail


def test_product_detail(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product
    product = create_product()

    # When anyone reads it
    answer = call_public(api_event("GET", f"/products/{product['productId']}"))

    # Then it comes back whole, camelCased, with effective variant prices
    assert answer.status == 200
    assert catalog_view(answer.body) == catalog_view(product)
    assert {"productId", "categorySlug", "createdAt", "updatedAt"} <= set(answer.body)


def put_stock(world: CatalogWorld, sku: str, available: int, threshold: int) -> None:
    """A stock record as inventory keeps it (the catalog only reads `sku`, `available`, `threshold`)."""
    world.dynamodb.put_item(
        TableName=world.inventory_table,
        Item={
            "PK": {"S": f"SKU#{sku}"},
            "SK": {"S": "STOCK"},
            "sku": {"S": sku},
            "available": {"N": str(available)},
            "threshold": {"N": str(threshold)},
        },
    )


def test_detail_shows_availability_and_the_count_only_when_low(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product whose variants are plentiful, nearly gone, sold out and never stocked
    skus = ["AV-PLENTY", "AV-LOW", "AV-OUT", "AV-NONE"]
    product = create_product(variants=[{"sku": sku} for sku in skus])
    put_stock(world, "AV-PLENTY", available=50, threshold=5)
    put_stock(world, "AV-LOW", available=3, threshold=5)
    put_stock(world, "AV-OUT", available=0, threshold=5)

    # When anyone reads the product
    answer = call_public(api_event("GET", f"/products/{product['productId']}"))

    # Then each variant says whether it can be ordered, and how many are left only when few are
    assert answer.status == 200
    shown = {v["sku"]: (v["inStock"], v["available"]) for v in answer.body["variants"]}
    assert shown == {"AV-PLENTY": (True, None), "AV-LOW": (True, 3), "AV-OUT": (False, 0), "AV-NONE": (False, None)}


def test_stock_that_could_not_be_read_is_not_shown_as_sold_out(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product in stock, and DynamoDB leaving its stock key unprocessed on every try (throttled)
    product = create_product(variants=[{"sku": "BUSY-1"}])
    put_stock(world, "BUSY-1", available=50, threshold=5)
    item = world.item(f"PRODUCT#{product['productId']}")
    keys = {world.inventory_table: {"Keys": [{"PK": {"S": "SKU#BUSY-1"}, "SK": {"S": "STOCK"}}]}}
    with Stubber(dynamodb_client()) as stub:
        stub.add_response("get_item", {"Item": item})
        for _ in range(5):
            stub.add_response("batch_get_item", {"Responses": {}, "UnprocessedKeys": keys})

        # When the product is read
        answer = call_public(api_event("GET", f"/products/{product['productId']}"))

    # Then the shopper is not told it is sold out: either a retryable 503 or an unknown availability
    assert answer.status == 503 or answer.body["variants"][0]["inStock"] is not False


@pytest.mark.parametrize("product_id", ["p_01jd8x0000000000000000000a", "nope", "o_01jd8x0000000000000000000a"])
def test_unknown_and_malformed_ids_are_404(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, product_id: str
) -> None:
    answer = call_public(api_event("GET", f"/products/{product_id}"))
    assert (answer.status, answer.error_code) == (404, "not_found")


# ---------------------------------------------------------------- listing and pagination


def test_listing_walks_every_product_once_in_name_order(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given more products than a page holds, with accented and capitalised names
    names = ["Zebra Mug", "apple tee", "Écharpe", "Banana Cap", "cherry sock", "Dune Hat", "Fig Scarf", "grape bag"]
    created = {create_product(name=name)["productId"]: name for name in names}

    # When the listing is walked three at a time
    pages = walk(call_public, api_event, {"limit": 3})

    # Then pages are full but the last, and together they hold every product once, in folded-name order
    assert [len(page) for page in pages] == [3, 3, 2]
    walked = [product_id for page in pages for product_id in page]
    assert len(walked) == len(set(walked)) == len(created)
    assert [created[i] for i in walked] == [
        "apple tee",
        "Banana Cap",
        "cherry sock",
        "Dune Hat",
        "Écharpe",
        "Fig Scarf",
        "grape bag",
        "Zebra Mug",
    ]


def test_a_name_is_listed_before_the_longer_names_it_begins(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given products whose names extend one another
    for name in ("Tee Shirt", "Tee", "Teeshirt", "Tee 2"):
        create_product(name=name)

    # When the catalog is listed by name
    answer = call_public(api_event("GET", "/products"))

    # Then it is in dictionary order: a name comes before the longer names it begins
    assert [p["name"] for p in answer.body["items"]] == ["Tee", "Tee 2", "Tee Shirt", "Teeshirt"]


def test_an_exact_last_page_has_no_cursor(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given exactly two pages' worth of products
    for _ in range(4):
        create_product()

    # When the listing is walked two at a time
    pages = walk(call_public, api_event, {"limit": 2})

    # Then there is no empty trailing page
    assert [len(page) for page in pages] == [2, 2]


def test_filtered_pagination_across_dynamodb_pages_has_no_gaps_or_duplicates(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given 40 products (more than one DynamoDB page) where every third is out of the price range
    expected = []
    for i in range(40):
        amount = 900 if i % 3 == 0 else 1500
        product = create_product(
            name=f"Item {i:02d}", price={"amount": amount, "currency": "EUR"}, variants=one_variant(f"ITEM-{i}")
        )
        if amount >= 1000:
            expected.append(product["productId"])

    # When the filtered listing is walked four at a time
    pages = walk(call_public, api_event, {"minPrice": 1000, "limit": 4})

    # Then it yields exactly the matching products, each once, in name order
    walked = [product_id for page in pages for product_id in page]
    assert walked == expected
    assert all(len(page) == 4 for page in pages[:-1])


def test_the_cursor_keeps_working_with_another_page_size(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given six products and the cursor after the first two
    created = [create_product(name=f"Thing {i}")["productId"] for i in range(6)]
    first = call_public(api_event("GET", "/products", query={"limit": 2})).body

    # When the next page is asked with a larger limit
    rest = call_public(api_event("GET", "/products", query={"limit": 10, "cursor": first["nextCursor"]})).body

    # Then it continues exactly where the first stopped
    assert ids_of(first) + ids_of(rest) == created
    assert rest["nextCursor"] is None


# ---------------------------------------------------------------- filters


def test_filter_by_category_accepts_slug_or_name(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given products in two categories
    tee = create_product(category="Tee Shirts")
    create_product(category="Hoodies")

    # When listing by the category's slug or its name
    # Then only that category's products come back
    for category in ("tee-shirts", "Tee Shirts", "TEE SHIRTS"):
        answer = call_public(api_event("GET", "/products", query={"category": category}))
        assert ids_of(answer.body) == [tee["productId"]]
    assert ids_of(call_public(api_event("GET", "/products", query={"category": "socks"})).body) == []


def test_price_filters_need_one_variant_price_in_range(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a cheap product, a dear one, and one with variants at both ends
    cheap = create_product(name="Cheap", price={"amount": 500, "currency": "EUR"}, variants=one_variant("C-1"))
    dear = create_product(name="Dear", price={"amount": 9000, "currency": "EUR"}, variants=one_variant("D-1"))
    spread = create_product(
        name="Spread",
        price={"amount": 500, "currency": "EUR"},
        variants=[{"sku": "S-1"}, {"sku": "S-2", "price": {"amount": 9000, "currency": "EUR"}}],
    )

    def listed(**query: int) -> set[str]:
        return set(ids_of(call_public(api_event("GET", "/products", query=query)).body))

    # When filtering by price
    # Then bounds are inclusive and a product matches if any variant price is inside
    assert listed(maxPrice=500) == {cheap["productId"], spread["productId"]}
    assert listed(minPrice=9000) == {dear["productId"], spread["productId"]}
    assert listed(minPrice=501, maxPrice=8999) == set()
    assert listed(minPrice=500, maxPrice=9000) == {cheap["productId"], dear["productId"], spread["productId"]}


def test_an_inverted_price_range_is_a_422_on_min_price(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory
) -> None:
    answer = call_public(api_event("GET", "/products", query={"minPrice": 500, "maxPrice": 100}))
    assert (answer.status, answer.error_code) == (422, "validation_failed")
    assert [d["field"] for d in answer.body["error"]["details"]] == ["query.minPrice"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 101}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"minPrice": -1}, "query.minPrice"),
        ({"q": "x" * 201}, "query.q"),
    ],
)
def test_out_of_range_query_parameters_are_422(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, query: dict[str, Any], field: str
) -> None:
    answer = call_public(api_event("GET", "/products", query=query))
    assert (answer.status, answer.error_code) == (422, "validation_failed")
    assert [d["field"] for d in answer.body["error"]["details"]] == [field]


def test_categories_limit_above_100_is_422(world: CatalogWorld, call_public: Handler, api_event: EventFactory) -> None:
    answer = call_public(api_event("GET", "/categories", query={"limit": 101}))
    assert (answer.status, answer.error_code) == (422, "validation_failed")


# ---------------------------------------------------------------- search


@pytest.fixture
def creme_mug(create_product: Create) -> dict[str, Any]:
    create_product(name="Plain Mug", tags=["kitchen"], description="", variants=one_variant("MUG-PLAIN"))
    create_product(name="Crème Scarf", tags=["winter"], description="", variants=one_variant("SCARF-CREME"))
    return create_product(
        name="Crème Brûlée Mug",
        tags=["Cuisine Française"],
        description="Oven-safe stoneware",
        variants=one_variant("MUG-CREME"),
    )


@pytest.mark.parametrize(
    "q", ["brulee", "BRÛLÉE", "Creme brulee", "francaise", "CUISINE", "stoneware", "the mug of crème", "mug française"]
)
def test_search_finds_by_name_tag_and_description_words_ignoring_case_and_accents(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, creme_mug: dict[str, Any], q: str
) -> None:
    # Given a crème brûlée mug among other mugs and crème things
    # When searching with any spelling of its words (stop words ignored)
    answer = call_public(api_event("GET", "/products", query={"q": q}))

    # Then it is the only result
    assert answer.status == 200
    assert ids_of(answer.body) == [creme_mug["productId"]]


def test_search_needs_every_word(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, creme_mug: dict[str, Any]
) -> None:
    assert len(ids_of(call_public(api_event("GET", "/products", query={"q": "mug"})).body)) == 2
    assert len(ids_of(call_public(api_event("GET", "/products", query={"q": "creme"})).body)) == 2
    assert ids_of(call_public(api_event("GET", "/products", query={"q": "creme winter"})).body) != [
        creme_mug["productId"]
    ]
    assert ids_of(call_public(api_event("GET", "/products", query={"q": "mug tea"})).body) == []


def test_search_combines_with_category_and_price(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given red things in two categories and two prices
    shirt = create_product(name="Red Shirt", category="Shirts", variants=one_variant("RS-1"))
    create_product(name="Red Cap", category="Caps", variants=one_variant("RC-1"))
    create_product(
        name="Red Luxury Shirt",
        category="Shirts",
        price={"amount": 90000, "currency": "EUR"},
        variants=one_variant("RS-2"),
    )

    # When searching "red" in shirts under 100 euros
    answer = call_public(api_event("GET", "/products", query={"q": "red", "category": "shirts", "maxPrice": 10000}))

    # Then only the plain red shirt matches
    assert ids_of(answer.body) == [shirt["productId"]]


def test_search_pages_through_every_match_once(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given seven products sharing a word, and noise without it
    matching = {create_product(name=f"Linen Thing {i}")["productId"] for i in range(7)}
    create_product(name="Wool Thing")

    # When the search is walked two at a time
    pages = walk(call_public, api_event, {"q": "LINEN", "limit": 2})

    # Then every match comes exactly once
    walked = [product_id for page in pages for product_id in page]
    assert len(walked) == len(set(walked))
    assert set(walked) == matching


def test_search_queries_postings_and_never_scans(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, creme_mug: dict[str, Any]
) -> None:
    # Given a record of every DynamoDB operation the handler makes, failing on Scan
    operations: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        operations.append(operation)
        if operation == "Scan":
            raise AssertionError("the catalog must never scan its table")

    dynamodb_client().meta.events.register("before-call.dynamodb", record)

    # When searching, listing, filtering and reading categories
    for query in ({"q": "brulee mug"}, {}, {"category": "tees", "minPrice": 1}, {"q": "mug", "category": "tees"}):
        assert call_public(api_event("GET", "/products", query=query)).status == 200
    assert call_public(api_event("GET", "/categories")).status == 200

    # Then only queries and batch reads were made
    assert operations
    assert set(operations) <= {"Query", "BatchGetItem", "GetItem"}


# ---------------------------------------------------------------- categories


def categories(call_public: Handler, api_event: EventFactory) -> dict[str, tuple[str, int]]:
    answer = call_public(api_event("GET", "/categories"))
    assert answer.status == 200
    return {c["slug"]: (c["name"], c["productCount"]) for c in answer.body["items"]}


def test_category_counts_follow_create_update_and_archive(
    world: CatalogWorld, call_admin: Handler, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given two tees and a hoodie
    tee = create_product(category="Tees")
    create_product(category="Tees")
    create_product(category="Hoodies")
    assert categories(call_public, api_event) == {"tees": ("Tees", 2), "hoodies": ("Hoodies", 1)}

    # When a tee becomes a hoodie
    path = f"/products/{tee['productId']}"
    moved = call_admin(api_event("PUT", path, body={**_body_of(tee), "category": "Hoodies"}, groups=ADMIN))
    assert moved.status == 200

    # Then one count moved from tees to hoodies
    assert categories(call_public, api_event) == {"tees": ("Tees", 1), "hoodies": ("Hoodies", 2)}

    # When the other products of "tees" are archived
    for product_id in ids_of(call_public(api_event("GET", "/products", query={"category": "tees"})).body):
        assert call_admin(api_event("DELETE", f"/products/{product_id}", groups=ADMIN)).status == 200

    # Then "tees" is no longer listed, and archiving again does not count twice
    assert categories(call_public, api_event) == {"hoodies": ("Hoodies", 2)}
    assert call_admin(api_event("DELETE", path, groups=ADMIN)).status == 200
    call_admin(api_event("DELETE", path, groups=ADMIN))
    assert categories(call_public, api_event) == {"hoodies": ("Hoodies", 1)}


def test_renaming_a_category_in_place_keeps_its_count(
    world: CatalogWorld, call_admin: Handler, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product in "Tees"
    tee = create_product(category="Tees")

    # When it is saved with the same category spelled "TEES"
    body = {**_body_of(tee), "category": "TEES"}
    assert call_admin(api_event("PUT", f"/products/{tee['productId']}", body=body, groups=ADMIN)).status == 200

    # Then the category keeps one product and takes the new name
    assert categories(call_public, api_event) == {"tees": ("TEES", 1)}


def test_categories_page_with_a_cursor(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given three categories
    for name in ("Caps", "Bags", "Aprons"):
        create_product(category=name)

    # When they are read two at a time
    first = call_public(api_event("GET", "/categories", query={"limit": 2})).body
    second = call_public(api_event("GET", "/categories", query={"limit": 2, "cursor": first["nextCursor"]})).body

    # Then they come in slug order, once each
    assert [c["slug"] for c in first["items"] + second["items"]] == ["aprons", "bags", "caps"]
    assert second["nextCursor"] is None


def _body_of(product: dict[str, Any]) -> dict[str, Any]:
    """The create/replace body that reproduces a product answer."""
    return {
        "name": product["name"],
        "description": product["description"],
        "category": product["category"],
        "tags": product["tags"],
        "price": product["price"],
        "variants": [{"sku": v["sku"], "attributes": v["attributes"]} for v in product["variants"]],
        "images": product["images"],
    }


# ---------------------------------------------------------------- cursors


@pytest.mark.parametrize("cursor", ["garbage", "eyJzIjoiMTIzIn0", "x" * 500])
def test_a_forged_cursor_is_a_400(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, cursor: str
) -> None:
    answer = call_public(api_event("GET", "/products", query={"cursor": cursor}))
    assert (answer.status, answer.error_code) == (400, "invalid_cursor")


def test_a_well_signed_cursor_for_another_partition_is_a_400(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a cursor with the right scope tag (it is not a secret) but a key into the SKU claims
    create_product()
    scope = ProductFilter.of(category=None, q=None, min_price=None, max_price=None).scope
    forged_keys = [
        {"PK": {"S": "SKU#TEE-1-S"}, "SK": {"S": "META"}, "GSI2PK": {"S": "SKUS"}, "GSI2SK": {"S": "a"}},
        {"PK": {"S": "x"}, "SK": {"S": "META"}, "GSI2PK": {"S": "PRODUCTS"}, "GSI2SK": {"N": "1"}},
        {"PK": {"S": "x"}, "SK": {"S": "META"}},
    ]

    for key in forged_keys:
        # When it is used
        answer = call_public(api_event("GET", "/products", query={"cursor": encode_cursor(key, scope)}))

        # Then it is refused before DynamoDB sees it
        assert (answer.status, answer.error_code) == (400, "invalid_cursor")


@pytest.mark.parametrize(
    "other_query", [{"category": "hoodies"}, {}, {"q": "tee"}, {"category": "tees", "minPrice": 1}]
)
def test_a_cursor_from_another_query_is_a_400(
    world: CatalogWorld,
    call_public: Handler,
    api_event: EventFactory,
    create_product: Create,
    other_query: dict[str, Any],
) -> None:
    # Given a cursor from the "tees" listing
    for category in ("Tees", "Tees", "Hoodies", "Hoodies"):
        create_product(category=category)
    cursor = call_public(api_event("GET", "/products", query={"category": "tees", "limit": 1})).body["nextCursor"]
    assert cursor

    # When it is replayed against another category or filter
    answer = call_public(api_event("GET", "/products", query={**other_query, "cursor": cursor, "limit": 1}))

    # Then it is a 400 invalid_cursor
    assert (answer.status, answer.error_code) == (400, "invalid_cursor")


# ---------------------------------------------------------------- AWS faults


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]
)
def test_a_throttled_read_is_a_503(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, code: str
) -> None:
    # Given DynamoDB refuses the listing query (after botocore's own retries)
    with Stubber(dynamodb_client()) as stub:
        stub.add_client_error("query", code, http_status_code=400)

        # When the catalog is listed
        answer = call_public(api_event("GET", "/products"))

        stub.assert_no_pending_responses()

    # Then the client is told to retry shortly, in the one error shape
    assert (answer.status, answer.error_code) == (503, "service_unavailable")
    assert answer.body["error"]["message"] == "please retry shortly"


def test_a_permanent_aws_error_is_a_500_that_leaks_nothing(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory
) -> None:
    with Stubber(dynamodb_client()) as stub:
        stub.add_client_error("get_item", "AccessDeniedException", "User arn:aws:iam::123:role/x is not authorized")
        answer = call_public(api_event("GET", "/products/p_01jd8x0000000000000000000a"))
    assert (answer.status, answer.error_code) == (500, "internal_error")
    assert "arn:aws" not in str(answer.body)
