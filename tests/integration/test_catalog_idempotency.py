"""Issue 12, item 3, for the catalog: `POST /products` takes an `Idempotency-Key`. A retry answers the
product the first request created (marked `Idempotent-Replayed: true`) and creates nothing more; the key
with another product is a 409. Through the real admin handler over moto."""

from collections.abc import Callable
from typing import Any

from .conftest import CatalogWorld, Handler, product_body

EventFactory = Callable[..., dict[str, Any]]
ADMIN = ["admin"]


def test_a_retried_create_with_its_key_answers_the_first_product(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory
) -> None:
    # Given a product body and a key
    body = product_body()
    key = {"Idempotency-Key": "create-tee-000001"}

    # When an admin creates it, retries, and then sends another product with the same key
    first = call_admin(api_event("POST", "/products", body=body, groups=ADMIN, sub="admin-1", headers=key))
    announced = world.published()
    again = call_admin(api_event("POST", "/products", body=body, groups=ADMIN, sub="admin-1", headers=key))
    other = call_admin(api_event("POST", "/products", body=product_body(), groups=ADMIN, sub="admin-1", headers=key))

    # Then the retry answers the same product (same status, same Location), marked replayed, announced once
    assert first.status == 201, first.body
    assert "Idempotent-Replayed" not in first.headers
    assert (again.status, again.body["productId"], again.headers.get("Idempotent-Replayed")) == (
        201,
        first.body["productId"],
        "true",
    )
    assert again.headers["Location"] == first.headers["Location"] == f"/dev/products/{first.body['productId']}"
    assert len(announced) == 1 and world.published() == []
    # And the same key with another product is refused, creating nothing
    assert (other.status, other.body["error"]["code"]) == (409, "idempotency_key_reused")
    products = {i["PK"]["S"] for i in world.items() if i["PK"]["S"].startswith("PRODUCT#") and i["SK"]["S"] == "META"}
    assert products == {f"PRODUCT#{first.body['productId']}"}


def test_keys_are_each_admins_own(world: CatalogWorld, call_admin: Handler, api_event: EventFactory) -> None:
    # Given two admins who happen to pick the same key for different products
    key = {"Idempotency-Key": "create-shared-0001"}
    mine = call_admin(api_event("POST", "/products", body=product_body(), groups=ADMIN, sub="admin-1", headers=key))
    theirs = call_admin(api_event("POST", "/products", body=product_body(), groups=ADMIN, sub="admin-2", headers=key))

    # Then each creates their own
    assert (mine.status, theirs.status) == (201, 201), (mine.body, theirs.body)
    assert mine.body["productId"] != theirs.body["productId"]
