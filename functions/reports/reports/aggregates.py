"""What each event adds to the aggregates: pure functions from an event to increments. Every figure is
a sum, so events may come in any order; each is applied once (the store dedupes by event id).

Days are the shop's days (`SHOP_TIMEZONE`): an order counts on the day it was paid, a refund on the day
it was made. Money is in minor units of the shop's currency.

Items (partition / sort):
- `DAY#<date> / TOTAL`: orders, units, gross (before discounts), discounts, refunds
- `DAY#<date> / PRODUCT#<id>`: units, gross, views (visiting sessions), name, category
- `DAY#<date> / CUSTOMER#<id>`: orders, spent (after discounts), refunds
- `DAY#<date> / CAMPAIGN#<source|medium|campaign>`: orders, revenue, refunds, sessions
- `DAY#<date> / PAYMENT#<orderId>`: gross, fee, commission, refunds
- `MONTH#<yyyy-mm> / AFFILIATE#<id>`: earned, reversed, paid (and the statement's address)
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from common.contracts import OrderRefunded, OrderSnapshot

NO_CAMPAIGN = "(none)"


@dataclass(frozen=True)
class Increment:
    pk: str
    sk: str
    add: dict[str, int]
    set_if_absent: dict[str, Any] = field(default_factory=dict)


def day_of(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def campaign_key(attribution: dict[str, Any] | None) -> str | None:
    """`source|medium|campaign`, or None for an order that came without attribution."""
    if not attribution or not any(attribution.get(k) for k in ("source", "medium", "campaign")):
        return None
    return "|".join(str(attribution.get(k) or "-") for k in ("source", "medium", "campaign"))


def increments(detail_type: str, data: dict[str, Any], occurred_at: datetime, zone: ZoneInfo) -> list[Increment]:
    day = f"DAY#{day_of(occurred_at, zone).isoformat()}"
    if detail_type == "OrderPaid":
        return _paid(OrderSnapshot.model_validate(data), day)
    if detail_type == "OrderRefunded":
        refunded = OrderRefunded.model_validate(data)
        return _refund(refunded.order, refunded.amount.amount, day)
    if detail_type == "OrderCancelled":
        order = OrderSnapshot.model_validate(data)
        # Only a paid order cancelled before shipment carries money: the workflow refunded it in full.
        return _refund(order, order.refunded_total.amount, day) if order.refunded_total.amount else []
    if detail_type in ("CommissionEarned", "CommissionReversed", "CommissionPaid"):
        return _commission(detail_type, data, occurred_at, zone, day)
    if detail_type == "PaymentSucceeded" and data.get("fee"):
        fee = data["fee"]
        return [
            Increment(day, f"PAYMENT#{data['orderId']}", {"fee": int(fee["amount"] if isinstance(fee, dict) else fee)})
        ]
    return []


def _paid(order: OrderSnapshot, day: str) -> list[Increment]:
    spent = order.total.amount
    found = [
        Increment(
            day,
            "TOTAL",
            {
                "orders": 1,
                "units": sum(line.quantity for line in order.lines),
                "gross": order.subtotal.amount,
                "discounts": order.discount.amount,
            },
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
    key = campaign_key(order.attribution.model_dump() if order.attribution else None)
    if key:
        found.append(Increment(day, f"CAMPAIGN#{key}", {"orders": 1, "revenue": spent}))
    return found


def _refund(order: OrderSnapshot, amount: int, day: str) -> list[Increment]:
    found = [
        Increment(day, "TOTAL", {"refunds": amount}),
        Increment(day, f"CUSTOMER#{order.customer_id}", {"refunds": amount}),
        Increment(day, f"PAYMENT#{order.order_id}", {"refunds": amount}),
    ]
    key = campaign_key(order.attribution.model_dump() if order.attribution else None)
    if key:
        found.append(Increment(day, f"CAMPAIGN#{key}", {"refunds": amount}))
    return found


def _commission(
    detail_type: str, data: dict[str, Any], occurred_at: datetime, zone: ZoneInfo, day: str
) -> list[Increment]:
    amount = data.get("amount")
    value = int(amount["amount"] if isinstance(amount, dict) else amount or 0)
    field_of = {"CommissionEarned": "earned", "CommissionReversed": "reversed", "CommissionPaid": "paid"}
    month = f"MONTH#{day_of(occurred_at, zone).strftime('%Y-%m')}"
    statement = {"email": data["payoutEmail"]} if data.get("payoutEmail") else {}
    found = [Increment(month, f"AFFILIATE#{data['affiliateId']}", {field_of[detail_type]: value}, statement)]
    if data.get("orderId") and detail_type != "CommissionPaid":
        sign = 1 if detail_type == "CommissionEarned" else -1
        found.append(Increment(day, f"PAYMENT#{data['orderId']}", {"commission": sign * value}))
    return found
