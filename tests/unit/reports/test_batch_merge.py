"""A batch's increments merged per aggregate item, without a table: sums add up, an attribute set once
takes the earliest event's value, and the merge of a batch equals its events' increments one by one."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reports.logic.aggregates import Contribution, merge
from reports.models import Increment

AT = datetime(2030, 5, 1, 12, tzinfo=UTC)
DAY = "DAY#2030-05-01"


def test_the_same_item_is_one_increment_with_the_sums() -> None:
    # Given two orders on one day, both of one product, one of them refunded in the same batch
    first = Contribution(
        "e1",
        AT,
        [Increment(DAY, "TOTAL", {"orders": 1, "gross": 1000}), Increment(DAY, "PRODUCT#p", {"units": 1})],
    )
    second = Contribution("e2", AT, [Increment(DAY, "TOTAL", {"orders": 1, "gross": 500, "tax#DE#19": 80})])
    refund = Contribution("e3", AT, [Increment(DAY, "TOTAL", {"refunds": 500, "tax#DE#19": -80})])
    # When merged
    merged = {(i.pk, i.sk): i for i in merge([first, second, refund])}
    # Then the day's total is one increment with every figure summed, the product its own
    assert merged == {
        (DAY, "TOTAL"): Increment(DAY, "TOTAL", {"orders": 2, "gross": 1500, "tax#DE#19": 0, "refunds": 500}),
        (DAY, "PRODUCT#p"): Increment(DAY, "PRODUCT#p", {"units": 1}),
    }


def test_a_name_set_once_takes_the_earliest_events() -> None:
    # Given the same product sold under two names, the later order first in the batch
    def sold(event_id: str, at: datetime, name: str) -> Contribution:
        return Contribution(event_id, at, [Increment(DAY, "PRODUCT#p", {"units": 1}, {"name": name, "category": "c"})])

    later, earlier = sold("e1", AT + timedelta(hours=1), "Mug (new)"), sold("e2", AT, "Mug")
    # Then the merged increment carries the earlier name, as one-by-one in time order would leave it
    (merged,) = merge([later, earlier])
    assert merged == Increment(DAY, "PRODUCT#p", {"units": 2}, {"name": "Mug", "category": "c"})


ITEMS = [(DAY, "TOTAL"), (DAY, "PRODUCT#a"), (DAY, "PRODUCT#b"), ("DAY#2030-05-02", "TOTAL")]
increments = st.lists(
    st.builds(
        lambda item, add: Increment(item[0], item[1], add),
        st.sampled_from(ITEMS),
        st.dictionaries(st.sampled_from(["orders", "gross", "refunds"]), st.integers(-1000, 1000), min_size=1),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda i: (i.pk, i.sk),
)


@given(st.lists(increments, max_size=12))
def test_the_merge_adds_what_the_events_add_one_by_one(batch: list[list[Increment]]) -> None:
    contributions = [Contribution(f"e{n}", AT, found) for n, found in enumerate(batch)]
    one_by_one: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for found in batch:
        for increment in found:
            for name, delta in increment.add.items():
                one_by_one[increment.pk, increment.sk][name] += delta
    merged = merge(contributions)
    assert len(merged) == len({(i.pk, i.sk) for i in merged})
    assert {(i.pk, i.sk): i.add for i in merged} == {item: dict(figures) for item, figures in one_by_one.items()}
