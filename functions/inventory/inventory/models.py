"""Inventory models by owner: requests, the domain, responses. Stored items are mapped in
`inventory.store`, the only module that knows their keys."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from common.api_models import In, Out, Page
from common.contracts import OrderLine

MAX_ADJUSTMENT = 1_000_000
MAX_SHARDS = 16
"""A SKU's stock spreads over at most this many items (16 items of ~250 sales a second each; see decisions)."""


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
    """At least one setting; what is left out keeps its value."""

    low_stock_threshold: Annotated[int, Field(strict=True, ge=0, le=MAX_ADJUSTMENT)] | None = None
    shards: (
        Annotated[
            int,
            Field(
                strict=True,
                ge=1,
                le=MAX_SHARDS,
                description="Items the SKU's available units are spread over; more lets more buyers hold it at once",
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _something_to_set(self) -> Self:
        if self.low_stock_threshold is None and self.shards is None:
            raise ValueError("set lowStockThreshold, shards, or both")
        return self


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
    shards: int = Field(default=1, description="Items the available units are spread over (the counters are totals)")

    @property
    def on_hand(self) -> int:
        return self.available + self.reserved

    @property
    def is_low(self) -> bool:
        return self.available <= self.threshold


class Take(BaseModel):
    """Units of a hold that came from one shard of a SKU: commit and release move them in that shard."""

    model_config = ConfigDict(frozen=True)

    sku: str
    shard: int
    quantity: int


class Hold(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    lines: tuple[OrderLine, ...]
    status: HoldStatus
    expires_at: datetime | None
    release_reason: str | None = None
    takes: tuple[Take, ...] = Field(default=(), description="Where the units came from; empty: all from shard 0")

    @property
    def quantities(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}

    @property
    def sources(self) -> tuple[Take, ...]:
        """The shards the held units sit in. A hold written before stock had shards has no takes: its
        units are on the stock item, shard 0."""
        return self.takes or tuple(Take(sku=line.sku, shard=0, quantity=line.quantity) for line in self.lines)


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
    shards: int = Field(description="Items the units are spread over; the counters are their totals")

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
            shards=stock.shards,
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
