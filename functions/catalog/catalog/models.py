"""Catalog models, by owner: requests (what a client may send), the domain (what logic works with),
responses (what a client sees) and records (what DynamoDB holds). Each boundary has its own class
and an explicit mapping, so a storage or API change never leaks into the other side."""

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.alias_generators import to_camel

from common.api_models import In, Out, Page
from common.contracts import StockLevel
from common.ids import Sku
from common.money import Money
from common.store import Stamp

MAX_VARIANTS = 30

# ---------------------------------------------------------------- reusable field types

ProductName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
CategoryName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
AttributeName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
AttributeValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ImageUrl = Annotated[
    str, Field(pattern=r"^https?://[^\s/$.?#][^\s]*$", max_length=2048, examples=["https://cdn.example.com/tee.jpg"])
]


class ProductStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


Status = ProductStatus


class ProductSort(StrEnum):
    """The orders `GET /products` can list in. Each is one sparse index over the whole catalog and one per
    category (see `catalog.store`), so every order pages with stable cursors. Ties break on the product id."""

    NAME = "name"
    """By folded name, A to Z (the default)."""
    PRICE = "price"
    """By the lowest variant price, cheapest first."""
    PRICE_DESC = "-price"
    """By the lowest variant price, dearest first: exactly the reverse of `price`."""
    NEWEST = "newest"
    """By creation time, newest first."""

    @property
    def descending(self) -> bool:
        return self in (ProductSort.PRICE_DESC, ProductSort.NEWEST)


MAX_IDS = 100
"""Products one `ids` listing may name: a cart or a wish list, read in one batch."""


# ---------------------------------------------------------------- requests


class VariantIn(In):
    sku: Sku
    attributes: Annotated[dict[AttributeName, AttributeValue], Field(max_length=10)] = Field(default_factory=dict)
    price: Money | None = Field(default=None, description="Overrides the product's price for this variant")


class ProductIn(In):
    """The editable fields of a product: the body of both create and replace."""

    name: ProductName
    description: Description
    category: CategoryName
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)
    price: Money
    variants: Annotated[list[VariantIn], Field(min_length=1, max_length=MAX_VARIANTS)]
    images: Annotated[list[ImageUrl], Field(max_length=10)] = Field(default_factory=list)

    @field_validator("variants")
    @classmethod
    def _unique_skus(cls, variants: list[VariantIn]) -> list[VariantIn]:
        counts = Counter(v.sku for v in variants)
        duplicates = sorted(sku for sku, count in counts.items() if count > 1)
        if duplicates:
            raise ValueError(f"SKUs must be unique within a product: {', '.join(duplicates)}")
        return variants


# ---------------------------------------------------------------- domain


