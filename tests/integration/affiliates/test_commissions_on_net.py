"""Commissions on the merchandise net (issue 13): an order earns on its lines without tax, after the
coupon, shipping left out; refunds reverse the share of that net they gave back, so returning one of
three units reverses a third of the commission (to the cent rule) and shipping refunded alone reverses
nothing. Orders whose events carry no `merchandiseNet` (priced before lines carried their net) keep
earning on their total.

The worked order, prices including tax, shipped to DE: 3 x 12.90 (19 %) = 38.70, a 10 % coupon takes
3.87, so the line comes to 34.83 with 5.56 tax in it (34.83 x 19/119 = 5.561) and a net of 29.27;
Standard shipping 4.90 (0.78 tax in it) as 34.83 is under 50.00; total 39.73, tax 6.34. At 10 % the
commission is 2.93 (29.27 x 0.1 = 2.927). Returning one unit gives back part(1) = half_up(29.27 / 3) =
9.76 of the net: 2.93 x 9.76 / 29.27 = 0.977, so 0.98 is reversed; two units: part(2) = 19.51, 1.95."""

from typing import Any

from tests.integration.affiliates.conftest import Call, Deliver, Partner, bus_event, paid, snapshot
from tests.integration.affiliates.test_commissions import Approve, eur, ledger, totals

TOTAL, NET, TAX, SHIPPING, SHIPPING_TAX, DISCOUNT = 3_973, 2_927, 634, 490, 78, 387


def priced_order(order_id: str, partner: Partner) -> dict[str, Any]:
    """The worked order's snapshot as orders publishes it since 2026-12: lines with their discount share,
    rate, tax and net; the order's tax by rate, shipping tax, country and merchandise net."""
    order = snapshot(order_id, total=TOTAL, code=partner.code)
    line = order["lines"][0] | {
        "quantity": 3,
        "unitPrice": eur(1_290),
        "lineTotal": eur(3_870),
        "discount": eur(DISCOUNT),
        "taxRate": "19",
        "tax": eur(556),
        "net": eur(NET),
    }
    return order | {
        "lines": [line],
        "subtotal": eur(3_870),
        "discount": eur(DISCOUNT),
        "couponCode": "TENOFF",
        "shipping": eur(SHIPPING),
        "tax": eur(TAX),
        "shippingTax": eur(SHIPPING_TAX),
        "taxLines": [{"rate": "19", "base": eur(NET + SHIPPING - SHIPPING_TAX), "amount": eur(TAX)}],
        "country": "DE",
        "merchandiseNet": eur(NET),
        "refundedMerchandiseNet": eur(0),
    }


def line_refund(
    order: dict[str, Any],
    refund_id: str,
    *,
    amount: int,
    net: int,
    refunded_total: int,
    refunded_net: int,
    units: int = 0,
    shipping: int | None = None,
) -> dict[str, Any]:
    """An `OrderRefunded` as orders publishes it since 2026-12: the order after the refund (cumulative
    refunded total and merchandise net) and what this refund gave back."""
    status = "REFUNDED" if refunded_total >= TOTAL else "PARTIALLY_REFUNDED"
    after = order | {
        "refundedTotal": eur(refunded_total),
        "refundedMerchandiseNet": eur(refunded_net),
        "status": status,
    }
    line_amount = amount - (shipping or 0)
    line = {"sku": "MUG-INK", "quantity": units, "amount": eur(line_amount), "tax": eur(line_amount - net)}
    lines = [line | {"net": eur(net)}]
    data = {
        "order": after,
        "refundId": refund_id,
        "amount": eur(amount),
        "restocked": False,
        "lines": lines if units else [],
        "shipping": eur(shipping) if shipping is not None else None,
        "taxLines": [],
        "merchandiseNet": eur(net),
    }
    return bus_event("OrderRefunded", f"OrderRefunded#{order['orderId']}#{refund_id}", data)


