"""Money is an integer amount in minor units plus an ISO 4217 currency: no floats anywhere near a price."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, upper case", examples=["EUR"])]
MinorUnits = Annotated[int, Field(ge=0, le=100_000_000_00, description="Amount in minor units (cents)")]


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: MinorUnits
    currency: Currency

    def __add__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def times(self, quantity: int) -> "Money":
        return Money(amount=self.amount * quantity, currency=self.currency)

    def _same_currency(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")


class SignedMoney(BaseModel):
    """An amount that may be negative: a balance or a net figure (a day with more refunds than sales).
    Prices and payments are always `Money`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Annotated[int, Field(ge=-100_000_000_00, le=100_000_000_00, description="Minor units; may be negative")]
    currency: Currency
