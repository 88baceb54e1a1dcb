"""What each event adds to the reports' aggregates, without a table: the increments are read from the
contract models only, in the shop's time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from common.contracts import (
    Attribution,
    CommissionEarned,
    CommissionPaid,
    CommissionReversed,
    DisputeClosed,
    DisputeStatus,
    OrderedLine,
    OrderSnapshot,
    PaymentDisputed,
    PaymentSucceeded,
    RefundSucceeded,
)
from common.events import Received
from common.money import Money
from reports.logic.aggregates import campaign_key, increments
from reports.models import Increment

AT = datetime(2030, 5, 31, 22, 30, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


def _eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def _event(detail_type: str, payload: BaseModel, at: datetime = AT) -> Received:
    return Received(detail_type, f"{detail_type}#1", at, payload)


def _line(product: str, quantity: int, price: int) -> OrderedLine:
    return OrderedLine(
        sku=f"SKU-{product}-{quantity}",
        product_id=product,
        name=f"Product {product}",
        category="mugs",
        quantity=quantity,
        unit_price=_eur(price),
        line_total=_eur(price * quantity),
    )


ORDER = OrderSnapshot(
    order_id="o_1",
    customer_id="ann",
    status="PAID",
    lines=[_line("p_mug", 1, 1000), _line("p_mug", 2, 900), _line("p_pen", 1, 500)],
    subtotal=_eur(3300),
    discount=_eur(300),
    total=_eur(3000),
    refunded_total=_eur(0),
    attribution=Attribution(source="mail", campaign="june"),
    created_at="2030-05-31T20:00:00.000000Z",
)


def test_a_paid_order_adds_its_totals_per_day_customer_product_campaign_and_payment() -> None:
    found = {(i.pk, i.sk): i for i in increments(_event("OrderPaid", ORDER), UTC_ZONE)}

    day = "DAY#2030-05-31"
    assert found[(day, "TOTAL")].add == {"orders": 1, "units": 4, "gross": 3300, "discounts": 300}
    assert found[(day, "CUSTOMER#ann")].add == {"orders": 1, "spent": 3000}
    assert found[(day, "PAYMENT#o_1")].add == {"gross": 3000}
    # Two lines of one product (two variants) are one product row
    assert found[(day, "PRODUCT#p_mug")] == Increment(
        day, "PRODUCT#p_mug", {"units": 3, "gross": 2800}, {"name": "Product p_mug", "category": "mugs"}
    )
    assert found[(day, "CAMPAIGN#mail|-|june")].add == {"orders": 1, "revenue": 3000}
    assert len(found) == 6


def test_days_are_the_shops() -> None:
    (total, *_) = increments(_event("OrderPaid", ORDER), ZoneInfo("Europe/Berlin"))
    assert total.pk == "DAY#2030-06-01"  # 22:30 UTC is past midnight in Berlin


def test_order_events_that_move_no_money_add_nothing() -> None:
    assert increments(_event("OrderPlaced", ORDER), UTC_ZONE) == []
    assert increments(_event("OrderShipped", ORDER), UTC_ZONE) == []
    # A cancellation before payment refunded nothing
    assert increments(_event("OrderCancelled", ORDER.model_copy(update={"status": "CANCELLED"})), UTC_ZONE) == []


def test_a_payment_without_a_fee_counts_its_fee_as_unknown_never_as_zero() -> None:
    # Payments could not read Stripe's balance transaction (or the event predates fees)
    succeeded = PaymentSucceeded(order_id="o_1", payment_intent_id="pi_1", amount=_eur(3000))
    assert increments(_event("PaymentSucceeded", succeeded), UTC_ZONE) == [
        Increment("DAY#2030-05-31", "PAYMENT#o_1", {"feeUnknown": 1})
    ]


def test_a_payment_with_stripes_fee_adds_it_to_the_orders_payment_row() -> None:
    succeeded = PaymentSucceeded(
        order_id="o_1",
        payment_intent_id="pi_1",
        amount=_eur(3000),
        fee=_eur(70),
        net=_eur(2930),
        charge_id="ch_1",
        balance_transaction_id="txn_1",
    )
    assert increments(_event("PaymentSucceeded", succeeded), UTC_ZONE) == [
        Increment("DAY#2030-05-31", "PAYMENT#o_1", {"fee": 70})
    ]


def test_a_refund_adds_the_fee_stripe_gave_back_and_nothing_when_it_kept_it() -> None:
    def refunded(fee: int | None) -> RefundSucceeded:
        return RefundSucceeded(
            order_id="o_1",
            payment_intent_id="pi_1",
            refunded_total=_eur(1000),
            refund_id="re_1",
            amount=_eur(1000),
            fee=None if fee is None else _eur(fee),
            net=None if fee is None else _eur(1000 - fee),
        )

    assert increments(_event("RefundSucceeded", refunded(15)), UTC_ZONE) == [
        Increment("DAY#2030-05-31", "PAYMENT#o_1", {"feeReturned": 15})
    ]
    assert increments(_event("RefundSucceeded", refunded(0)), UTC_ZONE) == []
    assert increments(_event("RefundSucceeded", refunded(None)), UTC_ZONE) == []


def test_disputes_count_when_opened_and_again_only_when_lost_and_their_fees_when_told() -> None:
    opened = PaymentDisputed(
        order_id="o_1",
        payment_intent_id="pi_1",
        dispute_id="dp_1",
        amount=_eur(3000),
        reason="fraudulent",
        opened_at="2030-05-31T22:00:00Z",
    )

    def closed(status: DisputeStatus) -> DisputeClosed:
        return DisputeClosed(
            order_id="o_1",
            payment_intent_id="pi_1",
            dispute_id="dp_1",
            amount=_eur(3000),
            status=status,
            closed_at="2030-06-10T10:00:00Z",
        )

    # A dispute whose fee Stripe did not tell (and every dispute event before 2026-12): unknown, never 0
    assert increments(_event("PaymentDisputed", opened), UTC_ZONE) == [
        Increment("DAY#2030-05-31", "PAYMENT#o_1", {"disputed": 3000, "feeUnknown": 1})
    ]
    assert increments(_event("PaymentDisputed", opened.model_copy(update={"fee": _eur(2000)})), UTC_ZONE) == [
        Increment("DAY#2030-05-31", "PAYMENT#o_1", {"disputed": 3000, "disputeFee": 2000})
    ]
    assert increments(_event("DisputeClosed", closed(DisputeStatus.LOST)), UTC_ZONE) == [
        Increment("DAY#2030-05-31", "PAYMENT#o_1", {"disputeLost": 3000})
    ]
    # Won: what Stripe gave back of its fee, nothing when it kept it, unknown when it did not say
    won = closed(DisputeStatus.WON)
    assert increments(_event("DisputeClosed", won.model_copy(update={"fee_returned": _eur(2000)})), UTC_ZONE) == [
        Increment("DAY#2030-05-31", "PAYMENT#o_1", {"disputeFeeReturned": 2000})
    ]
    assert increments(_event("DisputeClosed", won.model_copy(update={"fee_returned": _eur(0)})), UTC_ZONE) == []
    assert increments(_event("DisputeClosed", won), UTC_ZONE) == [
        Increment("DAY#2030-05-31", "PAYMENT#o_1", {"feeUnknown": 1})
    ]


def test_commissions_by_affiliate_and_month_and_on_the_orders_payment_row() -> None:
    earned = CommissionEarned(
        affiliate_id="af_1",
        code="CODE2345",
        order_id="o_1",
        amount=_eur(300),
        order_total=_eur(3000),
        commission_rate=0.1,
        status="PENDING",
        payout_email="pay@af.example",
    )
    reversed_ = CommissionReversed(affiliate_id="af_1", order_id="o_1", amount=_eur(100), reversed_total=_eur(100))
    paid = CommissionPaid(affiliate_id="af_1", payout_id="po_1", amount=_eur(200), commissions=1)
    month, day = "MONTH#2030-05", "DAY#2030-05-31"

    assert increments(_event("CommissionEarned", earned), UTC_ZONE) == [
        Increment(month, "AFFILIATE#af_1", {"earned": 300}, {"email": "pay@af.example"}),
        Increment(day, "PAYMENT#o_1", {"commission": 300}),
    ]
    assert increments(_event("CommissionReversed", reversed_), UTC_ZONE) == [
        Increment(month, "AFFILIATE#af_1", {"reversed": 100}),
        Increment(day, "PAYMENT#o_1", {"commission": -100}),
    ]
    assert increments(_event("CommissionPaid", paid), UTC_ZONE) == [Increment(month, "AFFILIATE#af_1", {"paid": 200})]


def test_a_campaign_key_needs_one_label() -> None:
    assert campaign_key(None, None, None) is None
    assert campaign_key("", None, "") is None
    assert campaign_key("google", "cpc", None) == "google|cpc|-"
