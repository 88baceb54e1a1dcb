"""Affiliates use cases. No HTTP, no event shapes, no boto3: the store, the event publisher and the
user pool's groups are passed in, so tests can hand in fakes of our own ports.

Commission arithmetic is integer minor units: a commission is rate times the order's merchandise net
(its lines without tax, after discounts; shipping earns nothing), rounded half down (an exact half cent
goes to the shop); a reversal is the same share of the refunded part of that net, computed from the
cumulative refunded merchandise net the order's snapshot carries, so partial refunds never drift by a
cent, a refund of some units of a line reverses in proportion to those units' net, a refund of shipping
alone reverses nothing, and a full refund reverses exactly what was earned. Orders priced before lines
carried their net (events without `merchandiseNet`) keep the earlier rule: the order's total, and the
refunded share of it."""

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from affiliates.errors import AffiliateNotFound, AlreadyApplied, AlreadyApproved, BadRange
from affiliates.models import (
    AFFILIATE_ID_PATTERN,
    BPS,
    Affiliate,
    AffiliateStatus,
    ApplicationIn,
    Commission,
    CommissionStatus,
    Payout,
)
from affiliates.ports import Groups, Publisher
from affiliates.store import AffiliatesStore, CodeTaken, NotPending, Stale, UserHasApplied
from affiliates.store import AlreadyApplied as EventAlreadyApplied
from common.affiliate_stats import AffiliateStatsReader
from common.auth import AFFILIATE
from common.contracts import (
    AffiliateClicked,
    AffiliateDay,
    CommissionEarned,
    CommissionPaid,
    CommissionReversed,
    OrderRefunded,
    OrderSnapshot,
)
from common.cursor import decode_cursor, encode_cursor
from common.errors import ServiceUnavailable
from common.events import new_event
from common.idempotency import mark_replayed
from common.ids import new_id
from common.money import Money

DEFAULT_ATTRIBUTION_WINDOW = timedelta(days=30)
"""An order earns only within this long of the visitor's first click with the code (template parameter
`AffiliateAttributionDays`)."""
MAX_STATS_DAYS = 366
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: codes are read aloud and typed
CODE_LENGTH = 8
MAX_ATTEMPTS = 5
PAYOUT_PAGE = 100
"""Approved commissions read per query while paying out."""


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def is_affiliate_id(value: str) -> bool:
    return re.fullmatch(AFFILIATE_ID_PATTERN, value) is not None


def normalise_code(code: str) -> str:
    return code.strip().upper()


# ---------------------------------------------------------------- arithmetic


