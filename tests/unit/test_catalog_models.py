from typing import Any

import pytest
from pydantic import ValidationError

from catalog.models import MAX_VARIANTS, ProductIn


def body(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "Linen Shirt",
        "description": "Light.",
        "category": "Shirts",
        "tags": ["summer"],
        "price": {"amount": 2000, "currency": "EUR"},
        "variants": [{"sku": "SHIRT-S", "attributes": {"size": "S"}}],
        "images": ["https://cdn.example.com/shirt.jpg"],
    }
    fields.update(overrides)
    return fields


def error_locations(error: ValidationError) -> list[tuple[Any, ...]]:
    return [tuple(e["loc"]) for e in error.errors()]


def test_a_valid_body_parses_and_strips_whitespace() -> None:
    # Given a valid request with padded strings
    # When it is parsed
    product = ProductIn.model_validate(body(name="  Linen Shirt  ", tags=[" summer "]))

    # Then the strings are trimmed
    assert product.name == "Linen Shirt"
    assert product.tags == ["summer"]


def test_duplicate_skus_within_a_product_are_refused() -> None:
    # Given two variants with the same SKU
    variants = [{"sku": "SHIRT-S"}, {"sku": "SHIRT-M"}, {"sku": "SHIRT-S"}]

    # When the request is parsed
    with pytest.raises(ValidationError) as raised:
        ProductIn.model_validate(body(variants=variants))

    # Then the variants field fails, naming the duplicate
    assert error_locations(raised.value) == [("variants",)]
    assert "SHIRT-S" in str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "location"),
    [
        ({"colour": "red"}, ("colour",)),
        ({"variants": [{"sku": "SHIRT-S", "stock": 3}]}, ("variants", 0, "stock")),
        ({"price": {"amount": 1, "currency": "EUR", "vat": 0}}, ("price", "vat")),
    ],
)
def test_unknown_fields_are_refused_at_every_level(overrides: dict[str, Any], location: tuple[Any, ...]) -> None:
    # Given a body with a field the API does not know
    # When it is parsed
    with pytest.raises(ValidationError) as raised:
        ProductIn.model_validate(body(**overrides))

    # Then that field is the error
    assert error_locations(raised.value) == [location]


@pytest.mark.parametrize(
    ("overrides", "location"),
    [
        ({"name": "   "}, ("name",)),
        ({"variants": []}, ("variants",)),
        ({"variants": [{"sku": f"S{i}"} for i in range(MAX_VARIANTS + 1)]}, ("variants",)),
        ({"images": ["ftp://example.com/x.jpg"]}, ("images", 0)),
        ({"tags": ["x" * 41]}, ("tags", 0)),
        ({"variants": [{"sku": "lower-case"}]}, ("variants", 0, "sku")),
    ],
)
def test_field_limits(overrides: dict[str, Any], location: tuple[Any, ...]) -> None:
    # Given a blank name, no or too many variants, a non-http image, a long tag or a bad SKU
    # When the body is parsed
    with pytest.raises(ValidationError) as raised:
        ProductIn.model_validate(body(**overrides))

    # Then the offending field is named
    assert error_locations(raised.value) == [location]
