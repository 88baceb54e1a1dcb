"""Personal deals: a single-use coupon for every customer whose last paid order is older than the
win-back period, emailed to those who consented to marketing.

Lapsed customers are read from GSI1 (`LASTORDER#<day>`), one day-partition per day of a short
catch-up window ending at the cutoff, so a missed run is made up by the next one and nothing is
scanned. A deal is keyed by the customer and the date of the order they lapsed after
(`DEAL#WINBACK#<lastOrderAt>`), and its coupon code is derived from the same two: a retried or
repeated run finds the deal and issues nothing twice, and a customer who orders again and lapses
again gets a new deal. Each step is stamped once (`issuedAt`, `emailedAt`); the email is stamped
before it is sent, so it goes out at most once (a crash in between loses that one email)."""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from common.contracts import IssueCouponInput
from common.store import iso
from customers.ports import Coupons, Mailer
from customers.store import CustomersStore

CATCH_UP_DAYS = 7
PAGE = 100


@dataclass(frozen=True)
class Offer:
    percent: int = 15
    valid_days: int = 30
    shop_url: str = "https://shop.example.com"


@dataclass
class WinBackResult:
    examined: int = 0
    issued: list[str] = field(default_factory=list)
    emailed: list[str] = field(default_factory=list)


def deal_code(sub: str, last_order_at: datetime) -> str:
    digest = hashlib.sha256(f"{sub}|{last_order_at.isoformat()}".encode()).hexdigest()[:10].upper()
    return f"WB-{digest}"


def _days(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def run(
    store: CustomersStore,
    coupons: Coupons,
    mailer: Mailer,
    *,
    days: int,
    now: datetime | None = None,
    offer: Offer = Offer(),
) -> WinBackResult:
    at = now or datetime.now(UTC)
    cutoff = at - timedelta(days=days)
    result = WinBackResult()
    for day in _days(cutoff.date() - timedelta(days=CATCH_UP_DAYS), cutoff.date()):
        start = None
        while True:
            page = store.last_ordered_on(day, start_key=start, limit=PAGE)
            for sub, last_order_at in page.items:
                if last_order_at > cutoff:
                    continue  # the cutoff's own day, later in the day: not lapsed yet
                result.examined += 1
                _deal(store, coupons, mailer, sub, last_order_at, at, offer, result)
            if page.next_key is None:
                break
            start = page.next_key
    return result


def _deal(
    store: CustomersStore,
    coupons: Coupons,
    mailer: Mailer,
    sub: str,
    last_order_at: datetime,
    now: datetime,
    offer: Offer,
    result: WinBackResult,
) -> None:
    deal_id = f"WINBACK#{last_order_at.astimezone(UTC).isoformat()}"
    deal = store.claim_deal(sub, deal_id, deal_code(sub, last_order_at), now)
    code = str(deal["code"])
    valid_until = datetime.fromisoformat(deal["createdAt"]) + timedelta(days=offer.valid_days)
    if not deal.get("issuedAt"):
        coupons.issue(
            IssueCouponInput(
                code=code,
                type="percent",
                value=offer.percent,
                customer_ids=[sub],
                max_redemptions=1,
                max_per_customer=1,
                valid_until=iso(valid_until),
            )
        )
        if store.mark_deal(sub, deal_id, "issuedAt", now):
            result.issued.append(sub)
    if deal.get("emailedAt"):
        return
    profile = store.get_profile(sub)
    if profile is None or not profile.marketing_consent or not profile.email:
        return
    if store.mark_deal(sub, deal_id, "emailedAt", now):
        greeting = f"Hello {profile.name}," if profile.name else "Hello,"
        text = (
            f"{greeting}\n\nwe have missed you. Here is {offer.percent}% off your next order, just for you:\n\n"
            f"    {code}\n\nEnter the code at checkout before {valid_until:%d %B %Y}. It works once.\n\n"
            f"{offer.shop_url}\n\nYou receive this because you agreed to hear about offers; "
            "you can change that in your profile at any time.\n"
        )
        mailer.send(profile.email, f"{offer.percent}% off, because we missed you", text)
        result.emailed.append(sub)