class Variant(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    attributes: dict[str, str]
    price: Money | None = None

    def effective_price(self, base: Money) -> Money:
        return self.price or base


class Product(BaseModel):
    """A product as logic sees it. `tokens` are the words it is indexed under (see `catalog.search`)."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    name: str
    description: str
    category: str
    category_slug: str
    tags: tuple[str, ...]
    price: Money
    variants: tuple[Variant, ...]
    images: tuple[str, ...]
    status: Status
    version: int
    tokens: tuple[str, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def is_active(self) -> bool:
        return self.status is Status.ACTIVE

    @property
    def skus(self) -> tuple[str, ...]:
        return tuple(v.sku for v in self.variants)

    @property
    def variant_prices(self) -> tuple[int, ...]:
        return tuple(v.effective_price(self.price).amount for v in self.variants)

    @property
    def price_min(self) -> int:
        return min(self.variant_prices)

    @property
    def price_max(self) -> int:
        return max(self.variant_prices)


class Category(BaseModel):
    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    product_count: int


# ---------------------------------------------------------------- responses


class VariantOut(Out):
    sku: str
    attributes: dict[str, str]
    price: Money = Field(description="The effective price: the variant's own, or else the product's")
    in_stock: bool | None = Field(default=None, description="Whether it can be ordered now (public detail only)")
    available: int | None = Field(default=None, description="Units left, shown only when few are left")


class ProductOut(Out):
    product_id: str
    name: str
    description: str
    category: str
    category_slug: str
    tags: list[str]
    price: Money
    variants: list[VariantOut]
    images: list[str]
    status: Status
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product, levels: Mapping[str, StockLevel | None] | None = None) -> Self:
        """With `levels` (public detail), each variant says whether it is in stock, and how many are
        left when few are; a SKU without a stock record is not in stock, one whose level could not be
        read (None) stays unknown."""
        variants = []
        for v in product.variants:
            variant = VariantOut(sku=v.sku, attributes=v.attributes, price=v.effective_price(product.price))
            if levels is not None and not (v.sku in levels and levels[v.sku] is None):
                level = levels.get(v.sku)
                variant.in_stock = level is not None and level.in_stock
                variant.available = level.available if level is not None and level.is_low else None
            variants.append(variant)
        return cls(
            product_id=product.product_id,
            name=product.name,
            description=product.description,
            category=product.category,
            category_slug=product.category_slug,
            tags=list(product.tags),
            price=product.price,
            variants=variants,
            images=list(product.images),
            status=product.status,
            version=product.version,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )


class ProductSummary(Out):
    product_id: str
    name: str
    category: str
    category_slug: str
    tags: list[str]
    price: Money
    min_price: Money = Field(description="The lowest variant price")
    max_price: Money = Field(description="The highest variant price")
    image: str | None = Field(description="The first image, if any")

    @classmethod
    def of(cls, product: Product) -> Self:
        currency = product.price.currency
        return cls(
            product_id=product.product_id,
            name=product.name,
            category=product.category,
            category_slug=product.category_slug,
            tags=list(product.tags),
            price=product.price,
            min_price=Money(amount=product.price_min, currency=currency),
            max_price=Money(amount=product.price_max, currency=currency),
            image=product.images[0] if product.images else None,
        )


class ProductPage(Page[ProductSummary]):
    pass


class CategoryOut(Out):
    slug: str
    name: str
    product_count: int

    @classmethod
    def of(cls, category: Category) -> Self:
        return cls(slug=category.slug, name=category.name, product_count=category.product_count)


class CategoryPage(Page[CategoryOut]):
    pass


# ---------------------------------------------------------------- stored items


class VariantRecord(BaseModel):
    sku: str
    attributes: dict[str, str]
    price: Money | None = None


class ProductRecord(BaseModel):
    """The data attributes of a `PRODUCT#id / META` item. Keys and index attributes are the store's
    business; `priceMin`/`priceMax` are stored so that reads need not recompute them."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    product_id: str
    name: str
    description: str
    category: str
    category_slug: str
    tags: list[str]
    price: Money
    variants: list[VariantRecord]
    images: list[str]
    status: Status
    price_min: int
    price_max: int
    tokens: list[str]
    version: int
    created_at: Stamp
    updated_at: Stamp

    @classmethod
    def of(cls, product: Product) -> Self:
        return cls(
            product_id=product.product_id,
            name=product.name,
            description=product.description,
            category=product.category,
            category_slug=product.category_slug,
            tags=list(product.tags),
            price=product.price,
            variants=[VariantRecord(sku=v.sku, attributes=v.attributes, price=v.price) for v in product.variants],
            images=list(product.images),
            status=product.status,
            price_min=product.price_min,
            price_max=product.price_max,
            tokens=list(product.tokens),
            version=product.version,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )

    def attributes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_domain(self) -> Product:
        return Product(
            product_id=self.product_id,
            name=self.name,
            description=self.description,
            category=self.category,
            category_slug=self.category_slug,
            tags=tuple(self.tags),
            price=self.price,
            variants=tuple(Variant(sku=v.sku, attributes=v.attributes, price=v.price) for v in self.variants),
            images=tuple(self.images),
            status=self.status,
            version=self.version,
            tokens=tuple(self.tokens),
            created_at=self.created_at,
            updated_at=self.updated_at,
        )
