"""Reports against moto, in-process: the table and the bucket from `template.yaml`, SES with the
sender's domain verified. Histories are built as the events the orders domain publishes."""

import email
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any

import boto3
import pytest
from moto import mock_aws

from common.contracts import (
    Attribution,
    OrderedLine,
    OrderRefunded,
    OrderSnapshot,
    RefundedLine,
    TaxAtRate,
    percent_text,
)
from common.events import Received, receive
from common.money import Money
from common.pricing import PricingLine, TaxRates, price
from reports.adapters import S3Files, SesMailer
from reports.logic import aggregates
from reports.logic.runs import RunContext
from reports.store import ReportsStore
from tests.tables import create_table
from tests.template import set_environment

REGION = "eu-west-1"
TABLE = "reports-test"
BUCKET = "reports-test-bucket"
SENDER = "reports@example.com"
RECIPIENTS = ["owner@example.com", "finance@example.com"]
_ids = itertools.count(1)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


@dataclass
class World:
    store: ReportsStore
    ses: Any
    s3: Any

    def context(self, today: datetime) -> RunContext:
        return RunContext(
            store=self.store,
            files=S3Files(BUCKET, 3600, client=self.s3),
            mailer=SesMailer(client=self.ses),
            sender=SENDER,
            recipients=list(RECIPIENTS),
            currency="EUR",
            zone_today=today.date(),
        )

    def sent(self) -> list[Message]:
        from moto.ses.models import ses_backends

        backend = ses_backends["123456789012"][REGION]
        return [email.message_from_string(m.raw_data) for m in backend.sent_messages]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    set_environment(monkeypatch, {"MOTO_ACCOUNT_ID": "123456789012"})
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table(dynamodb, "ReportsTable", name=TABLE)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        ses = boto3.client("ses", region_name=REGION)
        ses.verify_domain_identity(Domain="example.com")
        yield World(ReportsStore(TABLE, client=dynamodb), ses, s3)


def order(
    *,
    customer: str = "cust-1",
    lines: list[tuple[str, int, int]] | None = None,
    discount: int = 0,
    attribution: dict[str, str] | None = None,
    order_id: str | None = None,
) -> OrderSnapshot:
    """An order snapshot; `lines` are (product id, quantity, unit price in cents)."""
    chosen = lines or [("p_tee", 2, 1500)]
    ordered = [
        OrderedLine(
            sku=f"SKU-{product.upper()}",
            product_id=product,
            name=f"Product {product}",
            category="apparel",
            quantity=quantity,
            unit_price=eur(price),
            line_total=eur(price * quantity),
        )
        for product, quantity, price in chosen
    ]
    subtotal = sum(line.line_total.amount for line in ordered)
    return OrderSnapshot(
        order_id=order_id or f"o_{next(_ids):026d}",
        customer_id=customer,
        status="PAID",
        lines=ordered,
        subtotal=eur(subtotal),
        discount=eur(discount),
        total=eur(subtotal - discount),
        refunded_total=eur(0),
        attribution=Attribution(**attribution) if attribution else None,
        created_at=datetime(2030, 1, 1, tzinfo=UTC).isoformat(),
    )


Event = tuple[str, str, dict[str, Any], datetime]
"""(detail type, event id, data, occurred at): what reaches the aggregates."""


def priced_order(
    *,
    country: str,
    rates: TaxRates,
    lines: list[tuple[str, str, int, int]],
    shipping: int,
    discount: int = 0,
    customer: str = "cust-1",
    prices_include_tax: bool = True,
) -> OrderSnapshot:
    """An order as checkout stores it since 2026-12, priced by `common.pricing`: `lines` are (product
    id, category, quantity, unit price in cents)."""
    priced = price(
        [PricingLine(f"SKU-{p.upper()}", p, f"Product {p}", c, q, u) for p, c, q, u in lines],
        currency="EUR",
        prices_include_tax=prices_include_tax,
        discount=discount,
        shipping=shipping,
        rates=rates,
    )
    ordered = [
        OrderedLine(
            sku=line.sku,
            product_id=line.product_id,
            name=line.name,
            category=line.category,
            quantity=line.quantity,
            unit_price=eur(line.unit_price),
            line_total=eur(line.line_total),
        ).priced_as(line)
        for line in priced.lines
    ]
    return OrderSnapshot(
        order_id=f"o_{next(_ids):026d}",
        customer_id=customer,
        status="PAID",
        lines=ordered,
        subtotal=eur(priced.subtotal),
        discount=eur(priced.discount),
        shipping=eur(priced.shipping),
        tax=eur(priced.tax),
        total=eur(priced.total),
        refunded_total=eur(0),
        shipping_tax=eur(priced.shipping_tax),
        tax_lines=[
            TaxAtRate(rate=percent_text(t.rate), base=eur(t.base), amount=eur(t.amount)) for t in priced.tax_lines
        ],
        country=country,
        merchandise_net=eur(sum(line.net for line in priced.lines)),
        refunded_merchandise_net=eur(0),
        created_at=datetime(2030, 1, 1, tzinfo=UTC).isoformat(),
    )


