"""Coupons as staff (and customers' win-back job) create and list them; what a coupon is worth at
checkout is `orders.coupons.discount`."""

from dataclasses import dataclass

from common.cursor import decode_cursor, encode_cursor
from orders.coupons import Coupon, CouponIn, shards_for
from orders.errors import CouponCodeTaken, CouponNotFound
from orders.ports import Ports
from orders.store import CouponExists


def create_coupon(ports: Ports, request: CouponIn) -> Coupon:
    """A new coupon, its uses counted in `shards_for` items; the same definition again answers the
    coupon (a retry), another is a 409."""
    coupon = Coupon(**request.model_dump(), shards=shards_for(request.max_redemptions), created_at=ports.clock())
    try:
        ports.store.put_coupon(coupon)
    except CouponExists:
        existing = ports.store.get_coupon(coupon.code)
        if (
            existing is None
            or CouponIn(**existing.model_dump(exclude={"redemptions", "shards", "created_at"})) != request
        ):
            raise CouponCodeTaken(coupon.code) from None
        coupon = existing  # a retry: finish what the first attempt may not have (its customers' offers)
    ports.store.put_offers(coupon)
    return coupon


def get_coupon(ports: Ports, code: str) -> Coupon:
    """One coupon by its code (codes are kept upper-case, so any case finds it); `CouponNotFound`."""
    coupon = ports.store.get_coupon(code.strip().upper())
    if coupon is None:
        raise CouponNotFound(code)
    return coupon


@dataclass(frozen=True)
class Offer:
    """A coupon issued to a customer that they can still use, and how many more times (None: no limit)."""

    coupon: Coupon
    uses_left: int | None


def my_offers(ports: Ports, customer_id: str) -> list[Offer]:
    """The coupons issued to the customer (their id in its `customerIds`: win-back deals and others) that
    they could redeem now: valid at this moment, not used up in total or by them, and not first-order-only
    once they have ordered. The rules a checkout applies (`orders.coupons.discount`), minus the cart's."""
    now = ports.clock()
    offers: list[Offer] = []
    has_ordered: bool | None = None
    for code in ports.store.offer_codes(customer_id):
        coupon = ports.store.get_coupon(code)
        if coupon is None or customer_id not in (coupon.customer_ids or []):
            continue
        if (coupon.valid_from and now < coupon.valid_from) or (coupon.valid_until and now >= coupon.valid_until):
            continue
        if coupon.max_redemptions is not None and coupon.redemptions >= coupon.max_redemptions:
            continue
        uses_left = None
        if coupon.max_per_customer is not None:
            uses_left = coupon.max_per_customer - ports.store.coupon_uses(code, customer_id)
            if uses_left <= 0:
                continue
        if coupon.first_order_only:
            if has_ordered is None:
                has_ordered = ports.store.has_orders(customer_id, excluding="")
            if has_ordered:
                continue
        offers.append(Offer(coupon, uses_left))
    return offers


def list_coupons(ports: Ports, *, cursor: str | None, limit: int) -> tuple[list[Coupon], str | None]:
    page = ports.store.list_coupons(start_key=decode_cursor(cursor, "coupons"), limit=limit)
    return page.items, encode_cursor(page.next_key, "coupons")


def end_coupon(ports: Ports, code: str) -> Coupon:
    """End a coupon now (a code that leaked, a promotion over early): its `validUntil` becomes this
    moment, so checkouts and quotes refuse it as expired (`coupon_expired`) and `GET /me/offers` no longer
    lists it; its uses so far and its orders stay. Idempotent: a coupon already over keeps its end.
    A checkout that read the coupon just before may still redeem it; no checkout after does."""
    coupon = get_coupon(ports, code)
    now = ports.clock()
    if coupon.valid_until is not None and coupon.valid_until <= now:
        return coupon
    ended = ports.store.end_coupon(
        coupon.code, now, drop_start=coupon.valid_from is not None and coupon.valid_from >= now
    )
    if ended is None:
        raise CouponNotFound(code)
    return ended
