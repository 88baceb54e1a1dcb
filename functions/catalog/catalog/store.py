"""The catalog table, and the only module that talks to DynamoDB.

Items (one table, keys PK/SK):
- `PRODUCT#<id> / META`: the product. While ACTIVE it also carries the keys of six sparse listing
  indexes, one per (order, scope) a listing can ask for (`LISTING_INDEXES`): by name (GSI1 per category,
  GSI2 everything), by lowest price (GSI5, GSI3) and by creation time (GSI6, GSI4). Partition keys are
  `CATEGORY#<slug>` or `PRODUCTS`; sort keys `<order value>#<id>` (`listing_value`). Archiving drops
  those attributes, so every listing index forgets the product.
- `SKU#<sku> / META {productId}`: a claim that makes SKUs unique across the catalog. Claims are never
  released (orders and stock refer to SKUs), but the owner may drop and re-add its own SKU.
- `CATEGORY / <slug> {name, productCount}`: active products per category, kept by ADD in the product's
  transaction.
- `TOKEN#<word> / PRODUCT#<id>`: a search posting, written and removed with the product.

Every write that could race is conditional; cancelled transactions become domain errors here.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from catalog import search
from catalog.errors import ConcurrentUpdate, SkuTaken
from catalog.models import Category, Product, ProductRecord, ProductSort, Status
from common.dynamo import Key, Page, TransactionCancelled, check_start_key, from_item, to_item, to_value
from common.errors import Conflict, ServiceUnavailable
from common.store import TableStore, iso, key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

META = "META"
CATEGORY_PK = "CATEGORY"
ALL_PRODUCTS = "PRODUCTS"
BY_CATEGORY_INDEX = "GSI1"
ALL_PRODUCTS_INDEX = "GSI2"
LISTING_INDEXES: dict[tuple[str, bool], str] = {
    ("name", True): BY_CATEGORY_INDEX,
    ("name", False): ALL_PRODUCTS_INDEX,
    ("price", False): "GSI3",
    ("newest", False): "GSI4",
    ("price", True): "GSI5",
    ("newest", True): "GSI6",
}
"""The index of each (order, one category?) pair. `-price` reads the price index backwards."""
PRICE_DIGITS = 12
"""Prices are zero-padded to this width in sort keys, so text order is number order (`MAX_AMOUNT` has 11)."""
IDS_LIST = "IDS"
# Products a listing may examine per request: a very selective filter then answers a short page
# with a cursor instead of reading the whole catalog in one Lambda invocation.
READ_BUDGET = 1000


def product_pk(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


# Below every printable character, so "tee" + separator sorts before "tee shirt" (a '#' would not).
_SORT_SEPARATOR = "\x1f"


def _order_of(sort: ProductSort) -> str:
    return "price" if sort is ProductSort.PRICE_DESC else sort.value


def listing_value(product: Product, order: str, sort_name: str) -> str:
    """The sort key of `product` in the listing indexes of `order` (`name`, `price` or `newest`); the
    product id last, so ties keep one stable order and every key is unique."""
    if order == "price":
        value = f"{product.price_min:0{PRICE_DIGITS}d}"
    elif order == "newest":
        value = iso(product.created_at)
    else:
        value = sort_name
    return f"{value}{_SORT_SEPARATOR}{product.product_id}"


class CatalogStore(TableStore):
    """Reads and writes catalog items. `client` is injectable so tests can stub AWS faults."""

    busy = "the catalog is busy; retry"

    # ------------------------------------------------------------ single product

    def get_product(self, product_id: str, *, consistent: bool = False) -> Product | None:
        values = self.get(product_pk(product_id), META, consistent=consistent)
        return ProductRecord.model_validate(values).to_domain() if values else None

    def sku_owners(self, skus: Iterable[str]) -> dict[str, str]:
        """The product that claimed each SKU, for the SKUs that were ever claimed."""
        keys = [key(f"SKU#{sku}", META) for sku in dict.fromkeys(skus)]
        return {values["sku"]: values["productId"] for values in self.batch_read(keys)}

    def get_many(self, product_ids: Iterable[str]) -> list[Product]:
        return self._batch_get(product_ids)

    def sku_owner(self, sku: str) -> str | None:
        """The product that claimed `sku`, if any."""
        values = self.get(f"SKU#{sku}", META)
        return str(values["productId"]) if values else None

    # ------------------------------------------------------------ writes

    def create(self, product: Product, sort_name: str) -> None:
        """Write a new product with its SKU claims, category count and postings, all or nothing."""
        actions: list[TransactWriteItemTypeDef] = [
            self._put_product(product, sort_name, condition="attribute_not_exists(PK)"),
        ]
        sku_actions = {len(actions) + i: sku for i, sku in enumerate(product.skus)}
        actions += [self._claim_sku(sku, product.product_id) for sku in product.skus]
        actions.append(self._count_category(product.category_slug, +1, product.category))
        actions += [self._put_posting(token, product.product_id) for token in product.tokens]
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            if cancelled.failed() == [0]:
                return  # the product's fresh id exists: our own write, applied before its answer was lost
            self._raise_for(cancelled, product.product_id, sku_actions)

    def replace(self, old: Product, new: Product, sort_name: str) -> None:
        """Replace an active product if nobody changed it since `old` was read (optimistic lock on
        `version`), claiming its new SKUs and moving its count and postings in the same transaction."""
        actions: list[TransactWriteItemTypeDef] = [self._put_product(new, sort_name, **self._unchanged(old))]
        added_skus = [sku for sku in new.skus if sku not in old.skus]
        sku_actions = {len(actions) + i: sku for i, sku in enumerate(added_skus)}
        actions += [self._claim_sku(sku, new.product_id) for sku in added_skus]
        if old.category_slug != new.category_slug:
            actions.append(self._count_category(old.category_slug, -1))
            actions.append(self._count_category(new.category_slug, +1, new.category))
        elif old.category != new.category:
            actions.append(self._count_category(new.category_slug, 0, new.category))
        actions += [self._delete_posting(t, old.product_id) for t in old.tokens if t not in new.tokens]
        actions += [self._put_posting(t, new.product_id) for t in new.tokens if t not in old.tokens]
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            self._raise_for(cancelled, new.product_id, sku_actions)

    def archive(self, old: Product, archived: Product) -> None:
        """Store the archived product (without index attributes), uncount it and drop its postings."""
        actions: list[TransactWriteItemTypeDef] = [self._put_product(archived, "", **self._unchanged(old))]
        actions.append(self._count_category(old.category_slug, -1))
        actions += [self._delete_posting(token, old.product_id) for token in old.tokens]
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            self._raise_for(cancelled, old.product_id, {})

    @staticmethod
    def _unchanged(old: Product) -> dict[str, Any]:
        return {
            "condition": "#version = :expected AND #status = :active",
            "names": {"#version": "version", "#status": "status"},
            "values": {":expected": old.version, ":active": Status.ACTIVE.value},
        }

    @staticmethod
    def _raise_for(cancelled: TransactionCancelled, product_id: str, sku_actions: Mapping[int, str]) -> None:
        failed = cancelled.failed()
        taken = [sku_actions[i] for i in failed if i in sku_actions]
        if taken:
            raise SkuTaken(taken) from cancelled
        if 0 in failed:
            raise ConcurrentUpdate(product_id) from cancelled
        if "TransactionConflict" in cancelled.reasons:
            raise ServiceUnavailable(CatalogStore.busy, code="transaction_conflict") from cancelled
        raise Conflict("the change could not be applied", details={"reasons": cancelled.reasons}) from cancelled

    def _put_product(
        self,
        product: Product,
        sort_name: str,
        *,
        condition: str,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> "TransactWriteItemTypeDef":
        attributes: dict[str, Any] = {
            **ProductRecord.of(product).attributes(),
            "PK": product_pk(product.product_id),
            "SK": META,
        }
        if product.is_active:
            for (order, scoped), index in LISTING_INDEXES.items():
                attributes[f"{index}PK"] = f"CATEGORY#{product.category_slug}" if scoped else ALL_PRODUCTS
                attributes[f"{index}SK"] = listing_value(product, order, sort_name)
        put: dict[str, Any] = {"TableName": self.table, "Item": to_item(attributes), "ConditionExpression": condition}
        if names:
            put["ExpressionAttributeNames"] = dict(names)
        if values:
            put["ExpressionAttributeValues"] = {k: to_value(v) for k, v in values.items()}
        return {"Put": put}  # type: ignore[typeddict-item]

    def _claim_sku(self, sku: str, product_id: str) -> "TransactWriteItemTypeDef":
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item({"PK": f"SKU#{sku}", "SK": META, "sku": sku, "productId": product_id}),
                "ConditionExpression": "attribute_not_exists(PK) OR productId = :product",
                "ExpressionAttributeValues": {":product": {"S": product_id}},
            }
        }

    def _count_category(self, slug: str, delta: int, name: str | None = None) -> "TransactWriteItemTypeDef":
        expression = "ADD productCount :delta"
        values: dict[str, Any] = {":delta": {"N": str(delta)}}
        names: dict[str, str] = {}
        if name is not None:
            expression = "SET #name = :name " + expression
            values[":name"] = {"S": name}
            names["#name"] = "name"
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": key(CATEGORY_PK, slug),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return {"Update": update}  # type: ignore[typeddict-item]

    def _put_posting(self, token: str, product_id: str) -> "TransactWriteItemTypeDef":
        item = {"PK": f"TOKEN#{token}", "SK": product_pk(product_id), "productId": product_id}
        return {"Put": {"TableName": self.table, "Item": to_item(item)}}

    def _delete_posting(self, token: str, product_id: str) -> "TransactWriteItemTypeDef":
        return {"Delete": {"TableName": self.table, "Key": key(f"TOKEN#{token}", product_pk(product_id))}}

    # ------------------------------------------------------------ listings

    def list_products(
        self,
        *,
        category_slug: str | None,
        start_key: Key | None,
        limit: int,
        accept: Callable[[Product], bool],
        sort: ProductSort = ProductSort.NAME,
        max_price: int | None = None,
    ) -> Page[Product]:
        """Active products in `sort`'s order, from the sparse index of that order (per category when one is
        asked for), filtered by `accept` page after page until `limit` match, the index ends or the read
        budget is spent. Sorted by price, `max_price` also bounds the key range: a product whose lowest
        price is above it has no variant in range, so it is never read."""
        scoped = category_slug is not None
        index = LISTING_INDEXES[(_order_of(sort), scoped)]
        partition = f"CATEGORY#{category_slug}" if scoped else ALL_PRODUCTS
        key_names = ("PK", "SK", f"{index}PK", f"{index}SK")
        condition = "#pk = :pk"
        names = {"#pk": f"{index}PK"}
        values = {":pk": {"S": partition}}
        if max_price is not None and sort in (ProductSort.PRICE, ProductSort.PRICE_DESC):
            condition += " AND #sk < :above"
            names["#sk"] = f"{index}SK"
            values[":above"] = {"S": f"{max_price + 1:0{PRICE_DIGITS}d}"}
        query = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not sort.descending,
        }
        check_start_key(start_key, key_names, f"{index}PK", partition)
        return self._collect(query, start_key, limit, key_names, self._products_of, accept)

    def products_by_ids(
        self,
        product_ids: Sequence[str],
        *,
        sort: ProductSort | None,
        start_key: Key | None,
        limit: int,
        accept: Callable[[Product], bool],
    ) -> Page[Product]:
        """The products among `product_ids` (a cart or a wish list: at most `MAX_IDS`, one batch read) that
        `accept` takes, in the order given or in `sort`'s, one page at a time. The cursor holds the sort
        value of the last product answered (its position in `product_ids` when unsorted), so a product
        archived between two pages shifts nothing: later pages resume right after that value."""
        check_start_key(start_key, ("list", "after"), "list", IDS_LIST)
        found = {product.product_id: product for product in self._batch_get(product_ids)}
        ranked: list[tuple[str, Product]] = []
        for position, product_id in enumerate(dict.fromkeys(product_ids)):
            product = found.get(product_id)
            if product is None or not accept(product):
                continue
            if sort is None:
                value = f"{position:04d}"
            else:
                value = listing_value(product, _order_of(sort), search.sort_key(product.name))
            ranked.append((value, product))
        descending = sort is not None and sort.descending
        ranked.sort(key=lambda pair: pair[0], reverse=descending)
        if start_key is not None:
            after = start_key["after"]["S"]
            ranked = [(v, p) for v, p in ranked if (v < after if descending else v > after)]
        page = ranked[:limit]
        more = len(ranked) > limit
        next_key: Key | None = {"list": {"S": IDS_LIST}, "after": {"S": page[-1][0]}} if more else None
        return Page([product for _, product in page], next_key)

    def search_products(
        self, *, token: str, start_key: Key | None, limit: int, accept: Callable[[Product], bool]
    ) -> Page[Product]:
        """Products posted under `token` (in id order, i.e. newest last), fetched in batches and
        filtered by `accept` (which checks the other words and filters)."""
        partition = f"TOKEN#{token}"
        query = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
        }
        check_start_key(start_key, ("PK", "SK"), "PK", partition)
        return self._collect(query, start_key, limit, ("PK", "SK"), self._products_posted, accept)

    def list_categories(self, *, start_key: Key | None, limit: int) -> Page[Category]:
        """Categories by slug that have at least one active product."""
        query = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": CATEGORY_PK}},
        }
        check_start_key(start_key, ("PK", "SK"), "PK", CATEGORY_PK)

        def categories(items: list[dict[str, Any]]) -> list[Category | None]:
            return [_category_of(from_item(item)) for item in items]

        return self._collect(query, start_key, limit, ("PK", "SK"), categories, lambda c: c.product_count > 0)

    def _collect[T](
        self,
        query: dict[str, Any],
        start_key: Key | None,
        limit: int,
        key_names: Sequence[str],
        load: Callable[[list[dict[str, Any]]], list[T | None]],
        accept: Callable[[T], bool],
    ) -> Page[T]:
        """Query page after page, keeping what `accept`s. When the page fills up mid-way through a
        DynamoDB page, the cursor is the key of the last item kept, so the next call resumes right
        after it and nothing is skipped or repeated."""
        found: list[T] = []
        examined = 0
        resume = start_key
        page_size = min(100, max(limit + 1, 25))
        while True:
            kwargs = {**query, "Limit": page_size}
            if resume:
                kwargs["ExclusiveStartKey"] = resume
            response = self.client.query(**kwargs)
            raw = response.get("Items", [])
            last_key = response.get("LastEvaluatedKey")
            for position, (item, value) in enumerate(zip(raw, load(raw), strict=True)):
                if value is None or not accept(value):
                    continue
                found.append(value)
                if len(found) == limit:
                    at_end = position == len(raw) - 1 and not last_key
                    return Page(found, None if at_end else {name: item[name] for name in key_names})
            examined += len(raw)
            if not last_key:
                return Page(found, None)
            resume = dict(last_key)
            if examined >= READ_BUDGET:
                return Page(found, resume)

    def _products_of(self, items: list[dict[str, Any]]) -> list[Product | None]:
        return [ProductRecord.model_validate(from_item(item)).to_domain() for item in items]

    def _products_posted(self, postings: list[dict[str, Any]]) -> list[Product | None]:
        ids = [from_item(posting)["productId"] for posting in postings]
        found = {product.product_id: product for product in self._batch_get(ids)}
        return [found.get(product_id) for product_id in ids]

    def _batch_get(self, product_ids: Iterable[str]) -> list[Product]:
        keys = [key(product_pk(product_id), META) for product_id in dict.fromkeys(product_ids)]
        return [ProductRecord.model_validate(values).to_domain() for values in self.batch_read(keys)]


def _category_of(values: dict[str, Any]) -> Category:
    return Category(slug=values["SK"], name=values.get("name", values["SK"]), product_count=values["productCount"])
