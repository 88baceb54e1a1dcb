"""The `PriceSkus` task (orders invokes it at checkout) against the template's catalog table in moto:
prices come from the catalog as it is now, never from the client."""

from collections.abc import Callable
from typing import Any

from catalog import tasks
from common.contracts import PriceSkusOutput

from .conftest import CatalogWorld, Handler

Create = Callable[..., dict[str, Any]]


def price(skus: list[str], lambda_context: Any) -> PriceSkusOutput:
    """Invoke the task's handler as orders' invoke would, and read the answer through its contract."""
    return PriceSkusOutput.model_validate(tasks.price_skus_handler({"skus": skus}, lambda_context))


def test_each_sku_is_priced_at_its_variant_s_effective_price(
    world: CatalogWorld, create_product: Create, lambda_context: Any
) -> None:
    # Given a product whose second variant has a price of its own
    product = create_product(
        variants=[{"sku": "PR-TEE-S"}, {"sku": "PR-TEE-M", "price": {"amount": 2500, "currency": "EUR"}}]
    )

    # When checkout prices both variants, one of them twice, and a SKU the catalog never had
    answer = price(["PR-TEE-M", "PR-TEE-S", "PR-TEE-M", "PR-NEVER"], lambda_context)

    # Then each known SKU is priced once, from the catalog, and the unknown one is named
    by_sku = {item.sku: item for item in answer.items}
    assert set(by_sku) == {"PR-TEE-S", "PR-TEE-M"}
    assert (by_sku["PR-TEE-S"].price.amount, by_sku["PR-TEE-M"].price.amount) == (2000, 2500)
    assert all(item.product_id == product["productId"] and item.active for item in answer.items)
    assert by_sku["PR-TEE-S"].category == product["categorySlug"]
    assert answer.unknown == ["PR-NEVER"]


def test_an_archived_product_is_priced_but_not_active_and_a_dropped_sku_is_unknown(
    world: CatalogWorld,
    create_product: Create,
    call_admin: Handler,
    api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
) -> None:
    # Given one product archived, and another edited so that one of its SKUs left it
    gone = create_product(variants=[{"sku": "PR-OLD-1"}])
    kept = create_product(variants=[{"sku": "PR-KEEP-1"}, {"sku": "PR-DROP-1"}])
    assert call_admin(api_event("DELETE", f"/products/{gone['productId']}", groups=["admin"])).status == 200
    edited = {k: kept[k] for k in ("name", "description", "category", "tags", "price", "images")}
    body = edited | {"variants": [{"sku": "PR-KEEP-1"}]}
    assert call_admin(api_event("PUT", f"/products/{kept['productId']}", body=body, groups=["admin"])).status == 200

    # When checkout prices all three
    answer = price(["PR-OLD-1", "PR-KEEP-1", "PR-DROP-1"], lambda_context)

    # Then the archived one is priced but inactive (orders refuses it), and the dropped SKU is unknown
    assert {item.sku: item.active for item in answer.items} == {"PR-OLD-1": False, "PR-KEEP-1": True}
    assert answer.unknown == ["PR-DROP-1"]
