import pytest
from pydantic import ValidationError

from common.money import Money


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def test_adding_subtracting_and_multiplying_keep_the_currency() -> None:
    # Given two amounts in euros
    a, b = eur(1250), eur(250)

    # When they are combined
    # Then the arithmetic is exact, in minor units, in euros
    assert a + b == eur(1500)
    assert a - b == eur(1000)
    assert b.times(3) == eur(750)
    assert b.times(0) == eur(0)


@pytest.mark.parametrize("operation", [lambda a, b: a + b, lambda a, b: a - b])
def test_combining_two_currencies_is_refused(operation) -> None:  # type: ignore[no-untyped-def]
    # Given euros and dollars
    euros, dollars = eur(100), Money(amount=100, currency="USD")

    # When they are added or subtracted
    # Then it fails loudly, naming both currencies
    with pytest.raises(ValueError, match=r"EUR.*USD"):
        operation(euros, dollars)


def test_a_negative_result_is_not_money() -> None:
    # Given a smaller amount minus a larger one
    # When it is computed
    # Then validation refuses the negative amount instead of returning it
    with pytest.raises(ValidationError):
        eur(100) - eur(101)


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": -1, "currency": "EUR"},
        {"amount": 10.5, "currency": "EUR"},
        {"amount": 100, "currency": "eur"},
        {"amount": 100, "currency": "EURO"},
        {"amount": 100, "currency": "EUR", "extra": 1},
    ],
)
def test_invalid_money_is_refused(fields: dict[str, object]) -> None:
    # Given a negative, fractional, lower-case, malformed or padded amount
    # When it is parsed
    # Then pydantic refuses it
    with pytest.raises(ValidationError):
        Money.model_validate(fields)


def test_money_is_immutable() -> None:
    # Given an amount
    price = eur(100)

    # When someone tries to change it in place
    # Then it refuses
    with pytest.raises(ValidationError):
        price.amount = 1  # type: ignore[misc]  # mypy refuses it too; this checks the runtime does
