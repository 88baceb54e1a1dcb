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
