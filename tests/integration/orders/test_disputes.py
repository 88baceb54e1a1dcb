"""A payment dispute on the order (issue 14): payments' `PaymentDisputed` and `DisputeClosed`, in any
order and any number of times, show as the order's `dispute` with its outcome."""

import pytest

from common.contracts import DisputeClosed, DisputeStatus, PaymentDisputed
from orders.errors import OrderNotFound
from orders.logic.disputes import record_dispute
from orders.models import OrderOut, OrderStatus
from orders.ports import Ports
from orders.store import OrdersStore

from .conftest import OrderFactory, eur


def opened(order_id: str, dispute_id: str = "dp_1") -> PaymentDisputed:
    return PaymentDisputed(
        order_id=order_id,
        payment_intent_id="pi_1",
        dispute_id=dispute_id,
        amount=eur(2500),
        reason="fraudulent",
        opened_at="2030-05-01T10:00:00Z",
    )


def closed(order_id: str, status: DisputeStatus = DisputeStatus.LOST, dispute_id: str = "dp_1") -> DisputeClosed:
    return DisputeClosed(
        order_id=order_id,
        payment_intent_id="pi_1",
        dispute_id=dispute_id,
        amount=eur(2500),
        status=status,
        closed_at="2030-05-20T10:00:00Z",
    )


def shown(store: OrdersStore, order_id: str) -> OrderOut:
    order = store.get_order(order_id)
    assert order is not None
    return OrderOut.of(order)


def test_an_order_shows_its_dispute_and_then_its_outcome(
    ports: Ports, store: OrdersStore, given_order: OrderFactory
) -> None:
    # Given a paid order without a dispute
    order = given_order(OrderStatus.PAID)
    assert shown(store, order.order_id).dispute is None

    # When its payment is disputed
    record_dispute(ports, opened(order.order_id))

    # Then the order shows it open
    dispute = shown(store, order.order_id).dispute
    assert dispute is not None
    assert (dispute.dispute_id, dispute.amount, dispute.reason, dispute.status) == (
        "dp_1",
        eur(2500),
        "fraudulent",
        DisputeStatus.OPEN,
    )
    assert dispute.closed_at is None

    # And once the shop lost it, with its outcome
    record_dispute(ports, closed(order.order_id))
    dispute = shown(store, order.order_id).dispute
    assert dispute is not None and dispute.status is DisputeStatus.LOST
    assert dispute.reason == "fraudulent" and dispute.closed_at is not None and dispute.opened_at is not None


def test_a_closing_delivered_first_and_twice_still_shows_one_outcome(
    ports: Ports, store: OrdersStore, given_order: OrderFactory
) -> None:
    order = given_order(OrderStatus.PAID)

    # When the closing comes before the opening, and each comes twice
    for event in (closed(order.order_id, DisputeStatus.WON), opened(order.order_id)) * 2:
        record_dispute(ports, event)

    # Then the order shows the one dispute, won, with everything both halves said
    dispute = shown(store, order.order_id).dispute
    assert dispute is not None
    assert (dispute.status, dispute.reason) == (DisputeStatus.WON, "fraudulent")
    assert dispute.opened_at is not None and dispute.closed_at is not None


def test_a_newer_dispute_is_shown_open_not_with_the_older_ones_outcome(
    ports: Ports, store: OrdersStore, given_order: OrderFactory
) -> None:
    order = given_order(OrderStatus.PAID)
    record_dispute(ports, opened(order.order_id, "dp_1"))
    record_dispute(ports, closed(order.order_id, DisputeStatus.WON, "dp_1"))

    record_dispute(ports, opened(order.order_id, "dp_2"))

    dispute = shown(store, order.order_id).dispute
    assert dispute is not None and (dispute.dispute_id, dispute.status) == ("dp_2", DisputeStatus.OPEN)


def test_a_dispute_for_an_unknown_order_is_not_found(ports: Ports, store: OrdersStore) -> None:
    with pytest.raises(OrderNotFound):
        record_dispute(ports, opened("o_01jdoesnotexist0000000000000"))
