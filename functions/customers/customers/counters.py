"""Co-purchase and best-seller counters from paid orders, consumed in SQS batches (the rule sends
`OrderPaid` to the counters' queue; `customers.jobs.counters_handler` reads it).

The counters are ranked (`customers.store.counters`), so a write reads the counts first and moves each
counter on the condition that nobody moved it meanwhile (read again if somebody did). A batch's moves
are merged per counter: a best seller bought in 40 orders of a batch is read and written once per
transaction of up to 100 actions, not 40 times.

Each order counts once. One with at most 99 counters is counted in a merged chunk beside its marker
`COUNTED` (`COUNTS#0`); a larger one on its own, in chunks of 99 counters each with its marker
`COUNTS#<n>`, so a redelivery after a crash applies exactly the chunks that were missing.
"""

import time
from collections import Counter as Tally
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial

from common.batches import Outcome, SeenBefore, pack, settle
from common.contracts import OrderSnapshot
from customers.store import (
    ALL_CATEGORIES,
    MAX_TRANSACTION_ACTIONS,
    AlreadyApplied,
    Contended,
    Counter,
    CustomersStore,
    bestseller_partition,
    copurchase_partition,
)
from customers.store.base import busy

MAX_PAIRED_PRODUCTS = 20
"""An order pairs at most its 20 dearest products (380 ordered pairs): bounded work per event."""
_ATTEMPTS = 8


def increments(snapshot: OrderSnapshot) -> list[tuple[Counter, int]]:
    """The counters one paid order moves, in a stable order (so chunks are the same on every retry)."""
    units: Tally[str] = Tally()
    value: Tally[str] = Tally()
    category: dict[str, str] = {}
    for line in snapshot.lines:
        units[line.product_id] += line.quantity
        value[line.product_id] += line.line_total.amount
        category[line.product_id] = line.category
    dearest = sorted(value, key=lambda pid: (-value[pid], pid))[:MAX_PAIRED_PRODUCTS]
    moves: dict[Counter, int] = {}
    for a in dearest:
        for b in dearest:
            if a != b:
                moves[Counter(copurchase_partition(a), b)] = 1
    for product_id, quantity in units.items():
        moves[Counter(bestseller_partition(category[product_id]), product_id)] = quantity
        moves[Counter(bestseller_partition(ALL_CATEGORIES), product_id)] = quantity
    return sorted(moves.items(), key=lambda move: move[0].key)


def count(
    store: CustomersStore,
    orders: Sequence[tuple[str, OrderSnapshot]],
    now: datetime,
    *,
    pause: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Count a batch of paid orders, (event id, order) each, once each: the same event twice counts once,
    an event counted before is dropped from its chunk, and a chunk DynamoDB keeps refusing for load leaves
    its events failed, for the queue to bring back."""
    moves: dict[str, dict[Counter, int]] = {}
    for event_id, snapshot in orders:
        if event_id not in moves:
            moves[event_id] = dict(increments(snapshot))
    chunks, alone = pack(((event_id, list(found)) for event_id, found in moves.items()), MAX_TRANSACTION_ACTIONS)
    outcome = Outcome()
    for event_id in alone:
        outcome.add(settle([event_id], partial(_count_alone, store, moves[event_id], now), pause=pause))
    for chunk in chunks:
        outcome.add(settle(chunk, partial(_count_merged, store, moves, now), pause=pause))
    return outcome


def _count_merged(
    store: CustomersStore, moves: Mapping[str, Mapping[Counter, int]], now: datetime, event_ids: list[str]
) -> None:
    merged: Tally[Counter] = Tally()
    for event_id in event_ids:
        merged.update(moves[event_id])
    _move(store, merged, lambda changes: store.add_batch_counts(event_ids, changes, now))


def _count_alone(store: CustomersStore, moves: Mapping[Counter, int], now: datetime, event_ids: list[str]) -> None:
    """An order too large to share a transaction, in chunks of 99 counters, each once (its own marker)."""
    (event_id,) = event_ids
    ordered = sorted(moves.items(), key=lambda move: move[0].key)
    size = MAX_TRANSACTION_ACTIONS - 1
    counted_now = False
    for number, start in enumerate(range(0, len(ordered), size)):
        try:
            _move(
                store,
                dict(ordered[start : start + size]),
                partial(store.add_counts, event_id, f"COUNTS#{number}", now=now),
            )
        except AlreadyApplied:
            continue
        counted_now = True
    if not counted_now:
        raise SeenBefore([event_id])


def _move(
    store: CustomersStore, by: Mapping[Counter, int], write: Callable[[list[tuple[Counter, int, int]]], None]
) -> None:
    """Read the counters' counts and `write` each one's move (counter, count read, count + its amount), read
    again while somebody moved one meanwhile (`Contended`); a 503 after `_ATTEMPTS` reads."""
    counters = sorted(by, key=lambda counter: counter.key)
    for _ in range(_ATTEMPTS):
        current = store.counts(counters)
        try:
            write([(counter, current[counter], current[counter] + by[counter]) for counter in counters])
        except Contended:
            continue
        return
    raise busy()
