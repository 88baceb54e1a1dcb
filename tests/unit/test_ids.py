import re
import types

import pytest
from pydantic import TypeAdapter, ValidationError

from common import ids
from common.ids import ID_PATTERN, EntityId, Sku, new_id


def test_new_ids_match_the_id_pattern_and_carry_their_prefix() -> None:
    # Given a prefix
    # When ids are made
    made = [new_id("p") for _ in range(200)]

    # Then each is valid, prefixed, and unique
    assert all(re.fullmatch(ID_PATTERN, i) for i in made)
    assert all(i.startswith("p_") and len(i) == 28 for i in made)
    assert len(set(made)) == len(made)
    assert TypeAdapter(EntityId).validate_python(made[0]) == made[0]


def test_ids_sort_by_creation_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a clock that moves forward one millisecond (and more) at a time
    moments = iter([1_700_000_000.000, 1_700_000_000.001, 1_700_000_001.000, 1_800_000_000.000])
    monkeypatch.setattr(ids, "time", types.SimpleNamespace(time=lambda: next(moments)))

    # When ids are made one after another
    made = [new_id("o") for _ in range(4)]

    # Then their string order is their time order
    assert made == sorted(made)


@pytest.mark.parametrize(
    "bad", ["p_short", "P_01jd8x0000000000000000000a", "toolong_01jd8x0000000000000000000a", "p-x"]
)
def test_malformed_ids_are_refused(bad: str) -> None:
    # Given a string that is not one of our ids
    # When it is validated as an EntityId
    # Then it is refused
    with pytest.raises(ValidationError):
        TypeAdapter(EntityId).validate_python(bad)


@pytest.mark.parametrize("good", ["TEE-RED-M", "A", "X.1_2-3", "9" * 64])
def test_valid_skus(good: str) -> None:
    assert TypeAdapter(Sku).validate_python(good) == good


@pytest.mark.parametrize("bad", ["tee-red-m", "-TEE", "", "A" * 65, "TEE RED", "TÉE"])
def test_invalid_skus(bad: str) -> None:
    # Given a lower-case, leading-dash, empty, too long, spaced or accented SKU
    # When it is validated
    # Then it is refused
    with pytest.raises(ValidationError):
        TypeAdapter(Sku).validate_python(bad)
