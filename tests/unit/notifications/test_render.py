"""Notifications' emails as rendered from their templates: what each one says, that HTML escapes what
customers and staff typed (autoescaping on), and which event makes which email for whom."""

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from common.contracts import (
    AttentionRequested,
    AttentionSource,
    DisputeClosed,
    DisputeStatus,
    OrderedLine,
    OrderRefunded,
    OrderSnapshot,
    PaymentDisputed,
    PaymentStatus,
    RefundedLine,
    ShipmentInfo,
    ShippingAddress,
    StockLow,
)
from common.events import Received
from common.money import Money
from notifications.logic.compose import Shop, compose
from notifications.logic.render import mime, money_text, render

SHOP = Shop(url="http://127.0.0.1:8080/", support_email="help@example.com")
STAFF = ["staff@example.com"]
AT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def snapshot(**changes: Any) -> OrderSnapshot:
    line = OrderedLine(
        sku="TEE-M",
        product_id="p_tee",
        name="Tee <b>bold</b>",
        category="apparel",
        quantity=2,
        unit_price=eur(1500),
        line_total=eur(3000),
    )
    values: dict[str, Any] = {
        "order_id": "o_123",
        "customer_id": "cust-1",
        "status": "PAID",
        "lines": [line],
        "subtotal": eur(3000),
        "discount": eur(500),
        "shipping": eur(490),
        "tax": eur(479),
        "total": eur(2990),
        "refunded_total": eur(0),
        "email": "alice@example.com",
        "coupon_code": "SAVE5",
        "shipping_address": ShippingAddress(
            name="Alice Example", line1="1 Harbour Street", city="Hamburg", postal_code="20457", country="DE"
        ),
        "created_at": AT.isoformat(),
        "payment_status": PaymentStatus.PAID,
    }
    return OrderSnapshot(**(values | changes))


def received(detail_type: str, payload: Any, event_id: str | None = None) -> Received:
    return Received(detail_type, event_id or f"{detail_type}#1", AT, payload)


def test_money_reads_as_a_person_reads_it() -> None:
    assert money_text(eur(123450)) == "€1,234.50"
    assert money_text(Money(amount=500, currency="JPY")) == "¥500"


def test_the_order_confirmation_has_lines_prices_discount_shipping_tax_total_and_address() -> None:
    # Given a paid order
    draft = compose(received("OrderPaid", snapshot()), SHOP, STAFF)

    # Then one email goes to the buyer, its subject naming the order
    assert draft is not None
    assert draft.email.to == ("alice@example.com",)
    assert draft.customer_id == "cust-1"
    assert "o_123" in draft.email.subject
    # And both parts carry what was bought and what it cost
    for part in (draft.email.html, draft.email.text):
        for expected in ("TEE-M", "2", "€15.00", "€30.00", "-€5.00", "SAVE5", "€4.90", "€4.79", "€29.90"):
            assert expected in part, (expected, part)
        assert "1 Harbour Street" in part and "20457 Hamburg" in part


def test_html_escapes_what_people_typed_and_text_keeps_it() -> None:
    # Given a product whose name carries markup, and a cancellation reason with a script
    order = snapshot(status="CANCELLED", payment_status=PaymentStatus.VOIDED, reason="<script>alert(1)</script>")
    draft = compose(received("OrderCancelled", order), SHOP, STAFF)
    assert draft is not None

    # Then the HTML shows them as text, never as markup
    assert "<script>" not in draft.email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in draft.email.html
    assert "Tee &lt;b&gt;bold&lt;/b&gt;" in draft.email.html
    # And the plain-text part keeps the words as typed
    assert "<script>alert(1)</script>" in draft.email.text
    assert "Tee <b>bold</b>" in draft.email.text


def test_a_shipped_email_names_the_carrier_and_tracking_number() -> None:
    shipment = ShipmentInfo(carrier="DHL", tracking_number="JD0123456789")
    draft = compose(received("OrderShipped", snapshot(status="SHIPPED", shipment=shipment)), SHOP, STAFF)
    assert draft is not None
    for part in (draft.email.html, draft.email.text):
        assert "DHL" in part and "JD0123456789" in part


def test_a_refund_email_says_how_much_and_lists_the_lines() -> None:
    order = snapshot(status="PARTIALLY_REFUNDED", refunded_total=eur(1000))
    refund = OrderRefunded(order=order, refund_id="r_1", amount=eur(1000), restocked=False)
    draft = compose(received("OrderRefunded", refund, "OrderRefunded#o_123#r_1"), SHOP, STAFF)
    assert draft is not None
    assert draft.email.key == "OrderRefunded#o_123#r_1"
    for part in (draft.email.html, draft.email.text):
        assert "€10.00" in part and "TEE-M" in part


