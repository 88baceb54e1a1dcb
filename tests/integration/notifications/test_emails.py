"""Customer emails and staff alerts through the notifications handler, against moto's SES and the
template's tables: each event emails once however often it comes, an erased customer never, and a low
stock alert once per crossing as inventory announces them."""

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from common.contracts import (
    AttentionRequested,
    AttentionSource,
    DisputeClosed,
    DisputeStatus,
    OrderLine,
    OrderRefunded,
    PaymentDisputed,
    PaymentStatus,
    ReserveStockInput,
    ShipmentInfo,
    StockLow,
)
from common.events import new_event
from customers.store.erasure import ErasureStore
from inventory import logic as inventory
from inventory.models import AdjustmentIn
from inventory.store import InventoryStore
from notifications.errors import NoticeInFlight
from notifications.logic.compose import Shop
from notifications.logic.deliver import Ports, deliver
from notifications.models import Email
from notifications.store import NotificationsStore
from tests.fakes import FakePublisher
from tests.integration.notifications.conftest import T0, World, eur, order_event, snapshot
from tests.tables import create_table


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_every_customer_event_emails_the_buyer_once_with_reply_to_support(world: World) -> None:
    # Given an order's life: paid, shipped, partly refunded; and another cancelled after a failed payment
    paid = snapshot("o_1")
    shipped = snapshot("o_1", status="SHIPPED", shipment=ShipmentInfo(carrier="DHL", tracking_number="JD42"))
    refund = OrderRefunded(
        order=snapshot("o_1", status="PARTIALLY_REFUNDED", refunded_total=eur(1000)),
        refund_id="r_1",
        amount=eur(1000),
        restocked=False,
    )
    failed = snapshot("o_2", status="CANCELLED", payment_status=PaymentStatus.FAILED, reason="payment timed out")
    events = [
        order_event("OrderPaid", paid),
        order_event("OrderShipped", shipped),
        new_event("OrderRefunded", "OrderRefunded#o_1#r_1", refund),
        order_event("OrderCancelled", failed),
    ]

    # When each is delivered three times
    outcomes = [world.deliver(event)["outcome"] for event in events for _ in range(3)]

    # Then each emailed once, and the redeliveries were duplicates
    assert outcomes == ["sent", "duplicate", "duplicate"] * 4
    sent = world.sent()
    assert len(sent) == 4
    for message in sent:
        assert message["To"] == "alice@example.com"
        assert message["From"] == world.environment["SHOP_SENDER_EMAIL"]
        assert message["Reply-To"] == world.environment["SUPPORT_EMAIL"]
        assert message.get_body(preferencelist=("html",)) is not None
    assert ["o_1" in m["Subject"] for m in sent[:3]] == [True] * 3 and "o_2" in sent[3]["Subject"]
    assert "€30.00" in text_of(sent[0]) and "1 Harbour Street" in text_of(sent[0])
    assert "JD42" in text_of(sent[1]) and "DHL" in text_of(sent[1])
    assert "€10.00" in text_of(sent[2])
    assert world.environment["SHOP_URL"] in text_of(sent[3])


def test_an_erased_customer_is_never_emailed(world: World) -> None:
    # Given a customer whom customers erased (its own store writes the marker)
    ErasureStore(world.customers_table, client=world.dynamodb).erase("cust-gone", T0)

    # When an event of their order still carries their address (an order still to ship keeps it)
    answer = world.deliver(order_event("OrderShipped", snapshot("o_9", customer="cust-gone", status="SHIPPED")))

    # Then nothing is sent
    assert answer["outcome"] == "skipped"
    assert world.sent() == []


def test_an_order_without_an_email_is_skipped_without_error(world: World) -> None:
    assert world.deliver(order_event("OrderPaid", snapshot("o_3", email=None)))["outcome"] == "skipped"
    assert world.sent() == []


def test_staff_hear_of_attention_and_disputes_once_each(world: World) -> None:
    events = [
        new_event(
            "AttentionRequested",
            "AttentionRequested#o_5#1",
            AttentionRequested(order_id="o_5", reason="refund failed", source=AttentionSource.WORKFLOW),
        ),
        new_event(
            "PaymentDisputed",
            "PaymentDisputed#dp_1",
            PaymentDisputed(
                order_id="o_5",
                payment_intent_id="pi_1",
                dispute_id="dp_1",
                amount=eur(3000),
                reason="fraudulent",
                opened_at=T0.isoformat(),
            ),
        ),
        new_event(
            "DisputeClosed",
            "DisputeClosed#dp_1",
            DisputeClosed(
                order_id="o_5",
                payment_intent_id="pi_1",
                dispute_id="dp_1",
                amount=eur(3000),
                status=DisputeStatus.LOST,
                closed_at=T0.isoformat(),
            ),
        ),
    ]
    for event in events:
        for _ in range(3):
            world.deliver(event, source="storekeeper.payments")

    sent = world.sent()
    assert len(sent) == 3
    assert {m["To"] for m in sent} == {world.environment["STAFF_EMAIL"]}
    assert all("o_5" in m["Subject"] for m in sent)
    assert "LOST" in sent[2]["Subject"]


