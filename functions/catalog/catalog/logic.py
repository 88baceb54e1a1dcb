"""Catalog use cases. No HTTP, no event shapes, no boto3: handlers pass requests in and render what
comes back; the store is passed in, and so is the event publisher (a plain callable)."""

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from catalog import search
from catalog.errors import ConcurrentUpdate, ProductArchived, SkuTaken, VersionMismatch
from catalog.models import MAX_IDS, Category, Product, ProductIn, ProductSort, Status, Variant
from catalog.ports import Publisher
from catalog.store import CatalogStore
from common.contracts import PricedSku, PriceSkusOutput, ProductChanged, VariantPrice
from common.cursor import decode_cursor, encode_cursor
from common.errors import NotFound, ValidationFailed
from common.events import DomainEvent, new_event
from common.idempotency import KeyRecords
from common.ids import ID_PATTERN, new_id
from common.money import Money

PRODUCT_ID_PREFIX = "p"
_UPDATE_ATTEMPTS = 3


# ---------------------------------------------------------------- reads


@dataclass(frozen=True)
class ProductFilter:
    """What a listing asks for. `tokens` are already normalised by `catalog.search.query_tokens`; `sort`
    None is the default order (by name, or the search's own order when there are words); `ids` None is
    no id filter, a tuple (possibly empty) the products to choose from."""

    category_slug: str | None = None
    tokens: tuple[str, ...] = ()
    min_price: int | None = None
    max_price: int | None = None
    sort: ProductSort | None = None
    ids: tuple[str, ...] | None = None

    @classmethod
    def of(
        cls,
        *,
        category: str | None,
        q: str | None,
        min_price: int | None,
        max_price: int | None,
        sort: ProductSort | None = None,
        ids: str | None = None,
    ) -> "ProductFilter":
        if min_price is not None and max_price is not None and min_price > max_price:
            raise _invalid("query.minPrice", "minPrice must not exceed maxPrice", "range_inverted")
        slug = None
        if category is not None:
            slug = search.slugify(category)
            if not slug:
                raise _invalid("query.category", "the category has no letters or digits", "category_invalid")
        return cls(
            category_slug=slug,
            tokens=search.query_tokens(q or ""),
            min_price=min_price,
            max_price=max_price,
            sort=sort,
            ids=_product_ids(ids),
        )

    @property
    def scope(self) -> str:
        """What a cursor is bound to: the same filters and order, in any page size."""
        filters = f"{self.category_slug or '*'}|{' '.join(self.tokens)}|{self.min_price}|{self.max_price}"
        ids = "*" if self.ids is None else ",".join(self.ids)
        return f"products|{filters}|{self.sort.value if self.sort else ''}|{ids}"

    def accepts(self, product: Product) -> bool:
        return (
            product.is_active
            and (self.category_slug is None or product.category_slug == self.category_slug)
            and all(token in product.tokens for token in self.tokens)
            and price_in_range(product.variant_prices, self.min_price, self.max_price)
        )


def price_in_range(prices: tuple[int, ...], low: int | None, high: int | None) -> bool:
    """True if any price lies within [low, high] (either bound may be open). A product with variants at
    10 and 50 is not in 20..30, although its min..max span overlaps it."""
    return any((low is None or price >= low) and (high is None or price <= high) for price in prices)


def _product_ids(ids: str | None) -> tuple[str, ...] | None:
    """The distinct ids of a comma-separated `ids`, in the order given. Malformed ones are dropped like
    unknown ones (neither names a product); more than `MAX_IDS` is a 422."""
    if ids is None:
        return None
    given = tuple(dict.fromkeys(part.strip() for part in ids.split(",") if part.strip()))
    if len(given) > MAX_IDS:
        raise _invalid("query.ids", f"at most {MAX_IDS} product ids", "too_many_ids")
    return tuple(product_id for product_id in given if _is_product_id(product_id))


