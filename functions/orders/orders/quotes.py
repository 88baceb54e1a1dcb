"""A quote's request and answer: what a cart would cost, priced by `common.pricing` exactly as checkout
prices it, with business problems (sold out, coupon invalid, country not served) listed, not raised."""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from common.api_models import In, Out
from common.money import Money
from orders.models import MAX_ITEMS, CheckoutAddressIn, ItemIn
from orders.shipping import Country, ShippingMethodIdPattern, ShippingMethodOut

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


class QuoteIn(In):
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)]
    country: Country | None = Field(default=None, description="Where it would ship; or give `shippingAddress`")
    shipping_address: CheckoutAddressIn | None = None
    shipping_method_id: Annotated[str, Field(pattern=ShippingMethodIdPattern)] | None = None
    coupon_code: Code | None = None
    affiliate_code: Code | None = Field(default=None, description="Accepted as checkout takes it; changes no price")

    @model_validator(mode="after")
    def _one_country(self) -> Self:
        if self.country is None and self.shipping_address is None:
            raise ValueError("give country or shippingAddress")
        if self.country and self.shipping_address and self.country != self.shipping_address.country:
            raise ValueError("country and shippingAddress.country differ")
        return self

    @property
    def destination(self) -> str:
        if self.country is not None:
            return self.country
        assert self.shipping_address is not None  # _one_country
        return self.shipping_address.country


class QuoteProblemCode(StrEnum):
    """Why the cart cannot be ordered as it is (or what the quote could not include)."""

    UNKNOWN_SKU = "unknown_sku"
    OUT_OF_STOCK = "out_of_stock"
    COUNTRY_NOT_SERVED = "country_not_served"
    NO_TAX_RATE = "no_tax_rate"
    SHIPPING_METHOD_REQUIRED = "shipping_method_required"
    SHIPPING_METHOD_INVALID = "shipping_method_invalid"
    COUPON_NOT_FOUND = "coupon_not_found"
    COUPON_NOT_YET_VALID = "coupon_not_yet_valid"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_EXHAUSTED = "coupon_exhausted"
    COUPON_MIN_SUBTOTAL = "coupon_min_subtotal"
    COUPON_CURRENCY = "coupon_currency"
    COUPON_NOT_APPLICABLE = "coupon_not_applicable"
    COUPON_INVALID = "coupon_invalid"


class QuoteProblem(Out):
    code: QuoteProblemCode
    sku: str | None = None
    message: str


class QuoteLine(Out):
    sku: str
    product_id: str
    name: str
    quantity: int
    unit_price: Money
    line_total: Money
    tax_rate: str = Field(description="Percent, a decimal string")
    tax: Money
    available: bool = Field(description="Whether the quantity is in stock now (nothing is held)")


class QuoteCoupon(Out):
    code: str
    valid: bool
    reason: QuoteProblemCode | None = Field(default=None, description="Why it does not apply")
    discount: Money


class QuoteOut(Out):
    currency: str
    prices_include_tax: bool
    lines: list[QuoteLine]
    subtotal: Money
    discount: Money
    shipping: Money
    tax: Money
    total: Money
    coupon: QuoteCoupon | None
    shipping_methods: list[ShippingMethodOut] = Field(description="The methods that serve the country")
    problems: list[QuoteProblem]
