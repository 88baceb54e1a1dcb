"""What each event adds to the aggregates: pure functions from an event, read through its contract model,
to increments; and applying them. Every figure is a sum, so events may come in any order; each is
applied once (the store dedupes by event id).

Events come in SQS batches (`apply_batch`): the batch's increments are merged per aggregate item, so a
burst of orders writes the day's `TOTAL` once per transaction of up to 100 actions rather than once per
order, each event's marker riding in the transaction that adds it.

Days are the shop's days (`SHOP_TIMEZONE`): an order counts on the day it was paid, a refund on the day
it was made. Money is in minor units of the shop's currency.

Items (partition / sort):
- `DAY#<date> / TOTAL`: orders, units, gross (before discounts), discounts, refunds; and the split of what
  was sold: net_sales (the lines without tax after the discount), shipping (as charged), tax, and per
  country and rate `tax#<country>#<rate>` and `taxbase#<country>#<rate>` (top-level attributes: ADD
  needs no map to exist first, and the day stays one item to read). A refund subtracts its part of
  them; events published before 2026-12 carry no split and add none of it.
- `DAY#<date> / PRODUCT#<id>`: units, gross, views (visiting sessions), name, category
- `DAY#<date> / CUSTOMER#<id>`: orders, spent (after discounts), refunds
- `DAY#<date> / CAMPAIGN#<source|medium|campaign>`: orders, revenue, refunds, sessions
- `DAY#<date> / PAYMENT#<orderId>`: gross, fee (Stripe's, from `PaymentSucceeded`; `feeUnknown` 1 when it
  came without), feeReturned (of refunds, `RefundSucceeded`), commission, refunds, disputed, disputeLost,
  disputeFee and disputeFeeReturned (Stripe's dispute fee, `PaymentDisputed` and `DisputeClosed`)
- `MONTH#<yyyy-mm> / AFFILIATE#<id>`: earned, reversed, paid (and the statement's address)
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from common.batches import Outcome, SeenBefore, pack, settle
from common.contracts import (
    CommissionEarned,
    CommissionPaid,
    CommissionReversed,
    DisputeClosed,
    DisputeStatus,
    OrderRefunded,
    OrderSnapshot,
    PaymentDisputed,
    PaymentSucceeded,
    RefundSucceeded,
    TaxAtRate,
)
from common.events import Received
from common.pricing import spread
from reports.models import Increment
from reports.store import ReportsStore

Commission = CommissionEarned | CommissionReversed | CommissionPaid
UNKNOWN_COUNTRY = "-"
TAX, TAX_BASE = "tax#", "taxbase#"


def day_of(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def campaign_key(source: str | None, medium: str | None, campaign: str | None) -> str | None:
    """`source|medium|campaign`, or None for an order or a visit that came without attribution."""
    labels = (source, medium, campaign)
    return "|".join(label or "-" for label in labels) if any(labels) else None


def apply(store: ReportsStore, event: Received, zone: ZoneInfo) -> bool:
    """Apply one event to the aggregates, once; False for a duplicate or an event that adds nothing."""
    found = increments(event, zone)
    return bool(found) and store.apply(event.event_id, found)


@dataclass(frozen=True)
class Contribution:
    """What one event of a batch adds, and when it happened (an attribute set once takes the earliest)."""

    event_id: str
    occurred_at: datetime
    increments: list[Increment]


def apply_batch(
    store: ReportsStore, events: Sequence[Received], zone: ZoneInfo, *, pause: Callable[[float], None] = time.sleep
) -> Outcome:
    """Apply a batch of events, each once, merged per aggregate item: chunks of at most 100 actions (one
    per distinct item, one marker per event) written one after the other. An event that adds nothing is
    left out (applied: there is nothing to add); the same event twice in the batch counts once; an event
    applied before is dropped from its chunk; a chunk DynamoDB keeps refusing for load leaves its events
    failed, for the queue to bring back. An event too large to share a transaction goes alone, as `apply`."""
    contributions: dict[str, Contribution] = {}
    for event in events:
        if event.event_id not in contributions:
            contributions[event.event_id] = Contribution(event.event_id, event.occurred_at, increments(event, zone))
    adding = [c for c in contributions.values() if c.increments]
    chunks, alone = pack((c, [(i.pk, i.sk) for i in c.increments]) for c in adding)
    outcome = Outcome()
    for contribution in alone:
        outcome.add(settle([contribution.event_id], partial(_apply_alone, store, contribution), pause=pause))
    for chunk in chunks:
        by_id = {c.event_id: c for c in chunk}
        outcome.add(settle(list(by_id), partial(_apply_merged, store, by_id), pause=pause))
    return outcome


def merge(contributions: Sequence[Contribution]) -> list[Increment]:
    """One increment per aggregate item: the sums added up; an attribute set once (a product's name and
    category) takes the earliest event's value, as applying the events one by one in time order would
    leave it on a new item (an item that has it keeps its own: the store sets it only if absent)."""
    adds: dict[tuple[str, str], dict[str, int]] = {}
    sets: dict[tuple[str, str], dict[str, Any]] = {}
    for contribution in sorted(contributions, key=lambda c: c.occurred_at):
        for increment in contribution.increments:
            item = (increment.pk, increment.sk)
            added = adds.setdefault(item, {})
            for name, delta in increment.add.items():
                added[name] = added.get(name, 0) + delta
            kept = sets.setdefault(item, {})
            for name, value in increment.set_if_absent.items():
                kept.setdefault(name, value)
    return [Increment(pk, sk, added, sets[pk, sk]) for (pk, sk), added in adds.items()]


def _apply_merged(store: ReportsStore, by_id: Mapping[str, Contribution], event_ids: list[str]) -> None:
    store.apply_merged(event_ids, merge([by_id[event_id] for event_id in event_ids]))


def _apply_alone(store: ReportsStore, contribution: Contribution, _event_ids: list[str]) -> None:
    if not store.apply(contribution.event_id, contribution.increments):
        raise SeenBefore([contribution.event_id])


def increments(event: Received, zone: ZoneInfo) -> list[Increment]:
    """What `event` adds, by the model its detail type carries (`common.contracts.EVENTS`)."""
    day = f"DAY#{day_of(event.occurred_at, zone).isoformat()}"
    match event.payload:
        case OrderSnapshot() as order if event.detail_type == "OrderPaid":
            return _paid(order, day)
        case OrderSnapshot() as order if event.detail_type == "OrderCancelled":
            # Only a paid order cancelled before shipment carries money: the workflow refunded it in full.
            refunded = order.refunded_total.amount
            return _refund(order, refunded, day, _cancelled_split(order, refunded)) if refunded else []
        case OrderRefunded() as refunded:
            return _refund(refunded.order, refunded.amount.amount, day, _refunded_split(refunded))
        case CommissionEarned() | CommissionReversed() | CommissionPaid() as commission:
            return _commission(commission, event.occurred_at, zone, day)
        case PaymentSucceeded() | RefundSucceeded() | PaymentDisputed() | DisputeClosed() as payment:
            return _payment(payment, day)
        case _:
            return []


def _campaign_of(order: OrderSnapshot) -> str | None:
    if order.attribution is None:
        return None
    return campaign_key(order.attribution.source, order.attribution.medium, order.attribution.campaign)


def tax_key(country: str | None, rate: str) -> str:
    """`<country>#<rate>`: a tax-by-country-and-rate figure's name after its prefix (`-` for no country)."""
    return f"{country or UNKNOWN_COUNTRY}#{rate}"


