"""Recommendations from the ranked counters: "customers who bought this also bought" for a product,
and a customer's own suggestions (from what they bought, excluding it, then best sellers of their
favourite categories). Only active products with a SKU in stock are suggested.

Cost is O(k) for k suggestions: a keys-only GSI2 query reads the next `2k + 5` ranked partners, then
one batch read of those products and one of their stock; a page whose candidates were all filtered
out is followed by at most two more. Nothing here scans."""

from collections import Counter as Tally
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from common.stock import StockReader
from customers.models import Summary
from customers.store import ALL_CATEGORIES, CustomersStore, bestseller_partition, copurchase_partition

Reason = Literal["bought_together", "best_seller"]
MAX_PAGES = 3
SEED_ORDERS = 5
SEED_PRODUCTS = 5


@dataclass(frozen=True)
class Suggestion:
    product_id: str
    name: str
    category: str | None
    score: int
    reason: Reason


def page_size(limit: int) -> int:
    return min(100, 2 * limit + 5)


def _on_sale(
    store: CustomersStore, stock: StockReader, ranked: Iterable[tuple[str, int]], reason: Reason
) -> list[Suggestion]:
    """The ranked candidates that are active and in stock, in rank order."""
    candidates = list(ranked)
    products = store.products(pid for pid, _ in candidates)
    active = [products[pid] for pid, _ in candidates if pid in products and products[pid].active]
    available = stock.in_stock(sku for product in active for sku in product.skus)
    selling = {p.product_id for p in active if any(sku in available for sku in p.skus)}
    return [
        Suggestion(pid, products[pid].name or pid, products[pid].category, score, reason)
        for pid, score in candidates
        if pid in selling
    ]


def _walk(
    store: CustomersStore,
    stock: StockReader,
    partition: str,
    *,
    limit: int,
    exclude: set[str],
    reason: Reason,
    customer: str | None = None,
) -> list[Suggestion]:
    """Down one ranked partition until `limit` suggestions are found or MAX_PAGES were read."""
    picked: list[Suggestion] = []
    start = None
    for _ in range(MAX_PAGES):
        page = store.top(partition, limit=page_size(limit), start_key=start)
        ranked = [(pid, n) for pid, n in page.items if pid not in exclude]
        if customer is not None and ranked:
            bought = store.bought(customer, (pid for pid, _ in ranked))
            exclude |= bought
            ranked = [(pid, n) for pid, n in ranked if pid not in bought]
        for suggestion in _on_sale(store, stock, ranked, reason):
            if len(picked) < limit:
                picked.append(suggestion)
                exclude.add(suggestion.product_id)
        if len(picked) >= limit or page.next_key is None:
            break
        start = page.next_key
    return picked


def for_product(store: CustomersStore, stock: StockReader, product_id: str, *, limit: int) -> list[Suggestion]:
    """Products most often bought in the same order as `product_id`, most often first."""
    return _walk(
        store, stock, copurchase_partition(product_id), limit=limit, exclude={product_id}, reason="bought_together"
    )


def for_customer(store: CustomersStore, stock: StockReader, sub: str, *, limit: int) -> list[Suggestion]:
    """From the products of the customer's latest paid orders: their partners, scored by summed
    co-purchases, minus what the customer bought; then best sellers of their favourite categories
    (shop-wide best sellers for a customer with no history)."""
    seeds: list[str] = []
    for order in store.list_orders(sub, SEED_ORDERS):
        if order.counted:
            for line in order.lines:
                if line.product_id not in seeds and len(seeds) < SEED_PRODUCTS:
                    seeds.append(line.product_id)
    scores: Tally[str] = Tally()
    for seed in seeds:
        for pid, count in store.top(copurchase_partition(seed), limit=page_size(limit)).items:
            scores[pid] += count
    exclude = set(seeds)
    ranked = sorted(((pid, n) for pid, n in scores.items() if pid not in exclude), key=lambda c: (-c[1], c[0]))
    if ranked:
        bought = store.bought(sub, (pid for pid, _ in ranked))
        exclude |= bought
        ranked = [(pid, n) for pid, n in ranked if pid not in bought]
    picked = _on_sale(store, stock, ranked, "bought_together")[:limit]
    exclude |= {s.product_id for s in picked}
    if len(picked) < limit:
        summary = store.get_summary(sub) or Summary()
        for category in summary.favourite_categories() or [ALL_CATEGORIES]:
            picked += _walk(
                store,
                stock,
                bestseller_partition(category),
                limit=limit - len(picked),
                exclude=exclude,
                reason="best_seller",
                customer=sub,
            )
            if len(picked) >= limit:
                break
    return picked[:limit]
