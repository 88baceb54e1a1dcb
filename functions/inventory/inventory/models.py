"""Inventory models by owner: requests, the domain, responses. Stored items are mapped in
`inventory.store`, the only module that knows their keys."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.api_models import In, Out, Page
from common.contracts import OrderLine

MAX_ADJUSTMENT = 1_000_000


class HoldStatus(StrEnum):
    HELD = "HELD"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"


class StockReason(StrEnum):
    """Why stock was adjusted by hand (or, `return`, by a refund that restocked)."""

    RESTOCK = "restock"
    SHRINKAGE = "shrinkage"
    CORRECTION = "correction"
    RETURN = "return"


# ---------------------------------------------------------------- requests


class AdjustmentIn(In):
    delta: Annotated[
        int, Field(strict=True, ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT, description="Units added (negative: removed)")
    ]
    reason: StockReason
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class StockSettingsIn(In):
    low_stock_threshold: Annotated[int, Field(strict=True, ge=0, le=MAX_ADJUSTMENT)]


# ---------------------------------------------------------------- domain


class Stock(BaseModel):
    """One SKU's counters. `available + reserved` is what is on the shelf; none is ever negative."""

    model_config = ConfigDict(frozen=True)

    sku: str
    available: int
    reserved: int
    sold: int
    threshold: int
    low: bool = False
    crossings: int = 0
    announced: int = Field(default=0, description="The last crossing whose StockLow event was published")

    @property
    def on_hand(self) -> int:
        return self.available + self.reserved

    @property
    def is_low(self) -> bool:
        return self.available <= self.threshold


class Hold(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    lines: tuple[OrderLine, ...]
    status: HoldStatus
    expires_at: datetime | None
    release_reason: str | None = None

    @property
    def quantities(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}


class LedgerEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    adjustment_id: str
    sku: str
    delta: int
    reason: StockReason
    note: str | None
    actor: str
    at: datetime


# ---------------------------------------------------------------- responses


class StockOut(Out):
    sku: str
    available: int
    reserved: int
    sold: int
    on_hand: int
    low_stock_threshold: int
    low_stock: bool

    @classmethod
    def of(cls, stock: Stock) -> Self:
        return cls(
            sku=stock.sku,
            available=stock.available,
            reserved=stock.reserved,
            sold=stock.sold,
            on_hand=stock.on_hand,
            low_stock_threshold=stock.threshold,
            low_stock=stock.is_low,
        )


class StockPage(Page[StockOut]):
    pass


class LedgerEntryOut(Out):
    adjustment_id: str
    sku: str
    delta: int
    reason: StockReason
    note: str | None
    actor: str
    created_at: datetime

    @classmethod
    def of(cls, entry: LedgerEntry) -> Self:
        return cls(**entry.model_dump(exclude={"at"}), created_at=entry.at)


class LedgerPage(Page[LedgerEntryOut]):
    pass


class AdjustmentOut(Out):
    adjustment: LedgerEntryOut
    stock: StockOut