def _split(
    country: str | None, net: int | None, shipping: int, tax_lines: list[TaxAtRate], sign: int = 1
) -> dict[str, int]:
    """The sale split (net sales, shipping, tax, tax per country and rate) as increments, `sign` -1 for a
    refund; only the figures the event carries, so an event published before 2026-12 adds none."""
    figures: dict[str, int] = {}
    if net is not None:
        figures["net_sales"] = sign * net
    if shipping:
        figures["shipping"] = sign * shipping
    if tax_lines:
        figures["tax"] = sign * sum(line.amount.amount for line in tax_lines)
    for line in tax_lines:
        key = tax_key(country, line.rate)
        figures[TAX + key] = figures.get(TAX + key, 0) + sign * line.amount.amount
        figures[TAX_BASE + key] = figures.get(TAX_BASE + key, 0) + sign * line.base.amount
    return figures


def _prices_include_tax(order: OrderSnapshot) -> bool:
    """Whether the order's prices included tax: its total then adds no tax on top (as orders tells)."""
    added = order.subtotal.amount - order.discount.amount + order.shipping.amount + order.tax.amount
    return order.tax.amount == 0 or order.total.amount != added


def _refunded_split(refunded: OrderRefunded) -> dict[str, int]:
    """What a refund takes back from the split, as its event says (nothing for an event before 2026-12).
    A refund gives shipping back as paid, with its tax; shipping charged counts it as the order does (as
    charged: without its tax when prices exclude tax), its tax coming back in the refund's tax lines."""
    shipping = refunded.shipping.amount if refunded.shipping else 0
    order = refunded.order
    if shipping and not _prices_include_tax(order):
        shipping -= order.shipping_tax.amount if order.shipping_tax else 0
    net = refunded.merchandise_net.amount if refunded.merchandise_net else None
    return _split(refunded.order.country, net, shipping, refunded.tax_lines, sign=-1)


def _share(amount: int, part: int, whole: int) -> int:
    exact = Fraction(amount * part, whole)
    return int(exact + Fraction(1, 2))  # half up, amounts are never negative here


def _cancelled_split(order: OrderSnapshot, refunded: int) -> dict[str, int]:
    """A paid order cancelled before shipment was refunded in full (`refunded` = its total): the whole
    split comes back. Were it ever less, each figure comes back in proportion, its tax spread over the
    rates as an amount-only refund's is (`common.pricing.spread`)."""
    total = order.total.amount
    if not total or refunded >= total:
        net = order.merchandise_net.amount if order.merchandise_net else None
        return _split(order.country, net, order.shipping.amount, order.tax_lines, sign=-1)
    taxes = spread(_share(order.tax.amount, refunded, total), [line.amount.amount for line in order.tax_lines])
    lines = [
        line.model_copy(
            update={
                "amount": line.amount.model_copy(update={"amount": tax}),
                "base": line.base.model_copy(update={"amount": _share(line.base.amount, refunded, total)}),
            }
        )
        for line, tax in zip(order.tax_lines, taxes, strict=True)
    ]
    net = _share(order.merchandise_net.amount, refunded, total) if order.merchandise_net else None
    return _split(order.country, net, _share(order.shipping.amount, refunded, total), lines, sign=-1)