def test_stock_low_emails_staff_once_per_crossing(world: World) -> None:
    # Given inventory's store with 10 on the shelf and a threshold of 3, its events fed to notifications
    inventory_table = create_table(world.dynamodb, "InventoryTable", name="inventory-test")
    stock = InventoryStore(inventory_table, client=world.dynamodb)
    publish = FakePublisher()
    inventory.ensure_stock(stock, ["TEE-S"], threshold=3)
    restock = AdjustmentIn(delta=10, reason="restock")
    inventory.adjust(stock, "TEE-S", restock, actor="t", idempotency_key=None, publish=publish)

    def sell(order_id: str, quantity: int) -> None:
        request = ReserveStockInput(order_id=order_id, lines=[OrderLine(sku="TEE-S", quantity=quantity)])
        inventory.reserve(stock, request, window=timedelta(minutes=15), publish=publish, now=T0)
        inventory.commit(stock, order_id, publish=publish, now=T0)

    def deliver_all() -> None:
        for event in publish.of_type(StockLow.DETAIL_TYPE):  # every one again: redeliveries
            for _ in range(3):
                world.deliver(event, source="storekeeper.inventory")

    # When sales take it to the threshold, and a second sale below it follows
    sell("o-1", 7)
    sell("o-2", 1)
    deliver_all()

    # Then staff got one email, with the SKU, what is available and the threshold
    sent = world.sent()
    assert len(sent) == 1
    assert sent[0]["To"] == world.environment["STAFF_EMAIL"]
    body = text_of(sent[0])
    assert "TEE-S" in body and "Available: 3" in body and "Threshold: 3" in body

    # When it is restocked above the threshold and sold down to it again
    inventory.adjust(stock, "TEE-S", restock, actor="t", idempotency_key=None, publish=publish)
    sell("o-3", 10)
    deliver_all()

    # Then a second email for the second crossing, and no more
    assert len(world.sent()) == 2


# ---------------------------------------------------------------- the claim protocol, with faults


class FailingMailer:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[bytes] = []

    def send(self, sender: str, recipients: Any, raw: bytes) -> str:
        if self.failures:
            self.failures -= 1
            raise TimeoutError("SES did not answer")
        self.sent.append(raw)
        return f"m-{len(self.sent)}"


class NoErasures:
    def is_erased(self, sub: str) -> bool:
        return False


def ports(world: World, mailer: FailingMailer, now: list[Any]) -> Ports:
    return Ports(
        claims=NotificationsStore(world.table, 120, client=world.dynamodb),
        mailer=mailer,
        erasures=NoErasures(),
        sender="shop@example.com",
        shop=Shop(url="http://127.0.0.1:8080/", support_email="support@example.com"),
        staff=[],
        clock=lambda: now[0],
    )


EMAIL = Email(key="OrderPaid#o_1", to=("alice@example.com",), subject="s", html="<p>h</p>", text="t")


def test_a_failed_send_gives_the_claim_back_so_the_retry_sends(world: World) -> None:
    mailer = FailingMailer(failures=1)
    now = [T0]
    with pytest.raises(TimeoutError):
        deliver(ports(world, mailer, now), EMAIL)
    assert deliver(ports(world, mailer, now), EMAIL).outcome == "sent"
    assert deliver(ports(world, mailer, now), EMAIL).outcome == "duplicate"
    assert len(mailer.sent) == 1


def test_a_fresh_claim_never_marked_sent_waits_and_a_stale_one_is_taken_over(world: World) -> None:
    # Given an invocation that claimed the email and died before marking it (a crash)
    store = NotificationsStore(world.table, 120, client=world.dynamodb)
    assert store.claim(EMAIL.key, T0) is True
    mailer = FailingMailer(failures=0)

    # When the event comes again at once: the claimant may still be sending, so the retry waits
    with pytest.raises(NoticeInFlight):
        deliver(ports(world, mailer, [T0 + timedelta(seconds=30)]), EMAIL)
    assert mailer.sent == []

    # When it comes again after the claim went stale (longer than the function can run)
    delivered = deliver(ports(world, mailer, [T0 + timedelta(minutes=3)]), EMAIL)

    # Then it is sent, once
    assert delivered.outcome == "sent" and len(mailer.sent) == 1
    state = store.state(EMAIL.key)
    assert state is not None and state["state"] == "SENT"