def round_half_down(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, an exact half rounded down (both non-negative)."""
    quotient, remainder = divmod(numerator, denominator)
    return quotient + 1 if 2 * remainder > denominator else quotient


def commission_of(net_total: int, rate_bps: int) -> int:
    return round_half_down(net_total * rate_bps, BPS)


def reversal_of(amount: int, refunded: int, order_total: int) -> int:
    """The part of a commission `amount` that refunds of `refunded` out of `order_total` take back."""
    if order_total <= 0 or refunded >= order_total:
        return amount
    return min(amount, round_half_down(amount * refunded, order_total))


# ---------------------------------------------------------------- accounts


@dataclass(frozen=True)
class Applicant:
    """A signed-in user applying: their `sub`, the Cognito user name group changes need, their email."""

    sub: str
    username: str
    email: str | None


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def apply(
    store: AffiliatesStore, applicant: Applicant, application: ApplicationIn, *, now: datetime | None = None
) -> Affiliate:
    """Open a PENDING account with a fresh referral code. One application per user (409 on a second)."""
    existing = store.affiliate_id_of_user(applicant.sub)
    if existing:
        raise AlreadyApplied(existing)
    for _ in range(MAX_ATTEMPTS):
        affiliate = Affiliate(
            affiliate_id=new_id("af"),
            user_sub=applicant.sub,
            username=applicant.username,
            email=applicant.email,
            name=application.name,
            website=application.website,
            payout_email=application.payout_email,
            code=new_code(),
            status=AffiliateStatus.PENDING,
            created_at=_now(now),
        )
        try:
            store.create_affiliate(affiliate)
        except UserHasApplied:
            raise AlreadyApplied(store.affiliate_id_of_user(applicant.sub) or "") from None
        except CodeTaken:
            continue
        return affiliate
    raise ServiceUnavailable("could not draw a free referral code; retry")


def get_affiliate(store: AffiliatesStore, affiliate_id: str) -> Affiliate:
    affiliate = store.get_affiliate(affiliate_id) if is_affiliate_id(affiliate_id) else None
    if affiliate is None:
        raise AffiliateNotFound(affiliate_id)
    return affiliate


def affiliate_of_user(store: AffiliatesStore, sub: str) -> Affiliate:
    """The caller's own account; 404 if they have none (an admin who never applied)."""
    affiliate_id = store.affiliate_id_of_user(sub)
    affiliate = store.get_affiliate(affiliate_id) if affiliate_id else None
    if affiliate is None:
        raise AffiliateNotFound
    return affiliate


def approve(
    store: AffiliatesStore, groups: Groups, affiliate_id: str, rate_bps: int, *, now: datetime | None = None
) -> Affiliate:
    """PENDING → APPROVED at `rate_bps`, then the user joins the `affiliate` group (effective on their
    next token). Approving again at the same rate repeats the group call, so a retry after a failed
    Cognito call finishes the job; another rate is a 409 (rates are fixed at approval)."""
    affiliate = get_affiliate(store, affiliate_id)
    if affiliate.status is AffiliateStatus.PENDING:
        try:
            affiliate = store.approve(affiliate_id, rate_bps, _now(now))
        except NotPending:
            affiliate = get_affiliate(store, affiliate_id)
    if affiliate.rate_bps != rate_bps:
        raise AlreadyApproved(affiliate_id, affiliate.rate or 0.0)
    groups.add(affiliate.username, AFFILIATE)
    return affiliate


def list_affiliates(store: AffiliatesStore, *, cursor: str | None, limit: int) -> tuple[list[Affiliate], str | None]:
    scope = "affiliates"
    page = store.list_affiliates(start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def commissions(
    store: AffiliatesStore, affiliate_id: str, *, cursor: str | None, limit: int
) -> tuple[list[Commission], str | None]:
    scope = f"commissions|{affiliate_id}"
    page = store.commissions(affiliate_id, start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


# ---------------------------------------------------------------- the ledger, from order events


class Outcome(StrEnum):
    RECORDED = "recorded"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Applied:
    outcome: Outcome
    reason: str | None = None
    commission: Commission | None = None


Change = Callable[[Commission], Commission]


def on_order_paid(
    store: AffiliatesStore,
    publish: Publisher,
    order: OrderSnapshot,
    *,
    event_id: str,
    occurred_at: datetime,
    window: timedelta = DEFAULT_ATTRIBUTION_WINDOW,
) -> Applied:
    """Record the order's commission, PENDING. If a refund or cancellation came first, it already
    recorded the commission (from its own order snapshot) and this changes nothing."""
    return _apply(store, publish, order, event_id, occurred_at, lambda commission: commission, window)


def on_order_refunded(
    store: AffiliatesStore,
    publish: Publisher,
    refund: OrderRefunded,
    *,
    event_id: str,
    occurred_at: datetime,
    window: timedelta = DEFAULT_ATTRIBUTION_WINDOW,
) -> Applied:
    """Reverse the refunded share of the commission (recording the commission first if the OrderPaid has
    not arrived yet)."""

    def reverse(commission: Commission) -> Commission:
        refunded = _refunded_of(commission, refund)
        reversed_ = max(commission.reversed, reversal_of(commission.amount, refunded, commission.earned_on))
        return _reversed(commission, reversed_, occurred_at).model_copy(update={"refunded": refunded})

    return _apply(store, publish, refund.order, event_id, occurred_at, reverse, window)


def on_order_cancelled(
    store: AffiliatesStore,
    publish: Publisher,
    order: OrderSnapshot,
    *,
    event_id: str,
    occurred_at: datetime,
    window: timedelta = DEFAULT_ATTRIBUTION_WINDOW,
) -> Applied:
    """A paid order cancelled before shipment is refunded in full by the workflow: reverse it all. An
    order cancelled before payment (nothing refunded) never earned anything."""
    if order.refunded_total.amount <= 0:
        return Applied(Outcome.IGNORED, "cancelled before payment")
    return _apply(
        store,
        publish,
        order,
        event_id,
        occurred_at,
        lambda commission: _reversed(commission, commission.amount, occurred_at),
        window,
    )


def _refunded_of(commission: Commission, refund: OrderRefunded) -> int:
    """How much of what the commission was earned on the order's refunds have given back, this one
    included. On merchandise net: the snapshot's cumulative `refundedMerchandiseNet` (taken as the
    largest seen, so events arriving out of order never move it back); should an event lack it, the
    refunded share of the total, scaled to the net. On the total (older orders): the refunds' amounts
    added up, each event counted once (the ledger's event markers see to that)."""
    if commission.base is None:
        return commission.refunded + refund.amount.amount
    order = refund.order
    if order.refunded_merchandise_net is not None:
        so_far = order.refunded_merchandise_net.amount
    elif order.total.amount > 0:
        so_far = min(commission.base, commission.base * order.refunded_total.amount // order.total.amount)
    else:
        so_far = commission.base
    return max(commission.refunded, so_far)


def _reversed(commission: Commission, reversed_: int, at: datetime) -> Commission:
    if reversed_ <= commission.reversed:
        return commission
    full = reversed_ >= commission.amount
    return commission.model_copy(
        update={
            "reversed": reversed_,
            "reversed_at": at,
            "status": CommissionStatus.REVERSED if full else commission.status,
        }
    )


def _attributed(store: AffiliatesStore, order: OrderSnapshot) -> tuple[Affiliate | None, str | None]:
    """The approved affiliate an order earns for, or why none does."""
    if not order.affiliate_code:
        return None, "no affiliate code"
    affiliate = store.affiliate_by_code(normalise_code(order.affiliate_code))
    if affiliate is None:
        return None, "unknown affiliate code"
    if affiliate.status is not AffiliateStatus.APPROVED or affiliate.rate_bps is None or affiliate.approved_at is None:
        return None, "affiliate not approved"
    if order.customer_id == affiliate.user_sub:
        return None, "self-referral"
    if _placed(order) < affiliate.approved_at:
        return None, "order placed before the affiliate was approved"
    return affiliate, None


def _placed(order: OrderSnapshot) -> datetime:
    placed = datetime.fromisoformat(order.created_at)
    return placed if placed.tzinfo else placed.replace(tzinfo=UTC)


def _outside_window(store: AffiliatesStore, order: OrderSnapshot, window: timedelta) -> str | None:
    """Why a new commission must not be recorded for the window's sake, or None. The click is the
    visitor's first with the code (`attribution.visitorId`, which the storefront sends with its beacon and
    its checkout); an order without a visitor id, or whose visitor has no recorded click (an API client, a
    blocked beacon), earns as before clicks were recorded (docs/decisions.md)."""
    visitor = order.attribution.visitor_id if order.attribution else None
    if not visitor or not order.affiliate_code:
        return None
    first = store.first_click(normalise_code(order.affiliate_code), visitor)
    if first is not None and _placed(order) - first > window:
        return "the first click is older than the attribution window"
    return None


def _new_commission(affiliate: Affiliate, order: OrderSnapshot, at: datetime) -> Commission:
    """The commission the order earns: on its merchandise net, or on its total when its snapshot has
    none (orders priced before lines carried their net)."""
    rate = affiliate.rate_bps or 0
    base = order.merchandise_net.amount if order.merchandise_net is not None else None
    return Commission(
        affiliate_id=affiliate.affiliate_id,
        order_id=order.order_id,
        customer_id=order.customer_id,
        currency=order.total.currency,
        order_total=order.total.amount,
        base=base,
        rate_bps=rate,
        amount=commission_of(order.total.amount if base is None else base, rate),
        earned_at=at,
    )


def _apply(
    store: AffiliatesStore,
    publish: Publisher,
    order: OrderSnapshot,
    event_id: str,
    occurred_at: datetime,
    change: Change,
    window: timedelta = DEFAULT_ATTRIBUTION_WINDOW,
) -> Applied:
    """Apply one order event to its commission exactly once. Whichever event of an order comes first
    records the commission from its snapshot (every order event carries the whole order), so events may
    arrive in any order. The event's marker, the commission (guarded by its version) and the affiliate's
    totals are one transaction: a redelivered event finds its marker and changes nothing. The
    attribution window decides only whether a commission is recorded: once one is, every later event of
    the order moves it, whatever click arrived since."""
    affiliate, why = _attributed(store, order)
    if affiliate is None:
        return Applied(Outcome.IGNORED, why)
    for _ in range(MAX_ATTEMPTS):
        before = store.get_commission(affiliate.affiliate_id, order.order_id)
        if before is None and (late := _outside_window(store, order, window)):
            return Applied(Outcome.IGNORED, late)
        base = before or _new_commission(affiliate, order, occurred_at)
        if base.amount <= 0:
            return Applied(Outcome.IGNORED, "the commission rounds to nothing")
        after = change(base)
        if before is not None and after == before:
            return Applied(Outcome.UNCHANGED, commission=before)
        try:
            store.apply_event(event_id, before, after, datetime.now(UTC))
        except EventAlreadyApplied:
            current = store.get_commission(affiliate.affiliate_id, order.order_id)
            if current is not None:  # the first delivery may have died before announcing
                _announce(publish, affiliate, current)
            return Applied(Outcome.DUPLICATE, commission=current)
        except Stale:
            continue  # another event of this order moved it: recompute from what is stored now
        if before is None:
            _announce(publish, affiliate, after)
        taken_back = after.reversed - (before.reversed if before else 0)
        if taken_back > 0:
            reversal = CommissionReversed(
                affiliate_id=affiliate.affiliate_id,
                order_id=after.order_id,
                amount=Money(amount=taken_back, currency=after.currency),
                reversed_total=Money(amount=after.reversed, currency=after.currency),
            )
            event_id = f"CommissionReversed#{after.order_id}#{after.reversed}"
            publish([new_event(CommissionReversed.DETAIL_TYPE, event_id, reversal)])
        return Applied(Outcome.RECORDED, commission=after)
    raise ServiceUnavailable("the commission kept changing; retry")


def _announce(publish: Publisher, affiliate: Affiliate, commission: Commission) -> None:
    data = CommissionEarned(
        affiliate_id=affiliate.affiliate_id,
        code=affiliate.code,
        order_id=commission.order_id,
        amount=Money(amount=commission.amount, currency=commission.currency),
        order_total=Money(amount=commission.order_total, currency=commission.currency),
        commission_rate=commission.rate_bps / BPS,
        status=commission.status.value,
        payout_email=affiliate.payout_email,
    )
    publish([new_event(CommissionEarned.DETAIL_TYPE, f"CommissionEarned#{commission.order_id}", data)])


# ---------------------------------------------------------------- clicks and daily figures


def on_click(
    store: AffiliatesStore, clicked: AffiliateClicked, *, event_id: str, now: datetime | None = None
) -> Applied:
    """Record a click of an affiliate's code once (per event: the beacon's event id is one per visitor,
    code and day). A code no affiliate has is ignored, so made-up beacons write nothing."""
    code = normalise_code(clicked.code)
    affiliate = store.affiliate_by_code(code)
    if affiliate is None:
        return Applied(Outcome.IGNORED, "unknown affiliate code")
    at = datetime.fromisoformat(clicked.clicked_at)
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    try:
        store.record_click(event_id, affiliate.affiliate_id, code, clicked.visitor_id, at, _now(now))
    except EventAlreadyApplied:
        return Applied(Outcome.DUPLICATE)
    return Applied(Outcome.RECORDED)


def stats(reader: AffiliateStatsReader, affiliate_id: str, start: date, end: date) -> list[AffiliateDay]:
    """The affiliate's days from `start` to `end`, every day present (zeros where nothing happened); at
    most `MAX_STATS_DAYS` (a 422 past it, or for `to` before `from`)."""
    if end < start:
        raise BadRange("`to` is before `from`")
    if (end - start).days >= MAX_STATS_DAYS:
        raise BadRange(f"at most {MAX_STATS_DAYS} days at a time")
    return reader.days(affiliate_id, start, end)


# ---------------------------------------------------------------- approval after the refund window


def approve_due(
    store: AffiliatesStore, *, window: timedelta, now: datetime | None = None, budget: int = 1000
) -> list[str]:
    """PENDING commissions earned more than `window` ago become APPROVED (up to `budget` per run; the
    next run continues). Read from the PENDING index partition by date, never by a scan."""
    at = _now(now)
    cutoff = at - window
    approved: list[str] = []
    examined, start_key = 0, None
    while examined < budget:
        page = store.pending_before(cutoff, start_key=start_key, limit=min(100, budget - examined))
        approved += [c.order_id for c in page.items if _approve_one(store, c, at)]
        examined += max(1, len(page.items))
        if page.next_key is None:
            break
        start_key = page.next_key
    return approved


def _approve_one(store: AffiliatesStore, commission: Commission | None, at: datetime) -> bool:
    for _ in range(MAX_ATTEMPTS):
        if commission is None or commission.status is not CommissionStatus.PENDING:
            return False
        try:
            store.move(
                commission, commission.model_copy(update={"status": CommissionStatus.APPROVED, "approved_at": at})
            )
        except Stale:
            commission = store.get_commission(commission.affiliate_id, commission.order_id)
            continue
        return True
    return False


# ---------------------------------------------------------------- payouts


def pay_out(
    store: AffiliatesStore,
    affiliate_id: str,
    *,
    currency: str,
    idempotency_key: str | None,
    publish: Publisher | None = None,
    now: datetime | None = None,
) -> Payout:
    """Mark every APPROVED commission of the affiliate PAID under one payout, and answer its total. With an
    Idempotency-Key the payout's id is derived from it: a retry answers the first payout (finishing it
    if it stopped half-way) and pays nothing twice; each commission's move is guarded by its version.
    The APPROVED partition is read page after page from its last evaluated key, never re-queried from
    the start: GSIs are eventually consistent, so a fresh query may still list what was just paid."""
    get_affiliate(store, affiliate_id)
    at = _now(now)
    if idempotency_key:
        digest = hashlib.sha256(f"{affiliate_id}|{idempotency_key}".encode()).hexdigest()[:24]
        payout_id = f"po_{digest}"
    else:
        payout_id = new_id("po")
    fresh = Payout(
        payout_id=payout_id,
        affiliate_id=affiliate_id,
        total=0,
        count=0,
        currency=currency,
        complete=False,
        created_at=at,
    )
    payout = store.open_payout(fresh, idempotency_key)
    if payout is None:
        mark_replayed()  # the key's payout was opened by an earlier request: this answers (or finishes) it
        payout = store.get_payout(affiliate_id, payout_id)
    if payout is None:
        raise ServiceUnavailable("the payout could not be read back; retry")
    if payout.complete:
        return payout
    start_key = None
    while True:
        page = store.approved_of(affiliate_id, start_key=start_key, limit=PAYOUT_PAGE)
        for commission in page.items:
            _pay_one(store, commission, payout, at)
        if page.next_key is None:
            break
        start_key = page.next_key
    done = store.complete_payout(affiliate_id, payout_id)
    if publish is not None and done.total > 0:
        paid = CommissionPaid(
            affiliate_id=affiliate_id,
            payout_id=payout_id,
            amount=Money(amount=done.total, currency=done.currency),
            commissions=done.count,
        )
        publish([new_event(CommissionPaid.DETAIL_TYPE, f"CommissionPaid#{payout_id}", paid)])
    return done


def _pay_one(store: AffiliatesStore, commission: Commission | None, payout: Payout, at: datetime) -> None:
    for _ in range(MAX_ATTEMPTS):
        if commission is None or commission.status is not CommissionStatus.APPROVED:
            return
        paid = commission.model_copy(
            update={
                "status": CommissionStatus.PAID,
                "paid_at": at,
                "paid_amount": commission.net,
                "payout_id": payout.payout_id,
            }
        )
        try:
            store.move(commission, paid, payout=payout)
        except Stale:
            commission = store.get_commission(commission.affiliate_id, commission.order_id)
            continue
        return
