"""The arithmetic of a hot SKU's shards (`inventory.shards`), for any layout: units are never created or
lost, no shard goes negative, only active shards receive units, and the shards end as level as allowed."""

import random

from hypothesis import given
from hypothesis import strategies as st

from inventory import shards

layouts = st.lists(st.integers(0, 50), min_size=1, max_size=16)


@st.composite
def layout_and_active(draw: st.DrawFn) -> tuple[list[int], int]:
    available = draw(layouts)
    return available, draw(st.integers(1, len(available)))


def apply(available: list[int], plan: shards.Plan, sign: int = 1) -> list[int]:
    return [units + sign * plan.get(n, 0) for n, units in enumerate(available)]


@given(layout_and_active(), st.integers(1, 500))
def test_spread_fills_the_poorest_active_shards_first(layout: tuple[list[int], int], units: int) -> None:
    available, active = layout
    after = apply(available, shards.spread(available, active, units))
    assert sum(after) == sum(available) + units
    assert after[active:] == available[active:]
    assert all(b >= a for a, b in zip(available, after, strict=True))
    # no shard that received units ends above a shard that could still have taken them
    received = [n for n in range(active) if after[n] > available[n]]
    assert all(after[n] <= min(after[:active]) + 1 for n in received)
    if units >= sum(max(available[:active]) - a for a in available[:active]):
        assert max(after[:active]) - min(after[:active]) <= 1


@given(layouts, st.data())
def test_drain_takes_from_the_richest_and_never_below_zero(available: list[int], data: st.DataObject) -> None:
    units = data.draw(st.integers(0, sum(available)))
    after = apply(available, shards.drain(available, units))
    assert sum(after) == sum(available) - units
    assert min(after) >= 0
    lost = [n for n in range(len(available)) if after[n] < available[n]]
    assert all(after[n] >= max(after) - 1 for n in lost)


@given(layout_and_active())
def test_level_empties_retired_shards_and_levels_the_active_ones(layout: tuple[list[int], int]) -> None:
    available, active = layout
    moves = shards.level(available, active)
    after = apply(available, moves)
    assert sum(moves.values()) == 0
    assert after[active:] == [0] * (len(available) - active)
    assert max(after[:active]) - min(after[:active]) <= 1
    assert shards.level(after, active) == {}


@given(layouts, st.integers(1, 100), st.randoms(use_true_random=False))
def test_take_uses_one_shard_when_one_has_enough_and_splits_otherwise(
    available: list[int], quantity: int, rng: random.Random
) -> None:
    plan = shards.take(available, quantity, rng)
    if sum(available) < quantity:
        assert plan is None
        return
    assert plan is not None
    assert sum(plan.values()) == quantity
    assert all(0 < units <= available[n] for n, units in plan.items())
    assert (len(plan) == 1) == (max(available) >= quantity)


def test_pick_tries_only_shards_believed_to_have_the_units() -> None:
    rng = random.Random(3)
    assert {shards.pick([0, 5, 0, 2], 4, 2, rng) for _ in range(50)} == {1, 3}
    assert {shards.pick([0, 0, 0, 0], 4, 1, rng) for _ in range(80)} == {0, 1, 2, 3}
    assert {shards.pick([9, 9, 9, 9], 2, 1, rng) for _ in range(50)} == {0, 1}
