"""HTTP caching of the catalog through its handlers, against moto: `ETag` and `Cache-Control` on the public
reads, `If-None-Match` answered `304` without a body, and `If-Match` on a product replace (`412` when
another admin changed it first, with the write itself conditional on the version in DynamoDB)."""

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import CatalogWorld, Handler, product_body
from .test_catalog_admin import _bump_version_before_each_write
from .test_catalog_public import put_stock

EventFactory = Callable[..., dict[str, Any]]
Create = Callable[..., dict[str, Any]]
ADMIN = ["admin"]

PUBLIC_READS = ["/products", "/products/{id}", "/categories"]


def _path(template: str, product: dict[str, Any]) -> str:
    return template.replace("{id}", product["productId"])


# ---------------------------------------------------------------- ETag, Cache-Control, 304


@pytest.mark.parametrize("template", PUBLIC_READS)
def test_public_reads_carry_a_strong_etag_and_a_public_max_age(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create, template: str
) -> None:
    # Given a product
    product = create_product()

    # When a public read is asked twice
    first = call_public(api_event("GET", _path(template, product)))
    again = call_public(api_event("GET", _path(template, product)))

    # Then it is tagged strongly (no W/), the same both times, and cacheable by anyone for a short while
    assert first.status == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert again.headers["ETag"] == etag
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert 0 < int(first.headers["Cache-Control"].split("=")[1]) <= 300


@pytest.mark.parametrize("template", PUBLIC_READS)
def test_if_none_match_with_the_current_etag_is_a_bodiless_304(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create, template: str
) -> None:
    # Given a client holding the current answer and its ETag
    product = create_product()
    first = call_public(api_event("GET", _path(template, product)))
    etag = first.headers["ETag"]

    # When it revalidates with If-None-Match (alone, in a list, or weakly, as caches may send it)
    for header in (etag, f'"stale", {etag}', f"W/{etag}"):
        answer = call_public(api_event("GET", _path(template, product), headers={"If-None-Match": header}))

        # Then the answer is 304 with no body, and the same validators
        assert answer.status == 304, header
        assert answer.body is None
        assert answer.headers["ETag"] == etag
        assert answer.headers["Cache-Control"] == first.headers["Cache-Control"]
        assert "Content-Type" not in answer.headers


@pytest.mark.parametrize("template", PUBLIC_READS)
def test_a_change_changes_the_etag_and_the_old_one_gets_the_full_answer(
    world: CatalogWorld, call_public: Handler, call_admin: Handler, api_event: EventFactory, template: str
) -> None:
    # Given a client holding a product answer (the product's category is its own, so the categories change too)
    created = call_admin(api_event("POST", "/products", body=product_body(category="Old Shelf"), groups=ADMIN))
    product = created.body
    old = call_public(api_event("GET", _path(template, product)))

    # When an admin edits the product
    body = product_body(name="Renamed Tee", category="New Shelf")
    assert call_admin(api_event("PUT", f"/products/{product['productId']}", body=body, groups=ADMIN)).status == 200

    # Then revalidating with the old ETag answers 200 with the new body and a new ETag
    answer = call_public(api_event("GET", _path(template, product), headers={"If-None-Match": old.headers["ETag"]}))
    assert answer.status == 200
    assert answer.headers["ETag"] != old.headers["ETag"]
    assert answer.body != old.body