def test_an_order_with_tax_shipping_and_a_coupon_earns_the_rate_of_its_merchandise_net(
    call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given a 10 % affiliate and the worked order: total 39.73, of which 29.27 is merchandise net
    partner = approved_affiliate(rate=0.10)
    # When it is paid
    assert deliver(paid(priced_order("o_net", partner)))["outcome"] == "recorded"
    # Then the commission is 10 % of 29.27 (2.927, rounded half down to 2.93), not of the total (3.97)
    [entry] = ledger(call, partner)
    assert (entry["amount"], entry["base"], entry["orderTotal"]) == (eur(293), eur(NET), eur(TOTAL))
    assert totals(call, partner) == {"pending": 293, "approved": 0, "paid": 0, "reversed": 0}


def test_returning_units_reverses_their_share_of_the_net_and_all_of_them_everything(
    call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given the worked order's 2.93 commission
    partner = approved_affiliate(rate=0.10)
    order = priced_order("o_units", partner)
    deliver(paid(order))
    steps = []
    # When one unit comes back (11.61 with 1.85 tax, net 9.76), then another (net 9.75), then the last
    # with the shipping (net 9.76)
    for refund_id, amount, net, so_far, net_so_far, shipping in (
        ("r_1", 1_161, 976, 1_161, 976, None),
        ("r_2", 1_161, 975, 2_322, 1_951, None),
        ("r_3", 1_651, 976, TOTAL, NET, SHIPPING),
    ):
        refund = line_refund(
            order,
            refund_id,
            amount=amount,
            net=net,
            refunded_total=so_far,
            refunded_net=net_so_far,
            units=1,
            shipping=shipping,
        )
        assert deliver(refund)["outcome"] == "recorded"
        [entry] = ledger(call, partner)
        steps.append((entry["reversedAmount"]["amount"], entry["status"]))
    # Then a third of the commission goes back per unit (to the cent rule: 0.977 -> 0.98, 1.953 -> 1.95),
    # and all of it once every unit is back
    assert steps == [(98, "PENDING"), (195, "PENDING"), (293, "REVERSED")]
    assert totals(call, partner) == {"pending": 0, "approved": 0, "paid": 0, "reversed": 293}


def test_a_full_refund_in_one_step_reverses_the_whole_commission(
    call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    partner = approved_affiliate(rate=0.10)
    order = priced_order("o_all", partner)
    deliver(paid(order))
    deliver(line_refund(order, "r_all", amount=TOTAL, net=NET, refunded_total=TOTAL, refunded_net=NET, units=3))
    [entry] = ledger(call, partner)
    assert (entry["status"], entry["reversedAmount"], entry["netAmount"]) == ("REVERSED", eur(293), eur(0))


def test_shipping_refunded_alone_reverses_nothing(call: Call, deliver: Deliver, approved_affiliate: Approve) -> None:
    # Given the worked order's commission
    partner = approved_affiliate(rate=0.10)
    order = priced_order("o_ship", partner)
    deliver(paid(order))
    # When only its shipping is given back (no merchandise net)
    refund = line_refund(
        order, "r_ship", amount=SHIPPING, net=0, refunded_total=SHIPPING, refunded_net=0, shipping=SHIPPING
    )
    assert deliver(refund)["outcome"] == "unchanged"
    # Then the commission stands
    [entry] = ledger(call, partner)
    assert (entry["reversedAmount"], entry["status"]) == (eur(0), "PENDING")


def test_a_line_refund_arriving_before_the_payment_records_and_reverses_on_the_net(
    call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given the bus delivers the second unit's refund (cumulative net 19.51) before the first's and the OrderPaid
    partner = approved_affiliate(rate=0.10)
    order = priced_order("o_shuffled", partner)
    second = line_refund(order, "r_2", amount=1_161, net=975, refunded_total=2_322, refunded_net=1_951, units=1)
    first = line_refund(order, "r_1", amount=1_161, net=976, refunded_total=1_161, refunded_net=976, units=1)
    outcomes = [deliver(second)["outcome"], deliver(first)["outcome"], deliver(paid(order))["outcome"]]
    # Then the commission is recorded on the net once, and two units' share is reversed, never three
    assert outcomes == ["recorded", "unchanged", "unchanged"]
    [entry] = ledger(call, partner)
    assert (entry["amount"], entry["reversedAmount"], entry["base"]) == (eur(293), eur(195), eur(NET))


def test_an_order_event_without_merchandise_net_earns_on_the_total_as_before(
    call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given an order published before lines carried their net (no merchandiseNet): 45.00 after 5.00 off
    partner = approved_affiliate(rate=0.10)
    order = snapshot("o_old", total=4_500, discount=500, code=partner.code)
    deliver(paid(order))
    # When a third of its total is refunded
    after = order | {"refundedTotal": eur(1_500), "status": "PARTIALLY_REFUNDED"}
    data = {"order": after, "refundId": "r_old", "amount": eur(1_500), "restocked": False}
    deliver(bus_event("OrderRefunded", "OrderRefunded#o_old#r_old", data))
    # Then the commission is 10 % of the total, and a third of it is reversed, as before
    [entry] = ledger(call, partner)
    assert (entry["amount"], entry["base"], entry["orderTotal"]) == (eur(450), eur(4_500), eur(4_500))
    assert entry["reversedAmount"] == eur(150)
