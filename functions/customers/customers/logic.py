"""Profile, address and support use cases. No HTTP, no boto3: the store and the ports are passed in.

Every read and write is keyed by the caller's own `sub` (customers) or by the customer id staff
asked for, so a customer can only ever reach their own items: another customer's address is simply
not under their key, which answers the same 404 as an address that never existed."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from common.contracts import SavedCard
from common.cursor import decode_cursor, encode_cursor
from common.errors import ServiceUnavailable
from common.ids import ID_PATTERN, new_id
from customers.errors import AddressNotFound, CustomerNotFound, OrdersStillOpen, TooManyAddresses
from customers.models import (
    MAX_ADDRESSES,
    Address,
    AddressIn,
    Note,
    OrderRecord,
    Profile,
    ProfileIn,
    Summary,
)
from customers.ports import Logins, Orders, Payments
from customers.store import CustomersStore, Hit, LimitReached
from customers.store.search import normalised

logger = Logger(service="customers")
SUPPORT_VIEW_ORDERS = 50
SUPPORT_VIEW_NOTES = 50


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


# ---------------------------------------------------------------- profile


def profile(store: CustomersStore, payments: Payments | None, sub: str) -> tuple[Profile, Summary]:
    """The customer's profile and summary, read only: `GET /me` writes nothing, and a customer who never
    saved a profile gets the default one. The Stripe Customer's id is the profile's copy; until a copy is
    kept (by the next save of the profile or a look at one's cards), a customer who has paid is shown the
    one payments names, and one payments cannot name now is shown without."""
    found = store.get_profile(sub) or Profile(customer_id=sub)
    summary = store.get_summary(sub) or Summary()
    stripe_id = _stripe_customer_to_learn(payments, sub, found, summary)
    if stripe_id:
        found = found.model_copy(update={"stripe_customer_id": stripe_id})
    return found, summary


def update_profile(
    store: CustomersStore,
    payments: Payments | None,
    sub: str,
    email: str | None,
    body: ProfileIn,
    *,
    now: datetime | None = None,
) -> tuple[Profile, Summary]:
    """Create or replace the customer's own details; the email is always the one of the token (Cognito's).
    A paid customer's Stripe Customer id is asked of payments here, once, and kept on the profile."""
    updated = store.put_profile(
        sub, email=email, name=body.name, phone=body.phone, consent=body.marketing_consent, now=_now(now)
    )
    store.index_customer(sub, email=updated.email, name=updated.name)
    summary = store.get_summary(sub) or Summary()
    stripe_id = _stripe_customer_to_learn(payments, sub, updated, summary)
    if stripe_id:
        store.set_stripe_customer(sub, stripe_id)
        updated = updated.model_copy(update={"stripe_customer_id": stripe_id})
    return updated, summary


def _stripe_customer_to_learn(payments: Payments | None, sub: str, found: Profile, summary: Summary) -> str | None:
    """The Stripe Customer's id payments names for a customer who has paid and whose profile keeps no copy
    of it yet; None otherwise, or when payments cannot answer now (the profile goes without)."""
    if payments is None or found.stripe_customer_id is not None or summary.order_count == 0:
        return None
    try:
        return payments.saved_cards(sub).stripe_customer_id
    except ServiceUnavailable as error:
        logger.warning("payments could not name the Stripe customer", extra={"error": str(error)})
        return None


def saved_cards(store: CustomersStore, payments: Payments, sub: str) -> list[SavedCard]:
    """The customer's cards as Stripe keeps them (brand, last 4, expiry): we store no card data."""
    cards = payments.saved_cards(sub)
    if cards.stripe_customer_id:
        current = store.get_profile(sub)
        if current is None or current.stripe_customer_id != cards.stripe_customer_id:
            store.set_stripe_customer(sub, cards.stripe_customer_id)
    return cards.items


# ---------------------------------------------------------------- addresses


def addresses(store: CustomersStore, sub: str) -> tuple[list[Address], str | None]:
    found = store.list_addresses(sub, MAX_ADDRESSES)
    owner = store.get_profile(sub)
    return found, owner.default_address_id if owner else None


def add_address(
    store: CustomersStore, sub: str, body: AddressIn, *, now: datetime | None = None
) -> tuple[Address, str | None]:
    """Keep a new address; the first one (or one marked `default`) becomes the default."""
    address = Address(
        address_id=new_id("a"),
        name=body.name,
        line1=body.line1,
        line2=body.line2 or None,
        city=body.city,
        postal_code=body.postal_code,
        country=body.country,
        created_at=_now(now),
    )
    try:
        store.add_address(sub, address, make_default=body.default, limit=MAX_ADDRESSES)
    except LimitReached:
        raise TooManyAddresses(MAX_ADDRESSES) from None
    owner = store.get_profile(sub)
    return address, owner.default_address_id if owner else address.address_id