def test_a_refund_by_line_email_says_which_units_came_back_and_their_tax() -> None:
    order = snapshot(status="PARTIALLY_REFUNDED", refunded_total=eur(1400))
    back = RefundedLine(sku="TEE-M", quantity=1, amount=eur(1250), tax=eur(200), net=eur(1050))
    refund = OrderRefunded(
        order=order, refund_id="r_2", amount=eur(1400), restocked=True, lines=[back], shipping=eur(150)
    )
    draft = compose(received("OrderRefunded", refund, "OrderRefunded#o_123#r_2"), SHOP, STAFF)
    assert draft is not None
    assert "1 \N{MULTIPLICATION SIGN} Tee &lt;b&gt;bold&lt;/b&gt;: €12.50 (of which tax €2.00)" in draft.email.html
    assert "1 x Tee <b>bold</b>: €12.50 (of which tax €2.00)" in draft.email.text
    for part in (draft.email.html, draft.email.text):
        assert "Shipping refunded: €1.50" in part


@pytest.mark.parametrize(
    ("payment_status", "refunded", "expected"),
    [
        (PaymentStatus.VOIDED, 0, "nothing to refund"),
        (PaymentStatus.REFUNDED, 2990, "We have refunded €29.90"),
    ],
)
def test_a_cancellation_says_whether_and_how_much_was_refunded(
    payment_status: PaymentStatus, refunded: int, expected: str
) -> None:
    order = snapshot(
        status="CANCELLED", payment_status=payment_status, refunded_total=eur(refunded), reason="changed mind"
    )
    draft = compose(received("OrderCancelled", order), SHOP, STAFF)
    assert draft is not None
    assert "changed mind" in draft.email.text
    assert expected in draft.email.text


def test_a_cancellation_for_a_failed_or_late_payment_points_back_to_the_shop() -> None:
    order = snapshot(status="CANCELLED", payment_status=PaymentStatus.FAILED, reason="payment timed out")
    draft = compose(received("OrderCancelled", order), SHOP, STAFF)
    assert draft is not None
    assert "payment" in draft.email.subject.lower() and "o_123" in draft.email.subject
    assert 'href="http://127.0.0.1:8080/"' in draft.email.html
    assert "http://127.0.0.1:8080/" in draft.email.text


def test_an_order_without_the_buyer_s_email_makes_no_email() -> None:
    assert compose(received("OrderPaid", snapshot(email=None)), SHOP, STAFF) is None


def test_staff_alerts_go_to_staff_and_say_what_happened() -> None:
    low = compose(received("StockLow", StockLow(sku="TEE-M", available=2, threshold=5, crossing=3)), SHOP, STAFF)
    assert low is not None and low.customer_id is None and low.email.to == ("staff@example.com",)
    assert low.email.key == "StockLow#TEE-M#3"
    assert all(v in low.email.text for v in ("TEE-M", "Available: 2", "Threshold: 5"))

    attention = AttentionRequested(order_id="o_9", reason="refund failed", source=AttentionSource.WORKFLOW)
    flagged = compose(received("AttentionRequested", attention), SHOP, STAFF)
    assert flagged is not None and "o_9" in flagged.email.subject and "refund failed" in flagged.email.text

    opened = PaymentDisputed(
        order_id="o_7",
        payment_intent_id="pi_1",
        dispute_id="dp_1",
        amount=eur(2990),
        reason="fraudulent",
        opened_at="t",
    )
    disputed = compose(received("PaymentDisputed", opened), SHOP, STAFF)
    assert disputed is not None and "o_7" in disputed.email.subject and "€29.90" in disputed.email.text

    closed = DisputeClosed(
        order_id="o_7",
        payment_intent_id="pi_1",
        dispute_id="dp_1",
        amount=eur(2990),
        status=DisputeStatus.WON,
        closed_at="t",
    )
    settled = compose(received("DisputeClosed", closed), SHOP, STAFF)
    assert settled is not None and "WON" in settled.email.subject


def test_no_staff_address_means_no_staff_alert() -> None:
    assert compose(received("StockLow", StockLow(sku="X", available=0, threshold=1, crossing=1)), SHOP, []) is None


def test_the_message_has_text_and_html_parts_and_replies_go_to_support() -> None:
    subject, html, text = render("order_paid", {"order": snapshot(), "shop": SHOP})
    raw = mime(
        sender="shop@example.com",
        to=("alice@example.com",),
        reply_to="help@example.com",
        subject=subject,
        html=html,
        text=text,
        now=AT,
    )
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Reply-To"] == "help@example.com"
    assert message["To"] == "alice@example.com"
    assert "o_123" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
