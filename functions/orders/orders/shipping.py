"""Pricing configuration as staff write it and clients read it: shipping methods and tax rates. The
domain shapes (`ShippingMethod`, `TaxRates`) and the arithmetic live in `common.pricing`; these are the
request and response models around them."""

from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from common.api_models import In, Out
from common.money import Money, MoneyIn
from common.pricing import ShippingMethod, TaxRates

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["DE"])]
Percent = Annotated[
    str,
    Field(
        pattern=r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$",
        description="A percent from 0 to 100 as a decimal string with at most 2 decimals (exact)",
        examples=["19", "7", "5.5"],
    ),
]
CategorySlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,80}$")]
ShippingMethodIdPattern = r"^sm_[A-Za-z0-9]{1,40}$"
Days = Annotated[int, Field(strict=True, ge=0, le=365)]


class ShippingMethodIn(In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    countries: Annotated[list[Country], Field(min_length=1, max_length=100)]
    price: MoneyIn
    free_over: MoneyIn | None = Field(default=None, description="Free when the discounted merchandise reaches it")
    min_days: Days | None = None
    max_days: Days | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.countries)) != len(self.countries):
            raise ValueError("countries must not repeat")
        if self.free_over is not None and self.free_over.currency != self.price.currency:
            raise ValueError("freeOver must be in the price's currency")
        if self.min_days is not None and self.max_days is not None and self.min_days > self.max_days:
            raise ValueError("minDays must not be more than maxDays")
        return self

    def method(self, shipping_method_id: str) -> ShippingMethod:
        return ShippingMethod.model_validate(
            {
                "shippingMethodId": shipping_method_id,
                "name": self.name,
                "countries": self.countries,
                "price": self.price.money().model_dump(),
                "freeOver": self.free_over.money().model_dump() if self.free_over else None,
                "minDays": self.min_days,
                "maxDays": self.max_days,
                "archived": False,
            }
        )


class ShippingMethodOut(Out):
    shipping_method_id: str
    name: str
    countries: list[str]
    price: Money
    free_over: Money | None
    min_days: int | None
    max_days: int | None
    archived: bool

    @classmethod
    def of(cls, method: ShippingMethod) -> Self:
        return cls(
            shipping_method_id=method.shipping_method_id,
            name=method.name,
            countries=list(method.countries),
            price=method.price,
            free_over=method.free_over,
            min_days=method.min_days,
            max_days=method.max_days,
            archived=method.archived,
        )


class ShippingMethodList(Out):
    items: list[ShippingMethodOut]


class TaxRatesIn(In):
    standard: Percent
    categories: dict[CategorySlug, Percent] | None = Field(
        default=None, max_length=100, description="Rates by category slug that differ from the standard one"
    )

    def rates(self, country: str) -> TaxRates:
        return TaxRates(
            country=country,
            standard=Decimal(self.standard),
            categories={name: Decimal(rate) for name, rate in (self.categories or {}).items()},
        )


class TaxRatesOut(Out):
    country: str
    standard: str = Field(description="Percent, a decimal string")
    categories: dict[str, str] = Field(description="Percent by category slug")

    @classmethod
    def of(cls, rates: TaxRates) -> Self:
        return cls(
            country=rates.country,
            standard=str(rates.standard),
            categories={name: str(rate) for name, rate in rates.categories.items()},
        )


class TaxRatesList(Out):
    items: list[TaxRatesOut]