def list_products(
    store: CatalogStore, query: ProductFilter, *, cursor: str | None, limit: int
) -> tuple[list[Product], str | None]:
    """One page of active products.

    - With `ids`: those products, read in one batch, in the order given (or `sort`'s).
    - With words to find and no `sort`: walk the postings of the longest word (the rarest, most likely)
      and check the rest on each product.
    - Otherwise walk the sparse index of the order asked for (the whole catalog's, or the category's),
      checking the words and prices on each product. A search in an explicit order is answered this way
      too: postings are kept in id order, so no index has a word's products by price; the read budget
      then bounds each request and the cursor carries on (see `CatalogStore.list_products`)."""
    start_key = decode_cursor(cursor, query.scope)
    if query.ids is not None:
        page = store.products_by_ids(query.ids, sort=query.sort, start_key=start_key, limit=limit, accept=query.accepts)
    elif query.tokens and query.sort is None:
        rarest = max(query.tokens, key=len)
        page = store.search_products(token=rarest, start_key=start_key, limit=limit, accept=query.accepts)
    else:
        page = store.list_products(
            category_slug=query.category_slug,
            start_key=start_key,
            limit=limit,
            accept=query.accepts,
            sort=query.sort or ProductSort.NAME,
            max_price=query.max_price,
        )
    return page.items, encode_cursor(page.next_key, query.scope)


def get_product(store: CatalogStore, product_id: str) -> Product:
    """An active product; unknown, archived and malformed ids are all simply not found."""
    product = store.get_product(product_id) if _is_product_id(product_id) else None
    if product is None or not product.is_active:
        raise NotFound(f"no product {product_id}")
    return product


