"""How units are laid out over a hot SKU's shards: pure arithmetic on the shards' `available` counts,
no DynamoDB. The store reads the counts, asks here where to take from, put to, or move, and writes the
answer in one conditional transaction, so a stale answer fails a condition instead of breaking a shard.

`available[n]` is shard n's count; shards `0..active-1` are on sale, shards from `active` on are retired
(the SKU's shard count was lowered): units are still taken from them, never put on them."""

import random
from collections.abc import Sequence

Plan = dict[int, int]
"""Units per shard (shard → units), only shards that move."""


def pick(believed: Sequence[int], active: int, quantity: int, rng: random.Random) -> int:
    """A shard to try first, with no read: one at random among the active shards last seen with
    `quantity` units (all active ones if none was), so that concurrent buyers spread over the shards."""
    candidates = [n for n in range(min(active, len(believed))) if believed[n] >= quantity]
    return rng.choice(candidates or list(range(active)))


def take(available: Sequence[int], quantity: int, rng: random.Random, *, avoid: int | None = None) -> Plan | None:
    """Where to take `quantity` units from, after a read: one shard that has them all (at random among
    them, `avoid` only if it is the one; a buyer herded onto "the richest" would meet every other buyer
    there), else a split over the richest shards. None if all shards together have too few."""
    if sum(available) < quantity:
        return None
    whole = [n for n, units in enumerate(available) if units >= quantity]
    if whole:
        preferred = [n for n in whole if n != avoid] or whole
        return {rng.choice(preferred): quantity}
    plan: Plan = {}
    for n in sorted(range(len(available)), key=lambda n: -available[n]):
        part = min(quantity - sum(plan.values()), available[n])
        if part:
            plan[n] = part
    return plan


def spread(available: Sequence[int], active: int, units: int) -> Plan:
    """Where to put `units` new units: on the active shards, poorest first, so that they end as level as
    these units allow (max - min <= 1 once the units reach the richest shard's level)."""
    return _fill(available[:active], units)


def drain(available: Sequence[int], units: int) -> Plan:
    """Where to remove `units` from (at most what all shards hold), richest first, retired ones included:
    the mirror of `spread`, so the shards end as level as the removal allows."""
    removed = _fill([-a for a in available], units)
    return {n: -q for n, q in removed.items()}


def level(available: Sequence[int], active: int) -> Plan:
    """The moves (negative: units leaving a shard) that leave every retired shard empty and the active
    ones level, moving as few units as possible. Empty when they already are."""
    total = sum(available)
    base, extra = divmod(total, active)
    richest_first = sorted(range(active), key=lambda n: -available[n])
    target = [0] * len(available)
    for rank, n in enumerate(richest_first):
        target[n] = base + (1 if rank < extra else 0)
    return {n: target[n] - a for n, a in enumerate(available) if target[n] != a}


def _fill(levels: Sequence[int], units: int) -> Plan:
    """Water-filling: raise the lowest of `levels` first until `units` are placed. Answers the units added
    per index. The k lowest are lifted to one level (give or take 1) for the largest k whose highest member is not
    above that level."""
    if units <= 0 or not levels:
        return {}
    order = sorted(range(len(levels)), key=lambda n: levels[n])
    for k in range(len(order), 0, -1):
        lowest = order[:k]
        base, extra = divmod(sum(levels[n] for n in lowest) + units, k)
        if base >= levels[lowest[-1]]:
            plan = {n: base + (1 if rank < extra else 0) - levels[n] for rank, n in enumerate(lowest)}
            return {n: q for n, q in plan.items() if q}
    return {}  # unreachable: k = 1 always fits