def test_a_stock_change_alone_changes_the_product_etag(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product page a shopper holds while its variant is plentiful
    product = create_product(variants=[{"sku": "ETAG-STOCK-1"}])
    put_stock(world, "ETAG-STOCK-1", available=50, threshold=5)
    path = f"/products/{product['productId']}"
    before = call_public(api_event("GET", path))

    # When the stock runs low (the product's own version does not move)
    put_stock(world, "ETAG-STOCK-1", available=2, threshold=5)
    answer = call_public(api_event("GET", path, headers={"If-None-Match": before.headers["ETag"]}))

    # Then the shopper gets the new availability, not a 304; the tag still names version 1
    assert answer.status == 200
    assert answer.body["variants"][0]["available"] == 2
    assert answer.headers["ETag"] != before.headers["ETag"]
    assert answer.headers["ETag"].startswith('"v1-')


def test_a_page_etag_covers_its_cursor_and_filters(
    world: CatalogWorld, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given three products
    for _ in range(3):
        create_product()

    # When the list is read whole, and as a first page of two
    whole = call_public(api_event("GET", "/products"))
    first = call_public(api_event("GET", "/products", query={"limit": 2}))

    # Then they are different answers with different tags, and one's tag does not validate the other
    assert whole.headers["ETag"] != first.headers["ETag"]
    again = call_public(
        api_event("GET", "/products", query={"limit": 2}, headers={"If-None-Match": whole.headers["ETag"]})
    )
    assert again.status == 200


def test_errors_are_not_marked_cacheable(world: CatalogWorld, call_public: Handler, api_event: EventFactory) -> None:
    answer = call_public(api_event("GET", "/products/p_01jd8x0000000000000000000a"))
    assert answer.status == 404
    assert "Cache-Control" not in answer.headers
    assert "ETag" not in answer.headers


# ---------------------------------------------------------------- If-Match on replace


def test_the_admin_answers_carry_the_version_etag(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product at version 1
    product = create_product()

    # When an admin replaces it
    answer = call_admin(api_event("PUT", f"/products/{product['productId']}", body=product_body(), groups=ADMIN))

    # Then the answer's ETag names version 2, and it is never marked cacheable
    assert answer.status == 200
    assert answer.headers["ETag"] == '"v2"'
    assert "Cache-Control" not in answer.headers


@pytest.mark.parametrize("source", ["public detail", "admin answer"])
def test_if_match_with_the_current_etag_replaces(
    world: CatalogWorld,
    call_public: Handler,
    call_admin: Handler,
    api_event: EventFactory,
    create_product: Create,
    source: str,
) -> None:
    # Given the current ETag, from the public detail or from the last admin answer
    product = create_product()
    path = f"/products/{product['productId']}"
    if source == "public detail":
        etag = call_public(api_event("GET", path)).headers["ETag"]
    else:
        etag = call_admin(api_event("PUT", path, body=product_body(), groups=ADMIN)).headers["ETag"]
    version = int(etag.strip('"').split("-")[0].removeprefix("v"))

    # When an admin replaces the product with If-Match
    body = product_body(name="Matched Tee")
    answer = call_admin(api_event("PUT", path, body=body, groups=ADMIN, headers={"If-Match": etag}))

    # Then it is replaced, one version on
    assert answer.status == 200, answer.body
    assert (answer.body["name"], answer.body["version"]) == ("Matched Tee", version + 1)
    assert answer.headers["ETag"] == f'"v{version + 1}"'


def test_if_match_star_or_absent_replaces_whatever_the_version(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product another admin already changed twice
    product = create_product()
    path = f"/products/{product['productId']}"
    for _ in range(2):
        assert call_admin(api_event("PUT", path, body=product_body(), groups=ADMIN)).status == 200

    # When an admin replaces it with If-Match: *, then with no If-Match at all
    star = call_admin(api_event("PUT", path, body=product_body(), groups=ADMIN, headers={"If-Match": "*"}))
    plain = call_admin(api_event("PUT", path, body=product_body(), groups=ADMIN))

    # Then both apply, as before If-Match existed (last writer wins)
    assert (star.status, star.body["version"]) == (200, 4)
    assert (plain.status, plain.body["version"]) == (200, 5)


@pytest.mark.parametrize("header", ['"v1"', 'W/"v2"', '"something-else"', "v2"])
def test_if_match_that_does_not_name_the_current_version_is_412_and_changes_nothing(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create, header: str
) -> None:
    # Given a product another admin moved to version 2 after ours read version 1
    product = create_product()
    path = f"/products/{product['productId']}"
    assert call_admin(api_event("PUT", path, body=product_body(name="Their Tee"), groups=ADMIN)).status == 200
    world.published()
    before = world.items()

    # When we replace it with an If-Match that is stale, weak (never matches for If-Match) or foreign
    answer = call_admin(api_event("PUT", path, body=product_body(), groups=ADMIN, headers={"If-Match": header}))

    # Then it is 412 precondition_failed in the one error shape, and nothing is written or announced
    assert (answer.status, answer.error_code) == (412, "precondition_failed")
    assert answer.error["message"]
    assert world.items() == before
    assert world.published() == []


def test_if_match_is_checked_by_the_write_itself_not_only_by_the_read(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product at version 1, which another admin changes between our read and our write
    product = create_product(name="Raced Tee")
    world.published()
    attempts = _bump_version_before_each_write(world, product["productId"], times=1)

    # When we replace it with If-Match naming version 1 (true when read)
    path = f"/products/{product['productId']}"
    answer = call_admin(api_event("PUT", path, body=product_body(), groups=ADMIN, headers={"If-Match": '"v1"'}))

    # Then the conditional write failed and was not re-applied on the newer version: 412, nothing announced
    assert len(attempts) == 1
    assert (answer.status, answer.error_code) == (412, "precondition_failed")
    assert world.item(f"PRODUCT#{product['productId']}")["name"]["S"] == "Raced Tee"  # type: ignore[index]
    assert world.published() == []


def test_if_match_on_an_unknown_or_archived_product_keeps_its_own_answer(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given an archived product, and an id nobody has
    archived = create_product()
    path = f"/products/{archived['productId']}"
    assert call_admin(api_event("DELETE", path, groups=ADMIN)).status == 200
    headers = {"If-Match": '"v1"'}

    # When either is replaced with If-Match
    gone = call_admin(api_event("PUT", path, body=product_body(), groups=ADMIN, headers=headers))
    unknown = call_admin(
        api_event("PUT", "/products/p_01jd8x0000000000000000000a", body=product_body(), groups=ADMIN, headers=headers)
    )

    # Then the answers are those without the header (a precondition never hides a 404 or a 409)
    assert (gone.status, gone.error_code) == (409, "product_archived")
    assert unknown.status == 404