def address(store: CustomersStore, sub: str, address_id: str) -> tuple[Address, str | None]:
    """One of the caller's addresses and the id of their default; `AddressNotFound` for any other."""
    found = store.get_address(sub, address_id) if _is_id(address_id, "a") else None
    if found is None:
        raise AddressNotFound(address_id)
    owner = store.get_profile(sub)
    return found, owner.default_address_id if owner else None


def delete_address(store: CustomersStore, sub: str, address_id: str) -> None:
    """Delete one of the caller's addresses. If it was the default, the newest remaining one is."""
    if not _is_id(address_id, "a") or not store.delete_address(sub, address_id):
        raise AddressNotFound(address_id)
    owner = store.get_profile(sub)
    if owner is not None and owner.default_address_id == address_id:
        remaining = store.list_addresses(sub, MAX_ADDRESSES)
        newest = max(remaining, key=lambda a: a.created_at).address_id if remaining else None
        store.replace_default(sub, address_id, newest)


def default_address(store: CustomersStore, sub: str) -> Address | None:
    """What checkout ships to when the customer names no address."""
    owner = store.get_profile(sub)
    if owner is None or owner.default_address_id is None:
        return None
    return store.get_address(sub, owner.default_address_id)


# ---------------------------------------------------------------- support view


@dataclass(frozen=True)
class SupportView:
    profile: Profile
    summary: Summary
    addresses: list[Address]
    orders: list[OrderRecord]
    notes: list[Note]


def support_view(store: CustomersStore, customer_id: str) -> SupportView:
    """Everything support needs about one customer. A customer we know nothing of is a 404."""
    found = store.get_profile(customer_id)
    summary = store.get_summary(customer_id)
    orders = store.list_orders(customer_id, SUPPORT_VIEW_ORDERS)
    if found is None and summary is None and not orders:
        raise CustomerNotFound(customer_id)
    return SupportView(
        profile=found or Profile(customer_id=customer_id),
        summary=summary or Summary(),
        addresses=store.list_addresses(customer_id, MAX_ADDRESSES),
        orders=orders,
        notes=store.list_notes(customer_id, SUPPORT_VIEW_NOTES),
    )


def search(store: CustomersStore, query: str, *, cursor: str | None, limit: int) -> tuple[list[Hit], str | None]:
    """Customers whose email or name (or a later word of it) starts with `query`, case-insensitive, from
    their search items (`customers.store.search`): one index query, no scan. A page may hold fewer than
    `limit` customers (one found by both email and name counts once) while `nextCursor` goes on."""
    term = normalised(query)
    scope = f"customers|search|{term}"
    page = store.search(term, start_key=decode_cursor(cursor, scope), limit=limit)
    return page.items, encode_cursor(page.next_key, scope)


def add_note(store: CustomersStore, customer_id: str, author: str, text: str, *, now: datetime | None = None) -> Note:
    if store.get_profile(customer_id) is None and store.get_summary(customer_id) is None:
        raise CustomerNotFound(customer_id)
    note = Note(note_id=new_id("n"), text=text, author=author, at=_now(now))
    store.add_note(customer_id, note)
    return note


# ---------------------------------------------------------------- the customer's data rights


@dataclass(frozen=True)
class Export:
    profile: Profile
    summary: Summary
    addresses: list[Address]
    orders: list[OrderRecord]
    deals: list[dict[str, Any]]
    exported_at: datetime


def export(store: CustomersStore, sub: str, *, now: datetime | None = None) -> Export:
    """Everything customers keeps about the caller. Support's notes are not in it: they are the shop's
    internal working notes (see docs/decisions-privacy.md)."""
    return Export(
        profile=store.get_profile(sub) or Profile(customer_id=sub),
        summary=store.get_summary(sub) or Summary(),
        addresses=store.list_addresses(sub, MAX_ADDRESSES),
        orders=store.all_orders(sub),
        deals=store.all_deals(sub),
        exported_at=_now(now),
    )


def erase(
    store: CustomersStore,
    orders: Orders,
    payments: Payments,
    logins: Logins,
    sub: str,
    *,
    now: datetime | None = None,
) -> None:
    """Forget the customer: orders first redacts their orders (the books keep the orders, not the person),
    payments deletes their Stripe Customer and its record of it, then every item customers keeps of them
    goes, and last their login, so that until everything else is gone they can still sign in to retry.
    An order still to ship needs its address, so then nothing is deleted and the caller learns which
    orders to wait for (`OrdersStillOpen`). Idempotent: a second erasure finds nothing left to delete."""
    result = orders.anonymise(sub)
    if result.open:
        raise OrdersStillOpen(result.open)
    forgotten = payments.forget(sub)
    deleted = store.erase(sub, _now(now))
    logins.delete(sub)
    logger.info(
        "customer erased",
        extra={
            "itemsDeleted": deleted,
            "ordersAnonymised": len(result.anonymised),
            "stripeCustomerDeleted": forgotten.stripe_customer_deleted,
        },
    )


def _is_id(value: str, prefix: str) -> bool:
    return re.fullmatch(ID_PATTERN, value) is not None and value.startswith(f"{prefix}_")