def _paid(order: OrderSnapshot, day: str) -> list[Increment]:
    spent = order.total.amount
    net = order.merchandise_net.amount if order.merchandise_net else None
    found = [
        Increment(
            day,
            "TOTAL",
            {
                "orders": 1,
                "units": sum(line.quantity for line in order.lines),
                "gross": order.subtotal.amount,
                "discounts": order.discount.amount,
            }
            | _split(order.country, net, order.shipping.amount, order.tax_lines),
        ),
        Increment(day, f"CUSTOMER#{order.customer_id}", {"orders": 1, "spent": spent}),
        Increment(day, f"PAYMENT#{order.order_id}", {"gross": spent}),
    ]
    per_product: dict[str, Increment] = {}
    for line in order.lines:
        seen = per_product.get(line.product_id)
        units = line.quantity + (seen.add["units"] if seen else 0)
        gross = line.line_total.amount + (seen.add["gross"] if seen else 0)
        per_product[line.product_id] = Increment(
            day,
            f"PRODUCT#{line.product_id}",
            {"units": units, "gross": gross},
            {"name": line.name, "category": line.category},
        )
    found += per_product.values()
    key = _campaign_of(order)
    if key:
        found.append(Increment(day, f"CAMPAIGN#{key}", {"orders": 1, "revenue": spent}))
    return found


def _refund(order: OrderSnapshot, amount: int, day: str, split: dict[str, int]) -> list[Increment]:
    found = [
        Increment(day, "TOTAL", {"refunds": amount} | split),
        Increment(day, f"CUSTOMER#{order.customer_id}", {"refunds": amount}),
        Increment(day, f"PAYMENT#{order.order_id}", {"refunds": amount}),
    ]
    key = _campaign_of(order)
    if key:
        found.append(Increment(day, f"CAMPAIGN#{key}", {"refunds": amount}))
    return found


def _payment(event: PaymentSucceeded | RefundSucceeded | PaymentDisputed | DisputeClosed, day: str) -> list[Increment]:
    """What Stripe did to the order's money, on the payments report's row of the day it happened. A fee
    that could not be read is counted as unknown (`feeUnknown`), never as 0; a refund's `fee` is what
    Stripe gave back of its fee (usually nothing). A dispute's amount counts when opened (`disputed`) and,
    if the shop lost it, again when closed (`disputeLost`): the money lost, which the net subtracts. So
    does Stripe's dispute fee, taken when it opened (`disputeFee`), less what it gave back when the shop
    won (`disputeFeeReturned`); either one untold counts in `feeUnknown`."""
    payment = f"PAYMENT#{event.order_id}"
    match event:
        case PaymentSucceeded(fee=None):
            return [Increment(day, payment, {"feeUnknown": 1})]
        case PaymentSucceeded(fee=fee) if fee is not None:
            return [Increment(day, payment, {"fee": fee.amount})]
        case RefundSucceeded(fee=fee) if fee is not None and fee.amount:
            return [Increment(day, payment, {"feeReturned": fee.amount})]
        case PaymentDisputed(fee=fee):
            charged = {"disputeFee": fee.amount} if fee is not None else {"feeUnknown": 1}
            return [Increment(day, payment, {"disputed": event.amount.amount} | charged)]
        case DisputeClosed(status=DisputeStatus.LOST):
            return [Increment(day, payment, {"disputeLost": event.amount.amount})]
        case DisputeClosed(fee_returned=None):  # won, and what came back of the fee untold
            return [Increment(day, payment, {"feeUnknown": 1})]
        case DisputeClosed(fee_returned=returned) if returned is not None and returned.amount:
            return [Increment(day, payment, {"disputeFeeReturned": returned.amount})]
    return []


def _commission(commission: Commission, occurred_at: datetime, zone: ZoneInfo, day: str) -> list[Increment]:
    value = commission.amount.amount
    month = f"MONTH#{day_of(occurred_at, zone).strftime('%Y-%m')}"
    affiliate = f"AFFILIATE#{commission.affiliate_id}"
    match commission:
        case CommissionEarned():
            statement = {"email": commission.payout_email} if commission.payout_email else {}
            return [
                Increment(month, affiliate, {"earned": value}, statement),
                Increment(day, f"PAYMENT#{commission.order_id}", {"commission": value}),
            ]
        case CommissionReversed():
            return [
                Increment(month, affiliate, {"reversed": value}),
                Increment(day, f"PAYMENT#{commission.order_id}", {"commission": -value}),
            ]
        case CommissionPaid():
            return [Increment(month, affiliate, {"paid": value})]
