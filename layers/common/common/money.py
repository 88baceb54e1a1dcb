"""Money is an integer amount in minor units plus an ISO 4217 currency: no floats anywhere near a price."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.errors import ValidationFailed

MAX_AMOUNT = 100_000_000_00
"""The largest amount the shop handles, in minor units (a hundred million in major units)."""

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, upper case", examples=["EUR"])]
MinorUnits = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="Amount in minor units (cents)")]
StrictMinorUnits = Annotated[
    int, Field(strict=True, ge=0, le=MAX_AMOUNT, description="Amount in minor units (cents), a JSON integer")
]


class AmountTooLarge(ValidationFailed):
    """A computed amount (a line's quantity times its price, a sum of lines) beyond `MAX_AMOUNT`: the
    caller asked for too much, so it is a 422, never the 500 of a model that refuses the number."""

    code = "amount_too_large"


# Stripe's minimum charge per settlement currency (docs.stripe.com/currencies, "Minimum and maximum charge
# amounts"), in minor units. A total above 0 and below it cannot be paid: checkout refuses it up front.
MINIMUM_CHARGE: dict[str, int] = {
    "USD": 50, "EUR": 50, "GBP": 30, "AUD": 50, "BRL": 50, "CAD": 50, "CHF": 50, "CZK": 1500, "DKK": 250,
    "HKD": 400, "HUF": 17500, "INR": 50, "JPY": 50, "MXN": 1000, "MYR": 200, "NOK": 300, "NZD": 50, "PLN": 200,
    "RON": 200, "SEK": 300, "SGD": 50, "THB": 1000, "AED": 200, "BGN": 100,
}  # fmt: skip
DEFAULT_MINIMUM_CHARGE = 50


def minimum_charge(currency: str) -> int:
    return MINIMUM_CHARGE.get(currency, DEFAULT_MINIMUM_CHARGE)


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
        """The amount `quantity` times over; `AmountTooLarge` beyond `MAX_AMOUNT`."""
        amount = self.amount * quantity
        if amount > MAX_AMOUNT:
            raise AmountTooLarge(f"{quantity} x {self.amount} is more than {MAX_AMOUNT} {self.currency} minor units")
        return Money(amount=amount, currency=self.currency)

    def _same_currency(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")


class MoneyIn(BaseModel):
    """Money in a request body. The amount must be a JSON integer: `"100"`, `true` or `100.0` are a
    client's bug we do not guess around (422). Requests only: what we read back from DynamoDB or
    events is `Money`, which takes any integral number."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: StrictMinorUnits
    currency: Currency

    @model_validator(mode="before")
    @classmethod
    def _of_money(cls, value: Any) -> Any:
        """A `Money` we made ourselves (code building a request, a test) is taken as it is."""
        return value.model_dump() if isinstance(value, Money) else value

    def money(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)


class SignedMoney(BaseModel):
    """An amount that may be negative: a balance or a net figure (a day with more refunds than sales).
    Prices and payments are always `Money`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Annotated[int, Field(ge=-100_000_000_00, le=100_000_000_00, description="Minor units; may be negative")]
    currency: Currency