def refunded_by_line(
    snapshot: OrderSnapshot,
    at: datetime,
    *,
    skus: Sequence[str] = (),
    shipping_at: str | None = None,
    refund_id: str = "r1",
) -> Event:
    """A refund of whole lines (by sku), and of the shipping when `shipping_at` (the standard rate) is
    given, as orders publishes it since 2026-12."""
    taken = [line for line in snapshot.lines if line.sku in skus]
    added = snapshot.subtotal.amount - snapshot.discount.amount + snapshot.shipping.amount + snapshot.tax.amount
    included = snapshot.tax.amount == 0 or snapshot.total.amount != added  # as paid: with tax on top if not in
    back = [
        RefundedLine(
            sku=line.sku,
            quantity=line.quantity,
            amount=eur(
                line.line_total.amount
                - (line.discount or eur(0)).amount
                + (0 if included else (line.tax or eur(0)).amount)
            ),
            tax=line.tax or eur(0),
            net=line.net or eur(0),
        )
        for line in taken
    ]
    by_rate: dict[str, list[int]] = {}
    for line, refunded_line in zip(taken, back, strict=True):
        entry = by_rate.setdefault(str(line.tax_rate), [0, 0])
        entry[0] += refunded_line.net.amount
        entry[1] += refunded_line.tax.amount
    shipping_tax = (snapshot.shipping_tax or eur(0)).amount if shipping_at else 0
    shipping = snapshot.shipping.amount + (0 if included else shipping_tax) if shipping_at else 0  # as paid
    if shipping_at:
        entry = by_rate.setdefault(shipping_at, [0, 0])
        entry[0] += shipping - shipping_tax
        entry[1] += shipping_tax
    net = sum(r.net.amount for r in back)
    amount = sum(r.amount.amount for r in back) + shipping
    data = OrderRefunded(
        order=snapshot.model_copy(
            update={"status": "PARTIALLY_REFUNDED", "refunded_total": eur(amount), "refunded_merchandise_net": eur(net)}
        ),
        refund_id=refund_id,
        amount=eur(amount),
        restocked=False,
        lines=back,
        shipping=eur(shipping) if shipping_at else None,
        tax_lines=[TaxAtRate(rate=rate, base=eur(b), amount=eur(t)) for rate, (b, t) in by_rate.items()],
        merchandise_net=eur(net),
    )
    return (
        "OrderRefunded",
        f"OrderRefunded#{snapshot.order_id}#{refund_id}",
        data.model_dump(mode="json", by_alias=True),
        at,
    )


NEW_FIELDS = {
    "order": (
        "shipping",
        "tax",
        "shippingTax",
        "taxLines",
        "country",
        "merchandiseNet",
        "refundedMerchandiseNet",
        "paymentStatus",
        "fulfillmentStatus",
    ),
    "line": ("discount", "taxRate", "tax", "net"),
    "refund": ("lines", "shipping", "taxLines", "merchandiseNet"),
}


def published_before_tax(event: Event) -> Event:
    """`event` as it was published before 2026-12: none of the pricing fields, not even as nulls."""
    detail_type, event_id, data, at = event

    def old_order(snapshot: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in snapshot.items() if k not in NEW_FIELDS["order"]}
        kept["lines"] = [{k: v for k, v in line.items() if k not in NEW_FIELDS["line"]} for line in snapshot["lines"]]
        return kept

    if detail_type == "OrderRefunded":
        old = {k: v for k, v in data.items() if k not in NEW_FIELDS["refund"]}
        return detail_type, event_id, {**old, "order": old_order(data["order"])}, at
    return detail_type, event_id, old_order(data), at


def bus_event(event: Event) -> dict[str, Any]:
    """The event as EventBridge delivers it to the events function."""
    detail_type, event_id, data, at = event
    return {
        "version": "0",
        "id": f"bus-{event_id}",
        "detail-type": detail_type,
        "source": "storekeeper.test",
        "time": at.isoformat(),
        "detail": {"eventId": event_id, "occurredAt": at.isoformat(), "data": data},
    }


def sqs_batch(*events: Event | dict[str, Any] | str, receives: int = 1) -> dict[str, Any]:
    """Bus events as the reports' queue hands them to the events function in one batch (the body of each
    record is the EventBridge event the rule sent); a dict or a string is taken as the body as it is.
    Message ids are `m0`, `m1`... in order."""
    records = []
    for n, event in enumerate(events):
        body = event if isinstance(event, str) else json.dumps(event if isinstance(event, dict) else bus_event(event))
        records.append(
            {
                "messageId": f"m{n}",
                "receiptHandle": f"handle-{n}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(receives), "SentTimestamp": "1900000000000"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:storekeeper-reports-events-test",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def received(event: Event) -> Received:
    """The event as the events function reads it: parsed through its contract model."""
    return receive(bus_event(event))


def paid(snapshot: OrderSnapshot, at: datetime) -> Event:
    return ("OrderPaid", f"OrderPaid#{snapshot.order_id}", snapshot.model_dump(mode="json", by_alias=True), at)


def refunded(snapshot: OrderSnapshot, amount: int, at: datetime, refund_id: str = "r1") -> Event:
    data = OrderRefunded(order=snapshot, refund_id=refund_id, amount=eur(amount), restocked=False)
    return (
        "OrderRefunded",
        f"OrderRefunded#{snapshot.order_id}#{refund_id}",
        data.model_dump(mode="json", by_alias=True),
        at,
    )


def cancelled_after_payment(snapshot: OrderSnapshot, at: datetime) -> Event:
    data = snapshot.model_copy(update={"status": "CANCELLED", "refunded_total": snapshot.total})
    return ("OrderCancelled", f"OrderCancelled#{snapshot.order_id}", data.model_dump(mode="json", by_alias=True), at)


@pytest.fixture
def deliver(world: World) -> Callable[..., bool]:
    """Apply one event as the events function does (in the shop's zone, UTC unless given)."""
    from zoneinfo import ZoneInfo

    def apply(event: Event, zone: str = "UTC") -> bool:
        return aggregates.apply(world.store, received(event), ZoneInfo(zone))

    return apply