def list_categories(store: CatalogStore, *, cursor: str | None, limit: int) -> tuple[list[Category], str | None]:
    scope = "categories"
    page = store.list_categories(start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


# ---------------------------------------------------------------- prices for checkout (the PriceSkus task)


def price_skus(store: CatalogStore, skus: list[str]) -> PriceSkusOutput:
    """What checkout pays for each SKU, as the catalog has it now. A SKU that was never claimed, or
    that left its product in an edit, is `unknown`; an archived product's SKUs are priced, not active."""
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


# ---------------------------------------------------------------- writes


def create_product(
    store: CatalogStore,
    request: ProductIn,
    *,
    currency: str,
    publish: Publisher,
    now: datetime | None = None,
    idempotency_key: str | None = None,
    by: str = "",
) -> Product:
    """Create an active product at version 1 and announce it. With an Idempotency-Key (of admin `by`), a
    retry answers the product the first request created, as it stands (replayed), and the key with
    another product is a 409; without one, see `_create_product`."""
    return KeyRecords(store, "create-product").once(
        by,
        idempotency_key,
        request,
        lambda: _create_product(store, request, currency=currency, publish=publish, now=now),
        result_of=lambda product: product.product_id,
        replay=lambda product_id: _existing(store, product_id),
    )


def _create_product(
    store: CatalogStore, request: ProductIn, *, currency: str, publish: Publisher, now: datetime | None = None
) -> Product:
    """Create an active product at version 1 and announce it.

    SKUs are unique, so a create whose SKUs are all owned by an active product with exactly the same
    fields is a retry of one that was written but not announced (or whose answer was lost): it answers
    that product and announces it again, so inventory still learns its SKUs."""
    _check_currency(request, currency)
    slug = _category_slug(request)
    at = now or datetime.now(UTC)
    product = _build(request, product_id=new_id(PRODUCT_ID_PREFIX), slug=slug, version=1, created=at, updated=at)
    try:
        store.create(product, search.sort_key(product.name))
    except SkuTaken:
        earlier = _earlier_create(store, request, slug)
        if earlier is None:
            raise
        product = earlier
    publish([product_changed(product)])
    return product


def _earlier_create(store: CatalogStore, request: ProductIn, slug: str) -> Product | None:
    owners = {store.sku_owner(v.sku) for v in request.variants}
    owner = owners.pop() if len(owners) == 1 else None
    existing = store.get_product(owner, consistent=True) if owner else None
    if existing is None or not existing.is_active or existing.version != 1:
        return None
    again = _build(
        request,
        product_id=existing.product_id,
        slug=slug,
        version=1,
        created=existing.created_at,
        updated=existing.updated_at,
    )
    return existing if again == existing else None


def update_product(
    store: CatalogStore,
    product_id: str,
    request: ProductIn,
    *,
    currency: str,
    publish: Publisher,
    expected_versions: Collection[int] | None = None,
) -> Product:
    """Replace the editable fields of an active product. The write is conditional on the version read,
    so a concurrent edit is never overwritten blindly.

    Without `expected_versions` (no `If-Match`) the use case re-reads and re-applies on a concurrent edit
    (a PUT replaces the whole product, so re-applying it is what the caller asked for). With them, the
    caller replaces one version it has seen: any other version, read now or found by the conditional
    write, is `VersionMismatch` (412), and nothing is re-applied."""
    _check_currency(request, currency)
    slug = _category_slug(request)
    for attempt in range(_UPDATE_ATTEMPTS):
        old = _editable(store, product_id)
        if expected_versions is not None and old.version not in expected_versions:
            raise VersionMismatch(product_id, old.version)
        new = _build(
            request,
            product_id=old.product_id,
            slug=slug,
            version=old.version + 1,
            created=old.created_at,
            updated=datetime.now(UTC),
        )
        try:
            store.replace(old, new, search.sort_key(new.name))
        except ConcurrentUpdate:
            if expected_versions is not None:
                raise VersionMismatch(product_id) from None
            if attempt == _UPDATE_ATTEMPTS - 1:
                raise
            continue
        publish([product_changed(new)])
        return new
    raise AssertionError("unreachable")


def archive_product(store: CatalogStore, product_id: str, *, publish: Publisher) -> Product:
    """Archive a product: it leaves every public read but keeps its SKUs. Archiving an archived
    product changes nothing but announces its state again, so a retry after a failed publish heals."""
    for attempt in range(_UPDATE_ATTEMPTS):
        old = _existing(store, product_id)
        if not old.is_active:
            publish([product_changed(old)])
            return old
        archived = old.model_copy(
            update={"status": Status.ARCHIVED, "version": old.version + 1, "updated_at": datetime.now(UTC)}
        )
        try:
            store.archive(old, archived)
        except ConcurrentUpdate:
            if attempt == _UPDATE_ATTEMPTS - 1:
                raise
            continue
        publish([product_changed(archived)])
        return archived
    raise AssertionError("unreachable")


def product_changed(product: Product) -> DomainEvent:
    """The event inventory (and others) learn SKUs and prices from; its id is stable per version."""
    data = ProductChanged(
        product_id=product.product_id,
        name=product.name,
        status=product.status.value,
        version=product.version,
        variants=[VariantPrice(sku=v.sku, price=v.effective_price(product.price)) for v in product.variants],
    )
    return new_event(ProductChanged.DETAIL_TYPE, f"ProductChanged#{product.product_id}#{product.version}", data)


# ---------------------------------------------------------------- helpers


def _is_product_id(product_id: str) -> bool:
    return re.fullmatch(ID_PATTERN, product_id) is not None and product_id.startswith(PRODUCT_ID_PREFIX + "_")


def _existing(store: CatalogStore, product_id: str) -> Product:
    product = store.get_product(product_id, consistent=True) if _is_product_id(product_id) else None
    if product is None:
        raise NotFound(f"no product {product_id}")
    return product


def _editable(store: CatalogStore, product_id: str) -> Product:
    product = _existing(store, product_id)
    if not product.is_active:
        raise ProductArchived(product_id)
    return product


def _invalid(field: str, message: str, kind: str) -> ValidationFailed:
    """A 422 whose details have the same shape as Powertools' request validation errors."""
    return ValidationFailed(message, details=[{"field": field, "message": message, "type": kind}])


def _check_currency(request: ProductIn, currency: str) -> None:
    prices: list[tuple[str, Money]] = [("body.price", request.price)]
    prices += [(f"body.variants.{i}.price", v.price) for i, v in enumerate(request.variants) if v.price]
    for field, price in prices:
        if price.currency != currency:
            raise _invalid(f"{field}.currency", f"prices must be in the shop currency {currency}", "currency_mismatch")


def _category_slug(request: ProductIn) -> str:
    slug = search.slugify(request.category)
    if not slug:
        raise _invalid("body.category", "the category needs at least one letter or digit", "category_invalid")
    return slug


def _build(
    request: ProductIn, *, product_id: str, slug: str, version: int, created: datetime, updated: datetime
) -> Product:
    return Product(
        product_id=product_id,
        name=request.name,
        description=request.description,
        category=request.category,
        category_slug=slug,
        tags=tuple(request.tags),
        price=request.price,
        variants=tuple(Variant(sku=v.sku, attributes=v.attributes, price=v.price) for v in request.variants),
        images=tuple(request.images),
        status=Status.ACTIVE,
        version=version,
        tokens=search.index_tokens(request.name, request.tags, request.description),
        created_at=created,
        updated_at=updated,
    )
