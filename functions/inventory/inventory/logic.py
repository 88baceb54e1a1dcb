"""Inventory use cases. No HTTP, no event shapes, no boto3: the store is passed in, and so are the
event publisher and the workflow probe (plain callables), so tests can hand in fakes of our own ports."""

import contextlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from common.contracts import HoldResult, OrderLine, ReserveStockInput, ShortSku, StockLow
from common.cursor import decode_cursor, encode_cursor
from common.events import DomainEvent, new_event
from common.ids import new_id
from common.store import iso
from inventory.errors import (
    HoldCommitted,
    HoldNotFound,
    HoldReleased,
    IdempotencyKeyReused,
    InsufficientStock,
    OutOfStock,
    StockNotFound,
    TooManySkus,
)
from inventory.models import AdjustmentIn, Hold, HoldStatus, LedgerEntry, Stock
from inventory.ports import IsWaiting, Publisher
from inventory.store import (
    MAX_TRANSACTION_ACTIONS,
    HoldExists,
    HoldNotInStatus,
    InventoryStore,
    KeyUsed,
    Placement,
    ShortOf,
)

# One action of a hold transaction is the hold itself.
MAX_SKUS_PER_ORDER = MAX_TRANSACTION_ACTIONS - 1
EXPIRED = "hold window expired"


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _result(hold: Hold, *, changed: bool) -> HoldResult:
    return HoldResult(
        order_id=hold.order_id,
        status=hold.status.value,
        lines=list(hold.lines),
        expires_at=iso(hold.expires_at) if hold.expires_at else None,
        changed=changed,
    )


def summed(lines: Iterable[OrderLine]) -> dict[str, int]:
    """Quantities per SKU, so two lines of one SKU are checked against stock together."""
    totals: Counter[str] = Counter()
    for line in lines:
        totals[line.sku] += line.quantity
    return dict(totals)


# ---------------------------------------------------------------- holds (workflow tasks)


def reserve(
    store: InventoryStore,
    task: ReserveStockInput,
    *,
    window: timedelta,
    publish: Publisher,
    now: datetime | None = None,
) -> HoldResult:
    """Hold every line of an order, or nothing. A retry answers the hold that exists (whatever its
    status) without touching stock again."""
    at = _now(now)
    quantities = summed(task.lines)
    if len(quantities) > MAX_SKUS_PER_ORDER:
        raise TooManySkus(len(quantities), MAX_SKUS_PER_ORDER)
    try:
        placement = store.reserve(task.order_id, quantities, at + window, at)
    except HoldExists:
        existing = store.get_hold(task.order_id)
        if existing is None or existing.status is HoldStatus.RELEASED:  # cancelled meanwhile (or long gone)
            raise HoldReleased(task.order_id) from None
        return _result(existing, changed=False)
    except ShortOf as short:
        raise _out_of_stock(store, short, quantities) from None
    check_low_stock(store, quantities, publish)
    _rebalance(store, placement)
    hold = Hold(
        order_id=task.order_id,
        lines=tuple(OrderLine(sku=sku, quantity=q) for sku, q in quantities.items()),
        status=HoldStatus.HELD,
        expires_at=at + window,
    )
    return _result(hold, changed=True)


def commit(store: InventoryStore, order_id: str, *, publish: Publisher, now: datetime | None = None) -> HoldResult:
    """Sell what the order holds. A hold released because its window expired is re-acquired from the
    shelf if the stock is there (a late payment still ships); otherwise `HoldReleased`/`OutOfStock`
    tell the workflow to refund."""
    at = _now(now)
    hold = _hold(store, order_id)
    if hold.status is HoldStatus.COMMITTED:
        return _result(hold, changed=False)
    if hold.status is HoldStatus.RELEASED:
        return _reacquire(store, hold, publish, at)
    try:
        store.commit(hold, at)
    except HoldNotInStatus:
        return commit(store, order_id, publish=publish, now=at)  # moved meanwhile: decide on its new status
    return _result(hold.model_copy(update={"status": HoldStatus.COMMITTED}), changed=True)


def _reacquire(store: InventoryStore, hold: Hold, publish: Publisher, at: datetime) -> HoldResult:
    if hold.release_reason != EXPIRED or not hold.lines:
        raise HoldReleased(hold.order_id)
    try:
        placement = store.reacquire(hold, at)
    except HoldNotInStatus:
        return commit(store, hold.order_id, publish=publish, now=at)
    except ShortOf as short:
        raise _out_of_stock(store, short, hold.quantities) from None
    check_low_stock(store, hold.quantities, publish)
    _rebalance(store, placement)
    return _result(hold.model_copy(update={"status": HoldStatus.COMMITTED}), changed=True)


