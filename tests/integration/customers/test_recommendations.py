"""Recommendations from a seeded purchase history: the expected products in the expected order, only
active and in-stock ones, excluding what the customer bought, with reads proportional to k."""

from typing import Any

from customers import recommend
from customers.store import Counter, copurchase_partition

from .conftest import T0, World, line, paid


def suggest(world: World, product_id: str, limit: int = 10, **query: Any) -> list[str]:
    answer = world.call(_event("GET", f"/products/{product_id}/recommendations", query={"limit": limit, **query}))
    assert answer.status == 200, answer.body
    assert answer.body["nextCursor"] is None
    return [item["productId"] for item in answer.body["items"]]


def _event(method: str, path: str, *, query: dict[str, Any] | None = None, sub: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": {k: str(v) for k, v in (query or {}).items()} or None,
        "multiValueQueryStringParameters": {k: [str(v)] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "requestContext": {"httpMethod": method, "path": path, "requestId": "req-1", "stage": "dev"},
        "body": None,
        "isBase64Encoded": False,
    }
    if sub:
        event["requestContext"]["authorizer"] = {"claims": {"sub": sub, "email": f"{sub}@example.com"}}
    return event


def seed_history(world: World) -> None:
    """Given the catalog's products (all active, in stock) and a purchase history where, with the kettle,
    people bought mugs 3 times, tea twice and a teapot once (and the spoon never with it)."""
    for product in ("kettle", "mugs", "tea", "teapot", "spoon", "novel"):
        world.product(product)
    paid(world, "o_1", "c1", line("kettle"), line("mugs"), line("tea"))
    paid(world, "o_2", "c2", line("kettle"), line("mugs"), line("teapot"))
    paid(world, "o_3", "c3", line("kettle"), line("mugs"), line("tea"))
    paid(world, "o_4", "c4", line("spoon"), line("tea"))
    paid(world, "o_5", "c5", line("novel", 5, category="books"))


def test_bought_together_in_order_of_co_purchases(world: World) -> None:
    seed_history(world)
    # When anyone asks what goes with the kettle
    # Then mugs (3), tea (2), teapot (1), most often first; never the kettle itself
    assert suggest(world, "kettle") == ["mugs", "tea", "teapot"]
    assert suggest(world, "kettle", limit=2) == ["mugs", "tea"]
    answer = world.call(_event("GET", "/products/kettle/recommendations"))
    assert answer.body["items"][0] == {
        "productId": "mugs",
        "name": "Product mugs",
        "category": "kitchen",
        "score": 3,
        "reason": "bought_together",
    }


def test_inactive_and_sold_out_products_are_not_suggested(world: World) -> None:
    seed_history(world)
    # When the mugs are archived (a newer catalog version) and the tea sells out
    world.product("mugs", status="ARCHIVED", version=2)
    world.stock("SKU-TEA", 0)
    # Then only the teapot is left to suggest with the kettle
    assert suggest(world, "kettle") == ["teapot"]
    # And a stale catalog event (version 1, active) does not bring the mugs back
    world.product("mugs", status="ACTIVE", version=1)
    assert suggest(world, "kettle") == ["teapot"]


def test_an_unknown_product_has_no_suggestions(world: World) -> None:
    seed_history(world)
    assert suggest(world, "nothing-like-it") == []


def test_reads_grow_with_k_not_with_the_history(world: World) -> None:
    # Given a product bought with 30 others, each a different number of times (counters as the order
    # events leave them, written directly: thousands of orders through moto would only slow the test)
    world.product("hub")
    counts = []
    for n in range(30):
        world.product(f"x{n:02d}")
        counts.append((Counter(copurchase_partition("hub"), f"x{n:02d}"), 0, n % 4 + 1))
    world.store.add_counts("seeded-history", "COUNTS#0", counts, T0)
    reads = world.count_reads()
    # When three suggestions are asked for
    top3 = suggest(world, "hub", limit=3)
    # Then they are the three most bought with it (ties by product id, highest first)
    assert top3 == ["x27", "x23", "x19"]
    # And the reads were one page of 2k+5 ranked keys, their products and their stock: O(k), not 30+
    page = recommend.page_size(3)
    assert reads() <= 3 * page < 3 * 30


def test_my_recommendations_exclude_what_i_bought_and_fall_back_to_best_sellers(world: World) -> None:
    seed_history(world)
    for product in ("whisk", "pan"):
        world.product(product)
    paid(world, "o_6", "c6", line("pan", 4))  # pan: the kitchen best seller after what Alice has
    paid(world, "o_7", "c7", line("whisk", 2))
    # Given Alice bought the kettle and the tea
    paid(world, "o_a1", "alice", line("kettle"), line("tea"))
    # When she asks for suggestions
    answer = world.call(_event("GET", "/me/recommendations", query={"limit": 4}, sub="alice"))
    assert answer.status == 200, answer.body
    items = [(i["productId"], i["reason"]) for i in answer.body["items"]]
    # Then first what was bought with her kettle and tea (mugs 3+2... spoon once), nothing she has,
    # then best sellers of her favourite category (kitchen) she does not have
    assert items == [
        ("mugs", "bought_together"),
        ("spoon", "bought_together"),
        ("teapot", "bought_together"),
        ("pan", "best_seller"),
    ]
    assert not {"kettle", "tea"} & {p for p, _ in items}


def test_a_new_customer_gets_the_shops_best_sellers(world: World) -> None:
    seed_history(world)
    answer = world.call(_event("GET", "/me/recommendations", query={"limit": 2}, sub="newcomer"))
    # (novel 5 units; then kettle, mugs and tea 3 each: a tie goes to the higher product id)
    assert [i["productId"] for i in answer.body["items"]] == ["novel", "tea"]
    assert {i["reason"] for i in answer.body["items"]} == {"best_seller"}
