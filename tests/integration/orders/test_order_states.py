"""`OrderStatesFunction`: how orders stand, for payments' reconciliation (which never reads this table)."""

from typing import Any

import pytest
from pydantic import ValidationError

from common.contracts import OrderStatesOutput
from orders import logic, tasks
from orders.models import OrderStatus
from orders.ports import Ports
from orders.store import OrdersStore

from .conftest import PAYMENT, OrderFactory


def test_each_order_answers_its_status_totals_and_payment(
    ports: Ports, store: OrdersStore, given_order: OrderFactory
) -> None:
    # Given a paid order and an order still pending (no PaymentIntent recorded yet)
    paid = given_order(OrderStatus.PAID)
    pending = given_order(OrderStatus.PENDING)

    # When reconciliation asks for both, an order that does not exist and a malformed id, one twice
    missing = "o_" + "0" * 26
    states = logic.order_states(ports, [paid.order_id, pending.order_id, missing, "not-an-order", paid.order_id])

    # Then the orders answer as they are, once each, and the others are unknown
    by_id = {s.order_id: s for s in states.items}
    assert list(by_id) == [paid.order_id, pending.order_id]
    assert by_id[paid.order_id].status == "PAID"
    assert by_id[paid.order_id].payment_intent_id == PAYMENT.payment_intent_id
    assert by_id[paid.order_id].total == paid.total
    assert by_id[paid.order_id].refunded_total.amount == 0
    assert by_id[pending.order_id].status == "PENDING" and by_id[pending.order_id].payment_intent_id is None
    assert states.unknown == [missing, "not-an-order"]


def test_the_handler_speaks_the_contract(
    monkeypatch: pytest.MonkeyPatch, store: OrdersStore, given_order: OrderFactory, lambda_context: Any
) -> None:
    # Given the function's environment and a paid order
    monkeypatch.setenv("ORDERS_TABLE", store.table)
    paid = given_order(OrderStatus.PAID)

    # When payments invokes it as Lambda would
    answer = tasks.order_states_handler({"orderIds": [paid.order_id]}, lambda_context)

    # Then the answer is the contract's, in camelCase
    parsed = OrderStatesOutput.model_validate(answer)
    assert [s.order_id for s in parsed.items] == [paid.order_id] and parsed.unknown == []
    assert answer["items"][0]["paymentIntentId"] == PAYMENT.payment_intent_id


@pytest.mark.parametrize("order_ids", [[], ["o_x"] * 101, [""]])
def test_the_handler_refuses_malformed_requests(order_ids: list[str], lambda_context: Any) -> None:
    with pytest.raises(ValidationError):
        tasks.order_states_handler({"orderIds": order_ids}, lambda_context)
