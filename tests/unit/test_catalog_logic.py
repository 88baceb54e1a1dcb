from datetime import UTC, datetime

import pytest

from catalog.logic import ProductFilter, price_in_range, product_changed
from catalog.models import MAX_IDS, Product, ProductSort, Status, Variant
from common.errors import ValidationFailed
from common.money import Money

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def product(**overrides: object) -> Product:
    fields: dict[str, object] = {
        "product_id": "p_01jd8x0000000000000000000a",
        "name": "Linen Shirt",
        "description": "",
        "category": "Shirts",
        "category_slug": "shirts",
        "tags": (),
        "price": Money(amount=2000, currency="EUR"),
        "variants": (
            Variant(sku="SHIRT-S", attributes={"size": "S"}),
            Variant(sku="SHIRT-XL", attributes={"size": "XL"}, price=Money(amount=5000, currency="EUR")),
        ),
        "images": (),
        "status": Status.ACTIVE,
        "version": 1,
        "tokens": ("linen", "shirt"),
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(overrides)
    return Product.model_validate(fields)


def test_min_above_max_is_a_validation_error_on_min_price() -> None:
    # Given a price range upside down
    # When the filter is built
    with pytest.raises(ValidationFailed) as raised:
        ProductFilter.of(category=None, q=None, min_price=500, max_price=100)

    # Then it names query.minPrice in the request-validation detail shape
    assert raised.value.details == [
        {"field": "query.minPrice", "message": "minPrice must not exceed maxPrice", "type": "range_inverted"}
    ]


def test_equal_bounds_are_a_valid_range() -> None:
    assert ProductFilter.of(category=None, q=None, min_price=100, max_price=100).min_price == 100


def test_a_category_without_letters_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed) as raised:
        ProductFilter.of(category="!!!", q=None, min_price=None, max_price=None)
    assert raised.value.details[0]["field"] == "query.category"


def test_the_filter_normalises_category_and_words() -> None:
    # Given a category by name and a query with accents, case and stop words
    # When the filter is built
    query = ProductFilter.of(category="Tee Shirts", q="The ÉCHARPE of laine", min_price=None, max_price=None)

    # Then it holds the slug and folded words
    assert query.category_slug == "tee-shirts"
    assert query.tokens == ("echarpe", "laine")


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (None, None, True),
        (2000, None, True),
        (None, 2000, True),
        (2000, 2000, True),  # bounds are inclusive
        (5000, 5000, True),
        (2001, 4999, False),  # the span 2000..5000 overlaps, but no price is inside
        (5001, None, False),
        (None, 1999, False),
        (1000, 3000, True),
    ],
)
def test_price_in_range_needs_one_price_inside_the_bounds(low: int | None, high: int | None, expected: bool) -> None:
    # Given variants priced 2000 and 5000
    # When a range is checked
    # Then it matches only if a single price lies within it
    assert price_in_range((2000, 5000), low, high) is expected


def test_no_prices_never_match() -> None:
    assert price_in_range((), None, None) is False


def test_cursor_scope_changes_with_every_filter_but_not_with_page_size() -> None:
    # Given filters differing in one field each
    base = ProductFilter.of(category="tees", q="red", min_price=1, max_price=9)
    others = [
        ProductFilter.of(category="hoodies", q="red", min_price=1, max_price=9),
        ProductFilter.of(category=None, q="red", min_price=1, max_price=9),
        ProductFilter.of(category="tees", q="blue", min_price=1, max_price=9),
        ProductFilter.of(category="tees", q="red", min_price=2, max_price=9),
        ProductFilter.of(category="tees", q="red", min_price=1, max_price=None),
    ]

    # When their scopes are compared
    # Then each differs from the base, and the same filter spelled differently does not
    assert all(other.scope != base.scope for other in others)
    assert ProductFilter.of(category="TEES", q="RED the", min_price=1, max_price=9).scope == base.scope


def test_accepts_only_active_products_matching_every_filter() -> None:
    # Given an active linen shirt in "shirts" and its archived twin
    active = product()
    archived = product(status=Status.ARCHIVED)

    # When filters are applied
    # Then every word, the category and the price must match, and archived never does
    assert ProductFilter.of(category="Shirts", q="linen shirt", min_price=None, max_price=None).accepts(active)
    assert not ProductFilter.of(category=None, q="linen", min_price=None, max_price=None).accepts(archived)
    assert not ProductFilter.of(category=None, q="linen wool", min_price=None, max_price=None).accepts(active)
    assert not ProductFilter.of(category="tees", q=None, min_price=None, max_price=None).accepts(active)
    assert not ProductFilter.of(category=None, q=None, min_price=2001, max_price=4999).accepts(active)


def test_product_changed_carries_a_stable_id_and_effective_prices() -> None:
    # Given a product at version 3 with one overridden variant price
    changed = product(version=3)

    # When its event is built twice
    first, second = product_changed(changed), product_changed(changed)

    # Then the id is the same per version, and each variant has its effective price
    assert first.envelope.event_id == second.envelope.event_id == f"ProductChanged#{changed.product_id}#3"
    assert first.detail_type == "ProductChanged"
    assert first.envelope.data["variants"] == [
        {"sku": "SHIRT-S", "price": {"amount": 2000, "currency": "EUR"}},
        {"sku": "SHIRT-XL", "price": {"amount": 5000, "currency": "EUR"}},
    ]
    assert first.envelope.data["productId"] == changed.product_id


def test_cursor_scope_changes_with_the_sort_and_the_ids() -> None:
    # Given the same filters in every order, and with id lists
    base = ProductFilter.of(category="tees", q=None, min_price=None, max_price=None)
    sorted_ = [
        ProductFilter.of(category="tees", q=None, min_price=None, max_price=None, sort=sort) for sort in ProductSort
    ]
    with_ids = [
        ProductFilter.of(category="tees", q=None, min_price=None, max_price=None, ids=ids)
        for ids in ("", "p_01jd8x0000000000000000000a", "p_01jd8x0000000000000000000b")
    ]

    # When their scopes are compared
    # Then no two are the same: a cursor of one is never read as another's
    scopes = [base.scope] + [f.scope for f in sorted_ + with_ids]
    assert len(set(scopes)) == len(scopes)


def test_ids_are_split_deduplicated_and_malformed_ones_dropped() -> None:
    a, b = "p_01jd8x0000000000000000000a", "p_01jd8x0000000000000000000b"
    query = ProductFilter.of(
        category=None, q=None, min_price=None, max_price=None, ids=f" {b},,{a}, {b},nope,o_{a[2:]}"
    )
    assert query.ids == (b, a)
    assert ProductFilter.of(category=None, q=None, min_price=None, max_price=None).ids is None
    assert ProductFilter.of(category=None, q=None, min_price=None, max_price=None, ids="").ids == ()


def test_more_than_100_distinct_ids_is_a_validation_error_on_ids() -> None:
    ids = ",".join(f"p_01jd8x{n:020d}" for n in range(MAX_IDS + 1))
    with pytest.raises(ValidationFailed) as raised:
        ProductFilter.of(category=None, q=None, min_price=None, max_price=None, ids=ids)
    assert [d["field"] for d in raised.value.details] == ["query.ids"]
    repeated = ",".join(["p_01jd8x0000000000000000000a"] * (MAX_IDS + 1))
    assert ProductFilter.of(category=None, q=None, min_price=None, max_price=None, ids=repeated).ids is not None
