"""`PriceSkus`: what checkout pays for each SKU, straight from the catalog. Orders invokes it directly
(an internal call between functions, not a public route), so prices never come from the client."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog.settings import settings
from catalog.store import CatalogStore
from common.contracts import PricedSku, PriceSkusInput, PriceSkusOutput
from common.observability import make_logger

logger = make_logger("catalog")


def price_skus(store: CatalogStore, skus: list[str]) -> PriceSkusOutput:
    owners = store.sku_owners(skus)
    products = {p.product_id: p for p in store.get_many(set(owners.values()))}
    items = []
    for sku, product_id in owners.items():
        product = products.get(product_id)
        variant = next((v for v in product.variants if v.sku == sku), None) if product else None
        if product is None or variant is None:  # the SKU left its product in an edit
            continue
        items.append(
            PricedSku(
                sku=sku,
                product_id=product.product_id,
                name=product.name,
                category=product.category_slug,
                price=variant.effective_price(product.price),
                active=product.is_active,
            )
        )
    priced = {item.sku for item in items}
    return PriceSkusOutput(items=items, unknown=[sku for sku in dict.fromkeys(skus) if sku not in priced])


@logger.inject_lambda_context
def handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    request = PriceSkusInput.model_validate(event)
    result = price_skus(CatalogStore(settings().catalog_table), request.skus)
    return result.model_dump(mode="json", by_alias=True)
