"""Coupons as staff (and customers' win-back job) create and list them; what a coupon is worth at
checkout is `orders.coupons.discount`."""

from common.cursor import decode_cursor, encode_cursor
from orders.coupons import Coupon, CouponIn
from orders.errors import CouponCodeTaken, CouponNotFound
from orders.ports import Ports
from orders.store import CouponExists


def create_coupon(ports: Ports, request: CouponIn) -> Coupon:
    """A new coupon; the same definition again answers the coupon (a retry), another is a 409."""
    coupon = Coupon(**request.model_dump(), created_at=ports.clock())
    try:
        ports.store.put_coupon(coupon)
    except CouponExists:
        existing = ports.store.get_coupon(coupon.code)
        if existing is None or CouponIn(**existing.model_dump(exclude={"redemptions", "created_at"})) != request:
            raise CouponCodeTaken(coupon.code) from None
        return existing
    return coupon


def get_coupon(ports: Ports, code: str) -> Coupon:
    """One coupon by its code (codes are kept upper-case, so any case finds it); `CouponNotFound`."""
    coupon = ports.store.get_coupon(code.strip().upper())
    if coupon is None:
        raise CouponNotFound(code)
    return coupon


def list_coupons(ports: Ports, *, cursor: str | None, limit: int) -> tuple[list[Coupon], str | None]:
    page = ports.store.list_coupons(start_key=decode_cursor(cursor, "coupons"), limit=limit)
    return page.items, encode_cursor(page.next_key, "coupons")