def _out_of_stock(store: InventoryStore, short: ShortOf, wanted: dict[str, int]) -> OutOfStock:
    """What was asked and what is left (all shards together) of each short SKU."""
    unknown = [sku for sku in short.skus if sku not in short.available]
    stocks = store.get_stocks(unknown) if unknown else {}
    left = short.available | {sku: stocks[sku].available if sku in stocks else 0 for sku in unknown}
    return OutOfStock([ShortSku(sku=sku, requested=wanted[sku], available=left[sku]) for sku in short.skus])


def _rebalance(store: InventoryStore, placement: Placement) -> None:
    """A SKU whose guessed shard lacked the units (or was busy) has uneven shards: level them, so that the
    next buyers' guesses find units again."""
    for sku in placement.fell_back:
        store.rebalance(sku)


def release(
    store: InventoryStore, order_id: str, *, reason: str, publish: Publisher, now: datetime | None = None
) -> HoldResult:
    """Put held stock back on sale. Releasing an order that holds nothing records that it is released,
    so a reserve arriving late cannot hold stock for it; releasing a committed hold is refused."""
    at = _now(now)
    hold = store.get_hold(order_id)
    if hold is None:
        if store.put_released_tombstone(order_id, reason, at):
            return HoldResult(order_id=order_id, status="RELEASED", lines=[], changed=True)
        return release(store, order_id, reason=reason, publish=publish, now=at)
    if hold.status is HoldStatus.RELEASED:
        if (
            hold.release_reason == EXPIRED
            and reason != EXPIRED
            and store.rename_release(order_id, reason, replacing=EXPIRED)
        ):
            # expired, then cancelled: a late payment must now be refunded, not re-acquire stock
            return _result(hold.model_copy(update={"release_reason": reason}), changed=True)
        return _result(hold, changed=False)
    if hold.status is HoldStatus.COMMITTED:
        raise HoldCommitted(order_id)
    try:
        store.release(hold, reason, at)
    except HoldNotInStatus:
        return release(store, order_id, reason=reason, publish=publish, now=at)
    check_low_stock(store, hold.quantities, publish)
    return _result(hold.model_copy(update={"status": HoldStatus.RELEASED, "release_reason": reason}), changed=True)


def sweep(
    store: InventoryStore,
    *,
    is_waiting: IsWaiting,
    publish: Publisher,
    now: datetime | None = None,
    limit: int = 100,
    budget: int = 1000,
) -> list[str]:
    """Release up to `limit` holds past their window whose workflow no longer runs, reading on past
    holds whose workflow does (it owns them: its payment timeout releases them) for up to `budget`
    holds. Then announce low-stock crossings whose announcer died before announcing."""
    at = _now(now)
    released: list[str] = []
    examined, start_key = 0, None
    while len(released) < limit and examined < budget:
        page = store.expired_holds(at, start_key=start_key, limit=min(100, budget - examined))
        for hold in page.items:
            if len(released) >= limit or is_waiting(hold.order_id):
                continue
            if release(store, hold.order_id, reason=EXPIRED, publish=publish, now=at).changed:
                released.append(hold.order_id)
        examined += max(1, len(page.items))
        if page.next_key is None:
            break
        start_key = page.next_key
    announce_pending(store, publish)
    return released


def _hold(store: InventoryStore, order_id: str) -> Hold:
    hold = store.get_hold(order_id)
    if hold is None:
        raise HoldNotFound(order_id)
    return hold


# ---------------------------------------------------------------- stock records and adjustments


def ensure_stock(store: InventoryStore, skus: Iterable[str], *, threshold: int) -> list[str]:
    """Start every SKU we have not seen at zero; returns the SKUs created."""
    return [sku for sku in dict.fromkeys(skus) if store.create_stock(sku, threshold)]


def get_stock(store: InventoryStore, sku: str) -> Stock:
    stock = store.get_stock(sku)
    if stock is None:
        raise StockNotFound(sku)
    return stock


def set_threshold(store: InventoryStore, sku: str, threshold: int, *, publish: Publisher) -> Stock:
    stock = store.set_threshold(sku, threshold)
    if stock is None:
        raise StockNotFound(sku)
    check_low_stock(store, [sku], publish)
    return get_stock(store, sku)


def update_settings(
    store: InventoryStore, sku: str, *, threshold: int | None, shards: int | None, publish: Publisher
) -> Stock:
    """Set what the request names: the low-stock threshold, the number of shards, or both."""
    if shards is not None and store.set_shards(sku, shards) is None:
        raise StockNotFound(sku)
    if threshold is not None:
        return set_threshold(store, sku, threshold, publish=publish)
    return get_stock(store, sku)


