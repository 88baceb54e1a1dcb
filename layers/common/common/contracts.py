"""Event payloads that cross domain borders. The publisher and every consumer import the same model,
so a change to an event's shape is one change, seen by mypy everywhere."""

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common.ids import Sku
from common.money import Money


class _Contract(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class VariantPrice(_Contract):
    sku: Sku
    price: Money = Field(description="The variant's effective price")


class ProductChanged(_Contract):
    """Published by catalog on every create, update and archive. Inventory creates stock for SKUs it
    has not seen; the envelope's eventId is `ProductChanged#{productId}#{version}`."""

    DETAIL_TYPE: ClassVar[str] = "ProductChanged"

    product_id: str
    name: str
    status: Literal["ACTIVE", "ARCHIVED"]
    version: int = Field(ge=1)
    variants: list[VariantPrice]


# ---------------------------------------------------------------- inventory: workflow tasks and events

MAX_LINE_QUANTITY = 1000


class OrderLine(_Contract):
    sku: Sku
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)


class ReserveStockInput(_Contract):
    """ReserveStock: hold the lines of an order. Lines may repeat a SKU; inventory sums them."""

    order_id: str = Field(min_length=1, max_length=64)
    lines: list[OrderLine] = Field(min_length=1, max_length=500)


class HoldRef(_Contract):
    """CommitStock and ReleaseStock act on the hold of one order."""

    order_id: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=200, description="Why a hold is released")


class ShortSku(_Contract):
    sku: str
    requested: int
    available: int


class HoldResult(_Contract):
    """What every inventory task answers: the hold's state after the call."""

    order_id: str
    status: Literal["HELD", "COMMITTED", "RELEASED"]
    lines: list[OrderLine]
    expires_at: str | None = None
    changed: bool = Field(description="False when the call found the hold already in this state (a retry)")


class StockLow(_Contract):
    """Published by inventory when a SKU's available stock falls to or below its threshold, once per
    crossing; the envelope's eventId is `StockLow#{sku}#{crossing}`."""

    DETAIL_TYPE: ClassVar[str] = "StockLow"

    sku: str
    available: int
    threshold: int
    crossing: int = Field(ge=1)
