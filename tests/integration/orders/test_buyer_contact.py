"""What orders tells notifications about the buyer: checkout keeps the email of the caller's token on the
order, every order event's snapshot carries it with the shipping address (and the shipment once shipped),
and a customer's erasure takes the email off their orders."""

from common.contracts import OrderSnapshot, ShipmentInfo, ShippingAddress
from orders import logic
from orders.models import OrderStatus, ShipmentIn
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher

from .conftest import ADDRESS, CUSTOMER, OrderFactory, checkout_request, raw_items


def snapshots(publish: FakePublisher, detail_type: str) -> list[OrderSnapshot]:
    return [OrderSnapshot.model_validate(e.envelope.data) for e in publish.of_type(detail_type)]


def test_checkout_keeps_the_buyer_s_email_and_events_carry_it_with_the_address(
    ports: Ports, store: OrdersStore, publish: FakePublisher
) -> None:
    # When the customer checks out with a token that names their email
    order = logic.checkout(ports, CUSTOMER, checkout_request(("TEE-RED-M", 1)), "key-contact-1")

    # Then the order keeps it
    stored = store.get_order(order.order_id)
    assert stored is not None and stored.email == CUSTOMER.email

    # And the OrderPlaced snapshot carries the email and the address, as checkout's shape has it
    (placed,) = snapshots(publish, "OrderPlaced")
    assert placed.email == CUSTOMER.email
    assert placed.shipping_address == ShippingAddress.model_validate(ADDRESS)
    assert placed.shipment is None


def test_the_shipped_event_carries_carrier_and_tracking_number(
    ports: Ports, given_order: OrderFactory, publish: FakePublisher
) -> None:
    # Given a paid order, when staff record its shipment
    paid = given_order(OrderStatus.PAID)
    logic.ship(ports, paid.order_id, ShipmentIn(carrier="DHL", tracking_number="JD0042"))

    # Then OrderShipped says how it went
    (shipped,) = snapshots(publish, "OrderShipped")
    assert shipped.shipment is not None
    assert (shipped.shipment.carrier, shipped.shipment.tracking_number) == ("DHL", "JD0042")
    assert isinstance(shipped.shipment, ShipmentInfo) and shipped.email == CUSTOMER.email


def test_erasure_takes_the_email_and_the_address_off_the_order_and_its_events(
    ports: Ports, store: OrdersStore, given_order: OrderFactory
) -> None:
    # Given a shipped order of the customer
    shipped = given_order(OrderStatus.SHIPPED)

    # When the customer's orders are anonymised
    logic.anonymise_customer(ports, CUSTOMER.sub)

    # Then the order keeps no email, and its snapshot has neither email nor address
    after = store.get_order(shipped.order_id)
    assert after is not None and after.email is None
    assert CUSTOMER.email is not None and CUSTOMER.email not in str(raw_items(store))
    snapshot = after.snapshot()
    assert snapshot.email is None and snapshot.shipping_address is None