def adjust(
    store: InventoryStore,
    sku: str,
    request: AdjustmentIn,
    *,
    actor: str,
    idempotency_key: str | None,
    publish: Publisher,
    now: datetime | None = None,
) -> tuple[LedgerEntry, Stock, bool]:
    """Move available stock by a delta with a reason, writing the ledger row in the same transaction.
    With an idempotency key, a retry answers the first adjustment (`created` False) instead of
    applying it twice. Returns (ledger row, stock after, created)."""
    entry = LedgerEntry(
        adjustment_id=new_id("adj"),
        sku=sku,
        delta=request.delta,
        reason=request.reason,
        note=request.note,
        actor=actor,
        at=_now(now),
    )
    try:
        store.adjust(entry, idempotency_key)
    except KeyUsed:
        original = store.adjustment_by_key(sku, idempotency_key or "")
        if original is None or (original.delta, original.reason, original.note) != (
            entry.delta,
            entry.reason,
            entry.note,
        ):
            raise IdempotencyKeyReused from None
        return original, get_stock(store, sku), False
    except ShortOf:
        stock = get_stock(store, sku)
        raise InsufficientStock(sku, request.delta, stock.available) from None
    check_low_stock(store, [sku], publish)
    return entry, get_stock(store, sku), True


def restock(
    store: InventoryStore,
    order_id: str,
    lines: Iterable[OrderLine],
    *,
    reason: str,
    publish: Publisher,
    restock_id: str | None = None,
) -> list[OrderLine]:
    """Put an order's returned units back on sale, as `return` adjustments in the ledger. Keyed by the
    order and SKU, so an order's goods come back at most once however often this is called; a return of
    some units (`restock_id`, orders' refund id) is keyed by the order, that id and the SKU, so each
    return comes back once and two returns of one SKU both do."""
    restocked = []
    for sku, quantity in summed(lines).items():
        adjustment = AdjustmentIn(delta=quantity, reason="return", note=f"order {order_id}: {reason}"[:500])
        key = (f"restock-{order_id}-{restock_id}-{sku}" if restock_id else f"restock-{order_id}-{sku}")[:128]
        with contextlib.suppress(IdempotencyKeyReused):  # restocked before, with another note: still once
            adjust(store, sku, adjustment, actor="orders", idempotency_key=key, publish=publish)
        restocked.append(OrderLine(sku=sku, quantity=quantity))
    return restocked


def ledger(store: InventoryStore, sku: str, *, cursor: str | None, limit: int) -> tuple[list[LedgerEntry], str | None]:
    get_stock(store, sku)
    scope = f"ledger|{sku}"
    page = store.ledger(sku, start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def list_stock(
    store: InventoryStore, *, low_only: bool, cursor: str | None, limit: int
) -> tuple[list[Stock], str | None]:
    scope = f"stock|{'low' if low_only else 'all'}"
    page = store.list_stock(low_only=low_only, start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


# ---------------------------------------------------------------- low-stock alerts


def check_low_stock(store: InventoryStore, skus: Iterable[str], publish: Publisher) -> list[DomainEvent]:
    """Flag SKUs that fell to their threshold and announce each crossing once; re-arm SKUs that rose
    above it. Only the caller whose conditional flag write wins announces, so concurrent sales announce
    one crossing once; if it dies between flag and announcement, the sweeper announces it later
    (`announce_pending`) under the same event id, which consumers dedupe. Decided on each SKU's total
    over its shards."""
    events = []
    for stock in store.get_stocks(skus).values():
        if stock.is_low and not stock.low:
            if store.flag_low(stock):
                events.append(_announce(store, stock.sku, stock.crossings + 1, stock, publish))
        elif not stock.is_low and stock.low:
            store.clear_low(stock)
    return events


def announce_pending(store: InventoryStore, publish: Publisher, *, limit: int = 100) -> list[DomainEvent]:
    """Announce crossings that were flagged but never announced (a crash between the two writes)."""
    pending = store.pending_announcements(limit)
    stocks = store.get_stocks(sku for sku, _ in pending)
    return [_announce(store, sku, crossing, stocks[sku], publish) for sku, crossing in pending if sku in stocks]


def _announce(store: InventoryStore, sku: str, crossing: int, stock: Stock, publish: Publisher) -> DomainEvent:
    data = StockLow(sku=sku, available=stock.available, threshold=stock.threshold, crossing=crossing)
    event = new_event(StockLow.DETAIL_TYPE, f"StockLow#{sku}#{crossing}", data)
    publish([event])
    store.mark_announced(sku, crossing)
    return event
